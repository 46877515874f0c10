// Selection as pure functions: task rules, P0, policies, strategies,
// constraints and the explanation of every rejection.
#include "services/llm_router/selection/selection.h"

#include <gtest/gtest.h>

#include "common/base/status.h"
#include "services/llm_router/config.h"

namespace genesis::llmrouter {
namespace {

ModelSpec Model(const std::string& id, Locality loc, double in, double out, int quality,
                int context = 100000, uint32_t caps = kCapChat) {
  ModelSpec m;
  m.id = id;
  m.locality = loc;
  m.input_price_per_mtok = in;
  m.output_price_per_mtok = out;
  m.quality = quality;
  m.context_window = context;
  m.capabilities = caps;
  m.configured = true;
  return m;
}

class SelectionTest : public ::testing::Test {
 protected:
  SelectionTest() {
    models_ = {Model("claude", Locality::kCloud, 3, 15, 90, 200000, kCapChat | kCapVision),
               Model("gpt", Locality::kCloud, 5, 15, 85),
               Model("mini", Locality::kCloud, 0.15, 0.6, 65),
               Model("local", Locality::kLocal, 0, 0, 40, 8192)};
    policies_[Task::kReasoning] = {"claude", "gpt"};
    policies_[Task::kExtraction] = {"mini", "gpt"};
  }
  Selection Select(CompletionRequest r) {
    SelectionInputs in{&models_, &policies_, [this](const std::string& id) { return health_[id]; },
                       1000};
    return SelectModels(r, in);
  }
  static CompletionRequest Ask(const std::string& text) {
    CompletionRequest r;
    r.messages = {{Role::kUser, text}};
    return r;
  }
  const CandidateView& Find(const Selection& s, const std::string& id) {
    for (const auto& c : s.candidates) {
      if (c.model_id == id) return c;
    }
    static CandidateView none;
    ADD_FAILURE() << "no candidate " << id;
    return none;
  }

  std::vector<ModelSpec> models_;
  std::map<Task, std::vector<std::string>> policies_;
  std::map<std::string, ModelHealth> health_;
};

TEST_F(SelectionTest, TaskRules) {
  EXPECT_EQ(ClassifyTask({{Role::kUser, "Resuma este texto"}}, 10), Task::kSummarization);
  EXPECT_EQ(ClassifyTask({{Role::kUser, "Classifique o sentimento"}}, 10), Task::kClassification);
  EXPECT_EQ(ClassifyTask({{Role::kUser, "Extraia os campos em JSON"}}, 10), Task::kExtraction);
  EXPECT_EQ(ClassifyTask({{Role::kUser, "Explique por que o céu é azul"}}, 10), Task::kReasoning);
  EXPECT_EQ(ClassifyTask({{Role::kUser, "oi, tudo bem?"}}, 10), Task::kChat);
  EXPECT_EQ(ClassifyTask({{Role::kUser, "oi"}}, 50000), Task::kLongContext);
}

TEST_F(SelectionTest, PolicyOrderPrimaryThenFallbacks) {
  Selection s = Select(Ask("explain why step by step"));
  EXPECT_EQ(s.task, Task::kReasoning);
  EXPECT_TRUE(s.task_classified);
  EXPECT_EQ(s.Order(), (std::vector<std::string>{"claude", "gpt"}));
  EXPECT_EQ(Find(s, "claude").reason, "primary for task reasoning");
  EXPECT_EQ(Find(s, "gpt").reason, "fallback 1 for task reasoning");
  EXPECT_EQ(Find(s, "mini").reason, "not in the policy for task reasoning");
}

TEST_F(SelectionTest, SensitiveGoesOnlyToLocalModels) {
  CompletionRequest r = Ask("explain why");
  r.sensitive = true;
  Selection s = Select(r);
  EXPECT_TRUE(s.sensitive);
  EXPECT_EQ(s.Order(), std::vector<std::string>{"local"});
  EXPECT_EQ(Find(s, "claude").reason, "P0: a sensitive request never goes to a cloud model");
}

TEST_F(SelectionTest, PersonalDataTriggersP0) {
  Selection s = Select(Ask("meu cpf é 529.982.247-25, analise"));
  EXPECT_TRUE(s.sensitive);
  EXPECT_EQ(s.sensitive_reason, "personal data: cpf");
  EXPECT_EQ(s.Order(), std::vector<std::string>{"local"});
}

TEST_F(SelectionTest, P0WithoutHealthyLocalModelFailsPrecondition) {
  health_["local"].available = false;
  CompletionRequest r = Ask("oi");
  r.sensitive = true;
  Selection s = Select(r);
  EXPECT_TRUE(s.Order().empty());
  absl::Status st = s.ToStatus();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("local: circuit breaker open"), std::string::npos) << st;
}

// The reasons say which rule excluded every model; breakers and rate limits
// tell the caller the shortest wait as RetryInfo.
TEST_F(SelectionTest, ExclusionsNameTheirReasonAndTheShortestWait) {
  for (const char* id : {"claude", "gpt", "mini", "local"}) {
    health_[id].available = false;
    health_[id].open_for = absl::Seconds(40);
  }
  health_["gpt"].open_for = absl::Seconds(12);
  absl::Status open = Select(Ask("hello")).ToStatus();
  EXPECT_EQ(open.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(open), "CIRCUIT_OPEN");
  EXPECT_EQ(RetryDelayOf(open), absl::Seconds(12));

  health_.clear();
  for (const char* id : {"claude", "gpt", "mini", "local"}) {
    health_[id].rate_limited = "at its limit of 3 requests per minute";
    health_[id].rate_limited_for = absl::Seconds(25);
  }
  absl::Status limited = Select(Ask("hello")).ToStatus();
  EXPECT_EQ(limited.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReasonOf(limited), "RATE_LIMITED");
  EXPECT_EQ(RetryDelayOf(limited), absl::Seconds(25));

  health_.clear();
  CompletionRequest huge = Ask("hello");
  huge.max_tokens = 10'000'000;
  EXPECT_EQ(ReasonOf(Select(huge).ToStatus()), "NO_ELIGIBLE_MODEL");
  health_["local"].available = false;
  CompletionRequest p0 = Ask("oi");
  p0.sensitive = true;
  EXPECT_EQ(ReasonOf(Select(p0).ToStatus()), "SENSITIVE_NO_LOCAL_MODEL");
}

TEST_F(SelectionTest, Strategies) {
  CompletionRequest r = Ask("oi");
  r.strategy = Strategy::kCheapest;
  EXPECT_EQ(Select(r).Order(), (std::vector<std::string>{"local", "mini", "claude", "gpt"}));
  r.strategy = Strategy::kQualityFirst;
  EXPECT_EQ(Select(r).Order(), (std::vector<std::string>{"claude", "gpt", "mini", "local"}));
  r.strategy = Strategy::kLowestLatency;
  health_["gpt"].latency_ewma = absl::Milliseconds(100);
  health_["mini"].latency_ewma = absl::Milliseconds(40);
  EXPECT_EQ(Select(r).Order(), (std::vector<std::string>{"mini", "gpt", "claude", "local"}));
}

TEST_F(SelectionTest, Constraints) {
  CompletionRequest r = Ask("describe this picture");
  r.strategy = Strategy::kQualityFirst;
  r.constraints.required_capabilities = kCapVision;
  Selection s = Select(r);
  EXPECT_EQ(s.Order(), std::vector<std::string>{"claude"});
  EXPECT_EQ(Find(s, "gpt").reason, "lacks capabilities: vision");

  r.constraints = {};
  r.constraints.max_cost_usd = 0.001;  // 1000 output tokens at $15/M = $0.015
  s = Select(r);
  EXPECT_EQ(s.Order(), (std::vector<std::string>{"mini", "local"}));
  EXPECT_NE(Find(s, "gpt").reason.find("exceeds max_cost_usd"), std::string::npos);

  r.constraints = {};
  r.max_tokens = 9000;  // more than local's 8192-token window
  s = Select(r);
  EXPECT_NE(Find(s, "local").reason.find("exceed its context window of 8192"), std::string::npos);
}

TEST_F(SelectionTest, RequestedModelOnly) {
  CompletionRequest r = Ask("oi");
  r.model = "mini";
  Selection s = Select(r);
  EXPECT_EQ(s.Order(), std::vector<std::string>{"mini"});
  EXPECT_EQ(Find(s, "mini").reason, "the requested model");
}

TEST_F(SelectionTest, UnconfiguredAndDisabledModelsAreExplained) {
  models_[0].configured = false;
  models_[0].api_key_env = "ANTHROPIC_API_KEY";
  models_[1].enabled = false;
  Selection s = Select(Ask("explain why"));
  EXPECT_EQ(Find(s, "claude").reason, "ANTHROPIC_API_KEY is not set");
  EXPECT_EQ(Find(s, "gpt").reason, "disabled in the registry");
  EXPECT_EQ(s.ToStatus().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RouterConfigTest, ShippedConfigParsesAndResolvesKeys) {
  auto config = LoadRouterConfig(
      std::string(GENESIS_SOURCE_DIR) + "/services/llm_router/config/models.json",
      "http://127.0.0.1:9",
      [](const std::string& name) { return name == "OPENAI_API_KEY" ? "sk-test" : ""; });
  ASSERT_TRUE(config.ok()) << config.status();
  int local = 0;
  for (const auto& m : config->models) {
    if (m.id == "gpt-4o") {
      EXPECT_TRUE(m.configured);
    } else if (m.id == "claude-3-5-sonnet" || m.id == "ollama-local") {
      EXPECT_FALSE(m.configured) << m.id;
    } else if (m.id == "sim-gemini-pro") {
      EXPECT_EQ(m.base_url, "http://127.0.0.1:9/v1beta");
    }
    local += m.simulated && m.locality == Locality::kLocal;
  }
  EXPECT_EQ(local, 1);
  EXPECT_FALSE(config->policies.at(Task::kReasoning).empty());
}

TEST(RouterConfigTest, BadEntriesAreNamed) {
  auto env = [](const std::string&) { return std::string(); };
  auto bad = ParseRouterConfig(
      R"({"models": [{"id": "a", "protocol": "smoke", "base_url": "http://x"}]})", "", env);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("models[0]"), std::string::npos);
  auto policy = ParseRouterConfig(
      R"({"models": [{"id": "a", "protocol": "openai", "base_url": "http://x"}],
          "policies": {"chat": ["b"]}})",
      "", env);
  EXPECT_NE(policy.status().message().find("unknown model \"b\""), std::string::npos);
}

}  // namespace
}  // namespace genesis::llmrouter
