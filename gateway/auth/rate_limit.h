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
#include "common/base/metrics.h"
#include "common/base/token_bucket.h"
#include "common/storage/redis.h"

namespace genesis::gateway {

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
