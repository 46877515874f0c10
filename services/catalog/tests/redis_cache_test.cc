// RedisItemCache and RedisClient on real Redis (label `pg`): round trip,
// TTL, invalidation, and that a dead Redis costs a bounded time and counts
// an error instead of failing the call.
#include "services/catalog/redis_cache.h"

#include <gtest/gtest.h>

#include "tests/testing/test_database.h"

namespace genesis::catalog {
namespace {

class RedisCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = genesis::testing::TestRedisUrl();
    if (!url) GTEST_SKIP() << "GENESIS_TEST_REDIS_URL not set (scripts/test.sh sets it)";
    RedisOptions options;
    options.url = *url;
    auto client = RedisClient::Create(options, &registry_);
    ASSERT_TRUE(client.ok());
    redis_ = std::move(*client);
    metrics_ = CatalogMetrics::Register(&registry_);
  }

  Item SampleItem(const std::string& id) {
    Item it;
    it.id = id;
    it.type_id = "lead";
    it.title = "título \"x\"";
    it.body = "corpo";
    it.attributes = {{"price", 10.5}, {"tags", {"a"}}};
    it.labels = {{"k", "v"}};
    it.version = 7;
    it.create_time = absl::FromUnixMicros(1'700'000'000'123'456);
    it.update_time = absl::FromUnixMicros(1'700'000'001'000'000);
    return it;
  }

  MetricsRegistry registry_;
  std::unique_ptr<RedisClient> redis_;
  CatalogMetrics metrics_;
  CallContext ctx_ = CallContext::Background();
};

TEST_F(RedisCacheTest, PutGetInvalidate) {
  RedisItemCache cache(redis_.get(), absl::Hours(1), metrics_);
  const std::string id = "cache-" + std::to_string(absl::ToUnixNanos(absl::Now()));
  EXPECT_FALSE(cache.Get(id, ctx_).has_value());
  Item it = SampleItem(id);
  cache.Put(it, ctx_);
  auto got = cache.Get(id, ctx_);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->title, it.title);
  EXPECT_EQ(got->attributes, it.attributes);
  EXPECT_EQ(got->labels, it.labels);
  EXPECT_EQ(got->version, 7);
  EXPECT_EQ(got->create_time, it.create_time);
  cache.Invalidate(id, 8, ctx_);
  EXPECT_FALSE(cache.Get(id, ctx_).has_value());
  EXPECT_EQ(metrics_.cache_errors->Value(), 0);
}

TEST_F(RedisCacheTest, AStaleFillAfterAnInvalidationIsIgnored) {
  // A reader loaded version 7, then a writer committed version 8 and
  // invalidated; the reader's late fill must not bring version 7 back.
  RedisItemCache cache(redis_.get(), absl::Hours(1), metrics_);
  const std::string id = "race-" + std::to_string(absl::ToUnixNanos(absl::Now()));
  cache.Invalidate(id, 8, ctx_);
  cache.Put(SampleItem(id), ctx_);  // version 7
  EXPECT_FALSE(cache.Get(id, ctx_).has_value());
  Item fresh = SampleItem(id);
  fresh.version = 8;
  cache.Put(fresh, ctx_);
  auto got = cache.Get(id, ctx_);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->version, 8);
  EXPECT_EQ(metrics_.cache_errors->Value(), 0);
}

TEST_F(RedisCacheTest, EntriesExpireAfterTheTtl) {
  RedisItemCache cache(redis_.get(), absl::Milliseconds(50), metrics_);
  const std::string id = "ttl-" + std::to_string(absl::ToUnixNanos(absl::Now()));
  cache.Put(SampleItem(id), ctx_);
  auto generation = redis_->Get(RedisItemCache::kGenerationKey, ctx_.deadline);
  ASSERT_TRUE(generation.ok() && generation->has_value());
  auto ttl =
      redis_->Command({"PTTL", RedisItemCache::Key(std::stoll(**generation), id)}, ctx_.deadline);
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 50);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (cache.Get(id, ctx_).has_value() && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_FALSE(cache.Get(id, ctx_).has_value());
}

TEST_F(RedisCacheTest, DeadRedisIsAMissWithinTheTimeoutAndCountsAnError) {
  RedisOptions options;
  options.url = "redis://127.0.0.1:1";
  options.connect_timeout = absl::Milliseconds(100);
  auto dead = RedisClient::Create(options, nullptr);
  ASSERT_TRUE(dead.ok());
  RedisItemCache cache(dead->get(), absl::Hours(1), metrics_);
  const absl::Time start = absl::Now();
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(cache.Get("x", ctx_).has_value());
  cache.Put(SampleItem("x"), ctx_);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2)) << "back-off must keep a dead Redis cheap";
  EXPECT_GE(metrics_.cache_errors->Value(), 21);
}

TEST_F(RedisCacheTest, ClientRejectsMalformedUrls) {
  for (const char* bad : {"http://x", "redis://", "redis://h:99999", "redis://h:1/x"}) {
    RedisOptions o;
    o.url = bad;
    EXPECT_EQ(RedisClient::Create(o, nullptr).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST_F(RedisCacheTest, CommandsNeverOutliveTheDeadline) {
  // BLPOP on an empty list would block for 10 s; the caller's deadline wins.
  const absl::Time start = absl::Now();
  auto r = redis_->Command({"BLPOP", "genesis:test:empty-list", "10"},
                           absl::Now() + absl::Milliseconds(150));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_TRUE(redis_->Ping(ctx_.deadline).ok()) << "the client recovers";
}

}  // namespace
}  // namespace genesis::catalog
