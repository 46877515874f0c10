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
//
// URLs (grammar in redis_url.h): redis://[:password@]host[:port][/db] for one
// server; redis-sentinel://[:password@]host:port,host:port,.../master_name[/db]
// for a master found through Redis Sentinel. With Sentinel the client asks the
// sentinels in turn (`SENTINEL get-master-addr-by-name`, each bounded by the
// connect timeout and the caller's deadline) for the master's address, checks
// every new connection with ROLE (it must say "master"), and follows a
// failover: a connection error, a -READONLY reply (the server became a
// replica) or a ROLE other than master drops that address and every pooled
// connection to it, and the next connection asks the sentinels again, at most
// once per `sentinel_retry_interval` (in between, calls fail at once with
// UNAVAILABLE and count toward the breaker, so a storm of errors never
// hammers the sentinels). A -READONLY reply is returned as UNAVAILABLE (the
// write was not applied), never as an error reply. The breaker works as above:
// its probe finds the promoted master through the sentinels. Metrics:
// genesis_redis_sentinel_queries_total{result}, genesis_redis_master_changes_total.
// Thread-safe.
#pragma once

#include <atomic>
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
#include "common/storage/redis_url.h"

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
  // redis-sentinel:// only: the least time between two rounds of asking the
  // sentinels for the master.
  absl::Duration sentinel_retry_interval = absl::Milliseconds(250);
  std::string name = "default";  // metrics label
};

// Owns a hiredis context of its own (RedisClient::OpenDedicated).
struct RedisContextFree {
  void operator()(redisContext* ctx) const;
};
using RedisContextPtr = std::unique_ptr<redisContext, RedisContextFree>;

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
  // Parses the URL (ParseRedisUrl); connects lazily. INVALID_ARGUMENT on a
  // malformed URL.
  static absl::StatusOr<std::unique_ptr<RedisClient>> Create(RedisOptions options,
                                                             MetricsRegistry* registry);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Any command. An error reply is returned as a reply of type kError;
  // transport problems are UNAVAILABLE or DEADLINE_EXCEEDED.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv, absl::Time deadline);
  // The same, also telling which master the command ran on: master_epoch()
  // as it was when the connection was opened (0 for redis://). A cache uses
  // it to tell a reply of a newly promoted master (RedisGeneration).
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv, absl::Time deadline,
                                     uint64_t* master_epoch);

  // GET: nullopt when the key does not exist.
  absl::StatusOr<std::optional<std::string>> Get(const std::string& key, absl::Time deadline);
  // SET with an expiry (PX).
  absl::Status Set(const std::string& key, const std::string& value, absl::Duration ttl,
                   absl::Time deadline);
  // DEL; OK whether or not the keys existed.
  absl::Status Del(const std::vector<std::string>& keys, absl::Time deadline);
  // PING.
  absl::Status Ping(absl::Time deadline);

  // A connection of the caller's own, outside the pool and the breaker: to
  // the server (behind Sentinel: the master the sentinels name, checked with
  // ROLE), authenticated and with the db selected, opened within `deadline`
  // and the connect timeout; its socket timeout is the connect timeout. For a
  // subscriber (redis_subscriber.h), which holds its connection while it
  // listens. UNAVAILABLE when no server could be reached.
  absl::StatusOr<RedisContextPtr> OpenDedicated(absl::Time deadline);

  [[nodiscard]] RedisBreakerState breaker_state() const;
  // Times the breaker opened from closed since the client was created.
  [[nodiscard]] int64_t breaker_trips() const;
  // redis-sentinel://: how many masters the sentinels have named so far that
  // differ from the one before (1 after the first discovery, +1 per failover
  // followed). Always 0 for redis://.
  [[nodiscard]] uint64_t master_epoch() const;
  // What the client talks to, without passwords ("redis 127.0.0.1:6379").
  [[nodiscard]] const std::string& description() const { return description_; }

 private:
  struct Conn;
  // The master to connect to and the address generation it belongs to.
  struct Target {
    RedisEndpoint endpoint;
    uint64_t generation = 0;
    uint64_t master_epoch = 0;
  };
  RedisClient(RedisOptions options, RedisUrl url);
  absl::StatusOr<std::unique_ptr<Conn>> Acquire(absl::Time deadline);
  void Release(std::unique_ptr<Conn> conn, bool broken);
  absl::StatusOr<std::unique_ptr<Conn>> Connect(absl::Time deadline);
  // A connection to `endpoint`, authenticated with `password` (when not
  // empty) and with `db` selected (when not 0).
  absl::StatusOr<std::unique_ptr<Conn>> Open(const RedisEndpoint& endpoint,
                                             const std::string& password, int db,
                                             absl::Duration timeout);
  // Sentinel: the master in use, asking the sentinels when none is known.
  absl::StatusOr<Target> CurrentMaster(absl::Time deadline);
  // Sentinel: asks each sentinel in turn, from `first`; sets *answered to the
  // index of the one that named the master.
  absl::StatusOr<RedisEndpoint> AskSentinels(size_t first, absl::Time deadline, size_t* answered);
  // Sentinel: the master of `generation` failed (`why`); forget it and close
  // the pooled connections to it.
  void ForgetMaster(uint64_t generation, const absl::Status& why);
  // Counts a transport failure or success toward the breaker.
  void RecordFailure();
  void RecordSuccess();
  void SetStateLocked(RedisBreakerState state);
  absl::Status ShortCircuitLocked();
  void ProbeLoop();

  const RedisOptions options_;
  const RedisUrl url_;
  const std::string description_;

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
  // Sentinel: the master in use (none: ask the sentinels), the generation of
  // its address (connections of an older one are closed), the last master
  // connected to and how many different ones there were.
  std::optional<RedisEndpoint> master_;
  uint64_t generation_ = 0;
  RedisEndpoint last_master_;
  std::atomic<uint64_t> master_epoch_{0};  // read without mu_, changed under it
  bool resolving_ = false;
  absl::Time last_resolve_ = absl::InfinitePast();
  size_t next_sentinel_ = 0;
  std::condition_variable resolve_cv_;
  std::condition_variable probe_cv_;
  std::thread prober_;
  Counter* errors_ = nullptr;
  Counter* trips_counter_ = nullptr;
  Counter* short_circuited_ = nullptr;
  Gauge* state_gauge_ = nullptr;
  Counter* sentinel_ok_ = nullptr;
  Counter* sentinel_failed_ = nullptr;
  Counter* master_changes_ = nullptr;
};

}  // namespace genesis
