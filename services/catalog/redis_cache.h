// ItemCache on Redis: key "catalog:item:{id}" holds a serialized
// genesis.catalog.v1.Item with a TTL (default 1 h), or after a write a
// tombstone "T:{version}"; a Lua script refuses to fill an entry with a
// version older than its tombstone, atomically. Errors are counted in
// genesis_catalog_item_cache_total{result="error"}, logged at most once a
// second, and treated as misses.
#pragma once

#include <atomic>

#include "common/redis.h"
#include "services/catalog/cache.h"
#include "services/catalog/metrics.h"

namespace genesis::catalog {

class RedisItemCache final : public ItemCache {
 public:
  // `redis` must outlive the cache.
  RedisItemCache(RedisClient* redis, absl::Duration ttl, CatalogMetrics metrics)
      : redis_(redis), ttl_(ttl), metrics_(metrics) {}

  std::optional<Item> Get(const std::string& id, const CallContext& ctx) override;
  void Put(const Item& item, const CallContext& ctx) override;
  void Invalidate(const std::string& id, int64_t version, const CallContext& ctx) override;

  static std::string Key(const std::string& id) { return "catalog:item:" + id; }

 private:
  void Failed(const absl::Status& status, const char* op);

  RedisClient* redis_;
  const absl::Duration ttl_;
  CatalogMetrics metrics_;
  std::atomic<int64_t> last_log_ms_{0};
};

}  // namespace genesis::catalog
