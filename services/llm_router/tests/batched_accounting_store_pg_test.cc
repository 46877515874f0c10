// Batched accounting (BatchedAccountingStore over PgRouterStore) on real
// PostgreSQL (label `pg`; a fresh database per test), through the Router
// and the in-process provider simulator: rows land with the ids the calls
// returned, Close() writes what is queued, a full queue writes in the call,
// feedback on a queued execution, budgets that count queued rows, alerts
// raised by a batch, and the usage report seeing rows just answered.
#include "services/llm_router/accounting/batched_accounting_store.h"

#include <gtest/gtest.h>

#include <set>

#include "common/storage/migrations.h"
#include "services/llm_router/router.h"
#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/store/pg_store.h"
#include "services/llm_router/tests/pg_fixture.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

class BatchedStorePgTest : public RouterPgTest {
 protected:
  void SetUp() override {
    if (!SetUpRouterDatabase(4)) return;
    ScriptTokens("cloud-a", 60, 40);  // every answer uses 100 tokens
    metrics_ = RouterMetrics::Register(&registry_);
  }
  void TearDown() override {
    router_.reset();  // closes the store (writes what is queued) before the pool goes
  }
  // A router whose accounting is batched with `options`.
  void Start(BatchedAccountingOptions options, RouterOptions router_options = {}) {
    RouterConfig config;
    config.models = {testing::SimModel("cloud-a", Protocol::kOpenAi, sim_->url()),
                     testing::SimModel("local", Protocol::kOpenAi, sim_->url(), Locality::kLocal)};
    config.policies[Task::kChat] = {"cloud-a", "local"};
    auto store = std::make_unique<BatchedAccountingStore>(
        std::make_unique<PgRouterStore>(pool_.get()), options, metrics_);
    store_ = store.get();
    RouterDeps deps;
    deps.metrics = metrics_;
    router_ = std::make_unique<Router>(
        std::move(config), std::move(store), MakeProviderClients(), Clock::Real(),
        [] { return 0.0; }, router_options, std::move(deps));
    ASSERT_TRUE(router_->Init(CallContext::Background()).ok());
  }
  // Nothing is written by time: only a full batch, Flush or Close.
  static BatchedAccountingOptions NeverByTime() {
    BatchedAccountingOptions o;
    o.flush_interval = absl::Hours(1);
    o.max_batch_rows = 1000;
    return o;
  }
  static CompletionRequest Ask(const std::string& subject = "user-7") {
    CompletionRequest r;
    r.messages = {{Role::kUser, "olá"}};
    r.task = Task::kChat;
    r.subject = subject;
    r.agent = "sdr";
    return r;
  }
  int64_t Complete(const std::string& subject = "user-7") {
    auto c = router_->Complete(Ask(subject), ctx_);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->execution_id : 0;
  }
  int64_t Count(const std::string& sql) {
    pqxx::connection conn(db_->dsn());
    pqxx::work tx(conn);
    return tx.exec1(sql)[0].as<int64_t>();
  }
  std::set<int64_t> StoredIds() {
    pqxx::connection conn(db_->dsn());
    pqxx::work tx(conn);
    std::set<int64_t> ids;
    for (const auto& r : tx.exec("SELECT id FROM llm_router.executions")) {
      ids.insert(r[0].as<int64_t>());
    }
    return ids;
  }
  double Metric(Counter* c) const { return c->Value(); }

  MetricsRegistry registry_;
  RouterMetrics metrics_;
  std::unique_ptr<Router> router_;
  BatchedAccountingStore* store_ = nullptr;
  CallContext ctx_ = CallContext::Background(absl::Seconds(10));
};

TEST_F(BatchedStorePgTest, RowsLandWithTheIdsTheCallsReturnedAndTheirCounters) {
  BatchedAccountingOptions o;
  o.flush_interval = absl::Milliseconds(20);
  o.max_batch_rows = 7;
  Start(o);
  std::set<int64_t> returned;
  for (int i = 0; i < 20; ++i) returned.insert(Complete(i % 2 ? "ana" : "bia"));
  EXPECT_EQ(returned.size(), 20u);
  EXPECT_EQ(returned.count(0), 0u);
  // Written by the writer on its own (batches of 7 and the 20 ms timer).
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (StoredIds().size() < 20 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(StoredIds(), returned);
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions WHERE model_id = 'cloud-a' AND "
                  "input_tokens = 60 AND output_tokens = 40 AND outcome = 'ok' AND agent = 'sdr'"),
            20);
  EXPECT_EQ(Count("SELECT tokens FROM llm_router.usage_counters WHERE scope = 'subject' AND "
                  "owner = 'ana'"),
            1000);
  EXPECT_EQ(Count("SELECT tokens FROM llm_router.usage_counters WHERE scope = 'agent' AND "
                  "owner = 'sdr'"),
            2000);
  EXPECT_EQ(Metric(metrics_.accounting_written), 20);
  EXPECT_EQ(Metric(metrics_.accounting_sync_fallback), 0);
  // Ids keep coming from the table's own sequence: a row written the
  // synchronous way afterwards does not collide.
  PgRouterStore sync(pool_.get());
  ExecutionRecord e;
  e.request_id = "r";
  e.outcome = "ok";
  auto written = sync.RecordExecution(e, ctx_);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_GT(written->execution_id, *returned.rbegin());
}

TEST_F(BatchedStorePgTest, CloseWritesWhatIsQueued) {
  Start(NeverByTime());
  for (int i = 0; i < 5; ++i) Complete();
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions"), 0);
  EXPECT_EQ(store_->pending_rows(), 5u);
  EXPECT_EQ(store_->Close(), 0u);
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions"), 5);
  EXPECT_EQ(store_->pending_rows(), 0u);
  // After Close a call writes its own row.
  Complete();
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions"), 6);
  EXPECT_EQ(Metric(metrics_.accounting_sync_fallback), 1);
}

TEST_F(BatchedStorePgTest, FullQueueWritesInTheCallInsteadOfDropping) {
  BatchedAccountingOptions o = NeverByTime();
  o.max_queued_rows = 2;
  Start(o);
  std::set<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.insert(Complete());
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(store_->pending_rows(), 2u);
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions"), 3);  // written in the calls
  EXPECT_EQ(Metric(metrics_.accounting_sync_fallback), 3);
  EXPECT_EQ(Metric(metrics_.accounting_queued), 2);
  ASSERT_TRUE(store_->Flush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(StoredIds(), ids);
  EXPECT_EQ(Count("SELECT tokens FROM llm_router.usage_counters WHERE scope = 'subject' AND "
                  "owner = 'user-7'"),
            500);
}

TEST_F(BatchedStorePgTest, FeedbackOnAQueuedExecutionWaitsForItsRow) {
  Start(NeverByTime());
  const int64_t id = Complete();
  ASSERT_GT(id, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions"), 0);
  auto f = router_->RecordFeedback({id, "user-7", 5, "ótimo"}, ctx_);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->execution_id, id);
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.feedback WHERE execution_id = " +
                  std::to_string(id) + " AND score = 5"),
            1);
  // An id that was never minted is still NOT_FOUND.
  EXPECT_EQ(router_->RecordFeedback({id + 100000, "user-7", 3}, ctx_).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(BatchedStorePgTest, BudgetsCountQueuedRows) {
  Start(NeverByTime());
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kSubject, "user-7", BudgetPeriod::kDay, 150, 0}, ctx_).ok());
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kAgent, "sdr", BudgetPeriod::kMonth, 10000, 0}, ctx_).ok());
  Complete();  // 100 of 150
  Complete();  // 200: spent
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions"), 0);
  auto c = router_->Complete(Ask(), ctx_);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted) << c.status();
  EXPECT_NE(c.status().message().find("200 of 150 tokens"), std::string::npos) << c.status();
  auto listed = router_->ListBudgets("", ctx_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].owner, "user-7");
  EXPECT_EQ((*listed)[0].used_tokens, 200);
  EXPECT_EQ((*listed)[1].owner, "sdr");
  EXPECT_EQ((*listed)[1].used_tokens, 200);  // the month counts today's queued rows
  // Written: the same figures from the database alone, not counted twice.
  ASSERT_TRUE(store_->Flush(absl::Now() + absl::Seconds(10)).ok());
  listed = router_->ListBudgets("user-7", ctx_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].used_tokens, 200);
  // The batch raised the 120 % alert (200 > 180), once.
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.budget_alerts WHERE owner = 'user-7' AND "
                  "used_tokens = 200"),
            1);
  EXPECT_EQ(Metric(metrics_.budget_alerts), 1);
}

// As main.cc runs it: batched accounting and the settings cache (--settings_cache_ms).
TEST_F(BatchedStorePgTest, WithTheSettingsCacheABudgetSetHereIsSpentByQueuedRowsAndRefuses) {
  RouterOptions router_options;
  router_options.settings_cache_ttl = absl::Seconds(60);
  Start(NeverByTime(), router_options);
  Complete();  // no budget yet: "no budget applies" held for a minute; 100 tokens queued
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kSubject, "user-7", BudgetPeriod::kDay, 250, 0}, ctx_).ok());
  Complete();                                                         // 100 of 250
  Complete();                                                         // 200 of 250
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions"), 0);  // all still queued
  auto c = router_->Complete(Ask(), ctx_);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted) << c.status();
  EXPECT_NE(c.status().message().find("300 of 250 tokens"), std::string::npos) << c.status();
  EXPECT_EQ(sim_->Requests("cloud-a"), 3);
  // Written: the database alone gives the same figure (queued usage was added once).
  ASSERT_TRUE(store_->Flush(absl::Now() + absl::Seconds(10)).ok());
  c = router_->Complete(Ask(), ctx_);
  EXPECT_NE(c.status().message().find("300 of 250 tokens"), std::string::npos) << c.status();
  EXPECT_EQ(Metric(metrics_.settings_cache_hits), 4);  // the sandbox flag of calls 2..5
}

TEST_F(BatchedStorePgTest, UsageReportSeesRowsJustAnswered) {
  Start(NeverByTime());
  for (int i = 0; i < 3; ++i) Complete();
  UsageQuery q;
  q.start = absl::Now() - absl::Hours(1);
  q.end = absl::Now() + absl::Hours(1);
  auto rows = router_->UsageReport(q, ctx_);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].requests, 3);
  EXPECT_EQ((*rows)[0].input_tokens, 180);
}

}  // namespace
}  // namespace genesis::llmrouter
