// PgInteractionStore on a fresh PostgreSQL database (skipped without
// GENESIS_TEST_PG_DSN).
#include "services/voice/pg_store.h"

#include <gtest/gtest.h>

#include "common/storage/migrations.h"
#include "tests/testing/test_database.h"

namespace genesis {
std::vector<Migration> VoiceMigrations();
}

namespace genesis::voice {
namespace {

class PgInteractionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = genesis::testing::TestDatabase::Create();
    if (!db_) GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set";
    int applied = 0;
    ASSERT_TRUE(ApplyMigrations(db_->dsn(), "voice", VoiceMigrations(), &applied).ok());
    PgPoolOptions o;
    o.dsn = db_->dsn();
    o.size = 2;
    pool_ = std::make_unique<PgPool>(o, nullptr);
    store_ = std::make_unique<PgInteractionStore>(pool_.get());
  }

  InteractionRecord Make(int i, std::string audio = "") {
    InteractionRecord r;
    r.id = std::string(31, '0') + std::to_string(i);
    r.kind = InteractionKind::kConverse;
    r.create_time = absl::FromUnixMicros(1700000000000000 + i * 1000);
    r.language = "en-US";
    r.subject = "user-1";
    r.audio_duration = absl::Milliseconds(2500);
    r.stages = {{Stage::kStt, "pocketsphinx", absl::Microseconds(120000)},
                {Stage::kLlm, "models/sim-local", absl::Microseconds(3000)},
                {Stage::kTts, "espeak-ng", absl::Microseconds(9000)}};
    r.audio = std::move(audio);
    return r;
  }

  std::unique_ptr<genesis::testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgInteractionStore> store_;
};

TEST_F(PgInteractionStoreTest, InsertsAndListsNewestFirstWithStages) {
  auto ctx = CallContext::Background();
  ASSERT_TRUE(store_->Insert(Make(1), ctx).ok());
  ASSERT_TRUE(store_->Insert(Make(2, std::string("RIFF\0\0", 6)), ctx).ok());
  ASSERT_TRUE(store_->Insert(Make(3), ctx).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(store_->Insert(Make(3), ctx)));
  auto all = store_->List(10, std::nullopt, ctx);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, Make(3).id);
  EXPECT_EQ((*all)[0].create_time, Make(3).create_time);
  EXPECT_EQ((*all)[0].audio_duration, absl::Milliseconds(2500));
  ASSERT_EQ((*all)[0].stages.size(), 3u);
  EXPECT_EQ((*all)[0].stages[1].engine, "models/sim-local");
  EXPECT_EQ((*all)[0].stages[2].duration, absl::Microseconds(9000));
  EXPECT_EQ((*all)[1].stored_audio_bytes, 6);
  EXPECT_EQ((*all)[0].stored_audio_bytes, 0);
  auto after = store_->List(10, InteractionCursor{(*all)[1].create_time, (*all)[1].id}, ctx);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].id, Make(1).id);
  EXPECT_TRUE(store_->Ping(ctx).ok());
}

}  // namespace
}  // namespace genesis::voice
