// The in-process item tier (local_cache.h) without Redis (label `unit`): its
// bounds (entries, bytes, age), least-recently-used eviction, invalidation
// (one item, everything, and a write that lands while a fill is in flight),
// and TieredItemCache's use of the feed: not read nor filled while the feed
// is down, dropped on each message.
#include "services/catalog/local_cache.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "services/catalog/tests/fake_store.h"

namespace genesis::catalog {
namespace {

Item MakeItem(const std::string& id, int64_t version = 1, size_t body_bytes = 10) {
  Item it;
  it.id = id;
  it.type_id = "lead";
  it.title = "title of " + id;
  it.body = std::string(body_bytes, 'b');
  it.attributes = {{"city", "Recife"}};
  it.labels = {{"stage", "new"}};
  it.version = version;
  return it;
}

std::shared_ptr<const Item> Shared(Item item) {
  return std::make_shared<const Item>(std::move(item));
}

class LocalItemCacheTest : public ::testing::Test {
 protected:
  LocalCacheOptions Options(size_t entries, size_t bytes = 1 << 20) {
    LocalCacheOptions o;
    o.max_entries = entries;
    o.max_bytes = bytes;
    o.max_age = absl::Seconds(5);
    o.shards = 1;  // bounds per shard are the whole bounds
    o.clock = &clock_;
    return o;
  }
  bool Fill(LocalItemCache& cache, Item item) {
    const uint64_t token = cache.FillToken(item.id);
    return cache.Insert(Shared(std::move(item)), token);
  }

  ManualClock clock_;
  MetricsRegistry registry_;
  CatalogMetrics metrics_ = CatalogMetrics::Register(&registry_);
};

TEST_F(LocalItemCacheTest, HoldsWhatWasInserted) {
  LocalItemCache cache(Options(10), metrics_);
  EXPECT_EQ(cache.Get("a"), nullptr);
  ASSERT_TRUE(Fill(cache, MakeItem("a", 3)));
  auto got = cache.Get("a");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->title, "title of a");
  EXPECT_EQ(got->version, 3);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), LocalItemCache::Footprint(MakeItem("a", 3)));
}

TEST_F(LocalItemCacheTest, EvictsTheLeastRecentlyUsedPastTheEntryBound) {
  LocalItemCache cache(Options(3), metrics_);
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(Fill(cache, MakeItem(id)));
  ASSERT_NE(cache.Get("a"), nullptr);  // "b" is now the least recently used
  ASSERT_TRUE(Fill(cache, MakeItem("d")));
  EXPECT_EQ(cache.entries(), 3u);
  EXPECT_EQ(cache.Get("b"), nullptr);
  EXPECT_NE(cache.Get("a"), nullptr);
  EXPECT_NE(cache.Get("c"), nullptr);
  EXPECT_NE(cache.Get("d"), nullptr);
  EXPECT_EQ(metrics_.local_evictions->Value(), 1);
}

TEST_F(LocalItemCacheTest, StaysWithinTheByteBound) {
  const size_t one = LocalItemCache::Footprint(MakeItem("a", 1, 1000));
  LocalItemCache cache(Options(100, 2 * one + one / 2), metrics_);
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(Fill(cache, MakeItem(id, 1, 1000)));
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_LE(cache.bytes(), 2 * one + one / 2);
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_NE(cache.Get("c"), nullptr);
  // An item larger than the whole bound is not kept, and evicts nothing.
  EXPECT_FALSE(Fill(cache, MakeItem("huge", 1, 10 * one)));
  EXPECT_EQ(cache.Get("huge"), nullptr);
  EXPECT_EQ(cache.entries(), 2u);
}

TEST_F(LocalItemCacheTest, AnEntryOlderThanTheMaxAgeIsNotServed) {
  LocalItemCache cache(Options(10), metrics_);
  ASSERT_TRUE(Fill(cache, MakeItem("a")));
  clock_.Advance(absl::Seconds(5));
  EXPECT_NE(cache.Get("a"), nullptr);  // exactly the max age: still served
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(metrics_.local_expired->Value(), 1);
  // A hit does not extend the age: it counts from the fill.
  ASSERT_TRUE(Fill(cache, MakeItem("a")));
  clock_.Advance(absl::Seconds(3));
  EXPECT_NE(cache.Get("a"), nullptr);
  clock_.Advance(absl::Seconds(3));
  EXPECT_EQ(cache.Get("a"), nullptr);
}

TEST_F(LocalItemCacheTest, InvalidateDropsTheItemAndRefusesFillsBegunBefore) {
  LocalItemCache cache(Options(10), metrics_);
  ASSERT_TRUE(Fill(cache, MakeItem("a", 1)));
  const uint64_t before = cache.FillToken("a");  // a reader starts reading version 1
  cache.Invalidate("a");                         // a writer's invalidation arrives
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_FALSE(cache.Insert(Shared(MakeItem("a", 1)), before));
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_TRUE(Fill(cache, MakeItem("a", 2)));  // a read begun after it is kept
  ASSERT_NE(cache.Get("a"), nullptr);
  EXPECT_EQ(cache.Get("a")->version, 2);
}

TEST_F(LocalItemCacheTest, ClearDropsEverythingAndRefusesFillsBegunBefore) {
  LocalCacheOptions o = Options(100);
  o.shards = 4;
  LocalItemCache cache(o, metrics_);
  for (const char* id : {"a", "b", "c", "d", "e"}) ASSERT_TRUE(Fill(cache, MakeItem(id)));
  const uint64_t before = cache.FillToken("f");
  cache.Clear();
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  for (const char* id : {"a", "b", "c", "d", "e"}) EXPECT_EQ(cache.Get(id), nullptr);
  EXPECT_FALSE(cache.Insert(Shared(MakeItem("f")), before));
}

TEST_F(LocalItemCacheTest, ZeroEntriesTurnsTheTierOff) {
  LocalItemCache cache(Options(0), metrics_);
  EXPECT_FALSE(cache.enabled());
  EXPECT_FALSE(Fill(cache, MakeItem("a")));
  EXPECT_EQ(cache.Get("a"), nullptr);
}

TEST_F(LocalItemCacheTest, ConcurrentReadersAndWritersKeepTheBounds) {
  LocalCacheOptions o = Options(64);
  o.shards = 8;
  LocalItemCache cache(o, metrics_);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string id = "i" + std::to_string((i * 7 + t) % 200);
        if (i % 5 == 0) {
          cache.Invalidate(id);
        } else if (auto got = cache.Get(id); got == nullptr) {
          Fill(cache, MakeItem(id));
        } else {
          EXPECT_EQ(got->id, id);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.entries(), 64u);
}

class TieredItemCacheTest : public LocalItemCacheTest {
 protected:
  std::unique_ptr<TieredItemCache> Make() {
    auto inner = std::make_unique<testing::FakeItemCache>();
    inner_ = inner.get();
    return std::make_unique<TieredItemCache>(
        std::move(inner), Options(100), [this] { return feed_live_.load(); }, metrics_);
  }
  void Seed(const Item& item) { inner_->Put(item, ctx_); }

  testing::FakeItemCache* inner_ = nullptr;
  std::atomic<bool> feed_live_{true};
  CallContext ctx_ = CallContext::Background();
};

TEST_F(TieredItemCacheTest, ASecondReadIsServedFromMemory) {
  auto cache = Make();
  Seed(MakeItem("a", 4));
  EXPECT_EQ(cache->Peek("a"), nullptr);
  auto first = cache->Get("a", ctx_);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(inner_->gets, 1);
  auto second = cache->Get("a", ctx_);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->version, 4);
  EXPECT_EQ(inner_->gets, 1);  // not asked again
  ASSERT_NE(cache->Peek("a"), nullptr);
  EXPECT_EQ(metrics_.local_hits->Value(), 2);
}

TEST_F(TieredItemCacheTest, NotReadNorFilledWhileTheFeedIsDown) {
  auto cache = Make();
  Seed(MakeItem("a"));
  ASSERT_TRUE(cache->Get("a", ctx_).has_value());  // held in memory now
  feed_live_ = false;
  EXPECT_EQ(cache->Peek("a"), nullptr);
  EXPECT_TRUE(cache->Get("a", ctx_).has_value());
  EXPECT_EQ(inner_->gets, 2);  // asked Redis instead
  Seed(MakeItem("b"));
  EXPECT_TRUE(cache->Get("b", ctx_).has_value());
  feed_live_ = true;
  // "b" was read while the feed was down: it was not kept.
  EXPECT_EQ(cache->Peek("b"), nullptr);
  EXPECT_GE(metrics_.local_bypassed->Value(), 2);
}

TEST_F(TieredItemCacheTest, AWriteHereDropsTheItemAndInvalidatesRedis) {
  auto cache = Make();
  Seed(MakeItem("a", 1));
  ASSERT_TRUE(cache->Get("a", ctx_).has_value());
  ASSERT_NE(cache->Peek("a"), nullptr);
  cache->Invalidate("a", 2, ctx_);
  EXPECT_EQ(inner_->invalidations, 1);
  EXPECT_EQ(cache->Peek("a"), nullptr);
  EXPECT_FALSE(cache->Get("a", ctx_).has_value());  // nor in Redis
}

TEST_F(TieredItemCacheTest, MessagesDropOneItemOrEverything) {
  auto cache = Make();
  for (const char* id : {"a", "b", "c"}) {
    Seed(MakeItem(id));
    ASSERT_TRUE(cache->Get(id, ctx_).has_value());
  }
  cache->OnMessage("b");
  EXPECT_NE(cache->Peek("a"), nullptr);
  EXPECT_EQ(cache->Peek("b"), nullptr);
  EXPECT_NE(cache->Peek("c"), nullptr);
  cache->OnMessage(TieredItemCache::kClearAll);
  EXPECT_EQ(cache->Peek("a"), nullptr);
  EXPECT_EQ(cache->Peek("c"), nullptr);
}

TEST_F(TieredItemCacheTest, AnInvalidationDuringTheRedisReadIsNotUndoneByTheFill) {
  // The read of Redis returns version 1, but before it is kept another
  // replica's update (version 2) is announced: version 1 must not be kept.
  auto cache = Make();
  Seed(MakeItem("a", 1));
  inner_->during_next_get = [&] { cache->OnMessage("a"); };
  auto got = cache->Get("a", ctx_);
  ASSERT_TRUE(got.has_value());  // this call may answer what it read
  EXPECT_EQ(cache->Peek("a"), nullptr);
  // Likewise when the feed is lost (and cleared) during the read.
  inner_->during_next_get = [&] { cache->Clear(); };
  ASSERT_TRUE(cache->Get("a", ctx_).has_value());
  EXPECT_EQ(cache->Peek("a"), nullptr);
  // Nothing in the way: the next read is kept.
  ASSERT_TRUE(cache->Get("a", ctx_).has_value());
  EXPECT_NE(cache->Peek("a"), nullptr);
}

TEST_F(TieredItemCacheTest, AFeedLostDuringTheRedisReadPreventsTheFill) {
  auto cache = Make();
  Seed(MakeItem("a", 1));
  inner_->during_next_get = [&] { feed_live_ = false; };
  ASSERT_TRUE(cache->Get("a", ctx_).has_value());
  feed_live_ = true;
  EXPECT_EQ(cache->Peek("a"), nullptr);
}

}  // namespace
}  // namespace genesis::catalog
