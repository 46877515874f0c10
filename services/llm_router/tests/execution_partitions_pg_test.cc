// The executions table partitioned by day (migration 0005) and its
// maintenance (store/execution_partitions.h), against a real PostgreSQL.
#include "services/llm_router/store/execution_partitions.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/storage/migrations.h"
#include "common/storage/pg_pool.h"
#include "services/llm_router/store/pg_store.h"
#include "tests/testing/test_database.h"

namespace genesis {
std::vector<Migration> LlmRouterMigrations();  // generated from migrations/*.sql
}

namespace genesis::llmrouter {
namespace {

constexpr int kBeforePartitioning = 4;  // migrations 0001-0004

class ExecutionPartitionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = ::genesis::testing::TestDatabase::Create();
    if (!db_) GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set (scripts/test.sh sets it)";
    PgPoolOptions options;
    options.dsn = db_->dsn();
    options.size = 4;
    pool_ = std::make_unique<PgPool>(options, nullptr);
  }

  absl::Status Migrate(int up_to) {
    auto all = LlmRouterMigrations();
    all.resize(std::min<size_t>(all.size(), static_cast<size_t>(up_to)));
    return ApplyMigrations(db_->dsn(), "llm_router", all);
  }
  absl::Status MigrateAll() { return Migrate(1 << 20); }

  // Inserts an execution at `t` straight into the table; returns its id.
  int64_t Insert(absl::Time t, const std::string& request_id = "req") {
    auto id = pool_->Transaction(Deadline(), [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
      return tx
          .exec_params1(
              "INSERT INTO llm_router.executions (request_id, task, outcome, create_time) "
              "VALUES ($1, 'TASK_CHAT', 'ok', $2::timestamptz) RETURNING id",
              request_id, absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone()))[0]
          .as<int64_t>();
    });
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : -1;
  }
  void AddFeedback(int64_t execution_id) {
    auto st = pool_->Transaction(Deadline(), [&](pqxx::work& tx) -> absl::Status {
      tx.exec_params(
          "INSERT INTO llm_router.feedback (execution_id, subject, score) "
          "VALUES ($1, 'alice', 5)",
          execution_id);
      return absl::OkStatus();
    });
    ASSERT_TRUE(st.ok()) << st;
  }
  int64_t Count(const std::string& sql) {
    auto n =
        pool_->ReadOnly(Deadline(), [&](pqxx::read_transaction& tx) -> absl::StatusOr<int64_t> {
          return tx.exec(sql)[0][0].as<int64_t>();
        });
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }
  // The partition that holds execution `id`.
  std::string PartitionOf(int64_t id) {
    auto name =
        pool_->ReadOnly(Deadline(), [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::string> {
          return tx
              .exec_params1(
                  "SELECT tableoid::regclass::text FROM llm_router.executions "
                  "WHERE id = $1",
                  id)[0]
              .as<std::string>();
        });
    return name.ok() ? *name : name.status().ToString();
  }
  static std::string DayTable(absl::Time t) {
    absl::CivilDay d = absl::ToCivilDay(t, absl::UTCTimeZone());
    return absl::StrFormat("llm_router.executions_p%04d%02d%02d", d.year(), d.month(), d.day());
  }
  static absl::Time Deadline() { return absl::Now() + absl::Seconds(30); }
  static CallContext Ctx() { return CallContext::Background(absl::Seconds(30)); }

  std::unique_ptr<::genesis::testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  const absl::Time now_ = absl::Now();
};

TEST_F(ExecutionPartitionsTest, UpgradeKeepsEveryRowAndItsFeedbackAndIdsGoOn) {
  ASSERT_TRUE(Migrate(kBeforePartitioning).ok());
  int64_t old1 = Insert(now_ - absl::Hours(24 * 40));
  int64_t old2 = Insert(now_);
  AddFeedback(old1);
  ASSERT_TRUE(MigrateAll().ok());

  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions"), 2);
  EXPECT_EQ(PartitionOf(old1), "llm_router.executions_legacy");
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.feedback"), 1);
  // The router's own write path after the upgrade: ids continue, no clash.
  PgRouterStore store(pool_.get());
  ExecutionRecord record;
  record.request_id = "after-upgrade";
  record.outcome = "ok";
  auto written = store.RecordExecution(record, Ctx());
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_GT(written->execution_id, old2);
  auto ids = store.ReserveExecutionIds(2, Ctx());
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_GT(ids->front(), written->execution_id);
}

TEST_F(ExecutionPartitionsTest, CreatesTheDaysAheadOnceAndMovesRowsWaitingInTheDefault) {
  ASSERT_TRUE(MigrateAll().ok());
  absl::Time in_three_days = now_ + absl::Hours(72);
  int64_t waiting = Insert(in_three_days);
  EXPECT_EQ(PartitionOf(waiting), "llm_router.executions_default");

  ExecutionPartitions partitions(pool_.get(), {});
  auto work = partitions.Maintain(now_, Ctx());
  ASSERT_TRUE(work.ok()) << work.status();
  // Today is still the legacy partition's (it ends tomorrow at 00:00 UTC).
  EXPECT_EQ(work->created, 7);
  EXPECT_EQ(work->moved, 1);
  EXPECT_EQ(PartitionOf(waiting), DayTable(in_three_days));
  EXPECT_EQ(PartitionOf(Insert(now_ + absl::Hours(24 * 7))), DayTable(now_ + absl::Hours(24 * 7)));

  auto again = partitions.Maintain(now_, Ctx());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->total(), 0);
}

TEST_F(ExecutionPartitionsTest, RetentionDropsWholeDaysWithTheirFeedbackAndKeepsTheRest) {
  ASSERT_TRUE(MigrateAll().ok());
  ExecutionPartitions keep_all(pool_.get(), {});
  ASSERT_TRUE(keep_all.Maintain(now_, Ctx()).ok());
  int64_t legacy = Insert(now_);
  int64_t day2 = Insert(now_ + absl::Hours(48));
  int64_t day5 = Insert(now_ + absl::Hours(24 * 5));
  AddFeedback(legacy);
  AddFeedback(day2);
  AddFeedback(day5);

  // 33 days on with 30 days kept: the legacy partition and the days up to
  // day 2 lie wholly before the cutoff (now + 3 days); day 5 does not.
  ExecutionPartitionOptions options;
  options.retention = absl::Hours(24 * 30);
  ExecutionPartitions partitions(pool_.get(), options);
  auto work = partitions.Maintain(now_ + absl::Hours(24 * 33), Ctx());
  ASSERT_TRUE(work.ok()) << work.status();
  EXPECT_EQ(work->dropped, 3);  // legacy, tomorrow, day 2
  EXPECT_EQ(work->feedback_deleted, 2);
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions"), 1);
  EXPECT_EQ(PartitionOf(day5), DayTable(now_ + absl::Hours(24 * 5)));
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.feedback"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_class WHERE relname = 'executions_legacy'"), 0);
  // New days were made for the later "now", so writes keep their partitions.
  EXPECT_EQ(PartitionOf(Insert(now_ + absl::Hours(24 * 34))),
            DayTable(now_ + absl::Hours(24 * 34)));
}

TEST_F(ExecutionPartitionsTest, RowsOlderThanTheCutoffInAStraddlingPartitionGoInBatches) {
  ASSERT_TRUE(Migrate(kBeforePartitioning).ok());
  int64_t old1 = Insert(now_ - absl::Hours(24 * 10));
  Insert(now_ - absl::Hours(24 * 9));
  Insert(now_ - absl::Hours(24 * 8));
  int64_t recent = Insert(now_ - absl::Hours(1));
  AddFeedback(old1);
  ASSERT_TRUE(MigrateAll().ok());

  ExecutionPartitionOptions options;
  options.retention = absl::Hours(24 * 5);
  options.delete_batch = 2;
  ExecutionPartitions partitions(pool_.get(), options);
  auto first = partitions.Maintain(now_, Ctx());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->rows_deleted, 2);
  auto second = partitions.Maintain(now_, Ctx());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->rows_deleted, 1);
  EXPECT_EQ(first->feedback_deleted + second->feedback_deleted, 1);
  auto third = partitions.Maintain(now_, Ctx());
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->total(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions"), 1);
  EXPECT_EQ(PartitionOf(recent), "llm_router.executions_legacy");
}

TEST_F(ExecutionPartitionsTest, TwoReplicasMaintainingAtOnceMakeEachPartitionOnce) {
  ASSERT_TRUE(MigrateAll().ok());
  ExecutionPartitions a(pool_.get(), {});
  ExecutionPartitions b(pool_.get(), {});
  int created = 0;
  for (int round = 0; round < 20 && created < 7; ++round) {
    absl::StatusOr<PartitionWork> wa, wb;
    std::thread ta([&] { wa = a.Maintain(now_, Ctx()); });
    std::thread tb([&] { wb = b.Maintain(now_, Ctx()); });
    ta.join();
    tb.join();
    ASSERT_TRUE(wa.ok()) << wa.status();
    ASSERT_TRUE(wb.ok()) << wb.status();
    created += wa->created + wb->created;
  }
  EXPECT_EQ(created, 7);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_inherits WHERE inhparent = "
                  "'llm_router.executions'::regclass"),
            9);  // legacy, default and seven days
}

}  // namespace
}  // namespace genesis::llmrouter
