// Budgets, their alerts, the usage report and the Redis response cache on
// real PostgreSQL / Redis (label `pg`; a fresh database per test). The
// simulator's request counts prove that a refused call reached no model; a
// fake clock decides the day and month.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <thread>

#include "common/storage/migrations.h"
#include "services/llm_router/execution/redis_response_cache.h"
#include "services/llm_router/router.h"
#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/store/pg_store.h"
#include "services/llm_router/tests/pg_fixture.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

class BudgetPgTest : public RouterPgTest {
 protected:
  void SetUp() override {
    if (!SetUpRouterDatabase()) return;
    ScriptTokens("cloud-a", 60, 40);  // every answer uses 100 tokens
    Start();
  }
  void Start(std::unique_ptr<ResponseCache> cache = nullptr, RouterOptions options = {}) {
    RouterConfig config;
    config.models = {testing::SimModel("cloud-a", Protocol::kOpenAi, sim_->url()),
                     testing::SimModel("local", Protocol::kOpenAi, sim_->url(), Locality::kLocal)};
    config.policies[Task::kChat] = {"cloud-a", "local"};
    RouterDeps deps;
    deps.cache = std::move(cache);
    router_ = std::make_unique<Router>(
        std::move(config), std::make_unique<PgRouterStore>(pool_.get()), MakeProviderClients(),
        clock_, [] { return 0.0; }, options, std::move(deps));
    ASSERT_TRUE(router_->Init(CallContext::Background()).ok());
  }
  // Another router instance on the same database (its own clock, no cache).
  std::unique_ptr<Router> OtherInstance() {
    RouterConfig config;
    config.models = {testing::SimModel("cloud-a", Protocol::kOpenAi, sim_->url())};
    config.policies[Task::kChat] = {"cloud-a"};
    auto other = std::make_unique<Router>(
        std::move(config), std::make_unique<PgRouterStore>(pool_.get()), MakeProviderClients(),
        &other_clock_, [] { return 0.0; }, RouterOptions{});
    EXPECT_TRUE(other->Init(CallContext::Background()).ok());
    return other;
  }
  static CompletionRequest Ask(const std::string& subject = "user-7",
                               const std::string& agent = "sdr") {
    CompletionRequest r;
    r.messages = {{Role::kUser, "olá"}};
    r.task = Task::kChat;
    r.subject = subject;
    r.agent = agent;
    return r;
  }
  absl::StatusCode Code(const CompletionRequest& r) {
    return router_->Complete(r, ctx_).status().code();
  }
  int64_t Count(const std::string& sql) {
    pqxx::connection conn(db_->dsn());
    pqxx::work tx(conn);
    return tx.exec1(sql)[0].as<int64_t>();
  }

  ManualClock other_clock_;   // OtherRouter()'s
  ManualClock manual_clock_;  // 2023-11-14 22:13 UTC
  ManualClock* const clock_ = &manual_clock_;
  std::unique_ptr<Router> router_;
  CallContext ctx_ = CallContext::Background();
};

TEST_F(BudgetPgTest, SpentDayBudgetFailsBeforeAnyProviderCall) {
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kSubject, "user-7", BudgetPeriod::kDay, 250, 0}, ctx_).ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Code(Ask()), absl::StatusCode::kOk) << i;  // 0, 100, 200
  EXPECT_EQ(sim_->Requests("cloud-a"), 3);
  auto c = router_->Complete(Ask(), ctx_);  // 300 >= 250
  ASSERT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted) << c.status();
  EXPECT_NE(c.status().message().find("subject 'user-7' per day"), std::string::npos) << c.status();
  EXPECT_NE(c.status().message().find("300 of 250 tokens"), std::string::npos) << c.status();
  EXPECT_EQ(sim_->Requests("cloud-a"), 3);  // no provider call
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions WHERE outcome = 'rejected'"), 1);
  // Other subjects are not limited by it.
  EXPECT_EQ(Code(Ask("user-8")), absl::StatusCode::kOk);
  auto listed = router_->ListBudgets("user-7", ctx_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].used_tokens, 300);
  EXPECT_DOUBLE_EQ((*listed)[0].used_cost_usd, 3 * (60 * 1 + 40 * 2) / 1e6);
}

TEST_F(BudgetPgTest, MonthBudgetOutlastsTheDay) {
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kAgent, "sdr", BudgetPeriod::kDay, 250, 0}, ctx_).ok());
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kAgent, "sdr", BudgetPeriod::kMonth, 500, 0}, ctx_).ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Code(Ask()), absl::StatusCode::kOk) << i;
  EXPECT_EQ(Code(Ask()), absl::StatusCode::kResourceExhausted);  // the day's 250
  clock_->Advance(absl::Hours(24));                              // 2023-11-15: a new day
  EXPECT_EQ(Code(Ask()), absl::StatusCode::kOk);                 // month 300 -> 400
  EXPECT_EQ(Code(Ask()), absl::StatusCode::kOk);                 // month 400 -> 500
  auto c = router_->Complete(Ask(), ctx_);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted) << c.status();
  EXPECT_NE(c.status().message().find("agent 'sdr' per month"), std::string::npos) << c.status();
  EXPECT_EQ(sim_->Requests("cloud-a"), 5);
  // Money limits work the same way; a budget replaced in place.
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kAgent, "sdr", BudgetPeriod::kMonth, 0, 1.0}, ctx_).ok());
  EXPECT_EQ(Code(Ask()), absl::StatusCode::kOk);
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kAgent, "sdr", BudgetPeriod::kMonth, 0, 0.0001}, ctx_).ok());
  EXPECT_EQ(Code(Ask()), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.budgets"), 2);
}

TEST_F(BudgetPgTest, DayPast120PercentRaisesOneAlert) {
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kSubject, "user-7", BudgetPeriod::kDay, 150, 0}, ctx_).ok());
  EXPECT_EQ(Code(Ask()), absl::StatusCode::kOk);  // 100: under 150
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.budget_alerts"), 0);
  EXPECT_EQ(Code(Ask()), absl::StatusCode::kOk);  // 200 > 180 (120 %)
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.budget_alerts WHERE scope = 'subject' AND "
                  "owner = 'user-7' AND day = '2023-11-14' AND used_tokens = 200 AND "
                  "token_limit = 150"),
            1);
  // More usage the same day (e.g. calls already running) raises no second one.
  PgRouterStore store(pool_.get());
  ExecutionRecord more;
  more.request_id = "r";
  more.subject = "user-7";
  more.outcome = "ok";
  more.usage = {500, 500};
  more.time = clock_->Now();
  auto recorded = store.RecordExecution(more, ctx_);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  auto* alerts = &recorded->alerts;
  EXPECT_TRUE(alerts->empty());
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.budget_alerts"), 1);
  // Another day, another alert.
  more.time += absl::Hours(24);
  recorded = store.RecordExecution(more, ctx_);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  alerts = &recorded->alerts;
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].day, "2023-11-15");
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.budget_alerts"), 2);
}

TEST_F(BudgetPgTest, ConcurrentExecutionsAddUpExactlyAndAlertOnce) {
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kAgent, "sdr", BudgetPeriod::kDay, 100, 0}, ctx_).ok());
  PgRouterStore store(pool_.get());
  std::atomic<int> alerts{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        ExecutionRecord e;
        e.request_id = "r";
        e.agent = "sdr";
        e.outcome = "ok";
        e.usage = {6, 4};
        e.time = clock_->Now();
        auto a = store.RecordExecution(e, CallContext::Background(absl::Seconds(10)));
        if (!a.ok()) {
          ++failures;
        } else {
          alerts += static_cast<int>(a->alerts.size());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(alerts.load(), 1);
  EXPECT_EQ(Count("SELECT tokens FROM llm_router.usage_counters WHERE scope = 'agent' AND "
                  "owner = 'sdr'"),
            800);
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.budget_alerts"), 1);
}

TEST_F(BudgetPgTest, UsageReportGroupsByDayModelAndSubject) {
  const absl::Time day1 = clock_->Now();
  EXPECT_EQ(Code(Ask("ana")), absl::StatusCode::kOk);
  EXPECT_EQ(Code(Ask("ana")), absl::StatusCode::kOk);
  clock_->Advance(absl::Hours(24));
  auto local = Ask("bia");
  local.model = "local";
  EXPECT_EQ(Code(local), absl::StatusCode::kOk);
  EXPECT_EQ(Code(Ask("ana")), absl::StatusCode::kOk);

  UsageQuery q;
  q.start = day1 - absl::Hours(48);
  q.end = day1 + absl::Hours(72);
  q.group_by = {UsageGroupBy::kDay, UsageGroupBy::kModel};
  auto rows = router_->UsageReport(q, ctx_);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].day, "2023-11-14");
  EXPECT_EQ((*rows)[0].model_id, "cloud-a");
  EXPECT_EQ((*rows)[0].requests, 2);
  EXPECT_EQ((*rows)[0].input_tokens, 120);
  EXPECT_EQ((*rows)[0].output_tokens, 80);
  EXPECT_TRUE((*rows)[0].subject.empty());  // not grouped by
  EXPECT_EQ((*rows)[1].day, "2023-11-15");
  EXPECT_EQ((*rows)[1].model_id, "cloud-a");
  EXPECT_EQ((*rows)[2].model_id, "local");

  q.group_by = {UsageGroupBy::kSubject};
  q.model_id = "models/cloud-a";
  rows = router_->UsageReport(q, ctx_);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].subject, "ana");
  EXPECT_EQ((*rows)[0].requests, 3);
  EXPECT_DOUBLE_EQ((*rows)[0].cost_usd, 3 * (60 * 1 + 40 * 2) / 1e6);

  // Only day 1, one total row.
  q = UsageQuery{};
  q.start = day1 - absl::Hours(1);
  q.end = day1 + absl::Hours(1);
  rows = router_->UsageReport(q, ctx_);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].requests, 2);

  q.end = q.start;
  EXPECT_EQ(router_->UsageReport(q, ctx_).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BudgetPgTest, SandboxModeRoundTripsAndMarksExecutions) {
  auto before = router_->GetSandbox("user-7", ctx_);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_FALSE(*before);
  ASSERT_TRUE(router_->SetSandbox("user-7", true, ctx_).ok());
  EXPECT_TRUE(*router_->GetSandbox("user-7", ctx_));
  auto c = router_->Complete(Ask(), ctx_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->sandbox);
  EXPECT_EQ(sim_->Requests("cloud-a"), 1);
  ASSERT_TRUE(router_->SetSandbox("user-7", false, ctx_).ok());
  EXPECT_FALSE(router_->Complete(Ask(), ctx_)->sandbox);
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions WHERE sandbox"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions WHERE NOT sandbox"), 1);
}

TEST_F(BudgetPgTest, WithTheSettingsCacheAnotherInstancesChangesApplyWithinTheTtl) {
  RouterOptions options;
  options.settings_cache_ttl = absl::Seconds(1);
  Start(nullptr, options);
  EXPECT_EQ(Code(Ask()), absl::StatusCode::kOk);  // 100 tokens; "no budget", "not sandboxed" held
  auto other = OtherInstance();
  ASSERT_TRUE(other->SetSandbox("user-7", true, ctx_).ok());
  ASSERT_TRUE(
      other->SetBudget({BudgetScope::kSubject, "user-7", BudgetPeriod::kDay, 150, 0}, ctx_).ok());
  auto held = router_->Complete(Ask(), ctx_);  // 200 tokens: still within the second
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_FALSE(held->sandbox);
  clock_->Advance(absl::Seconds(1));
  auto c = router_->Complete(Ask(), ctx_);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted) << c.status();
  EXPECT_NE(c.status().message().find("200 of 150 tokens"), std::string::npos) << c.status();
  // The budget is read on every call now: raised here, the next call goes through at once.
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kSubject, "user-7", BudgetPeriod::kDay, 1000, 0}, ctx_)
          .ok());
  auto sandboxed = router_->Complete(Ask(), ctx_);
  ASSERT_TRUE(sandboxed.ok()) << sandboxed.status();
  EXPECT_TRUE(sandboxed->sandbox);  // the other instance's change, read after the TTL
  EXPECT_EQ(sim_->Requests("cloud-a"), 3);
}

TEST_F(BudgetPgTest, RedisCacheHitIsAccountedAsCached) {
  const char* url = std::getenv("GENESIS_TEST_REDIS_URL");
  if (!url || !*url) GTEST_SKIP() << "GENESIS_TEST_REDIS_URL not set";
  MetricsRegistry registry;
  RouterMetrics metrics = RouterMetrics::Register(&registry);
  RedisOptions options;
  options.url = url;
  // Hit and miss are under test here, not latency: a busy machine must not
  // turn a slow Redis reply into a counted error.
  options.connect_timeout = absl::Seconds(5);
  options.command_timeout = absl::Seconds(5);
  auto redis = RedisClient::Create(options, &registry);
  ASSERT_TRUE(redis.ok()) << redis.status();
  Start(std::make_unique<RedisResponseCache>(redis->get(), absl::Minutes(1), metrics));
  auto r = Ask();
  // Unique per run (Redis outlives test databases), in letters only: a
  // random number can look like a phone number, which P0 keeps uncached.
  std::string nonce;
  for (char d : std::to_string(std::random_device{}())) nonce += static_cast<char>('a' + d - '0');
  r.messages[0].content = "olá " + nonce;
  auto first = router_->Complete(r, ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->cached);
  auto second = router_->Complete(r, ctx_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->cached);
  EXPECT_EQ(second->text, first->text);
  EXPECT_EQ(sim_->Requests("cloud-a"), 1);
  EXPECT_EQ(metrics.cache_errors->Value(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM llm_router.executions WHERE cached AND outcome = 'ok' "
                  "AND input_tokens = 0 AND cost_usd = 0 AND model_id = 'cloud-a'"),
            1);
  router_.reset();
}

}  // namespace
}  // namespace genesis::llmrouter
