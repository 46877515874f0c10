// The in-process tier of GetItem's cache, in front of Redis: items read from
// Redis are kept in this process' memory so a repeated GetItem costs no
// network round trip. Bounded by entries and by bytes (least recently used
// first out), each entry by a maximum age, and sharded so concurrent lookups
// of different items rarely share a mutex.
//
// It only ever holds what Redis held a moment ago, and it is told of writes
// through Redis pub/sub (TieredItemCache, below; the feed is a
// RedisSubscriber, common/storage/redis_subscriber.h). A fill races with
// invalidations: the reader takes a FillToken() before it reads Redis, and
// Insert() refuses the item when the shard was invalidated (or cleared) since,
// so an invalidation that arrives while the read is in flight is never undone
// by the late fill. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/time/time.h"
#include "common/base/clock.h"
#include "services/catalog/cache.h"
#include "services/catalog/metrics.h"
#include "services/catalog/model.h"

namespace genesis::catalog {

struct LocalCacheOptions {
  // Bounds of the whole tier (split evenly between the shards); 0 entries
  // turns the tier off.
  size_t max_entries = 100000;
  size_t max_bytes = 64 << 20;
  // An entry older than this (since it was read from Redis) is not served:
  // the bound on staleness should an invalidation message be lost.
  absl::Duration max_age = absl::Seconds(5);
  int shards = 16;
  Clock* clock = Clock::Real();
};

class LocalItemCache {
 public:
  explicit LocalItemCache(LocalCacheOptions options, CatalogMetrics metrics = {});

  // The item held for `id` when it is younger than max_age; null otherwise.
  std::shared_ptr<const Item> Get(const std::string& id);
  // Taken before the read whose result is passed to Insert().
  [[nodiscard]] uint64_t FillToken(const std::string& id) const;
  // Keeps `item` unless its shard was invalidated or cleared since `token`
  // was taken, or it alone exceeds a shard's byte bound. Evicts the least
  // recently used entries past the bounds. Returns whether it was kept.
  bool Insert(std::shared_ptr<const Item> item, uint64_t token);
  // Forgets `id` (and refuses fills begun before).
  void Invalidate(const std::string& id);
  // Forgets everything (and refuses every fill begun before).
  void Clear();

  [[nodiscard]] size_t entries() const;
  [[nodiscard]] size_t bytes() const;
  [[nodiscard]] bool enabled() const { return options_.max_entries > 0; }
  [[nodiscard]] const LocalCacheOptions& options() const { return options_; }

  // What an item is counted as against max_bytes (its text, attributes,
  // labels and a fixed overhead).
  static size_t Footprint(const Item& item);

 private:
  struct Entry {
    std::string id;
    std::shared_ptr<const Item> item;
    absl::Time filled;
    size_t bytes = 0;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator> index;
    size_t bytes = 0;
    uint64_t seq = 0;  // bumped by every invalidation and clear
  };
  Shard& ShardOf(const std::string& id) const;
  void EraseLocked(Shard& shard, std::list<Entry>::iterator it);

  const LocalCacheOptions options_;
  const size_t shard_entries_;
  const size_t shard_bytes_;
  CatalogMetrics metrics_;
  std::unique_ptr<Shard[]> shards_;
};

// An ItemCache with the local tier in front of another (Redis). The local
// tier is read and filled only while `feed_live()` says the invalidation feed
// is up (subscribed, heard from recently); the feed calls OnMessage() for
// each invalidation and Clear() when it is lost or (re)subscribed, since
// messages may have been missed meanwhile. A write through this object
// forgets the entry locally before and after the inner invalidation (which
// publishes it to the other processes).
class TieredItemCache final : public ItemCache {
 public:
  TieredItemCache(std::unique_ptr<ItemCache> inner, LocalCacheOptions options,
                  std::function<bool()> feed_live, CatalogMetrics metrics = {});

  std::optional<Item> Get(const std::string& id, const CallContext& ctx) override;
  std::shared_ptr<const Item> Peek(const std::string& id) override;
  void Put(const Item& item, const CallContext& ctx) override;
  void Invalidate(const std::string& id, int64_t version, const CallContext& ctx) override;

  // An invalidation message: an item id, or kClearAll (which RedisItemCache
  // publishes as kClearAllMessage when it bumps the generation).
  void OnMessage(const std::string& message);
  void Clear() { local_.Clear(); }
  static constexpr char kClearAll[] = "*";  // never an item id

  LocalItemCache& local() { return local_; }

 private:
  // The local tier's item (null when the feed is down or it is not held);
  // counts hits, and misses and bypasses when `count_misses`.
  std::shared_ptr<const Item> Lookup(const std::string& id, bool count_misses);

  std::unique_ptr<ItemCache> inner_;
  LocalItemCache local_;
  std::function<bool()> feed_live_;
  CatalogMetrics metrics_;
};

}  // namespace genesis::catalog
