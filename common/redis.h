// A pooled Redis client over hiredis 0.14 (synchronous API).
//
// Every call takes the caller's deadline: waiting for a pooled connection,
// connecting and the command itself are all bounded by it (and by the
// configured connect/command timeouts), so a slow or dead Redis costs a
// caller at most that long. After a failed connect the client fails fast with
// UNAVAILABLE for a back-off period (100 ms doubling to 5 s) instead of
// retrying on every call; broken connections are dropped and reopened.
// URL: redis://[:password@]host[:port][/db]. Thread-safe.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/metrics.h"

struct redisContext;

namespace genesis {

struct RedisOptions {
  std::string url = "redis://127.0.0.1:6379";
  int pool_size = 8;
  absl::Duration connect_timeout = absl::Milliseconds(200);
  absl::Duration command_timeout = absl::Milliseconds(100);
  std::string name = "default";  // metrics label
};

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

 private:
  struct Conn;
  RedisClient(RedisOptions options, std::string host, int port, std::string password, int db);
  absl::StatusOr<std::unique_ptr<Conn>> Acquire(absl::Time deadline);
  void Release(std::unique_ptr<Conn> conn, bool broken);
  absl::StatusOr<std::unique_ptr<Conn>> Connect(absl::Time deadline);

  const RedisOptions options_;
  const std::string host_;
  const int port_;
  const std::string password_;
  const int db_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;
  int open_ = 0;
  absl::Time down_until_ = absl::InfinitePast();
  absl::Duration backoff_ = absl::Milliseconds(100);
  Counter* errors_ = nullptr;
};

}  // namespace genesis
