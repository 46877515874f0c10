#include "services/llm_router/execution/redis_response_cache.h"

#include <nlohmann/json.hpp>

#include "common/runtime/logging.h"

namespace genesis::llmrouter {

void RedisResponseCache::Failed(const absl::Status& status, const char* op) {
  RouterMetrics::Inc(metrics_.cache_errors);
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  int64_t last = last_log_ms_.load();
  if (now_ms - last >= 1000 && last_log_ms_.compare_exchange_strong(last, now_ms)) {
    Logger("llm_router")
        ->warn("response cache {} failed, executing without it: {}", op, status.message());
  }
}

std::optional<CachedAnswer> RedisResponseCache::Get(const std::string& key,
                                                    const CallContext& ctx) {
  auto value = redis_->Get(RedisKey(key), ctx.deadline);
  if (!value.ok()) {
    Failed(value.status(), "get");
    return std::nullopt;
  }
  if (!value->has_value()) return std::nullopt;
  auto j = nlohmann::json::parse(**value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) {
    Failed(absl::DataLossError("unreadable cache entry"), "get");
    return std::nullopt;
  }
  CachedAnswer a;
  a.text = j["text"].get<std::string>();
  a.model_id = j.value("model", "");
  a.provider = j.value("provider", "");
  a.finish_reason = j.value("finish_reason", "");
  a.simulated = j.value("simulated", false);
  return a;
}

void RedisResponseCache::Put(const std::string& key, const CachedAnswer& a,
                             const CallContext& ctx) {
  nlohmann::json j = {{"text", a.text},
                      {"model", a.model_id},
                      {"provider", a.provider},
                      {"finish_reason", a.finish_reason},
                      {"simulated", a.simulated}};
  if (auto st = redis_->Set(RedisKey(key), j.dump(), ttl_, ctx.deadline); !st.ok()) {
    Failed(st, "set");
  }
}

}  // namespace genesis::llmrouter
