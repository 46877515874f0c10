// The response cache and budgets in the router, on the fake store and the
// simulator (whose request counts prove whether a model was called).
#include <gtest/gtest.h>

#include "common/base/status.h"
#include "services/llm_router/execution/redis_response_cache.h"
#include "services/llm_router/router.h"
#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/tests/fake_cache.h"
#include "services/llm_router/tests/fake_store.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

class CacheBudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = sim::ProviderSimulator::Start("127.0.0.1", 0);
    ASSERT_TRUE(s.ok()) << s.status();
    sim_ = std::move(*s);
    auto cache = std::make_unique<testing::FakeResponseCache>();
    cache_ = cache.get();
    Build(std::move(cache));
  }
  void Build(std::unique_ptr<ResponseCache> cache, RouterOptions options = {}) {
    RouterConfig config;
    config.models = {testing::SimModel("cloud-a", Protocol::kOpenAi, sim_->url()),
                     testing::SimModel("local", Protocol::kOpenAi, sim_->url(), Locality::kLocal)};
    config.policies[Task::kChat] = {"cloud-a", "local"};
    auto store = std::make_unique<testing::FakeRouterStore>();
    store_ = store.get();
    RouterDeps deps;
    deps.cache = std::move(cache);
    deps.metrics = metrics_;
    router_ = std::make_unique<Router>(
        std::move(config), std::move(store), MakeProviderClients(), clock_, [] { return 0.0; },
        options, std::move(deps));
    ASSERT_TRUE(router_->Init(CallContext::Background()).ok());
  }
  static CompletionRequest Ask(const std::string& text) {
    CompletionRequest r;
    r.messages = {{Role::kUser, text}};
    r.task = Task::kChat;
    r.subject = "user-7";
    r.agent = "sdr";
    return r;
  }
  int Calls() { return sim_->Requests("cloud-a") + sim_->Requests("local"); }

  std::unique_ptr<sim::ProviderSimulator> sim_;
  testing::FakeResponseCache* cache_ = nullptr;
  testing::FakeRouterStore* store_ = nullptr;
  ManualClock manual_clock_;  // 2023-11-14 22:13 UTC
  ManualClock* const clock_ = &manual_clock_;
  RouterMetrics metrics_;
  std::unique_ptr<Router> router_;
  CallContext ctx_ = CallContext::Background();
};

TEST(ResponseCacheKeyTest, NormalisesWhitespaceOnlyAtTheEnds) {
  CompletionRequest a, b;
  a.messages = {{Role::kUser, "  olá mundo\n"}};
  b.messages = {{Role::kUser, "olá mundo"}};
  EXPECT_EQ(ResponseCacheKey(a, Task::kChat, 100), ResponseCacheKey(b, Task::kChat, 100));
  b.messages = {{Role::kUser, "olá  mundo"}};
  EXPECT_NE(ResponseCacheKey(a, Task::kChat, 100), ResponseCacheKey(b, Task::kChat, 100));
  b.messages = a.messages;
  EXPECT_NE(ResponseCacheKey(a, Task::kChat, 100), ResponseCacheKey(b, Task::kChat, 200));
  EXPECT_NE(ResponseCacheKey(a, Task::kChat, 100), ResponseCacheKey(b, Task::kReasoning, 100));
  b.temperature = 0.0f;
  EXPECT_NE(ResponseCacheKey(a, Task::kChat, 100), ResponseCacheKey(b, Task::kChat, 100));
  b.temperature.reset();
  b.model = "cloud-a";
  EXPECT_NE(ResponseCacheKey(a, Task::kChat, 100), ResponseCacheKey(b, Task::kChat, 100));
}

TEST_F(CacheBudgetTest, SecondIdenticalRequestIsACachedHit) {
  auto first = router_->Complete(Ask("olá"), ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->cached);
  EXPECT_EQ(Calls(), 1);
  auto second = router_->Complete(Ask("  olá "), ctx_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->cached);
  EXPECT_EQ(second->text, first->text);
  EXPECT_EQ(second->model_id, "cloud-a");
  EXPECT_EQ(second->usage.input_tokens + second->usage.output_tokens, 0);
  EXPECT_EQ(second->cost_usd, 0);
  EXPECT_EQ(Calls(), 1);  // no model call
  auto rows = store_->executions();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[1].cached);
  EXPECT_EQ(rows[1].outcome, "ok");
  EXPECT_EQ(rows[1].model_id, "cloud-a");
  EXPECT_EQ(rows[1].cost_usd, 0);
  // Another question misses.
  ASSERT_TRUE(router_->Complete(Ask("tchau"), ctx_).ok());
  EXPECT_EQ(Calls(), 2);
}

TEST_F(CacheBudgetTest, StreamHitSendsTheCachedText) {
  ASSERT_TRUE(router_->Complete(Ask("olá"), ctx_).ok());
  std::string got;
  TextSink sink = [&](std::string_view t) {
    got.append(t);
    return true;
  };
  auto c = router_->StreamComplete(Ask("olá"), sink, ctx_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->cached);
  EXPECT_EQ(got, "echo: olá");
  EXPECT_EQ(Calls(), 1);
}

TEST_F(CacheBudgetTest, SensitiveRequestsAreNeverCached) {
  auto r = Ask("meu CPF é 529.982.247-25");  // personal data: P0
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());
  auto flagged = Ask("olá");
  flagged.sensitive = true;
  ASSERT_TRUE(router_->Complete(flagged, ctx_).ok());
  auto again = router_->Complete(flagged, ctx_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->cached);
  EXPECT_EQ(sim_->Requests("local"), 4);
  EXPECT_EQ(cache_->size(), 0u);
  EXPECT_EQ(cache_->gets(), 0);
}

TEST_F(CacheBudgetTest, NoCacheOptsOut) {
  auto r = Ask("olá");
  r.no_cache = true;
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());
  EXPECT_EQ(Calls(), 2);
  EXPECT_EQ(cache_->size(), 0u);
}

TEST_F(CacheBudgetTest, RedisDownExecutesNormallyAndCounts) {
  MetricsRegistry registry;
  metrics_ = RouterMetrics::Register(&registry);
  RedisOptions options;
  options.url = "redis://127.0.0.1:1";  // nothing listens there
  auto redis = RedisClient::Create(options, &registry);
  ASSERT_TRUE(redis.ok());
  Build(std::make_unique<RedisResponseCache>(redis->get(), absl::Hours(1), metrics_));
  for (int i = 0; i < 2; ++i) {
    auto c = router_->Complete(Ask("olá"), ctx_);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_FALSE(c->cached);
  }
  EXPECT_EQ(Calls(), 2);
  EXPECT_GE(metrics_.cache_errors->Value(), 2);
  EXPECT_EQ(metrics_.cache_hits->Value(), 0);
  router_.reset();
}

TEST_F(CacheBudgetTest, SpentBudgetFailsBeforeAnyModelCall) {
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kAgent, "sdr", BudgetPeriod::kDay, 2, 0}, ctx_).ok());
  auto r = Ask("olá");
  r.no_cache = true;
  auto first = router_->Complete(r, ctx_);  // under budget; uses more than 2 tokens
  ASSERT_TRUE(first.ok());
  ASSERT_GE(first->usage.input_tokens + first->usage.output_tokens, 2);
  EXPECT_EQ(Calls(), 1);
  auto c = router_->Complete(r, ctx_);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted) << c.status();
  EXPECT_NE(c.status().message().find("agent 'sdr' per day"), std::string::npos);
  EXPECT_EQ(Calls(), 1);
  EXPECT_EQ(store_->executions().back().outcome, "rejected");
  // The next day starts afresh.
  clock_->Advance(absl::Hours(24));
  EXPECT_TRUE(router_->Complete(r, ctx_).ok());
}

TEST_F(CacheBudgetTest, UnreadableBudgetsFailTheCallRetriably) {
  MetricsRegistry registry;
  metrics_ = RouterMetrics::Register(&registry);
  auto cache = std::make_unique<testing::FakeResponseCache>();
  cache_ = cache.get();
  Build(std::move(cache));
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kAgent, "sdr", BudgetPeriod::kDay, 1, 0}, ctx_).ok());
  auto r = Ask("olá");
  r.no_cache = true;
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());
  store_->set_only_budgets_down(true);  // the spent budget can no longer be read
  auto c = router_->Complete(r, ctx_);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
  EXPECT_NE(c.status().message().find("budgets"), std::string::npos) << c.status();
  EXPECT_EQ(c.status().message().find("llm_router."), std::string::npos) << c.status();
  EXPECT_EQ(Calls(), 1);  // executing unchecked would have spent past the limit
  EXPECT_EQ(store_->executions().back().outcome, "rejected");
  EXPECT_EQ(metrics_.budget_check_errors->Value(), 1);
  store_->set_only_budgets_down(false);
  EXPECT_EQ(router_->Complete(r, ctx_).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(CacheBudgetTest, SandboxSubjectExecutesAndIsMarked) {
  ASSERT_TRUE(router_->SetSandbox("user-7", true, ctx_).ok());
  auto r = Ask("olá");
  r.no_cache = true;
  auto c = router_->Complete(r, ctx_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->sandbox);
  EXPECT_EQ(c->text, "echo: olá");  // it did execute
  EXPECT_EQ(Calls(), 1);
  EXPECT_TRUE(store_->executions().back().sandbox);
  auto other = router_->Complete(Ask("oi"), ctx_);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->sandbox);  // same subject
  auto r8 = Ask("oi");
  r8.subject = "user-8";
  auto c8 = router_->Complete(r8, ctx_);
  ASSERT_TRUE(c8.ok());
  EXPECT_FALSE(c8->sandbox);
  // A cached answer is marked for whoever asks.
  auto hit = router_->Complete(Ask("oi"), ctx_);
  ASSERT_TRUE(hit.ok());
  EXPECT_TRUE(hit->cached);
  EXPECT_TRUE(hit->sandbox);
  ASSERT_TRUE(router_->SetSandbox("user-7", false, ctx_).ok());
  EXPECT_FALSE(router_->Complete(r, ctx_)->sandbox);
  EXPECT_EQ(router_->SetSandbox("", true, ctx_).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CacheBudgetTest, UnreadableSandboxModeFailsTheCallNeverMarksItSandbox) {
  MetricsRegistry registry;
  metrics_ = RouterMetrics::Register(&registry);
  auto cache = std::make_unique<testing::FakeResponseCache>();
  cache_ = cache.get();
  Build(std::move(cache));
  store_->set_only_sandbox_down(true);
  for (bool stream : {false, true}) {
    auto r = Ask("olá");
    r.no_cache = true;
    int chunks = 0;
    TextSink sink = [&](std::string_view) { return ++chunks > 0; };
    auto c = stream ? router_->StreamComplete(r, sink, ctx_) : router_->Complete(r, ctx_);
    ASSERT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
    EXPECT_NE(c.status().message().find("sandbox mode"), std::string::npos) << c.status();
    EXPECT_NE(c.status().message().find("retry"), std::string::npos) << c.status();
    EXPECT_EQ(c.status().message().find("llm_router."), std::string::npos) << c.status();
    EXPECT_EQ(c.status().message().find("statement"), std::string::npos) << c.status();
    EXPECT_EQ(chunks, 0);
  }
  // Not even a cached answer is given under a guessed mode.
  store_->set_only_sandbox_down(false);
  ASSERT_TRUE(router_->Complete(Ask("oi"), ctx_).ok());
  store_->set_only_sandbox_down(true);
  EXPECT_EQ(router_->Complete(Ask("oi"), ctx_).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Calls(), 1);
  EXPECT_EQ(metrics_.sandbox_unknown->Value(), 3);
  EXPECT_EQ(store_->executions().back().outcome, "rejected");
  EXPECT_FALSE(store_->executions().back().sandbox);
  // A caller without subject has no settings to read.
  auto anonymous = Ask("olá");
  anonymous.subject.clear();
  anonymous.agent.clear();
  EXPECT_TRUE(router_->Complete(anonymous, ctx_).ok());
}

TEST_F(CacheBudgetTest, ASettingsReadThatHangsIsCutAtTheSettingsReadTimeout) {
  RouterOptions options;
  options.settings_read_timeout = absl::Milliseconds(300);
  Build(std::make_unique<testing::FakeResponseCache>(), options);
  absl::Time seen = absl::InfiniteFuture();
  store_->on_get_sandbox = [&](const CallContext& read) { seen = read.deadline; };
  CallContext ctx = CallContext::Background(absl::Seconds(30));
  ASSERT_TRUE(router_->Complete(Ask("olá"), ctx).ok());
  EXPECT_LE(seen, absl::Now() + absl::Milliseconds(300));
  EXPECT_LT(seen, ctx.deadline);
}

TEST_F(CacheBudgetTest, AnswersWhatNeedsNoDatabaseWhileTheDatabaseIsDown) {
  store_->set_budgets_down(true);  // Ping, settings and budgets fail
  ASSERT_FALSE(store_->Ping(ctx_).ok());
  auto anonymous = Ask("olá");
  anonymous.subject.clear();
  anonymous.agent.clear();
  EXPECT_TRUE(router_->Complete(anonymous, ctx_).ok());  // it degrades, it is not down
}

TEST_F(CacheBudgetTest, WithTheSettingsCacheChangesThroughThisRouterApplyAtOnce) {
  RouterOptions options;
  options.settings_cache_ttl = absl::Seconds(1);
  Build(std::make_unique<testing::FakeResponseCache>(), options);
  auto r = Ask("olá");
  r.no_cache = true;
  auto before = router_->Complete(r, ctx_);  // "no budget", "not sandboxed" now cached
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_FALSE(before->sandbox);
  ASSERT_TRUE(router_->SetSandbox("user-7", true, ctx_).ok());
  auto sandboxed = router_->Complete(r, ctx_);
  ASSERT_TRUE(sandboxed.ok());
  EXPECT_TRUE(sandboxed->sandbox);
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kAgent, "sdr", BudgetPeriod::kDay, 2, 0}, ctx_).ok());
  auto refused = router_->Complete(r, ctx_);  // the two calls above spent more than 2 tokens
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  EXPECT_EQ(Calls(), 2);
}

TEST_F(CacheBudgetTest, WithTheSettingsCacheABudgetThatAppliesIsCheckedOnEveryCall) {
  RouterOptions options;
  options.settings_cache_ttl = absl::Seconds(60);
  Build(std::make_unique<testing::FakeResponseCache>(), options);
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kAgent, "sdr", BudgetPeriod::kDay, 2, 0}, ctx_).ok());
  auto r = Ask("olá");
  r.no_cache = true;
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());
  // Its usage is read again at once: the spent budget refuses the next call, TTL or not.
  EXPECT_EQ(router_->Complete(r, ctx_).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Calls(), 1);
}

TEST_F(CacheBudgetTest, WithTheSettingsCacheChangesMadeElsewhereShowWithinTheTtl) {
  RouterOptions options;
  options.settings_cache_ttl = absl::Seconds(1);
  Build(std::make_unique<testing::FakeResponseCache>(), options);
  auto r = Ask("olá");
  r.no_cache = true;
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());
  // Another router instance (straight to the shared store) sandboxes the subject and sets
  // a budget that the call above already spent.
  ASSERT_TRUE(store_->SetSandbox("user-7", true, ctx_).ok());
  ASSERT_TRUE(store_->SetBudget({BudgetScope::kAgent, "sdr", BudgetPeriod::kDay, 1, 0}, ctx_).ok());
  auto stale = router_->Complete(r, ctx_);
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_FALSE(stale->sandbox);  // within the TTL: the cached answers
  clock_->Advance(absl::Milliseconds(1001));
  EXPECT_EQ(router_->Complete(r, ctx_).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Calls(), 2);
}

TEST_F(CacheBudgetTest, WithTheSettingsCacheASecondCallWithinTheTtlReadsNothing) {
  MetricsRegistry registry;
  metrics_ = RouterMetrics::Register(&registry);
  RouterOptions options;
  options.settings_cache_ttl = absl::Seconds(1);
  Build(std::make_unique<testing::FakeResponseCache>(), options);
  auto r = Ask("olá");
  r.no_cache = true;
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());
  EXPECT_EQ(store_->get_sandbox_calls(), 1);
  EXPECT_EQ(store_->budgets_for_calls(), 1);
  clock_->Advance(absl::Milliseconds(999));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(router_->Complete(r, ctx_).ok()) << i;
  EXPECT_EQ(store_->get_sandbox_calls(), 1);  // within the TTL: from memory
  EXPECT_EQ(store_->budgets_for_calls(), 1);
  EXPECT_EQ(metrics_.settings_cache_hits->Value(), 6);  // 3 calls x (sandbox, budgets)
  EXPECT_EQ(metrics_.settings_cache_misses->Value(), 2);
  // Per subject and per (subject, agent): another agent of the same subject reads its budgets.
  auto other = r;
  other.agent = "support";
  ASSERT_TRUE(router_->Complete(other, ctx_).ok());
  EXPECT_EQ(store_->get_sandbox_calls(), 1);
  EXPECT_EQ(store_->budgets_for_calls(), 2);
  clock_->Advance(absl::Milliseconds(1));  // the first answers are one TTL old
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());
  EXPECT_EQ(store_->get_sandbox_calls(), 2);
  EXPECT_EQ(store_->budgets_for_calls(), 3);
  EXPECT_EQ(Calls(), 6);
}

TEST_F(CacheBudgetTest, WithoutTheSettingsCacheEveryCallReadsTheStore) {
  auto r = Ask("olá");  // RouterOptions{}: TTL zero, as with --settings_cache_ms=0
  r.no_cache = true;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(router_->Complete(r, ctx_).ok()) << i;
  EXPECT_EQ(store_->get_sandbox_calls(), 3);
  EXPECT_EQ(store_->budgets_for_calls(), 3);
}

TEST_F(CacheBudgetTest, WithTheSettingsCacheWritesThroughThisRouterDropTheCachedAnswers) {
  RouterOptions options;
  options.settings_cache_ttl = absl::Seconds(60);
  Build(std::make_unique<testing::FakeResponseCache>(), options);
  auto r = Ask("olá");
  r.no_cache = true;
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());
  ASSERT_TRUE(router_->SetSandbox("user-7", true, ctx_).ok());
  auto sandboxed = router_->Complete(r, ctx_);
  ASSERT_TRUE(sandboxed.ok()) << sandboxed.status();
  EXPECT_TRUE(sandboxed->sandbox);
  EXPECT_EQ(store_->get_sandbox_calls(), 2);  // read again at once
  EXPECT_EQ(store_->budgets_for_calls(), 1);  // "no budget" still held
  // A budget for another owner still drops every "no budget" answer.
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kAgent, "other", BudgetPeriod::kDay, 1000, 0}, ctx_).ok());
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());
  EXPECT_EQ(store_->budgets_for_calls(), 2);
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());
  EXPECT_EQ(store_->budgets_for_calls(), 2);  // and "no budget" is held again
}

TEST_F(CacheBudgetTest, WithTheSettingsCacheErrorsAreNotKept) {
  RouterOptions options;
  options.settings_cache_ttl = absl::Seconds(60);
  Build(std::make_unique<testing::FakeResponseCache>(), options);
  store_->set_budgets_down(true);  // budgets and sandbox flag unreadable
  auto r = Ask("olá");
  r.no_cache = true;
  EXPECT_EQ(router_->Complete(r, ctx_).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(router_->Complete(r, ctx_).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->get_sandbox_calls(), 2);  // each call tried again
  store_->set_budgets_down(false);
  store_->set_only_budgets_down(true);  // the sandbox flag is read (and kept), budgets fail
  EXPECT_EQ(router_->Complete(r, ctx_).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(router_->Complete(r, ctx_).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->get_sandbox_calls(), 3);
  EXPECT_EQ(store_->budgets_for_calls(), 2);  // no "no budget" kept from the failures
  store_->set_only_budgets_down(false);
  auto back = router_->Complete(r, ctx_);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->sandbox);
  EXPECT_EQ(store_->budgets_for_calls(), 3);
  EXPECT_EQ(Calls(), 1);
}

TEST_F(CacheBudgetTest, WithTheSettingsCacheAnAppliedBudgetIsReadWithItsUsageOnEveryCall) {
  RouterOptions options;
  options.settings_cache_ttl = absl::Seconds(60);
  Build(std::make_unique<testing::FakeResponseCache>(), options);
  auto r = Ask("olá");
  r.no_cache = true;
  ASSERT_TRUE(router_->Complete(r, ctx_).ok());  // spends more than 1 token
  ASSERT_TRUE(
      router_->SetBudget({BudgetScope::kSubject, "user-7", BudgetPeriod::kDay, 1, 0}, ctx_).ok());
  const int reads = store_->budgets_for_calls();
  EXPECT_EQ(router_->Complete(r, ctx_).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(router_->Complete(r, ctx_).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(store_->budgets_for_calls(), reads + 2);  // never answered from memory
  EXPECT_EQ(Calls(), 1);
}

}  // namespace
}  // namespace genesis::llmrouter
