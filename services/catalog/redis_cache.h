// ItemCache on Redis: key "catalog:item:{generation}:{id}" holds a serialized
// genesis.catalog.v1.Item with a TTL (default 1 h), or after a write a
// tombstone "T:{version}"; a Lua script refuses to fill an entry with a
// version older than its tombstone, atomically. Errors are counted in
// genesis_catalog_item_cache_total{result="error"}, logged at most once a
// second, and treated as misses.
//
// The generation (key "catalog:item:gen", shared by every replica) is how an
// invalidation that could not be delivered (Redis down, hung, or the breaker
// open) never leaves a stale entry to be read later: after any failed
// invalidation this replica stops using the cache until it has bumped the
// generation (INCR), which orphans every older entry at once (they expire by
// their TTL); a replica also bumps once before its first use, in case an
// earlier process died between a commit and its invalidation. Each lookup
// reads the generation and the entry in one round trip (a Lua script).
#pragma once

#include <atomic>
#include <cstdint>

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

  static constexpr char kGenerationKey[] = "catalog:item:gen";
  static std::string Key(int64_t generation, const std::string& id) {
    return "catalog:item:" + std::to_string(generation) + ":" + id;
  }

 private:
  void Failed(const absl::Status& status, const char* op);
  // False while an undelivered invalidation is not yet covered by a bump of
  // the generation (and the bump failed again): the cache must not be used.
  bool Usable(const CallContext& ctx);

  RedisClient* redis_;
  const absl::Duration ttl_;
  CatalogMetrics metrics_;
  std::atomic<int64_t> last_log_ms_{0};
  // Invalidations that failed (1: the start-up bump), and how many of them a
  // successful bump covered.
  std::atomic<uint64_t> failed_invalidations_{1};
  std::atomic<uint64_t> covered_invalidations_{0};
};

}  // namespace genesis::catalog
