// The three wire protocols over real HTTP against the in-process simulator:
// answers, usage, streaming events, and how failures map to statuses.
#include "services/llm_router/providers/provider.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

using sim::ModelScript;
using sim::ProviderSimulator;

class ProviderTest : public ::testing::TestWithParam<Protocol> {
 protected:
  void SetUp() override {
    auto s = ProviderSimulator::Start("127.0.0.1", 0);
    ASSERT_TRUE(s.ok()) << s.status();
    sim_ = std::move(*s);
    client_ = MakeProviderClients();
    model_ = testing::SimModel("sim-m", GetParam(), sim_->url());
    messages_ = {{Role::kSystem, "be brief"}, {Role::kUser, "hello there router"}};
    request_.model = &model_;
    request_.messages = &messages_;
    request_.max_tokens = 100;
    request_.timeout = absl::Seconds(5);
  }

  std::unique_ptr<ProviderSimulator> sim_;
  std::unique_ptr<ProviderClient> client_;
  ModelSpec model_;
  std::vector<Message> messages_;
  ProviderRequest request_;
};

TEST_P(ProviderTest, PlainAnswerWithUsage) {
  ProviderResult r = client_->Complete(request_);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.reply.text, "echo: hello there router");
  EXPECT_EQ(r.reply.usage.output_tokens, 4);
  EXPECT_GT(r.reply.usage.input_tokens, 0);
  EXPECT_EQ(r.reply.finish_reason, "stop");
}

TEST_P(ProviderTest, StreamDeliversChunksAndFinalUsage) {
  std::vector<std::string> chunks;
  ProviderResult r = client_->Stream(request_, [&](std::string_view t) {
    chunks.emplace_back(t);
    return true;
  });
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(chunks, (std::vector<std::string>{"echo:", " hello", " there", " router"}));
  EXPECT_EQ(r.reply.text, "echo: hello there router");
  EXPECT_EQ(r.reply.usage.output_tokens, 4);
  EXPECT_GT(r.reply.usage.input_tokens, 0);
  EXPECT_EQ(r.reply.finish_reason, "stop");
}

TEST_P(ProviderTest, ScriptedTokenCountsAreReported) {
  ModelScript s;
  s.input_tokens = 1234;
  s.output_tokens = 56;
  sim_->Script("sim-m", s);
  ProviderResult plain = client_->Complete(request_);
  ProviderResult streamed = client_->Stream(request_, [](std::string_view) { return true; });
  for (const auto* r : {&plain, &streamed}) {
    ASSERT_TRUE(r->status.ok()) << r->status;
    EXPECT_EQ(r->reply.usage.input_tokens, 1234);
    EXPECT_EQ(r->reply.usage.output_tokens, 56);
  }
}

TEST_P(ProviderTest, RateLimitIsResourceExhaustedWithRetryAfter) {
  ModelScript s;
  s.fail_status = 429;
  s.retry_after_s = 2;
  sim_->Script("sim-m", s);
  ProviderResult r = client_->Complete(request_);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted) << r.status;
  EXPECT_EQ(r.http_status, 429);
  ASSERT_TRUE(r.retry_after.has_value());
  EXPECT_EQ(*r.retry_after, absl::Seconds(2));
  EXPECT_TRUE(IsRetryable(r.status));
  ProviderResult s2 = client_->Stream(request_, [](std::string_view) { return true; });
  EXPECT_EQ(s2.status.code(), absl::StatusCode::kResourceExhausted) << s2.status;
}

TEST_P(ProviderTest, ServerErrorIsUnavailableAndCarriesTheProviderMessage) {
  ModelScript s;
  s.fail_status = 503;
  sim_->Script("sim-m", s);
  ProviderResult r = client_->Complete(request_);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status.message().find("simulated failure (HTTP 503)"), std::string::npos) << r.status;
}

TEST_P(ProviderTest, HangingProviderTimesOut) {
  ModelScript s;
  s.hang = true;
  sim_->Script("sim-m", s);
  request_.timeout = absl::Milliseconds(200);
  const absl::Time start = absl::Now();
  ProviderResult r = client_->Complete(request_);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDeadlineExceeded) << r.status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_P(ProviderTest, StreamCutBeforeItsEndIsUnavailable) {
  ModelScript s;
  s.drop_after_chunks = 2;
  sim_->Script("sim-m", s);
  std::string got;
  ProviderResult r = client_->Stream(request_, [&](std::string_view t) {
    got.append(t);
    return true;
  });
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_EQ(got, "echo: hello");
}

TEST_P(ProviderTest, ReaderCanStopAStream) {
  int chunks = 0;
  ProviderResult r = client_->Stream(request_, [&](std::string_view) { return ++chunks < 2; });
  EXPECT_EQ(r.status.code(), absl::StatusCode::kCancelled) << r.status;
  EXPECT_EQ(chunks, 2);
}

// Function calling against the simulator, on each protocol.
std::vector<ToolSpec> OrderTools() {
  return {
      {"get_order", "Looks up an order.",
       R"({"type":"object","properties":{"order_id":{"type":"string"},"verbose":{"type":"boolean"}},"required":["order_id","verbose"]})"},
      {"ping", "", ""}};
}

TEST_P(ProviderTest, OfferedToolsAreCalledByDefaultPlainAndStreamed) {
  auto tools = OrderTools();
  request_.tools = &tools;
  ProviderResult plain = client_->Complete(request_);
  ASSERT_TRUE(plain.status.ok()) << plain.status;
  ASSERT_EQ(plain.reply.tool_calls.size(), 1u);
  EXPECT_EQ(plain.reply.tool_calls[0].name, "get_order");
  EXPECT_EQ(nlohmann::json::parse(plain.reply.tool_calls[0].arguments),
            nlohmann::json::parse(R"({"order_id":"sample","verbose":true})"));
  EXPECT_FALSE(plain.reply.tool_calls[0].id.empty());
  EXPECT_EQ(plain.reply.finish_reason, "tool_calls");
  EXPECT_EQ(plain.reply.text, "");
  EXPECT_GT(plain.reply.usage.output_tokens, 0);

  std::vector<ToolCallDelta> deltas;
  ToolCallSink tool_sink = [&](const ToolCallDelta& d) {
    deltas.push_back(d);
    return true;
  };
  request_.tool_sink = &tool_sink;
  std::string text;
  ProviderResult streamed = client_->Stream(request_, [&](std::string_view t) {
    text.append(t);
    return true;
  });
  ASSERT_TRUE(streamed.status.ok()) << streamed.status;
  EXPECT_EQ(text, "");
  ASSERT_EQ(streamed.reply.tool_calls.size(), 1u);
  EXPECT_EQ(streamed.reply.tool_calls[0].name, "get_order");
  EXPECT_EQ(streamed.reply.tool_calls[0].arguments, plain.reply.tool_calls[0].arguments);
  EXPECT_EQ(streamed.reply.finish_reason, "tool_calls");
  // The pieces, in order, make the call.
  ASSERT_FALSE(deltas.empty());
  EXPECT_EQ(deltas[0].name, "get_order");
  EXPECT_EQ(deltas[0].id, streamed.reply.tool_calls[0].id);
  std::string arguments;
  for (const auto& d : deltas) {
    EXPECT_EQ(d.index, 0);
    arguments += d.arguments;
  }
  EXPECT_EQ(arguments, streamed.reply.tool_calls[0].arguments);
}

TEST_P(ProviderTest, NamedToolChoiceAndNoneAreHonoured) {
  auto tools = OrderTools();
  request_.tools = &tools;
  request_.tool_choice = {ToolChoiceMode::kTool, "ping"};
  ProviderResult named = client_->Complete(request_);
  ASSERT_TRUE(named.status.ok()) << named.status;
  ASSERT_EQ(named.reply.tool_calls.size(), 1u);
  EXPECT_EQ(named.reply.tool_calls[0].name, "ping");
  EXPECT_EQ(named.reply.tool_calls[0].arguments, "{}");
  request_.tool_choice = {ToolChoiceMode::kNone, ""};
  ProviderResult none = client_->Complete(request_);
  ASSERT_TRUE(none.status.ok()) << none.status;
  EXPECT_TRUE(none.reply.tool_calls.empty());
  EXPECT_EQ(none.reply.text, "echo: hello there router");
}

TEST_P(ProviderTest, ScriptedParallelCallsPlainAndStreamed) {
  auto tools = OrderTools();
  request_.tools = &tools;
  ModelScript s;
  s.tool_calls = std::vector<sim::SimToolCall>{{"get_order", R"({"order_id":"A-1"})"},
                                               {"get_order", R"({"order_id":"B-2"})"}};
  sim_->Script("sim-m", s);
  ProviderResult plain = client_->Complete(request_);
  ASSERT_TRUE(plain.status.ok()) << plain.status;
  ASSERT_EQ(plain.reply.tool_calls.size(), 2u);
  EXPECT_EQ(plain.reply.tool_calls[0].arguments, R"({"order_id":"A-1"})");
  EXPECT_EQ(plain.reply.tool_calls[1].arguments, R"({"order_id":"B-2"})");
  EXPECT_NE(plain.reply.tool_calls[0].id, plain.reply.tool_calls[1].id);

  std::vector<ToolCallDelta> deltas;
  ToolCallSink tool_sink = [&](const ToolCallDelta& d) {
    deltas.push_back(d);
    return true;
  };
  request_.tool_sink = &tool_sink;
  ProviderResult streamed = client_->Stream(request_, [](std::string_view) { return true; });
  ASSERT_TRUE(streamed.status.ok()) << streamed.status;
  ASSERT_EQ(streamed.reply.tool_calls.size(), 2u);
  EXPECT_EQ(streamed.reply.tool_calls[1].arguments, R"({"order_id":"B-2"})");
  std::vector<std::string> by_index(2);
  for (const auto& d : deltas) {
    ASSERT_LT(d.index, 2);
    by_index[d.index] += d.arguments;
  }
  EXPECT_EQ(by_index[0], R"({"order_id":"A-1"})");
  EXPECT_EQ(by_index[1], R"({"order_id":"B-2"})");
  EXPECT_EQ(deltas.front().index, 0);
  EXPECT_EQ(deltas.back().index, 1);
}

TEST_P(ProviderTest, AfterTheToolResultTheModelAnswersText) {
  auto tools = OrderTools();
  request_.tools = &tools;
  ProviderResult first = client_->Complete(request_);
  ASSERT_TRUE(first.status.ok()) << first.status;
  ASSERT_EQ(first.reply.tool_calls.size(), 1u);
  messages_.push_back({Role::kAssistant, "", first.reply.tool_calls});
  messages_.push_back({Role::kTool, "shipped yesterday", {}, first.reply.tool_calls[0].id});
  ProviderResult second = client_->Complete(request_);
  ASSERT_TRUE(second.status.ok()) << second.status;
  EXPECT_TRUE(second.reply.tool_calls.empty());
  EXPECT_EQ(second.reply.text, "echo: shipped yesterday");
  EXPECT_EQ(second.reply.finish_reason, "stop");
}

INSTANTIATE_TEST_SUITE_P(Wire, ProviderTest,
                         ::testing::Values(Protocol::kOpenAi, Protocol::kAnthropic,
                                           Protocol::kGemini),
                         [](const auto& info) { return std::string(ProtocolName(info.param)); });

TEST(ProviderErrorsTest, UnreachableProviderIsUnavailable) {
  auto client = MakeProviderClients();
  ModelSpec m = testing::SimModel("x", Protocol::kOpenAi, "http://127.0.0.1:1");
  std::vector<Message> messages{{Role::kUser, "hi"}};
  ProviderRequest req;
  req.model = &m;
  req.messages = &messages;
  ProviderResult r = client->Complete(req);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
}

}  // namespace
}  // namespace genesis::llmrouter
