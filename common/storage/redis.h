// A pooled Redis client over hiredis 0.14 (synchronous API).
//
// Every call takes the caller's deadline: waiting for a pooled connection,
// connecting and the command itself are all bounded by it (and by the
// configured connect/command timeouts), so a slow or dead Redis costs a
// caller at most that long. Broken connections are dropped and reopened.
//
// A circuit breaker protects callers from a Redis that is down or hung (a
// stopped process still accepts TCP connections, so each call would pay the
// full command timeout). After `breaker_failures` transport failures in a row
// (refused, timed out, broken) the breaker opens: every call fails at once
// with UNAVAILABLE, without touching the network, for `breaker_open` (doubling
// while Redis stays down, at most `breaker_max_open`). Then one probe (a fresh
// connection and PING, run by the client's own thread, never by a caller)
// decides: success closes the breaker, failure opens it again. Callers treat
// UNAVAILABLE exactly as "Redis is down" (caches miss, limits fall back), so a
// hung Redis costs only the first few calls a timeout. Error replies (a
// command Redis refused) are not failures. Metrics: genesis_redis_errors_total,
// genesis_redis_breaker_state (0 closed, 1 open, 2 probing),
// genesis_redis_breaker_trips_total, genesis_redis_short_circuited_total.
// URL: redis://[:password@]host[:port][/db]. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/metrics.h"

struct redisContext;

namespace genesis {

struct RedisOptions {
  std::string url = "redis://127.0.0.1:6379";
  int pool_size = 8;
  absl::Duration connect_timeout = absl::Milliseconds(200);
  absl::Duration command_timeout = absl::Milliseconds(100);
  // Transport failures in a row that open the breaker (>= 1).
  int breaker_failures = 3;
  // How long the breaker stays open before the first probe; doubles while
  // probes fail, up to breaker_max_open.
  absl::Duration breaker_open = absl::Seconds(1);
  absl::Duration breaker_max_open = absl::Seconds(8);
  std::string name = "default";  // metrics label
};

enum class RedisBreakerState { kClosed = 0, kOpen = 1, kProbing = 2 };

// A Redis reply, copied out of hiredis.
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;
  long long integer = 0;
  std::vector<RedisReply> elements;
};

class RedisClient {
 public:
  // Parses the URL; connects lazily. INVALID_ARGUMENT on a malformed URL.
  static absl::StatusOr<std::unique_ptr<RedisClient>> Create(RedisOptions options,
                                                             MetricsRegistry* registry);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Any command. An error reply is returned as a reply of type kError;
  // transport problems are UNAVAILABLE or DEADLINE_EXCEEDED.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv, absl::Time deadline);

  // GET: nullopt when the key does not exist.
  absl::StatusOr<std::optional<std::string>> Get(const std::string& key, absl::Time deadline);
  // SET with an expiry (PX).
  absl::Status Set(const std::string& key, const std::string& value, absl::Duration ttl,
                   absl::Time deadline);
  // DEL; OK whether or not the keys existed.
  absl::Status Del(const std::vector<std::string>& keys, absl::Time deadline);
  // PING.
  absl::Status Ping(absl::Time deadline);

  [[nodiscard]] RedisBreakerState breaker_state() const;
  // Times the breaker opened from closed since the client was created.
  [[nodiscard]] int64_t breaker_trips() const;

 private:
  struct Conn;
  RedisClient(RedisOptions options, std::string host, int port, std::string password, int db);
  absl::StatusOr<std::unique_ptr<Conn>> Acquire(absl::Time deadline);
  void Release(std::unique_ptr<Conn> conn, bool broken);
  absl::StatusOr<std::unique_ptr<Conn>> Connect(absl::Time deadline);
  // Counts a transport failure or success toward the breaker.
  void RecordFailure();
  void RecordSuccess();
  void SetStateLocked(RedisBreakerState state);
  absl::Status ShortCircuitLocked();
  void ProbeLoop();

  const RedisOptions options_;
  const std::string host_;
  const int port_;
  const std::string password_;
  const int db_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;
  int open_ = 0;
  RedisBreakerState state_ = RedisBreakerState::kClosed;
  int consecutive_failures_ = 0;
  absl::Time open_until_ = absl::InfinitePast();
  absl::Duration open_for_;
  int64_t trips_ = 0;
  bool stopping_ = false;
  std::condition_variable probe_cv_;
  std::thread prober_;
  Counter* errors_ = nullptr;
  Counter* trips_counter_ = nullptr;
  Counter* short_circuited_ = nullptr;
  Gauge* state_gauge_ = nullptr;
};

}  // namespace genesis
