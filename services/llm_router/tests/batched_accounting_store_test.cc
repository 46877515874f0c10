// BatchedAccountingStore on the fake store (label `unit`): batch sizes, a
// database that fails keeps the rows and retries them, Close() gives up
// after its timeout and counts what it lost, an id reservation that fails
// writes the row in the call.
#include "services/llm_router/accounting/batched_accounting_store.h"

#include <gtest/gtest.h>

#include <set>

#include "services/llm_router/tests/fake_store.h"

namespace genesis::llmrouter {
namespace {

ExecutionRecord Row(const std::string& subject, int64_t tokens) {
  ExecutionRecord r;
  r.request_id = "req";
  r.subject = subject;
  r.outcome = "ok";
  r.usage = {tokens, 0};
  r.time = absl::FromUnixSeconds(1700000000);
  return r;
}

class BatchedStoreTest : public ::testing::Test {
 protected:
  void Start(BatchedAccountingOptions options) {
    auto fake = std::make_unique<testing::FakeRouterStore>();
    fake_ = fake.get();
    metrics_ = RouterMetrics::Register(&registry_);
    store_ = std::make_unique<BatchedAccountingStore>(std::move(fake), options, metrics_);
  }
  static BatchedAccountingOptions NeverByTime(size_t batch) {
    BatchedAccountingOptions o;
    o.flush_interval = absl::Hours(1);
    o.max_batch_rows = batch;
    o.id_block = 4;
    o.shutdown_timeout = absl::Milliseconds(300);
    return o;
  }
  int64_t Record(const std::string& subject = "ana", int64_t tokens = 10) {
    auto r = store_->RecordExecution(Row(subject, tokens), ctx_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->execution_id : 0;
  }

  MetricsRegistry registry_;
  RouterMetrics metrics_;
  testing::FakeRouterStore* fake_ = nullptr;
  std::unique_ptr<BatchedAccountingStore> store_;
  CallContext ctx_ = CallContext::Background(absl::Seconds(5));
};

TEST_F(BatchedStoreTest, WritesFullBatchesAndTheRestOnFlush) {
  Start(NeverByTime(4));
  std::set<int64_t> ids;
  for (int i = 0; i < 10; ++i) ids.insert(Record());
  EXPECT_EQ(ids.size(), 10u);  // ids from three reservations of 4, none repeated
  ASSERT_TRUE(store_->Flush(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(fake_->executions().size(), 10u);
  EXPECT_EQ(fake_->batches(), 3);  // 4 + 4 + the 2 left, flushed
  std::set<int64_t> stored;
  for (const auto& e : fake_->executions()) stored.insert(e.id);
  EXPECT_EQ(stored, ids);
}

TEST_F(BatchedStoreTest, WritesByTimeWithoutAFullBatch) {
  BatchedAccountingOptions o = NeverByTime(1000);
  o.flush_interval = absl::Milliseconds(10);
  Start(o);
  Record();
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (fake_->executions().empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(fake_->executions().size(), 1u);
  EXPECT_EQ(store_->pending_rows(), 0u);
}

TEST_F(BatchedStoreTest, FailingWritesKeepTheRowsAndRetryThem) {
  Start(NeverByTime(100));
  Record();  // reserves a block of 4 ids while the database answers
  fake_->set_writes_up(false);
  Record();
  Record();
  auto st = store_->Flush(absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_EQ(store_->pending_rows(), 3u);
  EXPECT_GE(metrics_.accounting_write_errors->Value(), 1);
  // Budgets still see the rows that are not written.
  ASSERT_TRUE(
      store_->SetBudget({BudgetScope::kSubject, "ana", BudgetPeriod::kDay, 100, 0}, ctx_).ok());
  auto b = store_->BudgetsFor("ana", "", absl::FromUnixSeconds(1700000000), ctx_);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0].used_tokens, 30);
  fake_->set_writes_up(true);
  ASSERT_TRUE(store_->Flush(absl::Now() + absl::Seconds(5)).ok());
  EXPECT_EQ(fake_->executions().size(), 3u);
  b = store_->BudgetsFor("ana", "", absl::FromUnixSeconds(1700000000), ctx_);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)[0].used_tokens, 30);  // from the store now, not counted twice
  EXPECT_EQ(store_->Close(), 0u);
  EXPECT_EQ(metrics_.accounting_lost->Value(), 0);
}

TEST_F(BatchedStoreTest, CloseGivesUpAfterItsTimeoutAndCountsTheLostRows) {
  Start(NeverByTime(100));
  Record();
  fake_->set_writes_up(false);
  Record();
  const absl::Time start = absl::Now();
  EXPECT_EQ(store_->Close(), 2u);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(metrics_.accounting_lost->Value(), 2);
  EXPECT_TRUE(fake_->executions().empty());
}

TEST_F(BatchedStoreTest, NoIdsMeansTheRowIsWrittenInTheCall) {
  Start(NeverByTime(100));
  fake_->set_writes_up(false);  // reservations fail; the single-row path still works
  const int64_t id = Record();
  EXPECT_GT(id, 0);
  ASSERT_EQ(fake_->executions().size(), 1u);
  EXPECT_EQ(metrics_.accounting_sync_fallback->Value(), 1);
  EXPECT_EQ(store_->pending_rows(), 0u);
}

TEST_F(BatchedStoreTest, FeedbackOnAQueuedRowWaitsForItAndFailsRetryablyWhenItCannot) {
  Start(NeverByTime(100));
  const int64_t id = Record();
  bool created = false;
  Feedback f{id, "ana", 4, ""};
  auto out = store_->UpsertFeedback(f, absl::Now(), &created, ctx_);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(created);
  const int64_t queued = Record();
  fake_->set_writes_up(false);
  out = store_->UpsertFeedback({queued, "ana", 4, ""}, absl::Now(), &created,
                               CallContext::Background(absl::Milliseconds(100)));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnavailable) << out.status();
  EXPECT_NE(out.status().message().find("retry"), std::string::npos);
  fake_->set_writes_up(true);
}

}  // namespace
}  // namespace genesis::llmrouter
