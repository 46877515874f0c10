// Two Catalog replicas, each with its in-process item tier fed by its own
// Redis subscriber, on real PostgreSQL and a private Redis (label `pg`):
// a write through one is not served stale from the other's memory beyond
// the bound the README states (the pub/sub delivery; the entries' max age
// when a message is lost), and the tier stops serving while its feed is down
// and starts empty after a reconnect.
#include <functional>

#include <gtest/gtest.h>

#include "common/storage/migrations.h"
#include "common/storage/redis_subscriber.h"
#include "services/catalog/catalog.h"
#include "services/catalog/local_cache.h"
#include "services/catalog/pg_store.h"
#include "services/catalog/redis_cache.h"
#include "services/catalog/tests/private_redis.h"
#include "tests/testing/test_database.h"

namespace genesis {
std::vector<Migration> CatalogMigrations();
}

namespace genesis::catalog {
namespace {

// How long a test waits for what should take milliseconds: the bound the
// tests hold the replicas to is this, far below the entries' max age.
constexpr absl::Duration kDelivery = absl::Seconds(2);

// One process: its Redis client, subscriber, tiered cache and logic.
struct Replica {
  MetricsRegistry registry;
  CatalogMetrics metrics;
  std::unique_ptr<RedisClient> redis;
  std::unique_ptr<RedisSubscriber> subscriber;
  TieredItemCache* tier = nullptr;
  std::unique_ptr<Catalog> catalog;

  ~Replica() {
    if (subscriber) subscriber->Stop();  // before the tier it feeds goes
  }
};

class LocalCacheReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = genesis::testing::TestDatabase::Create();
    if (!db_) GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set (scripts/test.sh sets it)";
    if (system("command -v redis-server >/dev/null 2>&1") != 0) GTEST_SKIP() << "no redis-server";
    ASSERT_TRUE(ApplyMigrations(db_->dsn(), "catalog", CatalogMigrations()).ok());
    redis_server_ = testing::PrivateRedis::Start();
    ASSERT_NE(redis_server_, nullptr);
    PgPoolOptions po;
    po.dsn = db_->dsn();
    po.size = 4;
    pool_ = std::make_unique<PgPool>(po, nullptr);
  }

  // A replica whose entries live `max_age`; `publish` false plays a writer
  // whose invalidation messages are lost.
  std::unique_ptr<Replica> Start(absl::Duration max_age, bool publish = true) {
    auto r = std::make_unique<Replica>();
    RedisOptions ro;
    ro.url = redis_server_->url();
    ro.breaker_open = absl::Milliseconds(100);
    ro.breaker_max_open = absl::Milliseconds(200);
    auto client = RedisClient::Create(ro, &r->registry);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    r->redis = std::move(*client);
    EXPECT_TRUE(Eventually([&] { return r->redis->Ping(absl::Now() + absl::Seconds(1)).ok(); }))
        << "the private redis-server did not start";
    r->metrics = CatalogMetrics::Register(&r->registry);
    RedisSubscriberOptions so;
    so.channels = {RedisItemCache::kInvalidationChannel};
    so.ping_interval = absl::Milliseconds(100);
    so.dead_after = absl::Milliseconds(400);
    so.retry_max = absl::Milliseconds(200);
    Replica* raw = r.get();
    r->subscriber = std::make_unique<RedisSubscriber>(
        r->redis.get(), so,
        RedisSubscriber::Handler{
            .on_message = [raw](const std::string&,
                                const std::string& message) { raw->tier->OnMessage(message); },
            .on_subscribed = [raw] { raw->tier->Clear(); },
            .on_lost = [raw] { raw->tier->Clear(); }},
        &r->registry);
    LocalCacheOptions lo;
    lo.max_age = max_age;
    auto tier = std::make_unique<TieredItemCache>(
        std::make_unique<RedisItemCache>(r->redis.get(), absl::Hours(1), r->metrics,
                                         publish ? RedisItemCache::kInvalidationChannel : ""),
        lo, [sub = r->subscriber.get()] { return sub->Live(); }, r->metrics);
    r->tier = tier.get();
    r->catalog = std::make_unique<Catalog>(std::make_unique<PgCatalogStore>(pool_.get()),
                                           std::move(tier), CatalogOptions{}, r->metrics);
    r->subscriber->Start();
    EXPECT_TRUE(Eventually([&] { return r->subscriber->Live(); })) << "never subscribed";
    return r;
  }

  static CallContext Ctx() { return CallContext::Background(absl::Seconds(5)); }
  static bool Eventually(const std::function<bool()>& done,
                         absl::Duration within = absl::Seconds(15)) {
    const absl::Time until = absl::Now() + within;
    while (absl::Now() < until) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return done();
  }
  static std::string Title(Replica& r, const std::string& name) {
    auto got = r.catalog->GetItem(name, Ctx());
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->title : "";
  }
  // Creates an item through `r` and has `reader` hold it in memory.
  std::string CreateHeld(Replica& r, Replica& reader, const std::string& title) {
    ItemType t;
    if (!type_created_) {
      EXPECT_TRUE(r.catalog->CreateItemType("lead", t, Ctx()).ok());
      type_created_ = true;
    }
    Item it;
    it.type_id = "lead";
    it.title = title;
    auto created = r.catalog->CreateItem(it, "", Ctx());
    EXPECT_TRUE(created.ok()) << created.status();
    const std::string name = "items/" + (created.ok() ? created->id : "");
    // PostgreSQL (then Redis filled), Redis (then memory filled), memory.
    EXPECT_TRUE(Eventually([&] {
      Title(reader, name);
      return reader.catalog->PeekItem(name) != nullptr;
    })) << "the reader never held the item in memory";
    return name;
  }
  static bool Update(Replica& r, const std::string& name, const std::string& title) {
    Item change;
    change.title = title;
    auto updated = r.catalog->UpdateItem(name, change, {"title"}, "", Ctx());
    EXPECT_TRUE(updated.ok()) << updated.status();
    return updated.ok();
  }

  std::unique_ptr<genesis::testing::TestDatabase> db_;
  std::unique_ptr<testing::PrivateRedis> redis_server_;
  std::unique_ptr<PgPool> pool_;
  bool type_created_ = false;
};

TEST_F(LocalCacheReplicasTest, AnUpdateThroughOneReplicaReachesTheOthersMemory) {
  auto a = Start(absl::Hours(1));
  auto b = Start(absl::Hours(1));
  ASSERT_TRUE(a && b);
  const std::string name = CreateHeld(*a, *b, "old title");
  ASSERT_EQ(Title(*b, name), "old title");
  const double b_hits = b->metrics.local_hits->Value();
  EXPECT_GE(b_hits, 1);

  ASSERT_TRUE(Update(*a, name, "new title"));
  // The entry lives an hour: only the message can make B drop it.
  EXPECT_TRUE(Eventually([&] { return b->catalog->PeekItem(name) == nullptr; }, kDelivery))
      << "replica B still serves the old item from memory";
  EXPECT_EQ(Title(*b, name), "new title");
  // And B holds the new version in memory again.
  EXPECT_TRUE(Eventually([&] {
    auto held = b->catalog->PeekItem(name);
    if (held == nullptr) Title(*b, name);
    return held != nullptr && held->title == "new title";
  }));
  // The writer's own memory never held the old title after its write.
  EXPECT_EQ(Title(*a, name), "new title");
}

TEST_F(LocalCacheReplicasTest, ADeleteThroughOneReplicaReachesTheOthersMemory) {
  auto a = Start(absl::Hours(1));
  auto b = Start(absl::Hours(1));
  ASSERT_TRUE(a && b);
  const std::string name = CreateHeld(*a, *b, "to delete");
  ASSERT_TRUE(a->catalog->DeleteItem(name, "", Ctx()).ok());
  EXPECT_TRUE(Eventually([&] { return b->catalog->PeekItem(name) == nullptr; }, kDelivery));
  EXPECT_EQ(b->catalog->GetItem(name, Ctx()).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LocalCacheReplicasTest, ALostMessageIsBoundedByTheMaxAge) {
  // The writer publishes nothing (as if its message were lost); the reader's
  // entries live 300 ms, after which it reads Redis, where the write's
  // tombstone is.
  const absl::Duration max_age = absl::Milliseconds(300);
  auto b = Start(max_age);
  auto a = Start(absl::Hours(1), /*publish=*/false);
  ASSERT_TRUE(a && b);
  const std::string name = CreateHeld(*a, *b, "old title");
  ASSERT_TRUE(Update(*a, name, "new title"));
  const absl::Time written = absl::Now();
  std::string seen;
  ASSERT_TRUE(Eventually([&] {
    seen = Title(*b, name);
    return seen == "new title";
  }));
  const absl::Duration stale_for = absl::Now() - written;
  EXPECT_LE(stale_for, max_age + absl::Seconds(1)) << "served stale for " << stale_for;
}

TEST_F(LocalCacheReplicasTest, WhileRedisIsHungTheTierIsNotUsedAndStartsEmptyAfter) {
  auto a = Start(absl::Hours(1));
  auto b = Start(absl::Hours(1));
  ASSERT_TRUE(a && b);
  const std::string name = CreateHeld(*a, *b, "old title");

  redis_server_->Stop();
  // No reply to its pings: B stops serving from memory within dead_after.
  EXPECT_TRUE(Eventually([&] { return !b->subscriber->Live(); }, kDelivery));
  EXPECT_EQ(b->catalog->PeekItem(name), nullptr);
  // An update meanwhile cannot be published (nor the Redis entry replaced).
  ASSERT_TRUE(Update(*a, name, "new title"));
  EXPECT_EQ(Title(*b, name), "new title");  // from PostgreSQL
  redis_server_->Continue();

  // As without the tier (README, "Design"): A, whose invalidation failed,
  // bumps the generation on its next cache use, which also tells every
  // replica to drop what it holds.
  ASSERT_TRUE(Eventually([&] { return a->redis->breaker_state() == RedisBreakerState::kClosed; }));
  EXPECT_EQ(Title(*a, name), "new title");
  // B subscribes again, with nothing from before in memory; every read is fresh.
  ASSERT_TRUE(Eventually([&] {
    EXPECT_EQ(Title(*b, name), "new title");
    return b->subscriber->Live() && b->catalog->PeekItem(name) != nullptr;
  })) << "B never used its memory again after Redis came back";
  EXPECT_EQ(b->catalog->PeekItem(name)->title, "new title");
}

TEST_F(LocalCacheReplicasTest, AReconnectDropsWhatWasHeld) {
  // Messages published while the subscriber was disconnected are lost: after
  // a reconnect nothing held before is served, whether or not it changed.
  auto a = Start(absl::Hours(1));
  auto b = Start(absl::Hours(1));
  ASSERT_TRUE(a && b);
  const std::string name = CreateHeld(*a, *b, "title");
  const int64_t subscriptions = b->subscriber->subscriptions();
  auto killed =
      a->redis->Command({"CLIENT", "KILL", "TYPE", "pubsub"}, absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(killed.ok()) << killed.status();
  ASSERT_TRUE(Eventually([&] { return b->subscriber->subscriptions() > subscriptions; }));
  EXPECT_EQ(b->catalog->PeekItem(name), nullptr);
  EXPECT_EQ(b->tier->local().entries(), 0u);
  EXPECT_NE(b->registry.Render().find("genesis_redis_subscriber_lost_total{client=\"default\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace genesis::catalog
