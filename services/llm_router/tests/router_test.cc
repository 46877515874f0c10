// The router's logic end to end on the fake store and the simulator: bad
// input names its field, P0 never reaches a cloud model (also while the
// local one is down), every execution is accounted, total failure is queued.
#include "services/llm_router/router.h"

#include <gtest/gtest.h>

#include "common/base/status.h"
#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/tests/fake_store.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = sim::ProviderSimulator::Start("127.0.0.1", 0);
    ASSERT_TRUE(s.ok()) << s.status();
    sim_ = std::move(*s);
    RouterConfig config;
    config.models = {testing::SimModel("cloud-a", Protocol::kAnthropic, sim_->url()),
                     testing::SimModel("cloud-b", Protocol::kGemini, sim_->url()),
                     testing::SimModel("local", Protocol::kOpenAi, sim_->url(), Locality::kLocal)};
    config.policies[Task::kChat] = {"cloud-a", "cloud-b", "local"};
    auto store = std::make_unique<testing::FakeRouterStore>();
    store_ = store.get();
    RouterOptions options;
    options.executor.max_attempts_per_model = 2;
    router_ = std::make_unique<Router>(
        std::move(config), std::move(store), MakeProviderClients(), clock_, [] { return 0.0; },
        options);
    ASSERT_TRUE(router_->Init(CallContext::Background()).ok());
    ctx_ = CallContext::Background();
    ctx_.request_id = "req-1";
  }
  static CompletionRequest Ask(const std::string& text) {
    CompletionRequest r;
    r.messages = {{Role::kUser, text}};
    r.task = Task::kChat;
    r.subject = "user-7";
    r.agent = "sdr";
    return r;
  }
  void Down(const std::string& model) {
    sim::ModelScript s;
    s.fail_status = 503;
    sim_->Script(model, s);
  }

  std::unique_ptr<sim::ProviderSimulator> sim_;
  testing::FakeRouterStore* store_;
  ManualClock manual_clock_;  // 2023-11-14 22:13 UTC
  ManualClock* const clock_ = &manual_clock_;
  std::unique_ptr<Router> router_;
  CallContext ctx_;
};

TEST_F(RouterTest, AnswersAndAccounts) {
  auto c = router_->Complete(Ask("olá"), ctx_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->text, "echo: olá");
  EXPECT_EQ(c->model_id, "cloud-a");
  EXPECT_TRUE(c->simulated);
  EXPECT_GT(c->cost_usd, 0);
  auto rows = store_->executions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].request_id, "req-1");
  EXPECT_EQ(rows[0].subject, "user-7");
  EXPECT_EQ(rows[0].agent, "sdr");
  EXPECT_EQ(rows[0].model_id, "cloud-a");
  EXPECT_EQ(rows[0].outcome, "ok");
  EXPECT_EQ(rows[0].usage.output_tokens, c->usage.output_tokens);
  EXPECT_DOUBLE_EQ(rows[0].cost_usd, c->cost_usd);
  EXPECT_TRUE(rows[0].prompt.empty());  // content is not kept by default
}

TEST_F(RouterTest, BadInputNamesTheField) {
  auto fields = [&](const CompletionRequest& r) {
    std::vector<std::string> out;
    auto c = router_->Complete(r, ctx_);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    for (const auto& [f, what] : FieldViolationsOf(c.status())) out.push_back(f);
    return out;
  };
  CompletionRequest empty;
  EXPECT_EQ(fields(empty), std::vector<std::string>{"messages"});
  CompletionRequest r = Ask("");
  EXPECT_EQ(fields(r), std::vector<std::string>{"messages[0].content"});
  r = Ask("oi");
  r.model = "gpt-17";
  EXPECT_EQ(fields(r), std::vector<std::string>{"model"});
  r = Ask("oi");
  r.max_tokens = -5;
  EXPECT_EQ(fields(r), std::vector<std::string>{"max_tokens"});
  EXPECT_TRUE(store_->executions().empty());  // never reached selection
}

TEST_F(RouterTest, SensitiveNeverReachesACloudModel) {
  CompletionRequest r = Ask("meu e-mail é maria@example.com");
  auto c = router_->Complete(r, ctx_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model_id, "local");
  EXPECT_TRUE(c->sensitive);
  EXPECT_EQ(sim_->Requests("cloud-a") + sim_->Requests("cloud-b"), 0);
}

TEST_F(RouterTest, SensitiveWithLocalDownFailsWithoutLeaking) {
  Down("local");
  CompletionRequest r = Ask("dados");
  r.sensitive = true;
  auto first = router_->Complete(r, ctx_);  // local fails: no cloud fallback
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable) << first.status();
  for (int i = 0; i < 3; ++i) (void)router_->Complete(r, ctx_);  // breaker opens
  auto later = router_->Complete(r, ctx_);
  EXPECT_EQ(later.status().code(), absl::StatusCode::kFailedPrecondition) << later.status();
  EXPECT_NE(later.status().message().find("P0"), std::string::npos);
  EXPECT_EQ(sim_->Requests("cloud-a") + sim_->Requests("cloud-b"), 0);
  EXPECT_EQ(store_->executions().back().outcome, "rejected");
}

TEST_F(RouterTest, FallbackAndTotalFailureGoesToTheRetryQueue) {
  Down("cloud-a");
  auto c = router_->Complete(Ask("oi"), ctx_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model_id, "cloud-b");
  EXPECT_EQ(c->attempts.size(), 3u);

  Down("cloud-b");
  Down("local");
  auto failed = router_->Complete(Ask("oi de novo"), ctx_);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("local try 2"), std::string::npos) << failed.status();
  auto queued = store_->retries();
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].request_id, "req-1");
  EXPECT_NE(queued[0].request_json.find("oi de novo"), std::string::npos);
  EXPECT_EQ(store_->executions().back().outcome, "failed");
}

TEST_F(RouterTest, SelectExplainsWithoutCalling) {
  auto s = router_->Select(Ask("oi"), ctx_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->Order(), (std::vector<std::string>{"cloud-a", "cloud-b", "local"}));
  EXPECT_EQ(sim_->Requests("cloud-a"), 0);
  EXPECT_TRUE(store_->executions().empty());
}

// Another replica's UpdateModel reaches the shared store; this one applies it
// at its next refresh, within refresh_interval (30 s), not before.
TEST_F(RouterTest, AnotherReplicasModelChangeAppliesWithinTheRefreshInterval) {
  ModelSpec changed = *router_->GetModel("models/cloud-a");
  changed.enabled = false;
  ASSERT_TRUE(store_->SaveTunables(changed, ctx_).ok());
  clock_->Advance(absl::Seconds(29));
  auto before = router_->Complete(Ask("oi"), ctx_);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->model_id, "cloud-a");  // still the view of the last refresh
  clock_->Advance(absl::Seconds(2));
  auto after = router_->Complete(Ask("oi"), ctx_);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->model_id, "cloud-b");
  EXPECT_FALSE(router_->GetModel("models/cloud-a")->enabled);
}

// A registry re-read that fails keeps the last view: calls go on being routed.
TEST_F(RouterTest, AFailedRegistryReReadKeepsTheLastView) {
  store_->set_up(false);
  clock_->Advance(absl::Seconds(31));
  CompletionRequest r = Ask("oi");
  r.subject.clear();  // no settings or budgets to read: only the registry refresh fails
  r.agent.clear();
  auto c = router_->Complete(r, ctx_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model_id, "cloud-a");
  EXPECT_EQ(router_->ListModels().size(), 3u);
}

TEST_F(RouterTest, UpdateModelDisablesIt) {
  ModelSpec values;
  values.enabled = false;
  auto m = router_->UpdateModel("models/cloud-a", values, {"enabled"}, ctx_);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->enabled);
  auto c = router_->Complete(Ask("oi"), ctx_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->model_id, "cloud-b");
  EXPECT_EQ(router_->UpdateModel("models/nope", values, {"enabled"}, ctx_).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(router_->UpdateModel("models/cloud-a", values, {"base_url"}, ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace genesis::llmrouter
