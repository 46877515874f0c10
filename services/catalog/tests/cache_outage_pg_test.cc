// The Catalog on real PostgreSQL with a private Redis that the test stops
// (SIGSTOP, a hung server) and continues: an item updated while Redis could
// not take the invalidation is never served stale once Redis is back
// (label `pg`).
#include <functional>

#include <gtest/gtest.h>

#include "common/storage/migrations.h"
#include "services/catalog/catalog.h"
#include "services/catalog/pg_store.h"
#include "services/catalog/redis_cache.h"
#include "services/catalog/tests/private_redis.h"
#include "tests/testing/test_database.h"

namespace genesis {
std::vector<Migration> CatalogMigrations();
}

namespace genesis::catalog {
namespace {

class CacheOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = genesis::testing::TestDatabase::Create();
    if (!db_) GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set (scripts/test.sh sets it)";
    if (system("command -v redis-server >/dev/null 2>&1") != 0) GTEST_SKIP() << "no redis-server";
    ASSERT_TRUE(ApplyMigrations(db_->dsn(), "catalog", CatalogMigrations()).ok());
    redis_server_ = testing::PrivateRedis::Start();
    ASSERT_NE(redis_server_, nullptr);
    RedisOptions ro;
    ro.url = redis_server_->url();
    ro.breaker_open = absl::Milliseconds(100);
    ro.breaker_max_open = absl::Milliseconds(200);
    auto client = RedisClient::Create(ro, &registry_);
    ASSERT_TRUE(client.ok()) << client.status();
    redis_ = std::move(*client);
    ASSERT_TRUE(Eventually([&] { return redis_->Ping(absl::Now() + absl::Seconds(1)).ok(); }))
        << "the private redis-server did not start";
    PgPoolOptions po;
    po.dsn = db_->dsn();
    po.size = 4;
    pool_ = std::make_unique<PgPool>(po, nullptr);
    metrics_ = CatalogMetrics::Register(&registry_);
    catalog_ = std::make_unique<Catalog>(
        std::make_unique<PgCatalogStore>(pool_.get()),
        std::make_unique<RedisItemCache>(redis_.get(), absl::Hours(1), metrics_), CatalogOptions{},
        metrics_);
    ItemType t;
    t.attributes = {{"city", AttributeKind::kString, false, ""}};
    ASSERT_TRUE(catalog_->CreateItemType("lead", t, Ctx()).ok());
  }

  static CallContext Ctx() { return CallContext::Background(absl::Seconds(5)); }
  static bool Eventually(const std::function<bool()>& done) {
    const absl::Time until = absl::Now() + absl::Seconds(15);
    while (absl::Now() < until) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }
  std::string Title(const std::string& name) {
    auto got = catalog_->GetItem(name, Ctx());
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->title : "";
  }

  MetricsRegistry registry_;
  std::unique_ptr<genesis::testing::TestDatabase> db_;
  std::unique_ptr<testing::PrivateRedis> redis_server_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<PgPool> pool_;
  CatalogMetrics metrics_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CacheOutageTest, AnUpdateWhileRedisIsHungIsNotServedStaleAfterItComesBack) {
  Item it;
  it.type_id = "lead";
  it.title = "old title";
  auto created = catalog_->CreateItem(it, "", Ctx());
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string name = "items/" + created->id;
  ASSERT_EQ(Title(name), "old title");
  ASSERT_EQ(Title(name), "old title");
  ASSERT_GE(metrics_.cache_hits->Value(), 1) << "the second read comes from the cache";

  redis_server_->Stop();
  Item change;
  change.title = "new title";
  auto updated = catalog_->UpdateItem(name, change, {"title"}, "", Ctx());
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(Title(name), "new title") << "while Redis is hung";
  redis_server_->Continue();

  // Once Redis answers again, the cache is used again, and never with the
  // entry the failed invalidation left behind.
  const double hits_before = metrics_.cache_hits->Value();
  ASSERT_TRUE(Eventually([&] {
    EXPECT_EQ(Title(name), "new title");
    return metrics_.cache_hits->Value() > hits_before;
  })) << "the cache was not used again after Redis came back";
  EXPECT_EQ(Title(name), "new title");
}

TEST_F(CacheOutageTest, AnotherReplicaSeesTheBumpedGenerationToo) {
  // Two catalogs (replicas) share the Redis; the one whose invalidation
  // failed bumps the generation for both.
  auto other = std::make_unique<Catalog>(
      std::make_unique<PgCatalogStore>(pool_.get()),
      std::make_unique<RedisItemCache>(redis_.get(), absl::Hours(1), metrics_), CatalogOptions{},
      metrics_);
  Item it;
  it.type_id = "lead";
  it.title = "old title";
  auto created = catalog_->CreateItem(it, "", Ctx());
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string name = "items/" + created->id;
  ASSERT_TRUE(other->GetItem(name, Ctx()).ok());  // the other replica fills the cache
  redis_server_->Stop();
  Item change;
  change.title = "new title";
  ASSERT_TRUE(catalog_->UpdateItem(name, change, {"title"}, "", Ctx()).ok());
  redis_server_->Continue();
  ASSERT_TRUE(Eventually([&] { return redis_->breaker_state() == RedisBreakerState::kClosed; }));
  // The replica that failed to invalidate reads first (it bumps), then the other.
  EXPECT_EQ(Title(name), "new title");
  auto seen = other->GetItem(name, Ctx());
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->title, "new title");
}

}  // namespace
}  // namespace genesis::catalog
