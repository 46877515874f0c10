// ResponseCache on Redis: key "llm_router:answer:{sha256}" holds the answer
// as JSON with a TTL (--response_cache_ttl_s, default 1 h). Redis errors and
// unreadable entries are counted in
// genesis_llm_router_response_cache_total{result="error"}, logged at most once
// a second, and treated as misses: the call executes normally.
#pragma once

#include <atomic>

#include "common/storage/redis.h"
#include "services/llm_router/execution/response_cache.h"
#include "services/llm_router/metrics.h"

namespace genesis::llmrouter {

class RedisResponseCache final : public ResponseCache {
 public:
  // `redis` must outlive the cache.
  RedisResponseCache(RedisClient* redis, absl::Duration ttl, RouterMetrics metrics)
      : redis_(redis), ttl_(ttl), metrics_(metrics) {}

  std::optional<CachedAnswer> Get(const std::string& key, const CallContext& ctx) override;
  void Put(const std::string& key, const CachedAnswer& answer, const CallContext& ctx) override;

  static std::string RedisKey(const std::string& key) { return "llm_router:answer:" + key; }

 private:
  void Failed(const absl::Status& status, const char* op);

  RedisClient* redis_;
  const absl::Duration ttl_;
  RouterMetrics metrics_;
  std::atomic<int64_t> last_log_ms_{0};
};

}  // namespace genesis::llmrouter
