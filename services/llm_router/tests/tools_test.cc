// Function calling through the router on the fake store and the simulator:
// Complete and StreamComplete with tools on each protocol (the whole loop:
// call, tool result, answer), validation naming the field, selection of
// tools-capable models only, P0 for personal data in a tool result, no
// response cache, accounting and fallbacks.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/base/status.h"
#include "services/llm_router/convert.h"
#include "services/llm_router/reasons.h"
#include "services/llm_router/router.h"
#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/tests/fake_cache.h"
#include "services/llm_router/tests/fake_store.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

using nlohmann::json;

constexpr char kSchema[] =
    R"({"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]})";

class ToolsTest : public ::testing::TestWithParam<Protocol> {
 protected:
  void SetUp() override {
    auto s = sim::ProviderSimulator::Start("127.0.0.1", 0);
    ASSERT_TRUE(s.ok()) << s.status();
    sim_ = std::move(*s);
    auto with_tools = [&](ModelSpec m) {
      m.capabilities |= kCapTools;
      return m;
    };
    RouterConfig config;
    config.models = {
        testing::SimModel("plain", Protocol::kOpenAi, sim_->url()),
        with_tools(testing::SimModel("tools-openai", Protocol::kOpenAi, sim_->url())),
        with_tools(testing::SimModel("tools-anthropic", Protocol::kAnthropic, sim_->url())),
        with_tools(testing::SimModel("tools-gemini", Protocol::kGemini, sim_->url())),
        testing::SimModel("local-plain", Protocol::kOpenAi, sim_->url(), Locality::kLocal),
        with_tools(
            testing::SimModel("local-tools", Protocol::kOpenAi, sim_->url(), Locality::kLocal))};
    config.policies[Task::kChat] = {"plain",        "tools-anthropic", "tools-openai",
                                    "tools-gemini", "local-plain",     "local-tools"};
    auto store = std::make_unique<testing::FakeRouterStore>();
    store_ = store.get();
    auto cache = std::make_unique<testing::FakeResponseCache>();
    cache_ = cache.get();
    RouterOptions options;
    options.executor.max_attempts_per_model = 1;
    RouterDeps deps;
    deps.cache = std::move(cache);
    router_ = std::make_unique<Router>(
        std::move(config), std::move(store), MakeProviderClients(), &clock_, [] { return 0.0; },
        options, std::move(deps));
    ASSERT_TRUE(router_->Init(CallContext::Background()).ok());
    ctx_ = CallContext::Background();
    ctx_.request_id = "req-tools";
  }

  static std::string ModelOf(Protocol protocol) {
    switch (protocol) {
      case Protocol::kAnthropic:
        return "tools-anthropic";
      case Protocol::kGemini:
        return "tools-gemini";
      case Protocol::kOpenAi:
        break;
    }
    return "tools-openai";
  }
  static CompletionRequest Ask(const std::string& text) {
    CompletionRequest r;
    r.messages = {{Role::kUser, text}};
    r.task = Task::kChat;
    r.subject = "user-7";
    r.tools = {{"get_order", "Looks up an order.", kSchema}, {"ping", "", ""}};
    return r;
  }
  std::vector<std::string> Violations(const CompletionRequest& r) {
    auto c = router_->Complete(r, ctx_);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
    std::vector<std::string> out;
    for (const auto& [field, why] : FieldViolationsOf(c.status())) out.push_back(field);
    return out;
  }

  std::unique_ptr<sim::ProviderSimulator> sim_;
  testing::FakeRouterStore* store_;
  testing::FakeResponseCache* cache_;
  ManualClock clock_;
  std::unique_ptr<Router> router_;
  CallContext ctx_;
};

TEST_P(ToolsTest, CompleteCallsAToolThenAnswersFromItsResult) {
  CompletionRequest r = Ask("where is my order?");
  r.model = ModelOf(GetParam());
  auto first = router_->Complete(r, ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->model_id, r.model);
  EXPECT_EQ(first->finish_reason, "tool_calls");
  ASSERT_EQ(first->tool_calls.size(), 1u);
  EXPECT_EQ(first->tool_calls[0].name, "get_order");
  EXPECT_EQ(json::parse(first->tool_calls[0].arguments), json::parse(R"({"order_id":"sample"})"));
  EXPECT_GT(first->usage.output_tokens, 0);
  EXPECT_GT(first->cost_usd, 0);

  r.messages.push_back({Role::kAssistant, "", first->tool_calls});
  r.messages.push_back({Role::kTool, R"({"status":"shipped"})", {}, first->tool_calls[0].id});
  auto second = router_->Complete(r, ctx_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->tool_calls.empty());
  EXPECT_EQ(second->finish_reason, "stop");
  EXPECT_NE(second->text.find("shipped"), std::string::npos) << second->text;

  auto rows = store_->executions();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].outcome, "ok");
  EXPECT_EQ(rows[0].model_id, r.model);
  EXPECT_GT(rows[0].usage.output_tokens, 0);
  // A request with tools is never answered from nor stored in the cache.
  EXPECT_EQ(cache_->size(), 0u);
  EXPECT_EQ(cache_->gets(), 0);
}

TEST_P(ToolsTest, StreamDeliversToolCallPiecesThenTheCompleteCalls) {
  CompletionRequest r = Ask("where are my orders?");
  r.model = ModelOf(GetParam());
  sim::ModelScript script;
  script.tool_calls = std::vector<sim::SimToolCall>{{"get_order", R"({"order_id":"A-1"})"},
                                                    {"get_order", R"({"order_id":"B-2"})"}};
  sim_->Script(r.model, script);
  std::string text;
  TextSink sink = [&](std::string_view t) {
    text.append(t);
    return true;
  };
  std::vector<ToolCallDelta> deltas;
  ToolCallSink tool_sink = [&](const ToolCallDelta& d) {
    deltas.push_back(d);
    return true;
  };
  auto c = router_->StreamComplete(r, sink, ctx_, &tool_sink);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(text, "");
  EXPECT_EQ(c->finish_reason, "tool_calls");
  ASSERT_EQ(c->tool_calls.size(), 2u);
  EXPECT_EQ(c->tool_calls[0].arguments, R"({"order_id":"A-1"})");
  EXPECT_EQ(c->tool_calls[1].arguments, R"({"order_id":"B-2"})");
  // In order: each call's first piece has its id and name; the fragments of
  // each index concatenate to its arguments.
  std::vector<ToolCall> rebuilt;
  for (const auto& d : deltas) {
    ASSERT_LE(static_cast<size_t>(d.index), rebuilt.size());
    if (static_cast<size_t>(d.index) == rebuilt.size()) {
      EXPECT_FALSE(d.id.empty());
      EXPECT_EQ(d.name, "get_order");
      rebuilt.push_back({d.id, d.name, ""});
    }
    rebuilt[d.index].arguments += d.arguments;
  }
  EXPECT_EQ(rebuilt, c->tool_calls);
  auto rows = store_->executions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].streamed);
  EXPECT_EQ(rows[0].outcome, "ok");
}

INSTANTIATE_TEST_SUITE_P(Wire, ToolsTest,
                         ::testing::Values(Protocol::kOpenAi, Protocol::kAnthropic,
                                           Protocol::kGemini),
                         [](const auto& info) { return std::string(ProtocolName(info.param)); });

using ToolsRouterTest = ToolsTest;

TEST_F(ToolsRouterTest, OnlyModelsWithTheToolsCapabilityAreSelected) {
  auto sel = router_->Select(Ask("hello"), ctx_);
  ASSERT_TRUE(sel.ok()) << sel.status();
  EXPECT_EQ(sel->Order(), (std::vector<std::string>{"tools-anthropic", "tools-openai",
                                                    "tools-gemini", "local-tools"}));
  for (const auto& c : sel->candidates) {
    if (c.model_id == "plain" || c.model_id == "local-plain") {
      EXPECT_EQ(c.reason, "lacks capabilities: tools");
    }
  }
  // Policy order: "plain" first, but it cannot take tools.
  auto c = router_->Complete(Ask("hello"), ctx_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model_id, "tools-anthropic");
  EXPECT_EQ(sim_->Requests("plain"), 0);
  // Without tools the policy's first model answers.
  CompletionRequest no_tools = Ask("hello");
  no_tools.tools.clear();
  auto plain = router_->Complete(no_tools, ctx_);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->model_id, "plain");
}

TEST_F(ToolsRouterTest, NoToolsCapableModelIsAFailedPrecondition) {
  CompletionRequest r = Ask("hello");
  r.model = "plain";
  auto c = router_->Complete(r, ctx_);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition) << c.status();
  EXPECT_EQ(ReasonOf(c.status()), reasons::kNoEligibleModel);
  EXPECT_NE(c.status().message().find("plain: lacks capabilities: tools"), std::string::npos)
      << c.status();
  EXPECT_EQ(sim_->Requests("plain"), 0);
}

TEST_F(ToolsRouterTest, PersonalDataInAToolResultKeepsTheRequestLocal) {
  CompletionRequest r = Ask("what is the customer's e-mail?");
  auto first = router_->Complete(r, ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->sensitive);
  ASSERT_EQ(first->tool_calls.size(), 1u);
  r.messages.push_back({Role::kAssistant, "", first->tool_calls});
  r.messages.push_back(
      {Role::kTool, R"({"email":"maria@example.com"})", {}, first->tool_calls[0].id});
  const int cloud_before = sim_->Requests("tools-anthropic") + sim_->Requests("tools-openai") +
                           sim_->Requests("tools-gemini");
  auto second = router_->Complete(r, ctx_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->sensitive);
  EXPECT_EQ(second->model_id, "local-tools");
  EXPECT_EQ(sim_->Requests("tools-anthropic") + sim_->Requests("tools-openai") +
                sim_->Requests("tools-gemini"),
            cloud_before);
  // The same when the local tools model is down: refused, never sent to the cloud.
  sim::ModelScript down;
  down.fail_status = 503;
  sim_->Script("local-tools", down);
  auto third = router_->Complete(r, ctx_);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kUnavailable) << third.status();
  EXPECT_EQ(sim_->Requests("tools-anthropic") + sim_->Requests("tools-openai") +
                sim_->Requests("tools-gemini"),
            cloud_before);
}

TEST_F(ToolsRouterTest, FallsBackToTheNextToolsModel) {
  sim::ModelScript down;
  down.fail_status = 503;
  sim_->Script("tools-anthropic", down);
  auto c = router_->Complete(Ask("hello"), ctx_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model_id, "tools-openai");
  ASSERT_EQ(c->attempts.size(), 2u);
  EXPECT_EQ(c->attempts[0].model_id, "tools-anthropic");
  EXPECT_EQ(c->attempts[0].outcome, AttemptOutcome::kFailed);
  ASSERT_EQ(c->tool_calls.size(), 1u);
}

TEST_F(ToolsRouterTest, BadToolsNameTheirFields) {
  CompletionRequest r = Ask("hi");
  r.tools = {{"get order", "", ""},
             {"ok", "", R"({"type":"string"})"},
             {"ok", "", ""},
             {"9lives", "", "[1]"}};
  EXPECT_EQ(Violations(r),
            (std::vector<std::string>{"tools[0].name", "tools[1].parameters", "tools[2].name",
                                      "tools[3].name", "tools[3].parameters"}));
  r = Ask("hi");
  r.tool_choice = {ToolChoiceMode::kTool, "nope"};
  EXPECT_EQ(Violations(r), std::vector<std::string>{"tool_choice.tool_name"});
  r.tool_choice = {ToolChoiceMode::kTool, ""};
  EXPECT_EQ(Violations(r), std::vector<std::string>{"tool_choice.tool_name"});
  r.tools.clear();
  r.tool_choice = {ToolChoiceMode::kRequired, ""};
  EXPECT_EQ(Violations(r), std::vector<std::string>{"tool_choice.mode"});
}

TEST_F(ToolsRouterTest, BadToolMessagesNameTheirFields) {
  CompletionRequest r = Ask("hi");
  r.messages.push_back({Role::kAssistant, "", {{"", "get_order", "not json"}}});
  r.messages.push_back({Role::kTool, "result", {}, "call_unknown"});
  r.messages.push_back({Role::kTool, "", {}, ""});
  r.messages.push_back({Role::kUser, "x", {{"c", "ping", "{}"}}, "c"});
  EXPECT_EQ(Violations(r),
            (std::vector<std::string>{
                "messages[1].tool_calls[0].id", "messages[1].tool_calls[0].arguments",
                "messages[2].tool_call_id", "messages[3].content", "messages[3].tool_call_id",
                "messages[4].tool_calls", "messages[4].tool_call_id"}));
  // Tool calls in the conversation need the tools declared.
  r = Ask("hi");
  r.messages.push_back({Role::kAssistant, "", {{"c1", "ping", "{}"}}});
  r.messages.push_back({Role::kTool, "pong", {}, "c1"});
  r.tools.clear();
  EXPECT_EQ(Violations(r), std::vector<std::string>{"tools"});
  EXPECT_TRUE(store_->executions().empty());
}

TEST(ToolsConvertTest, ProtosToDomainAndBack) {
  v1::StreamCompleteRequest req;
  auto* user = req.add_messages();
  user->set_role(v1::ROLE_USER);
  user->set_content("where is A-1?");
  auto* assistant = req.add_messages();
  assistant->set_role(v1::ROLE_ASSISTANT);
  auto* call = assistant->add_tool_calls();
  call->set_id("call_1");
  call->set_name("get_order");
  call->set_arguments(R"({"order_id":"A-1"})");
  auto* result = req.add_messages();
  result->set_role(v1::ROLE_TOOL);
  result->set_tool_call_id("call_1");
  result->set_content("shipped");
  auto* tool = req.add_tools();
  tool->set_name("get_order");
  auto& fields = *tool->mutable_parameters()->mutable_fields();
  fields["type"].set_string_value("object");
  fields["required"].mutable_list_value()->add_values()->set_string_value("order_id");
  req.mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_TOOL);
  req.mutable_tool_choice()->set_tool_name("get_order");
  CompletionRequest r = FromProto(req);
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[1].tool_calls,
            (std::vector<ToolCall>{{"call_1", "get_order", R"({"order_id":"A-1"})"}}));
  EXPECT_EQ(r.messages[2].role, Role::kTool);
  EXPECT_EQ(r.messages[2].tool_call_id, "call_1");
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(json::parse(r.tools[0].parameters),
            json::parse(R"({"type":"object","required":["order_id"]})"));
  EXPECT_EQ(r.tools[0].name, "get_order");
  EXPECT_EQ(r.tool_choice.mode, ToolChoiceMode::kTool);
  EXPECT_EQ(r.tool_choice.name, "get_order");
  EXPECT_TRUE(UsesTools(r));

  Completion c;
  c.model_id = "m";
  c.finish_reason = "tool_calls";
  c.tool_calls = {{"call_2", "ping", "{}"}};
  v1::CompleteResponse out = ToProto(c);
  EXPECT_EQ(out.stop_reason(), v1::STOP_REASON_TOOL_CALLS);
  ASSERT_EQ(out.tool_calls_size(), 1);
  EXPECT_EQ(out.tool_calls(0).id(), "call_2");
  EXPECT_EQ(out.tool_calls(0).name(), "ping");
  EXPECT_EQ(out.tool_calls(0).arguments(), "{}");
  EXPECT_EQ(StopReasonOf("stop"), v1::STOP_REASON_STOP);
  EXPECT_EQ(StopReasonOf("length"), v1::STOP_REASON_LENGTH);
  EXPECT_EQ(StopReasonOf("content_filter"), v1::STOP_REASON_CONTENT_FILTER);
  EXPECT_EQ(StopReasonOf("RECITATION"), v1::STOP_REASON_OTHER);
  EXPECT_EQ(StopReasonOf(""), v1::STOP_REASON_UNSPECIFIED);
  v1::ToolCallDelta d = ToProto(ToolCallDelta{1, "call_3", "ping", "{"});
  EXPECT_EQ(d.index(), 1);
  EXPECT_EQ(d.id(), "call_3");
  EXPECT_EQ(d.arguments(), "{");
}

}  // namespace
}  // namespace genesis::llmrouter
