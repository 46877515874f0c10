#include "services/llm_router/execution/redis_rate_limiter.h"

#include <atomic>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/runtime/logging.h"

namespace genesis::llmrouter {
namespace {

constexpr char kAdmit[] = R"lua(
local r = tonumber(redis.call('GET', KEYS[1]) or '0')
local t = tonumber(redis.call('GET', KEYS[2]) or '0')
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
if (rpm > 0 and r >= rpm) or (tpm > 0 and t >= tpm) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 120)
local reserve = tonumber(ARGV[3])
if reserve ~= 0 then
  redis.call('INCRBY', KEYS[2], reserve)
  redis.call('EXPIRE', KEYS[2], 120)
end
return 1
)lua";

constexpr char kAddTokens[] = R"lua(
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], 120)
return 1
)lua";

int64_t AsInt(const RedisReply& r) {
  int64_t v = 0;
  if (r.type == RedisReply::Type::kInteger) return r.integer;
  if (r.type == RedisReply::Type::kString && absl::SimpleAtoi(r.str, &v)) return v;
  return 0;
}

}  // namespace

std::string RedisRateLimiter::Key(const std::string& model_id, absl::Time now, char kind) const {
  return absl::StrCat(prefix_, model_id, ":", WindowOf(now), ":", std::string(1, kind));
}

void RedisRateLimiter::Failed(const absl::Status& status) {
  RouterMetrics::Inc(metrics_.rate_limit_redis_errors);
  static std::atomic<int64_t> last_log{0};
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  if (last_log.exchange(now) != now) {
    Logger("llm_router")
        ->warn("rate limits: Redis failed ({}); counting locally", status.message());
  }
}

RateState RedisRateLimiter::Peek(const std::string& model_id, absl::Time now) {
  auto reply = redis_->Command({"MGET", Key(model_id, now, 'r'), Key(model_id, now, 't')},
                               absl::Now() + timeout_);
  if (!reply.ok() || reply->type != RedisReply::Type::kArray || reply->elements.size() != 2) {
    Failed(reply.ok() ? absl::InternalError("unexpected MGET reply") : reply.status());
    return local_.Peek(model_id, now);
  }
  return {AsInt(reply->elements[0]), AsInt(reply->elements[1])};
}

bool RedisRateLimiter::Admit(const std::string& model_id, const RateLimits& limits, absl::Time now,
                             int64_t reserve_tokens) {
  auto reply = redis_->Command(
      {"EVAL", kAdmit, "2", Key(model_id, now, 'r'), Key(model_id, now, 't'),
       absl::StrCat(limits.rpm), absl::StrCat(limits.tpm), absl::StrCat(reserve_tokens)},
      absl::Now() + timeout_);
  if (!reply.ok() || reply->type != RedisReply::Type::kInteger) {
    Failed(reply.ok() ? absl::InternalError("unexpected EVAL reply: " + reply->str)
                      : reply.status());
    return local_.Admit(model_id, limits, now, reserve_tokens);
  }
  return reply->integer == 1;
}

void RedisRateLimiter::AddTokens(const std::string& model_id, int64_t tokens, absl::Time now) {
  if (tokens == 0) return;
  auto reply =
      redis_->Command({"EVAL", kAddTokens, "1", Key(model_id, now, 't'), absl::StrCat(tokens)},
                      absl::Now() + timeout_);
  if (!reply.ok() || reply->type != RedisReply::Type::kInteger) {
    Failed(reply.ok() ? absl::InternalError("unexpected EVAL reply: " + reply->str)
                      : reply.status());
    local_.AddTokens(model_id, tokens, now);
  }
}

}  // namespace genesis::llmrouter
