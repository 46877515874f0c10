// Feedback, experiments and their report on real PostgreSQL, and provider
// rate limits shared through the real Redis (label `pg`; a fresh database per
// test; the Redis test needs GENESIS_TEST_REDIS_URL).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "common/base/status.h"
#include "common/storage/migrations.h"
#include "services/llm_router/execution/redis_rate_limiter.h"
#include "services/llm_router/router.h"
#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/store/pg_store.h"
#include "services/llm_router/tests/pg_fixture.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

class ExperimentPgTest : public RouterPgTest {
 protected:
  void SetUp() override {
    if (!SetUpRouterDatabase()) return;
    RouterConfig config;
    config.models = {testing::SimModel("cloud-a", Protocol::kOpenAi, sim_->url()),
                     testing::SimModel("cloud-b", Protocol::kAnthropic, sim_->url())};
    config.policies[Task::kChat] = {"cloud-a", "cloud-b"};
    RouterOptions ropts;
    ropts.executor.max_attempts_per_model = 1;
    ropts.health.failure_threshold = 1000;  // scripted failures must not open breakers
    router_ = std::make_unique<Router>(
        std::move(config), std::make_unique<PgRouterStore>(pool_.get()), MakeProviderClients(),
        &clock_, [] { return 0.0; }, ropts);
    ASSERT_TRUE(router_->Init(CallContext::Background()).ok());
  }
  static CompletionRequest Ask(const std::string& subject) {
    CompletionRequest r;
    r.messages = {{Role::kUser, "olá"}};
    r.task = Task::kChat;
    r.subject = subject;
    return r;
  }
  double Value(const std::string& sql) {
    pqxx::connection conn(db_->dsn());
    pqxx::work tx(conn);
    return tx.exec1(sql)[0].as<double>();
  }

  ManualClock clock_;
  std::unique_ptr<Router> router_;
  CallContext ctx_ = CallContext::Background();
};

TEST_F(ExperimentPgTest, FeedbackIsStoredOncePerSubjectAndUpdatable) {
  auto c = router_->Complete(Ask("u1"), ctx_);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_GT(c->execution_id, 0);
  auto f = router_->RecordFeedback({c->execution_id, "u1", 2, "lento"}, ctx_);
  ASSERT_TRUE(f.ok()) << f.status();
  f = router_->RecordFeedback({c->execution_id, "u1", 4, "melhorou"}, ctx_);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->score, 4);
  ASSERT_TRUE(router_->RecordFeedback({c->execution_id, "u2", 1}, ctx_).ok());
  EXPECT_EQ(Value("SELECT count(*) FROM llm_router.feedback"), 2);
  EXPECT_EQ(Value("SELECT score FROM llm_router.feedback WHERE subject = 'u1'"), 4);
  auto missing = router_->RecordFeedback({c->execution_id + 1000, "u1", 3}, ctx_);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("not found"), std::string::npos);
}

// A retried CreateExperiment returns the stored experiment and writes no second row.
TEST_F(ExperimentPgTest, CreateExperimentRequestIdStoresOneRow) {
  Experiment e;
  e.id = "exp-once";
  e.task = Task::kChat;
  e.arms = {{"a", "cloud-a", Strategy::kPolicy, 50}, {"b", "cloud-b", Strategy::kPolicy, 50}};
  auto first = router_->CreateExperiment(e, "exp-req-1", ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = router_->CreateExperiment(e, "exp-req-1", ctx_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id, "exp-once");
  EXPECT_EQ(Value("SELECT count(*) FROM llm_router.experiments"), 1);
  e.description = "another";
  EXPECT_EQ(ReasonOf(router_->CreateExperiment(e, "exp-req-1", ctx_).status()),
            "REQUEST_ID_REUSED");
}

TEST_F(ExperimentPgTest, ReportPerArmIsComputedFromTheRows) {
  Experiment e;
  e.id = "exp-report";
  e.task = Task::kChat;
  e.arms = {{"a", "cloud-a", Strategy::kPolicy, 50}, {"b", "cloud-b", Strategy::kPolicy, 50}};
  ASSERT_TRUE(router_->CreateExperiment(e, ctx_).ok());
  EXPECT_EQ(router_->CreateExperiment(e, ctx_).status().code(), absl::StatusCode::kAlreadyExists);
  // From call 15 cloud-b answers 503 (arm b falls back to cloud-a); from
  // call 25 both do, so both arms have failed executions.
  sim::ModelScript fail;
  fail.fail_status = 503;
  int calls = 0;
  for (int i = 0; i < 30; ++i) {
    const std::string subject = "s" + std::to_string(i);
    auto c = router_->Complete(Ask(subject), ctx_);
    ++calls;
    if (c.ok()) {
      const int score = c->arm == "a" ? 5 : 2;
      ASSERT_TRUE(router_->RecordFeedback({c->execution_id, subject, score}, ctx_).ok());
    }
    if (i == 14) sim_->Script("cloud-b", fail);
    if (i == 24) sim_->Script("cloud-a", fail);
  }
  auto report = router_->ExperimentReport("experiments/exp-report", ctx_);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->size(), 2u);
  const ArmReport& a = (*report)[0];
  const ArmReport& b = (*report)[1];
  EXPECT_EQ(a.arm, "a");
  EXPECT_EQ(b.arm, "b");
  // The report equals what the rows say.
  auto q = [&](const std::string& arm, const std::string& expr) {
    return Value("SELECT coalesce((" + expr +
                 "), 0)::float8 FROM llm_router.executions WHERE experiment_id = 'exp-report' "
                 "AND arm = '" +
                 arm + "'");
  };
  for (const ArmReport* r : {&a, &b}) {
    EXPECT_EQ(r->executions, q(r->arm, "count(*)"));
    EXPECT_EQ(r->errors, q(r->arm, "count(*) FILTER (WHERE outcome <> 'ok')"));
    EXPECT_NEAR(r->cost_usd, q(r->arm, "sum(cost_usd)"), 1e-12);
    ASSERT_TRUE(r->latency_p50.has_value());
    EXPECT_NEAR(absl::ToDoubleMilliseconds(*r->latency_p50),
                q(r->arm,
                  "percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE "
                  "outcome = 'ok')"),
                1e-9);
  }
  EXPECT_EQ(a.executions + b.executions, calls);
  EXPECT_GT(a.errors + b.errors, 0);
  EXPECT_EQ(a.errors + b.errors, 5);
  EXPECT_GT(a.executions, 5);
  EXPECT_GT(b.executions, 5);
  // Arm a: every answer scored 5. Arm b: answers before the failures scored
  // 2 (fallback answers came from cloud-a but still belong to arm b).
  EXPECT_DOUBLE_EQ(a.mean_score, 5.0);
  EXPECT_GT(a.feedback_count, 0);
  EXPECT_DOUBLE_EQ(b.mean_score, 2.0);
  // Stopped experiments keep their report and route nobody.
  sim_->Reset();
  ASSERT_TRUE(router_->StopExperiment("experiments/exp-report", ctx_).ok());
  auto c = router_->Complete(Ask("s1"), ctx_);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->arm.empty());
  auto listed = router_->ListExperiments(Task::kChat, false, ctx_);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_FALSE((*listed)[0].running);
  EXPECT_TRUE(router_->ListExperiments(Task::kUnspecified, true, ctx_)->empty());
}

TEST(RedisRateLimiterTest, TwoRoutersShareTheLimit) {
  const char* url = std::getenv("GENESIS_TEST_REDIS_URL");
  if (!url || !*url) GTEST_SKIP() << "GENESIS_TEST_REDIS_URL not set";
  RedisOptions options;
  options.url = url;
  options.connect_timeout = absl::Seconds(5);
  options.command_timeout = absl::Seconds(5);
  auto redis = RedisClient::Create(options, nullptr);
  ASSERT_TRUE(redis.ok()) << redis.status();
  const std::string prefix = "llm_router_test:" + std::to_string(std::random_device{}()) + ":";
  RedisRateLimiter one(redis->get(), prefix, {}, absl::Seconds(5));
  RedisRateLimiter two(redis->get(), prefix, {}, absl::Seconds(5));
  const absl::Time now = absl::Now();
  const RateLimits limits{3, 1000};
  EXPECT_TRUE(one.Admit("m", limits, now, 0));
  EXPECT_TRUE(two.Admit("m", limits, now, 0));
  EXPECT_TRUE(one.Admit("m", limits, now, 0));
  EXPECT_FALSE(two.Admit("m", limits, now, 0));  // the third was counted by `one`
  EXPECT_EQ(two.Peek("m", now).requests, 3);
  two.AddTokens("m", 1200, now);
  EXPECT_EQ(one.Peek("m", now).tokens, 1200);
  const absl::Time next = NextWindow(now);
  EXPECT_TRUE(one.Admit("m", {100, 0}, next, 0));
  EXPECT_FALSE(one.Admit("m", {100, 1000}, now, 0));  // tokens over in the old window
  // Reservations are shared too, and released by a negative addition.
  EXPECT_TRUE(one.Admit("r", {0, 100}, now, 60));
  EXPECT_TRUE(two.Admit("r", {0, 100}, now, 60));
  EXPECT_FALSE(one.Admit("r", {0, 100}, now, 60));
  EXPECT_EQ(two.Peek("r", now).tokens, 120);
  one.AddTokens("r", -60, now);
  EXPECT_EQ(two.Peek("r", now).tokens, 60);
}

TEST(RedisRateLimiterTest, RedisDownFallsBackToLocalCounting) {
  RedisOptions options;
  options.url = "redis://127.0.0.1:1";  // nothing listens there
  auto redis = RedisClient::Create(options, nullptr);
  ASSERT_TRUE(redis.ok());
  MetricsRegistry registry;
  RouterMetrics metrics = RouterMetrics::Register(&registry);
  RedisRateLimiter limiter(redis->get(), "x:", metrics);
  const absl::Time now = absl::Now();
  EXPECT_TRUE(limiter.Admit("m", {1, 0}, now, 0));
  EXPECT_FALSE(limiter.Admit("m", {1, 0}, now, 0));
  EXPECT_GE(metrics.rate_limit_redis_errors->Value(), 2);
}

}  // namespace
}  // namespace genesis::llmrouter
