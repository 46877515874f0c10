#include "gateway/auth/rate_limit.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/runtime/logging.h"

namespace genesis::gateway {
namespace {

// KEYS[1] bucket; ARGV rate (tokens/s), burst, now (ms). Returns
// {allowed 0|1, remaining*1000, retry_after_ms, reset_ms}. Time comes from the
// gateway so tests and replicas agree; the key expires once it would be full.
constexpr char kScript[] = R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(b[1])
local updated = tonumber(b[2])
if tokens == nil then tokens = burst; updated = now end
if now > updated then tokens = math.min(burst, tokens + (now - updated) * rate / 1000) end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) * 1000 / rate)
end
local reset = math.ceil((burst - tokens) * 1000 / rate)
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(math.max(now, updated)))
redis.call('PEXPIRE', KEYS[1], reset + 1000)
return {allowed, math.floor(tokens * 1000), retry, reset}
)lua";

}  // namespace

RateLimiter::RateLimiter(RedisClient* redis, MetricsRegistry* registry, Clock clock,
                         absl::Duration redis_timeout)
    : redis_(redis), clock_(std::move(clock)), redis_timeout_(redis_timeout) {
  if (registry != nullptr) {
    fallback_ = &registry
                     ->AddCounter("genesis_gateway_rate_limit_fallback_total",
                                  "Rate-limit decisions taken by the local limiter because "
                                  "Redis failed.",
                                  {})
                     .WithLabels({});
  }
}

absl::StatusOr<RateLimitDecision> RateLimiter::TakeRedis(const std::string& key,
                                                         const RateLimitPolicy& policy,
                                                         absl::Time now) {
  auto reply =
      redis_->Command({"EVAL", kScript, "1", "genesis:gw:rl:" + key, absl::StrCat(policy.rate),
                       absl::StrCat(policy.burst), absl::StrCat(absl::ToUnixMillis(now))},
                      absl::Now() + redis_timeout_);
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kArray || reply->elements.size() != 4) {
    return absl::InternalError(
        absl::StrCat("unexpected reply to the rate-limit script: ", reply->str));
  }
  RateLimitDecision d;
  d.allowed = reply->elements[0].integer == 1;
  d.remaining = static_cast<double>(reply->elements[1].integer) / 1000;
  d.retry_after = absl::Milliseconds(reply->elements[2].integer);
  d.reset = absl::Milliseconds(reply->elements[3].integer);
  return d;
}

RateLimitDecision RateLimiter::Take(const std::string& key, const RateLimitPolicy& policy) {
  const absl::Time now = clock_();
  if (redis_ != nullptr) {
    auto d = TakeRedis(key, policy, now);
    if (d.ok()) return *d;
    if (fallback_ != nullptr) fallback_->Inc();
    std::lock_guard lock(log_mu_);
    if (absl::Now() - last_log_ >= absl::Seconds(1)) {
      last_log_ = absl::Now();
      static auto log = Logger("gateway.ratelimit");
      log->warn("Redis rate limit failed ({}); using the local per-process limiter",
                d.status().message());
    }
  }
  return local_.Take(key, policy, now);
}

}  // namespace genesis::gateway
