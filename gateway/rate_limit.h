// Rate limits per credential and route class: a token bucket (capacity
// `burst`, refilled at `rate` tokens per second). The shared bucket lives in
// Redis and is updated by one Lua script (atomic across gateway replicas);
// when Redis fails, a per-process bucket takes over, so requests are never
// unlimited and never all refused. The fallback is counted
// (genesis_gateway_rate_limit_fallback_total) and logged at most once a second.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "common/redis.h"

namespace genesis::gateway {

struct RateLimitPolicy {
  double rate = 30;   // tokens per second
  double burst = 30;  // bucket capacity
  // "30/s", "5/m", "100/h" (burst = the count); INVALID_ARGUMENT otherwise.
  static absl::StatusOr<RateLimitPolicy> Parse(absl::string_view text);
};

struct RateLimitDecision {
  bool allowed = true;
  double remaining = 0;                               // tokens left after this request
  absl::Duration retry_after = absl::ZeroDuration();  // when refused: until one token is back
  absl::Duration reset = absl::ZeroDuration();        // until the bucket is full again
};

// The bucket arithmetic, pure (the Lua script does the same in Redis).
class TokenBucket {
 public:
  explicit TokenBucket(RateLimitPolicy policy, absl::Time now)
      : policy_(policy), tokens_(policy.burst), updated_(now) {}
  RateLimitDecision Take(absl::Time now);

 private:
  RateLimitPolicy policy_;
  double tokens_;
  absl::Time updated_;
};

// Per-process buckets by key. Thread-safe.
class LocalRateLimiter {
 public:
  RateLimitDecision Take(const std::string& key, const RateLimitPolicy& policy, absl::Time now);

 private:
  std::mutex mu_;
  std::map<std::string, TokenBucket> buckets_;
};

class RateLimiter {
 public:
  using Clock = std::function<absl::Time()>;
  // `redis` may be null (local buckets only). `registry` may be null.
  RateLimiter(RedisClient* redis, MetricsRegistry* registry, Clock clock = absl::Now,
              absl::Duration redis_timeout = absl::Milliseconds(50));
  RateLimitDecision Take(const std::string& key, const RateLimitPolicy& policy);

 private:
  absl::StatusOr<RateLimitDecision> TakeRedis(const std::string& key, const RateLimitPolicy& policy,
                                              absl::Time now);

  RedisClient* redis_;
  Clock clock_;
  absl::Duration redis_timeout_;
  LocalRateLimiter local_;
  Counter* fallback_ = nullptr;
  std::mutex log_mu_;
  absl::Time last_log_ = absl::InfinitePast();
};

}  // namespace genesis::gateway
