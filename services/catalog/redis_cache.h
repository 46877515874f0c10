// ItemCache on Redis: key "catalog:item:{generation}:{id}" holds a serialized
// genesis.catalog.v1.Item with a TTL (default 1 h), or after a write a
// tombstone "T:{version}"; a Lua script refuses to fill an entry with a
// version older than its tombstone, atomically. Errors are counted in
// genesis_catalog_item_cache_total{result="error"}, logged at most once a
// second, and treated as misses.
//
// The generation (key "catalog:item:gen", shared by every replica; see
// common/storage/redis_generation.h) is how an invalidation that could not be
// delivered (Redis down, hung, or the breaker open) never leaves a stale entry
// to be read later: after it this replica stops using the cache until it has
// bumped the generation, which orphans every older entry at once. Each lookup
// reads the generation and the entry in one round trip (a Lua script).
//
// With an `invalidation_channel`, the script that writes a tombstone also
// PUBLISHes the item id there, after the write and atomically with it, so
// the processes that keep items in memory (TieredItemCache, local_cache.h)
// drop theirs; and a generation bump publishes "*" (drop everything).
#pragma once

#include <atomic>

#include "common/storage/redis.h"
#include "common/storage/redis_generation.h"
#include "services/catalog/cache.h"
#include "services/catalog/metrics.h"

namespace genesis::catalog {

class RedisItemCache final : public ItemCache {
 public:
  // `redis` must outlive the cache.
  RedisItemCache(RedisClient* redis, absl::Duration ttl, CatalogMetrics metrics,
                 std::string invalidation_channel = "")
      : redis_(redis),
        ttl_(ttl),
        metrics_(metrics),
        channel_(std::move(invalidation_channel)),
        generation_(redis, kGenerationKey, channel_, kClearAllMessage) {}

  std::optional<Item> Get(const std::string& id, const CallContext& ctx) override;
  void Put(const Item& item, const CallContext& ctx) override;
  void Invalidate(const std::string& id, int64_t version, const CallContext& ctx) override;

  static constexpr char kGenerationKey[] = "catalog:item:gen";
  // Where invalidations are published (main.cc passes it).
  static constexpr char kInvalidationChannel[] = "catalog:item:invalidate";
  // Published there on a generation bump: drop every item (never an item id).
  static constexpr char kClearAllMessage[] = "*";
  static std::string Key(int64_t generation, const std::string& id) {
    return "catalog:item:" + std::to_string(generation) + ":" + id;
  }

 private:
  void Failed(const absl::Status& status, const char* op);
  // generation_.Usable, counting a failed bump as a cache error.
  bool Usable(absl::Time deadline);

  RedisClient* redis_;
  const absl::Duration ttl_;
  CatalogMetrics metrics_;
  const std::string channel_;
  std::atomic<int64_t> last_log_ms_{0};
  RedisGeneration generation_;
};

}  // namespace genesis::catalog
