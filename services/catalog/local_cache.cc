#include "services/catalog/local_cache.h"

#include <algorithm>

namespace genesis::catalog {
namespace {

// Per entry beyond the item's own text: the list node, the index slot, the
// two copies of the id, the Item and its control block, the json nodes.
constexpr size_t kEntryOverhead = 512;

void Count(Counter* c) {
  if (c != nullptr) c->Inc();
}

}  // namespace

LocalItemCache::LocalItemCache(LocalCacheOptions options, CatalogMetrics metrics)
    : options_(std::move(options)),
      shard_entries_(std::max<size_t>(
          1, options_.max_entries / static_cast<size_t>(std::max(1, options_.shards)))),
      shard_bytes_(std::max<size_t>(
          1, options_.max_bytes / static_cast<size_t>(std::max(1, options_.shards)))),
      metrics_(metrics),
      shards_(new Shard[static_cast<size_t>(std::max(1, options_.shards))]) {}

size_t LocalItemCache::Footprint(const Item& item) {
  size_t n = kEntryOverhead + 2 * item.id.size() + item.type_id.size() + item.title.size() +
             item.body.size() + item.attributes.dump().size();
  for (const auto& [k, v] : item.labels) n += k.size() + v.size() + 64;
  return n;
}

LocalItemCache::Shard& LocalItemCache::ShardOf(const std::string& id) const {
  const size_t n = static_cast<size_t>(std::max(1, options_.shards));
  return shards_[std::hash<std::string>{}(id) % n];
}

void LocalItemCache::EraseLocked(Shard& shard, std::list<Entry>::iterator it) {
  shard.bytes -= it->bytes;
  shard.index.erase(it->id);
  shard.lru.erase(it);
}

std::shared_ptr<const Item> LocalItemCache::Get(const std::string& id) {
  if (!enabled()) return nullptr;
  Shard& shard = ShardOf(id);
  const absl::Time now = options_.clock->Now();
  std::lock_guard<std::mutex> lock(shard.mu);
  auto found = shard.index.find(id);
  if (found == shard.index.end()) return nullptr;
  auto it = found->second;
  if (now - it->filled > options_.max_age) {
    EraseLocked(shard, it);
    Count(metrics_.local_expired);
    return nullptr;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it);
  return it->item;
}

uint64_t LocalItemCache::FillToken(const std::string& id) const {
  Shard& shard = ShardOf(id);
  std::lock_guard<std::mutex> lock(shard.mu);
  return shard.seq;
}

bool LocalItemCache::Insert(std::shared_ptr<const Item> item, uint64_t token) {
  if (!enabled() || item == nullptr) return false;
  const size_t bytes = Footprint(*item);
  if (bytes > shard_bytes_) return false;
  Shard& shard = ShardOf(item->id);
  const absl::Time now = options_.clock->Now();
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.seq != token) return false;
  if (auto found = shard.index.find(item->id); found != shard.index.end()) {
    EraseLocked(shard, found->second);
  }
  std::string id = item->id;
  shard.lru.push_front(Entry{id, std::move(item), now, bytes});
  shard.index.emplace(std::move(id), shard.lru.begin());
  shard.bytes += bytes;
  while (shard.lru.size() > shard_entries_ || shard.bytes > shard_bytes_) {
    EraseLocked(shard, std::prev(shard.lru.end()));
    Count(metrics_.local_evictions);
  }
  return true;
}

void LocalItemCache::Invalidate(const std::string& id) {
  Shard& shard = ShardOf(id);
  std::lock_guard<std::mutex> lock(shard.mu);
  ++shard.seq;
  if (auto found = shard.index.find(id); found != shard.index.end()) {
    EraseLocked(shard, found->second);
  }
}

void LocalItemCache::Clear() {
  for (int i = 0; i < std::max(1, options_.shards); ++i) {
    Shard& shard = shards_[static_cast<size_t>(i)];
    std::list<Entry> dropped;
    {
      std::lock_guard<std::mutex> lock(shard.mu);
      ++shard.seq;
      dropped.swap(shard.lru);
      shard.index.clear();
      shard.bytes = 0;
    }
  }
}

size_t LocalItemCache::entries() const {
  size_t n = 0;
  for (int i = 0; i < std::max(1, options_.shards); ++i) {
    const Shard& shard = shards_[static_cast<size_t>(i)];
    std::lock_guard<std::mutex> lock(shard.mu);
    n += shard.lru.size();
  }
  return n;
}

size_t LocalItemCache::bytes() const {
  size_t n = 0;
  for (int i = 0; i < std::max(1, options_.shards); ++i) {
    const Shard& shard = shards_[static_cast<size_t>(i)];
    std::lock_guard<std::mutex> lock(shard.mu);
    n += shard.bytes;
  }
  return n;
}

TieredItemCache::TieredItemCache(std::unique_ptr<ItemCache> inner, LocalCacheOptions options,
                                 std::function<bool()> feed_live, CatalogMetrics metrics)
    : inner_(inner ? std::move(inner) : std::make_unique<NoItemCache>()),
      local_(std::move(options), metrics),
      feed_live_(std::move(feed_live)),
      metrics_(metrics) {}

std::shared_ptr<const Item> TieredItemCache::Lookup(const std::string& id, bool count_misses) {
  if (!local_.enabled()) return nullptr;
  if (!feed_live_()) {
    if (count_misses) Count(metrics_.local_bypassed);
    return nullptr;
  }
  auto item = local_.Get(id);
  if (item != nullptr) {
    Count(metrics_.local_hits);
  } else if (count_misses) {
    Count(metrics_.local_misses);
  }
  return item;
}

std::shared_ptr<const Item> TieredItemCache::Peek(const std::string& id) {
  // A miss here is followed by a Get(), which counts it.
  return Lookup(id, /*count_misses=*/false);
}

std::optional<Item> TieredItemCache::Get(const std::string& id, const CallContext& ctx) {
  if (auto held = Lookup(id, /*count_misses=*/true)) return *held;
  const bool fill = local_.enabled() && feed_live_();
  const uint64_t token = local_.FillToken(id);
  auto item = inner_->Get(id, ctx);
  // The feed must still be up: a message missed while it was down would not
  // have refused this fill (the Clear() that follows a reconnect does).
  if (item && fill && feed_live_()) local_.Insert(std::make_shared<const Item>(*item), token);
  return item;
}

void TieredItemCache::Put(const Item& item, const CallContext& ctx) {
  // Not kept locally: the token would have to predate the caller's read of
  // PostgreSQL. The next Get fills the local tier from Redis.
  inner_->Put(item, ctx);
}

void TieredItemCache::Invalidate(const std::string& id, int64_t version, const CallContext& ctx) {
  local_.Invalidate(id);
  inner_->Invalidate(id, version, ctx);
  // A read of Redis on this process that began before the inner
  // invalidation landed may have been inserted meanwhile.
  local_.Invalidate(id);
}

void TieredItemCache::OnMessage(const std::string& message) {
  if (message == kClearAll) {
    local_.Clear();
  } else {
    local_.Invalidate(message);
  }
}

}  // namespace genesis::catalog
