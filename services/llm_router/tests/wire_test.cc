// Function calling on each wire protocol, without a server: the request body
// each client builds (tools, tool choice, tool calls and results in the
// conversation) and how it reads answers and stream events shaped as each
// provider documents them, parallel calls included.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "services/llm_router/providers/http_provider.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

using nlohmann::json;

constexpr char kSchema[] =
    R"({"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]})";

class WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tools_ = {{"get_order", "Looks up an order.", kSchema}, {"ping", "", ""}};
    messages_ = {{Role::kSystem, "be brief"},
                 {Role::kUser, "where is A-1?"},
                 {Role::kAssistant,
                  "",
                  {{"call_1", "get_order", R"({"order_id":"A-1"})"}, {"call_2", "ping", "{}"}}},
                 {Role::kTool, R"({"status":"shipped"})", {}, "call_1"},
                 {Role::kTool, "pong", {}, "call_2"},
                 {Role::kUser, "and now?"}};
    request_.messages = &messages_;
    request_.tools = &tools_;
    request_.max_tokens = 100;
  }
  json Body(Protocol protocol, bool stream = false) {
    model_ = testing::SimModel("m", protocol, "http://127.0.0.1:1");
    request_.model = &model_;
    return json::parse(MakeWireClient(protocol)->BuildRequest(request_, stream).body);
  }
  // Feeds SSE events to a protocol's stream handler, collecting the deltas.
  ProviderReply Feed(Protocol protocol,
                     const std::vector<std::pair<std::string, std::string>>& events,
                     std::vector<ToolCallDelta>* deltas, bool* done) {
    auto client = MakeWireClient(protocol);
    HttpProviderClient::StreamState state;
    TextSink text = [](std::string_view) { return true; };
    ToolCallSink tools = [&](const ToolCallDelta& d) {
      deltas->push_back(d);
      return true;
    };
    state.sink = &text;
    state.tool_sink = &tools;
    for (const auto& [event, data] : events) {
      absl::Status st = client->OnEvent(event, data, &state);
      EXPECT_TRUE(st.ok()) << st;
    }
    *done = state.done;
    SettleToolCalls(&state.reply);
    return state.reply;
  }

  std::vector<ToolSpec> tools_;
  std::vector<Message> messages_;
  ModelSpec model_;
  ProviderRequest request_;
};

TEST_F(WireTest, OpenAiRequestCarriesToolsChoiceCallsAndResults) {
  request_.tool_choice = {ToolChoiceMode::kTool, "get_order"};
  json body = Body(Protocol::kOpenAi);
  ASSERT_EQ(body["tools"].size(), 2u);
  EXPECT_EQ(body["tools"][0], json::parse(R"({"type":"function","function":{"name":"get_order",
                "description":"Looks up an order.","parameters":)" +
                                          std::string(kSchema) + "}}"));
  EXPECT_EQ(body["tools"][1]["function"]["parameters"],
            json::parse(R"({"type":"object","properties":{}})"));
  EXPECT_EQ(body["tool_choice"],
            json::parse(R"({"type":"function","function":{"name":"get_order"}})"));
  const json& assistant = body["messages"][2];
  EXPECT_TRUE(assistant["content"].is_null());
  EXPECT_EQ(assistant["tool_calls"][0], json::parse(R"({"id":"call_1","type":"function",
                "function":{"name":"get_order","arguments":"{\"order_id\":\"A-1\"}"}})"));
  EXPECT_EQ(assistant["tool_calls"].size(), 2u);
  EXPECT_EQ(body["messages"][3],
            json::parse(
                R"({"role":"tool","tool_call_id":"call_1","content":"{\"status\":\"shipped\"}"})"));
  EXPECT_EQ(body["messages"][4]["tool_call_id"], "call_2");
  for (auto [mode, want] :
       {std::pair{ToolChoiceMode::kAuto, "auto"}, std::pair{ToolChoiceMode::kNone, "none"},
        std::pair{ToolChoiceMode::kRequired, "required"}}) {
    request_.tool_choice = {mode, ""};
    EXPECT_EQ(Body(Protocol::kOpenAi)["tool_choice"], want);
  }
  request_.tools = nullptr;
  EXPECT_FALSE(Body(Protocol::kOpenAi).contains("tools"));
  EXPECT_FALSE(Body(Protocol::kOpenAi).contains("tool_choice"));
}

TEST_F(WireTest, AnthropicRequestUsesToolUseAndToolResultBlocks) {
  request_.tool_choice = {ToolChoiceMode::kRequired, ""};
  json body = Body(Protocol::kAnthropic);
  EXPECT_EQ(
      body["tools"][0],
      json::parse(R"({"name":"get_order","description":"Looks up an order.","input_schema":)" +
                  std::string(kSchema) + "}"));
  EXPECT_EQ(body["tool_choice"], json::parse(R"({"type":"any"})"));
  EXPECT_EQ(body["system"], "be brief");
  // user, assistant (two tool_use), user (two results and the next text).
  ASSERT_EQ(body["messages"].size(), 3u);
  EXPECT_EQ(body["messages"][1], json::parse(R"({"role":"assistant","content":[
                {"type":"tool_use","id":"call_1","name":"get_order","input":{"order_id":"A-1"}},
                {"type":"tool_use","id":"call_2","name":"ping","input":{}}]})"));
  EXPECT_EQ(body["messages"][2], json::parse(R"({"role":"user","content":[
                {"type":"tool_result","tool_use_id":"call_1","content":"{\"status\":\"shipped\"}"},
                {"type":"tool_result","tool_use_id":"call_2","content":"pong"},
                {"type":"text","text":"and now?"}]})"));
  request_.tool_choice = {ToolChoiceMode::kTool, "ping"};
  EXPECT_EQ(Body(Protocol::kAnthropic)["tool_choice"],
            json::parse(R"({"type":"tool","name":"ping"})"));
  request_.tool_choice = {ToolChoiceMode::kNone, ""};
  EXPECT_EQ(Body(Protocol::kAnthropic)["tool_choice"], json::parse(R"({"type":"none"})"));
  request_.tool_choice = {ToolChoiceMode::kAuto, ""};
  EXPECT_EQ(Body(Protocol::kAnthropic)["tool_choice"], json::parse(R"({"type":"auto"})"));
}

TEST_F(WireTest, GeminiRequestUsesFunctionDeclarationsAndParts) {
  request_.tool_choice = {ToolChoiceMode::kTool, "get_order"};
  json body = Body(Protocol::kGemini);
  EXPECT_EQ(body["tools"], json::parse(R"([{"functionDeclarations":[
                {"name":"get_order","description":"Looks up an order.","parameters":)" +
                                       std::string(kSchema) + R"(},{"name":"ping"}]}])"));
  EXPECT_EQ(body["toolConfig"], json::parse(R"({"functionCallingConfig":{"mode":"ANY",
                "allowedFunctionNames":["get_order"]}})"));
  ASSERT_EQ(body["contents"].size(), 3u);
  EXPECT_EQ(body["contents"][1], json::parse(R"({"role":"model","parts":[
                {"functionCall":{"name":"get_order","args":{"order_id":"A-1"}}},
                {"functionCall":{"name":"ping","args":{}}}]})"));
  // Results answer by name; a JSON object result is passed as the object.
  EXPECT_EQ(body["contents"][2], json::parse(R"({"role":"user","parts":[
                {"functionResponse":{"name":"get_order","response":{"status":"shipped"}}},
                {"functionResponse":{"name":"ping","response":{"content":"pong"}}},
                {"text":"and now?"}]})"));
  for (auto [mode, want] :
       {std::pair{ToolChoiceMode::kAuto, "AUTO"}, std::pair{ToolChoiceMode::kNone, "NONE"},
        std::pair{ToolChoiceMode::kRequired, "ANY"}}) {
    request_.tool_choice = {mode, ""};
    json config = Body(Protocol::kGemini)["toolConfig"]["functionCallingConfig"];
    EXPECT_EQ(config["mode"], want);
    EXPECT_FALSE(config.contains("allowedFunctionNames"));
  }
}

TEST_F(WireTest, AnswersWithParallelCallsAreRead) {
  auto openai = MakeWireClient(Protocol::kOpenAi)->ParseReply(R"({
    "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
      "content": null, "tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "get_order", "arguments": "{\"order_id\":\"A-1\"}"}},
        {"id": "call_b", "type": "function", "function": {"name": "ping", "arguments": "{}"}}]}}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 5}})");
  ASSERT_TRUE(openai.ok()) << openai.status();
  EXPECT_EQ(openai->tool_calls,
            (std::vector<ToolCall>{{"call_a", "get_order", R"({"order_id":"A-1"})"},
                                   {"call_b", "ping", "{}"}}));
  EXPECT_EQ(openai->finish_reason, "tool_calls");
  EXPECT_EQ(openai->text, "");

  auto anthropic = MakeWireClient(Protocol::kAnthropic)->ParseReply(R"({
    "content": [{"type": "text", "text": "Looking it up."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_order", "input": {"order_id": "A-1"}},
                {"type": "tool_use", "id": "toolu_2", "name": "ping", "input": {}}],
    "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 5}})");
  ASSERT_TRUE(anthropic.ok()) << anthropic.status();
  EXPECT_EQ(anthropic->text, "Looking it up.");
  EXPECT_EQ(anthropic->tool_calls,
            (std::vector<ToolCall>{{"toolu_1", "get_order", R"({"order_id":"A-1"})"},
                                   {"toolu_2", "ping", "{}"}}));
  EXPECT_EQ(anthropic->finish_reason, "tool_calls");

  auto gemini = MakeWireClient(Protocol::kGemini)->ParseReply(R"({
    "candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"name": "get_order", "args": {"order_id": "A-1"}}},
        {"functionCall": {"name": "ping", "args": {}}}]}, "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5}})");
  ASSERT_TRUE(gemini.ok()) << gemini.status();
  ASSERT_EQ(gemini->tool_calls.size(), 2u);
  EXPECT_EQ(gemini->tool_calls[0].name, "get_order");
  EXPECT_EQ(gemini->tool_calls[0].arguments, R"({"order_id":"A-1"})");
  EXPECT_EQ(gemini->tool_calls[1].name, "ping");
  // Gemini gives no ids: the router makes distinct ones.
  EXPECT_EQ(gemini->tool_calls[0].id.rfind("call_0_", 0), 0u) << gemini->tool_calls[0].id;
  EXPECT_EQ(gemini->tool_calls[1].id.rfind("call_1_", 0), 0u) << gemini->tool_calls[1].id;
  // Settled by the client after parsing (HttpProviderClient::Complete).
  ProviderReply settled = *gemini;
  SettleToolCalls(&settled);
  EXPECT_EQ(settled.finish_reason, "tool_calls");
}

TEST_F(WireTest, OpenAiStreamDeltasByIndex) {
  std::vector<ToolCallDelta> deltas;
  bool done = false;
  ProviderReply reply = Feed(
      Protocol::kOpenAi,
      {{"", R"({"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[
            {"index":0,"id":"call_a","type":"function","function":{"name":"get_order","arguments":""}}]}}]})"},
       {"",
        R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"order_"}}]}}]})"},
       {"", R"({"choices":[{"index":0,"delta":{"tool_calls":[
            {"index":1,"id":"call_b","type":"function","function":{"name":"ping","arguments":""}}]}}]})"},
       {"",
        R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"id\":\"A-1\"}"}}]}}]})"},
       {"", R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})"},
       {"", R"({"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5}})"},
       {"", "[DONE]"}},
      &deltas, &done);
  EXPECT_TRUE(done);
  EXPECT_EQ(reply.tool_calls,
            (std::vector<ToolCall>{{"call_a", "get_order", R"({"order_id":"A-1"})"},
                                   {"call_b", "ping", "{}"}}));
  EXPECT_EQ(reply.finish_reason, "tool_calls");
  ASSERT_EQ(deltas.size(), 4u);
  EXPECT_EQ(deltas[0].index, 0);
  EXPECT_EQ(deltas[0].id, "call_a");
  EXPECT_EQ(deltas[0].name, "get_order");
  EXPECT_EQ(deltas[1].arguments, R"({"order_)");
  EXPECT_EQ(deltas[2].index, 1);
  EXPECT_EQ(deltas[3].index, 0);
  EXPECT_EQ(reply.usage.output_tokens, 5);
}

TEST_F(WireTest, AnthropicStreamMapsContentBlocksToCalls) {
  std::vector<ToolCallDelta> deltas;
  bool done = false;
  ProviderReply reply = Feed(
      Protocol::kAnthropic,
      {{"message_start",
        R"({"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}})"},
       {"content_block_start",
        R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
       {"content_block_delta",
        R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking."}})"},
       {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
       {"content_block_start",
        R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_order","input":{}}})"},
       {"content_block_delta",
        R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}})"},
       {"content_block_delta",
        R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"order_id\": \"A"}})"},
       {"content_block_delta",
        R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"-1\"}"}})"},
       {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
       {"content_block_start",
        R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_2","name":"ping","input":{}}})"},
       {"content_block_stop", R"({"type":"content_block_stop","index":2})"},
       {"message_delta",
        R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":40}})"},
       {"message_stop", R"({"type":"message_stop"})"}},
      &deltas, &done);
  EXPECT_TRUE(done);
  EXPECT_EQ(reply.text, "Checking.");
  EXPECT_EQ(reply.tool_calls,
            (std::vector<ToolCall>{{"toolu_1", "get_order", R"({"order_id": "A-1"})"},
                                   {"toolu_2", "ping", "{}"}}));
  EXPECT_EQ(reply.finish_reason, "tool_calls");
  ASSERT_EQ(deltas.size(), 4u);  // start, two fragments, start (empty fragments are not sent)
  EXPECT_EQ(deltas[0].index, 0);
  EXPECT_EQ(deltas[0].id, "toolu_1");
  EXPECT_EQ(deltas[3].index, 1);
  EXPECT_EQ(deltas[3].name, "ping");
  EXPECT_EQ(reply.usage.output_tokens, 40);
}

TEST_F(WireTest, GeminiStreamCarriesWholeCalls) {
  std::vector<ToolCallDelta> deltas;
  bool done = false;
  ProviderReply reply = Feed(
      Protocol::kGemini,
      {{"",
        R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_order","args":{"order_id":"A-1"}}}]}}]})"},
       {"",
        R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"ping","args":{}}}]},"finishReason":"STOP"}],
            "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5}})"}},
      &deltas, &done);
  EXPECT_TRUE(done);
  ASSERT_EQ(reply.tool_calls.size(), 2u);
  EXPECT_EQ(reply.tool_calls[0].arguments, R"({"order_id":"A-1"})");
  EXPECT_EQ(reply.finish_reason, "tool_calls");
  ASSERT_EQ(deltas.size(), 2u);
  EXPECT_EQ(deltas[1].index, 1);
  EXPECT_EQ(deltas[1].id, reply.tool_calls[1].id);
  EXPECT_EQ(deltas[1].arguments, "{}");
}

}  // namespace
}  // namespace genesis::llmrouter
