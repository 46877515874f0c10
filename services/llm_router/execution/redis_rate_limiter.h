// RateLimiter shared by every router instance through Redis: per model and
// minute window two counters, `{prefix}{model}:{window}:r` (requests) and
// `:t` (tokens), expiring after two minutes. Admission is one Lua script
// (check both counters, then count the request), so concurrent routers never
// admit past a limit together. While Redis fails, the local limiter takes
// over (each instance then enforces the limits on its own traffic), counted
// in genesis_llm_router_rate_limit_total{event="redis_error"}. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "common/storage/redis.h"
#include "services/llm_router/execution/rate_limit.h"
#include "services/llm_router/metrics.h"

namespace genesis::llmrouter {

class RedisRateLimiter final : public RateLimiter {
 public:
  // `redis` must outlive the limiter.
  RedisRateLimiter(RedisClient* redis,
                   std::string prefix = "llm_router:rate:", RouterMetrics metrics = {},
                   absl::Duration timeout = absl::Milliseconds(50))
      : redis_(redis), prefix_(std::move(prefix)), metrics_(metrics), timeout_(timeout) {}

  RateState Peek(const std::string& model_id, absl::Time now) override;
  bool Admit(const std::string& model_id, const RateLimits& limits, absl::Time now,
             int64_t reserve_tokens) override;
  void AddTokens(const std::string& model_id, int64_t tokens, absl::Time now) override;

 private:
  std::string Key(const std::string& model_id, absl::Time now, char kind) const;
  void Failed(const absl::Status& status);

  RedisClient* redis_;
  const std::string prefix_;
  const RouterMetrics metrics_;
  const absl::Duration timeout_;
  LocalRateLimiter local_;
};

}  // namespace genesis::llmrouter
