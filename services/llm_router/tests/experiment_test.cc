// Experiments, feedback, roles and provider rate limits on the fake store,
// the fake clock and the in-process simulator.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "services/llm_router/execution/rate_limit.h"
#include "services/llm_router/router.h"
#include "services/llm_router/selection/experiment.h"
#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/tests/fake_store.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

std::vector<std::string> Fields(const absl::Status& st) {
  std::vector<std::string> out;
  for (const auto& [f, what] : FieldViolationsOf(st)) out.push_back(f);
  return out;
}

Experiment TwoArms(const std::string& id, int first_percent) {
  Experiment e;
  e.id = id;
  e.task = Task::kChat;
  e.arms = {{"a", "cloud-a", Strategy::kPolicy, first_percent},
            {"b", "cloud-b", Strategy::kPolicy, 100 - first_percent}};
  return e;
}

TEST(ExperimentSplitTest, SplitIsWithinToleranceOverTenThousandSubjects) {
  Experiment e = TwoArms("exp-split", 30);
  e.arms = {{"a", "", Strategy::kPolicy, 20},
            {"b", "", Strategy::kCheapest, 30},
            {"c", "", Strategy::kQualityFirst, 50}};
  std::map<std::string, int> counts;
  const int n = 10000;
  for (int i = 0; i < n; ++i) ++counts[AssignArm(e, absl::StrCat("subject-", i))->id];
  // Binomial standard deviation at n=10000 is at most 50; 4 sigma = 200.
  EXPECT_NEAR(counts["a"], 2000, 200);
  EXPECT_NEAR(counts["b"], 3000, 200);
  EXPECT_NEAR(counts["c"], 5000, 200);
}

TEST(ExperimentSplitTest, SameSubjectSameArmAndExperimentsSplitIndependently) {
  Experiment one = TwoArms("exp-one", 50), two = TwoArms("exp-two", 50);
  int same = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string s = absl::StrCat("u", i);
    EXPECT_EQ(AssignArm(one, s)->id, AssignArm(one, s)->id);
    EXPECT_EQ(ExperimentBucket("exp-one", s), ExperimentBucket("exp-one", s));
    same += AssignArm(one, s)->id == AssignArm(two, s)->id;
  }
  // Independent 50/50 splits agree about half the time, not always.
  EXPECT_NEAR(same, 1000, 150);
  // Stable across builds and machines: a fixed value of SHA-256.
  EXPECT_EQ(ExperimentBucket("exp-one", "u1"), ExperimentBucket("exp-one", "u1"));
  EXPECT_EQ(AssignArm(one, ""), nullptr);
}

TEST(ExperimentSplitTest, ValidationNamesTheFields) {
  auto known = [](const std::string& id) { return id == "cloud-a" || id == "cloud-b"; };
  Experiment e = TwoArms("exp-1", 40);
  EXPECT_TRUE(ValidateExperiment(e, known).ok());
  e.arms[1].percent = 50;
  EXPECT_EQ(Fields(ValidateExperiment(e, known)), std::vector<std::string>{"experiment.arms"});
  e = TwoArms("Bad Id", 40);
  e.task = Task::kUnspecified;
  e.arms[0].model = "gpt-17";
  e.arms[1].id = "a";
  EXPECT_EQ(Fields(ValidateExperiment(e, known)),
            (std::vector<std::string>{"experiment_id", "experiment.task",
                                      "experiment.arms[0].model", "experiment.arms[1].id"}));
  e = TwoArms("exp-1", 0);
  EXPECT_EQ(Fields(ValidateExperiment(e, known)),
            std::vector<std::string>{"experiment.arms[0].percent"});
}

TEST(FeedbackTest, ScoreRangeAndWeights) {
  Feedback f;
  f.score = 0;
  EXPECT_EQ(Fields(ValidateFeedback(f)), std::vector<std::string>{"score"});
  f.score = 6;
  EXPECT_EQ(Fields(ValidateFeedback(f)), std::vector<std::string>{"score"});
  f.score = 5;
  f.comment = std::string(2001, 'x');
  EXPECT_EQ(Fields(ValidateFeedback(f)), std::vector<std::string>{"comment"});
  f.comment = std::string("bom\0ruim", 8);  // PostgreSQL cannot store a NUL
  EXPECT_EQ(Fields(ValidateFeedback(f)), std::vector<std::string>{"comment"});
  f.comment = "bom";
  EXPECT_TRUE(ValidateFeedback(f).ok());
  EXPECT_EQ(ScoreWeight(5), std::make_pair(1.0, 0.0));
  EXPECT_EQ(ScoreWeight(1), std::make_pair(0.0, 1.0));
  EXPECT_EQ(ScoreWeight(3), std::make_pair(0.5, 0.5));
  EXPECT_EQ(ParseExecutionName("executions/42", "execution").value(), 42);
  EXPECT_EQ(Fields(ParseExecutionName("executions/x", "execution").status()),
            std::vector<std::string>{"execution"});
}

TEST(RateLimitTest, LocalWindowsCountRequestsAndTokens) {
  LocalRateLimiter limiter;
  const absl::Time t0 = absl::FromUnixSeconds(1700000080);  // 40 s into a minute
  const RateLimits limits{2, 100};
  EXPECT_TRUE(limiter.Admit("m", limits, t0, 0));
  EXPECT_TRUE(limiter.Admit("m", limits, t0, 0));
  EXPECT_FALSE(limiter.Admit("m", limits, t0, 0));
  EXPECT_EQ(RateLimitReason(limits, limiter.Peek("m", t0), t0),
            "at its limit of 2 requests per minute (2 this minute); frees in 20 s");
  const absl::Time t1 = NextWindow(t0);
  EXPECT_EQ(t1, absl::FromUnixSeconds(1700000100));
  EXPECT_TRUE(limiter.Admit("m", limits, t1, 0));
  limiter.AddTokens("m", 100, t1);
  EXPECT_FALSE(limiter.Admit("m", limits, t1, 0));
  EXPECT_EQ(RateLimitReason(limits, limiter.Peek("m", t1), t1),
            "at its limit of 100 tokens per minute (100 this minute); frees in 60 s");
  EXPECT_TRUE(limiter.Admit("other", limits, t1, 0));
}

TEST(RateLimitTest, AdmissionReservesTokensUntilReleased) {
  LocalRateLimiter limiter;
  const absl::Time t = absl::FromUnixSeconds(1700000080);
  const RateLimits limits{0, 100};
  EXPECT_TRUE(limiter.Admit("m", limits, t, 60));
  EXPECT_TRUE(limiter.Admit("m", limits, t, 60));  // 60 < 100: one request may pass it
  EXPECT_EQ(limiter.Peek("m", t).tokens, 120);
  EXPECT_FALSE(limiter.Admit("m", limits, t, 60));  // the reservations reached it
  EXPECT_EQ(limiter.Peek("m", t).tokens, 120);      // a refusal reserves nothing
  limiter.AddTokens("m", 10 - 60, t);               // one answered with 10 tokens
  EXPECT_EQ(limiter.Peek("m", t).tokens, 70);
  EXPECT_TRUE(limiter.Admit("m", limits, t, 60));
}

class RouterExtrasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = sim::ProviderSimulator::Start("127.0.0.1", 0);
    ASSERT_TRUE(s.ok()) << s.status();
    sim_ = std::move(*s);
  }
  void Build(int rpm_a = 0, bool feedback_weighted = false, uint64_t seed = 7, int64_t tpm_a = 0) {
    RouterConfig config;
    config.models = {testing::SimModel("cloud-a", Protocol::kAnthropic, sim_->url()),
                     testing::SimModel("cloud-b", Protocol::kOpenAi, sim_->url()),
                     testing::SimModel("cloud-c", Protocol::kGemini, sim_->url())};
    config.models[0].rpm = rpm_a;
    config.models[0].tpm = tpm_a;
    config.policies[Task::kChat] = {"cloud-a", "cloud-b"};
    if (feedback_weighted) config.feedback_weighted.insert(Task::kChat);
    auto store = std::make_unique<testing::FakeRouterStore>();
    store_ = store.get();
    RouterOptions options;
    options.executor.max_attempts_per_model = 1;
    options.thompson_seed = seed;
    router_ = std::make_unique<Router>(
        std::move(config), std::move(store), MakeProviderClients(), clock_, [] { return 0.0; },
        options);
    ASSERT_TRUE(router_->Init(CallContext::Background()).ok());
  }
  static CompletionRequest Ask(const std::string& subject, const std::string& text = "oi") {
    CompletionRequest r;
    r.messages = {{Role::kUser, text}};
    r.task = Task::kChat;
    r.subject = subject;
    return r;
  }
  static CallContext As(const std::string& subject, std::vector<std::string> roles) {
    CallContext ctx = CallContext::Background();
    ctx.subject = subject;
    ctx.roles = std::move(roles);
    return ctx;
  }

  std::unique_ptr<sim::ProviderSimulator> sim_;
  testing::FakeRouterStore* store_ = nullptr;
  ManualClock manual_clock_;  // 2023-11-14 22:13 UTC
  ManualClock* const clock_ = &manual_clock_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterExtrasTest, AdminRpcsNeedAdminOrOperatorWhenIdentityIsPresent) {
  Build();
  const CallContext agent = As("bot-1", {"agent"});
  ModelSpec values;
  values.quality = 10;
  auto m = router_->UpdateModel("models/cloud-a", values, {"quality"}, agent);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(m.status().message(),
            "UpdateModel needs role admin or operator; the caller has roles agent");
  Budget b{BudgetScope::kSubject, "u1", BudgetPeriod::kDay, 100, 0};
  EXPECT_EQ(router_->SetBudget(b, agent).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(router_->SetSandbox("u1", true, agent).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(router_->CreateExperiment(TwoArms("exp-1", 50), agent).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(router_->StopExperiment("experiments/exp-1", agent).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Operators and admins may; so may service-to-service calls (no identity).
  EXPECT_TRUE(router_->UpdateModel("cloud-a", values, {"quality"}, As("ops", {"operator"})).ok());
  EXPECT_TRUE(router_->SetBudget(b, As("root", {"viewer", "admin"})).ok());
  EXPECT_TRUE(router_->SetSandbox("u1", true, CallContext::Background()).ok());
  EXPECT_EQ(router_->GetModel("cloud-a")->quality, 10);
}

TEST_F(RouterExtrasTest, ListExperimentsPagesNewestFirstAndChecksItsArguments) {
  Build();
  const CallContext ctx = CallContext::Background();
  auto create_stopped = [&](const std::string& id) {
    ASSERT_TRUE(router_->CreateExperiment(TwoArms(id, 50), ctx).ok()) << id;
    ASSERT_TRUE(router_->StopExperiment("experiments/" + id, ctx).ok()) << id;
  };
  create_stopped("exp-1");
  clock_->Advance(absl::Minutes(1));
  create_stopped("exp-2");
  clock_->Advance(absl::Minutes(1));
  create_stopped("x-b");  // two created in the same instant: by id
  create_stopped("x-a");
  auto ids = [](const Router::ExperimentPage& p) {
    std::vector<std::string> out;
    for (const auto& e : p.experiments) out.push_back(e.id);
    return out;
  };
  auto first = router_->ListExperimentsPage(Task::kUnspecified, false, 2, "", ctx);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(ids(*first), (std::vector<std::string>{"x-a", "x-b"}));
  ASSERT_FALSE(first->next_page_token.empty());
  auto second =
      router_->ListExperimentsPage(Task::kUnspecified, false, 2, first->next_page_token, ctx);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(ids(*second), (std::vector<std::string>{"exp-2", "exp-1"}));
  EXPECT_TRUE(second->next_page_token.empty());
  // Default page size: everything in one page.
  auto all = router_->ListExperimentsPage(Task::kChat, false, 0, "", ctx);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->experiments.size(), 4u);
  EXPECT_TRUE(all->next_page_token.empty());
  // Bad arguments name their field.
  auto bad = router_->ListExperimentsPage(Task::kUnspecified, false, -1, "", ctx);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("page_size"), std::string::npos) << bad.status();
  bad = router_->ListExperimentsPage(Task::kUnspecified, true, 2, first->next_page_token, ctx);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("page_token"), std::string::npos) << bad.status();
  bad = router_->ListExperimentsPage(Task::kUnspecified, false, 2, "not-a-token", ctx);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("page_token"), std::string::npos) << bad.status();
}

TEST_F(RouterExtrasTest, OthersUsageNeedsAReaderRole) {
  Build();
  // A subject reads its own budgets; anyone else's (or everyone's) needs a role.
  EXPECT_TRUE(router_->ListBudgets("u1", As("u1", {"agent"})).ok());
  auto other = router_->ListBudgets("u2", As("u1", {"agent"}));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(other.status().message(),
            "ListBudgets of another owner needs role admin or operator or viewer; the caller has "
            "roles agent");
  EXPECT_EQ(router_->ListBudgets("", As("u1", {})).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(router_->ListBudgets("u2", As("v", {"viewer"})).ok());
  UsageQuery q;
  q.start = absl::FromUnixSeconds(0);
  q.end = absl::FromUnixSeconds(100);
  EXPECT_EQ(router_->UsageReport(q, As("u1", {"agent"})).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(RouterExtrasTest, FeedbackIsOnePerExecutionAndSubjectAndUpdatable) {
  Build();
  auto c = router_->Complete(Ask("u1"), CallContext::Background());
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->execution_id, 1);
  Feedback f;
  f.execution_id = c->execution_id;
  f.score = 2;
  f.comment = "meu cpf 111.444.777-35 apareceu";
  auto out = router_->RecordFeedback(f, As("u1", {"agent"}));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->subject, "u1");
  EXPECT_EQ(out->comment.find("111.444.777-35"), std::string::npos);  // masked
  f.score = 5;
  f.subject = "someone-else";  // ignored: the identity says who
  out = router_->RecordFeedback(f, As("u1", {"agent"}));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->score, 5);
  EXPECT_EQ(out->subject, "u1");
  f.execution_id = 99;
  EXPECT_EQ(router_->RecordFeedback(f, CallContext::Background()).status().code(),
            absl::StatusCode::kNotFound);
  f.score = 9;
  EXPECT_EQ(Fields(router_->RecordFeedback(f, CallContext::Background()).status()),
            std::vector<std::string>{"score"});
}

TEST_F(RouterExtrasTest, CreateExperimentWithARequestIdIsSafeToRetry) {
  Build();
  const CallContext ctx = CallContext::Background();
  auto first = router_->CreateExperiment(TwoArms("exp-retry", 50), "create-exp-1", ctx);
  ASSERT_TRUE(first.ok()) << first.status();
  clock_->Advance(absl::Seconds(3));
  auto again = router_->CreateExperiment(TwoArms("exp-retry", 50), "create-exp-1", ctx);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id, "exp-retry");
  EXPECT_EQ(again->create_time, first->create_time);
  EXPECT_EQ(store_->experiment_count(), 1u);
  auto reused = router_->CreateExperiment(TwoArms("exp-retry", 30), "create-exp-1", ctx);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReasonOf(reused.status()), "REQUEST_ID_REUSED");
  // Without a request id the same create is the usual conflict, with its reason.
  auto plain = router_->CreateExperiment(TwoArms("exp-retry", 50), ctx);
  EXPECT_EQ(ReasonOf(plain.status()), "EXPERIMENT_ALREADY_EXISTS");
  EXPECT_EQ(
      FieldViolationsOf(
          router_->CreateExperiment(TwoArms("exp-x", 50), std::string(200, 'k'), ctx).status())
          .at(0)
          .first,
      "request_id");
  EXPECT_EQ(ReasonOf(router_->GetExperiment("experiments/nope", ctx).status()),
            "EXPERIMENT_NOT_FOUND");
}

// AIP-158: an oversized page_size is clamped to the maximum.
TEST_F(RouterExtrasTest, ListExperimentsClampsAnOversizedPageSize) {
  Build();
  ASSERT_TRUE(router_->CreateExperiment(TwoArms("exp-page", 50), CallContext::Background()).ok());
  auto page = router_->ListExperimentsPage(Task::kUnspecified, false, 1 << 30, "",
                                           CallContext::Background());
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->experiments.size(), 1u);
}

TEST_F(RouterExtrasTest, ExperimentArmIsAppliedShownAndRecorded) {
  Build();
  Experiment e = TwoArms("exp-ab", 50);
  e.arms[1].model = "cloud-c";  // outside the chat policy: still tried first in its arm
  ASSERT_TRUE(router_->CreateExperiment(e, CallContext::Background()).ok());
  EXPECT_EQ(router_->CreateExperiment(TwoArms("exp-other", 50), CallContext::Background())
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  std::map<std::string, int> models_by_arm_a, models_by_arm_b;
  for (int i = 0; i < 40; ++i) {
    const std::string subject = absl::StrCat("s", i);
    const std::string arm = AssignArm(e, subject)->id;
    auto sel = router_->Select(Ask(subject), CallContext::Background());
    ASSERT_TRUE(sel.ok());
    EXPECT_EQ(sel->experiment_id, "exp-ab");
    EXPECT_EQ(sel->arm, arm);
    EXPECT_EQ(sel->candidates[0].reason, "experiment exp-ab arm " + arm + ": tried first");
    auto c = router_->Complete(Ask(subject), CallContext::Background());
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->arm, arm);
    EXPECT_EQ(c->model_id, arm == "a" ? "cloud-a" : "cloud-c");
  }
  const auto rows = store_->executions();
  ASSERT_EQ(rows.size(), 40u);
  for (const auto& r : rows) {
    EXPECT_EQ(r.experiment_id, "exp-ab");
    EXPECT_EQ(r.model_id, r.arm == "a" ? "cloud-a" : "cloud-c");
  }
  // An explicit model or strategy, or no subject: not enrolled.
  CompletionRequest explicit_model = Ask("s1");
  explicit_model.model = "cloud-b";
  EXPECT_TRUE(router_->Select(explicit_model, CallContext::Background())->arm.empty());
  EXPECT_TRUE(router_->Select(Ask(""), CallContext::Background())->arm.empty());
  // Stopped: back to the policy.
  auto stopped = router_->StopExperiment("experiments/exp-ab", CallContext::Background());
  ASSERT_TRUE(stopped.ok());
  EXPECT_FALSE(stopped->running);
  EXPECT_TRUE(router_->Select(Ask("s1"), CallContext::Background())->arm.empty());
  EXPECT_EQ(
      router_->StopExperiment("experiments/exp-ab", CallContext::Background()).status().code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(router_->GetExperiment("experiments/nope", CallContext::Background()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RouterExtrasTest, SensitiveRequestInACloudArmStillGoesLocalOrFails) {
  Build();
  ASSERT_TRUE(router_->CreateExperiment(TwoArms("exp-p0", 50), CallContext::Background()).ok());
  CompletionRequest r = Ask("s1", "meu cpf é 111.444.777-35");
  auto c = router_->Complete(r, CallContext::Background());
  // No local model in this registry: P0 refuses instead of using the arm.
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sim_->Requests("cloud-a") + sim_->Requests("cloud-b") + sim_->Requests("cloud-c"), 0);
}

TEST_F(RouterExtrasTest, FeedbackWeightedSelectionFollowsTheFeedback) {
  Build(0, /*feedback_weighted=*/true, /*seed=*/42);
  // cloud-a answers first by policy; score it badly, cloud-b well.
  for (int i = 0; i < 20; ++i) {
    CompletionRequest a = Ask("u"), b = Ask("u");
    a.model = "cloud-a";
    b.model = "cloud-b";
    auto ca = router_->Complete(a, CallContext::Background());
    auto cb = router_->Complete(b, CallContext::Background());
    ASSERT_TRUE(ca.ok() && cb.ok());
    ASSERT_TRUE(
        router_->RecordFeedback({ca->execution_id, "u", 1}, CallContext::Background()).ok());
    ASSERT_TRUE(
        router_->RecordFeedback({cb->execution_id, "u", 5}, CallContext::Background()).ok());
  }
  int b_first = 0;
  for (int i = 0; i < 200; ++i) {
    auto sel = router_->Select(Ask("u"), CallContext::Background());
    ASSERT_TRUE(sel.ok());
    EXPECT_TRUE(sel->feedback_weighted);
    EXPECT_EQ(sel->candidates[0].reason.rfind("feedback-weighted: drew ", 0), 0u);
    b_first += sel->candidates[0].model_id == "cloud-b";
  }
  // Beta(21, 1) against Beta(1, 21): cloud-b's draw is higher nearly always.
  EXPECT_GE(b_first, 195);
}

TEST_F(RouterExtrasTest, ThompsonWithoutFeedbackExploresBothModels) {
  Build(0, /*feedback_weighted=*/true, /*seed=*/1);
  std::map<std::string, int> first;
  for (int i = 0; i < 400; ++i)
    ++first[router_->Select(Ask("u"), CallContext::Background())->candidates[0].model_id];
  // Uniform priors: each model first about half the time.
  EXPECT_NEAR(first["cloud-a"], 200, 60);
  EXPECT_NEAR(first["cloud-b"], 200, 60);
  // The same seed gives the same sequence of choices.
  auto sequence = [&] {
    std::string seq;
    for (int i = 0; i < 64; ++i) {
      seq += router_->Select(Ask("u"), CallContext::Background())->candidates[0].model_id.back();
    }
    return seq;
  };
  Build(0, true, 99);
  const std::string one = sequence();
  Build(0, true, 99);
  EXPECT_EQ(sequence(), one);
  Build(0, true, 100);
  EXPECT_NE(sequence(), one);
}

TEST_F(RouterExtrasTest, ModelAtItsRpmLimitIsSkippedWithTheReasonShown) {
  Build(/*rpm_a=*/2);
  for (int i = 0; i < 2; ++i) {
    auto c = router_->Complete(Ask("u"), CallContext::Background());
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->model_id, "cloud-a");
  }
  auto sel = router_->Select(Ask("u"), CallContext::Background());
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->candidates[0].model_id, "cloud-b");
  bool shown = false;
  for (const auto& c : sel->candidates) {
    if (c.model_id == "cloud-a") {
      shown = c.reason.rfind("rate limit: at its limit of 2 requests per minute", 0) == 0;
    }
  }
  EXPECT_TRUE(shown);
  auto c = router_->Complete(Ask("u"), CallContext::Background());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->model_id, "cloud-b");
  EXPECT_EQ(sim_->Requests("cloud-a"), 2);
  // The next minute frees it.
  clock_->Advance(absl::Seconds(60));
  EXPECT_EQ(router_->Complete(Ask("u"), CallContext::Background())->model_id, "cloud-a");
}

TEST_F(RouterExtrasTest, CallsInFlightCountAgainstTheTpmLimitThenTheirRealTokens) {
  Build(0, false, 7, /*tpm_a=*/1500);
  sim::ModelScript slow;
  slow.latency_ms = 400;
  slow.input_tokens = 5;
  slow.output_tokens = 5;
  sim_->Script("cloud-a", slow);
  const std::string big(4000, 'a');  // about 1,000 tokens estimated
  auto sel = router_->Select(Ask("u", big), CallContext::Background());
  ASSERT_TRUE(sel.ok());
  ASSERT_GT(sel->estimated_input_tokens, 750);
  ASSERT_LT(sel->estimated_input_tokens, 1500);
  std::vector<std::thread> calls;
  std::atomic<int> on_a{0};
  for (int i = 0; i < 2; ++i) {
    calls.emplace_back([&] {
      auto c = router_->Complete(Ask("u", big), CallContext::Background());
      if (c.ok() && c->model_id == "cloud-a") ++on_a;
    });
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (sim_->Requests("cloud-a") < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(sim_->Requests("cloud-a"), 2);
  // Two large prompts in flight hold about 2,000 of its 1,500 tokens: skipped.
  sel = router_->Select(Ask("u", big), CallContext::Background());
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->candidates[0].model_id, "cloud-b");
  bool shown = false;
  for (const auto& c : sel->candidates) {
    if (c.model_id == "cloud-a") {
      shown = c.reason.rfind("rate limit: at its limit of 1500 tokens per minute", 0) == 0;
    }
  }
  EXPECT_TRUE(shown);
  for (auto& t : calls) t.join();
  EXPECT_EQ(on_a.load(), 2);
  // Answered with 10 tokens each: the reservations are replaced by 20 tokens.
  sel = router_->Select(Ask("u", big), CallContext::Background());
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->candidates[0].model_id, "cloud-a");
}

TEST_F(RouterExtrasTest, OnlyModelAtItsLimitIsWaitedForWithinTheDeadline) {
  Build(/*rpm_a=*/1);
  CompletionRequest r = Ask("u");
  r.model = "cloud-a";
  CallContext ctx = CallContext::Background();
  ctx.deadline = absl::InfiniteFuture();
  ASSERT_TRUE(router_->Complete(r, ctx).ok());
  const absl::Time before = clock_->Now();
  auto c = router_->Complete(r, ctx);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(clock_->Now(), NextWindow(before));  // slept until the window turned
  EXPECT_EQ(sim_->Requests("cloud-a"), 2);
  // With a deadline before the next window: RESOURCE_EXHAUSTED, no call.
  ctx.deadline = clock_->Now() + absl::Seconds(1);
  auto late = router_->Complete(r, ctx);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(late.status().message().find("at its limit of 1 requests per minute"),
            std::string::npos);
  EXPECT_EQ(sim_->Requests("cloud-a"), 2);
}

}  // namespace
}  // namespace genesis::llmrouter
