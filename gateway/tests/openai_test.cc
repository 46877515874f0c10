// The OpenAI-compatible front door: request parsing, the response and chunk
// shapes, errors in OpenAI's shape, and the gateway routes on a fake LLM
// router (auth, precedence over transcoded routes, streaming with [DONE]).
#include "gateway/openai/openai.h"

#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "gateway/gateway.h"
#include "gateway/http/errors.h"
#include "gateway/tests/fake_backend.h"
#include "google/rpc/status.pb.h"

namespace genesis::gateway {
namespace {

// A status as a Genesis service sends it: the code and message also in the
// grpc-status-details-bin trailer (gRPC's own failures have none).
grpc::Status ServiceStatus(grpc::StatusCode code, const std::string& message) {
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  return grpc::Status(code, message, details.SerializeAsString());
}

namespace v1 = genesis::llmrouter::v1;
namespace pb = google::protobuf;
using nlohmann::json;

constexpr char kRouter[] = "genesis.llmrouter.v1.LlmRouterService";
constexpr char kComplete[] = "/genesis.llmrouter.v1.LlmRouterService/Complete";
constexpr char kStream[] = "/genesis.llmrouter.v1.LlmRouterService/StreamComplete";
constexpr char kList[] = "/genesis.llmrouter.v1.LlmRouterService/ListModels";
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test";

TEST(OpenAiParseTest, MapsOpenAiFieldsOntoCompleteRequest) {
  auto parsed = openai::ParseChatRequest(R"({
      "model": "sim-local",
      "messages": [{"role": "system", "content": "Seja breve."},
                   {"role": "user", "content": [{"type": "text", "text": "olá"},
                                                {"type": "text", "text": "tudo bem?"}]},
                   {"role": "assistant", "content": "oi"},
                   {"role": "developer", "content": "regra"}],
      "max_tokens": 50, "max_completion_tokens": 64, "temperature": 0.5,
      "user": "ana", "stream": true, "stream_options": {"include_usage": true},
      "genesis_task": "reasoning", "genesis_sensitive": true, "seed": 7})",
                                         {}, "jwt-subject");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const v1::CompleteRequest& r = parsed->request;
  EXPECT_EQ(r.model(), "sim-local");
  ASSERT_EQ(r.messages_size(), 4);
  EXPECT_EQ(r.messages(0).role(), v1::ROLE_SYSTEM);
  EXPECT_EQ(r.messages(1).role(), v1::ROLE_USER);
  EXPECT_EQ(r.messages(1).content(), "olá\ntudo bem?");
  EXPECT_EQ(r.messages(2).role(), v1::ROLE_ASSISTANT);
  EXPECT_EQ(r.messages(3).role(), v1::ROLE_SYSTEM);
  EXPECT_EQ(r.max_tokens(), 64);  // max_completion_tokens wins
  EXPECT_FLOAT_EQ(r.temperature(), 0.5f);
  EXPECT_EQ(r.subject(), "ana");
  EXPECT_EQ(r.task(), v1::TASK_REASONING);
  EXPECT_TRUE(r.sensitive());
  EXPECT_TRUE(parsed->stream);
  EXPECT_TRUE(parsed->include_usage);
  EXPECT_EQ(parsed->requested_model, "sim-local");
}

TEST(OpenAiParseTest, AutoModelDefaultSubjectAndHeaderExtensions) {
  auto parsed = openai::ParseChatRequest(
      R"({"model": "auto", "messages": [{"role": "user", "content": "hi"}],
          "genesis_task": "chat", "genesis_sensitive": false})",
      {{"x-genesis-task", "TASK_SUMMARIZATION"}, {"x-genesis-sensitive", "true"}}, "jwt-subject");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->request.model(), "");
  EXPECT_EQ(parsed->requested_model, "auto");
  EXPECT_EQ(parsed->request.subject(), "jwt-subject");
  EXPECT_EQ(parsed->request.task(), v1::TASK_SUMMARIZATION);  // the header wins
  EXPECT_TRUE(parsed->request.sensitive());
  EXPECT_FALSE(parsed->request.has_temperature());
  EXPECT_FALSE(parsed->stream);
}

// "model" twice: nlohmann keeps the last, another parser the first.
TEST(OpenAiParseTest, ADuplicateKeyIsRefusedNamingIt) {
  auto parsed = openai::ParseChatRequest(
      R"({"model": "sim-local", "model": "gpt-4o",
          "messages": [{"role": "user", "content": "x", "content": "y"}]})",
      {}, "");
  ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  auto violations = FieldViolationsOf(parsed.status());
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].first, "model");
}

TEST(OpenAiParseTest, NamesEveryBadParameter) {
  auto parsed = openai::ParseChatRequest(
      R"({"messages": [{"role": "tool", "content": "x"}, {"role": "user", "content": ""},
                       {"role": "user", "content": [{"type": "image_url"}]}],
          "temperature": 3, "max_tokens": 0, "n": 2, "tools": [{"type": "function"}],
          "genesis_task": "dance", "stream": "yes"})",
      {{"x-genesis-sensitive", "maybe"}}, "");
  ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  std::set<std::string> fields;
  for (const auto& [field, why] : FieldViolationsOf(parsed.status())) fields.insert(field);
  EXPECT_EQ(fields,
            (std::set<std::string>{"messages[0].tool_call_id", "messages[1].content",
                                   "messages[2].content[0]", "temperature", "max_tokens", "n",
                                   "tools[0]", "genesis_task", "X-Genesis-Sensitive", "stream"}));
  EXPECT_EQ(openai::ParseChatRequest(R"({"messages": []})", {}, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(openai::ParseChatRequest("[1]", {}, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(openai::ParseChatRequest("{not json", {}, "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(OpenAiErrorTest, OpenAiShapeWithParamFromTheFirstViolation) {
  json e = json::parse(openai::ErrorJson(RpcStatusFromAbsl(InvalidField("messages", "empty"))));
  EXPECT_EQ(e, json::parse(R"({"error": {"message": "messages: empty",
      "type": "invalid_request_error", "param": "messages", "code": "invalid_argument"}})"));
  google::rpc::Status s;
  s.set_code(static_cast<int>(absl::StatusCode::kResourceExhausted));
  s.set_message("rate limit exceeded; retry after 1 s");
  e = json::parse(openai::ErrorJson(s));
  EXPECT_EQ(e["error"]["type"], "rate_limit_error");
  EXPECT_EQ(e["error"]["message"], "rate limit exceeded; retry after 1 s");
  EXPECT_TRUE(e["error"]["param"].is_null());
}

// Header values are bytes: one that is not UTF-8 is quoted with U+FFFD in
// the refusal, and the error object stays JSON (it used to throw).
TEST(OpenAiErrorTest, ATaskHeaderThatIsNotUtf8IsRefusedInJson) {
  auto parsed = openai::ParseChatRequest(R"({"messages": [{"role": "user", "content": "x"}]})",
                                         {{"x-genesis-task", "\xff\xfe"}}, "s");
  ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  json e = json::parse(openai::ErrorJson(RpcStatusFromAbsl(parsed.status())));
  EXPECT_EQ(e["error"]["param"], "X-Genesis-Task");
  EXPECT_NE(
      e["error"]["message"].get<std::string>().find("'\xEF\xBF\xBD\xEF\xBF\xBD' is not a task"),
      std::string::npos)
      << e.dump();
  google::rpc::Status s;
  s.set_code(static_cast<int>(absl::StatusCode::kUnavailable));
  s.set_message("backend said \xc3");
  e = json::parse(openai::ErrorJson(s));
  EXPECT_EQ(e["error"]["message"], "backend said \xEF\xBF\xBD");
}

// The llm_router descriptors from the compiled-in pool, as the build's set would hold them.
pb::FileDescriptorSet RouterDescriptors() {
  pb::FileDescriptorSet set;
  std::set<std::string> seen;
  std::function<void(const pb::FileDescriptor*)> add = [&](const pb::FileDescriptor* f) {
    if (!seen.insert(f->name()).second) return;
    for (int i = 0; i < f->dependency_count(); ++i) add(f->dependency(i));
    f->CopyTo(set.add_file());
  };
  add(v1::CompleteRequest::descriptor()->file());
  return set;
}

class OpenAiGatewayTest : public ::testing::Test {
 protected:
  OpenAiGatewayTest()
      : jwt_(JwtOptions{kSecret, "", "", absl::Seconds(30), true}, Jwks()),
        auth_(&jwt_, nullptr),
        rbac_(*Rbac::Parse(R"({"roles": {"agent": {"llmrouter": "write"},
                                         "viewer": {"*": "read"}}})")) {}

  void Start(bool auth) {
    auto transcoder = Transcoder::Create(RouterDescriptors());
    ASSERT_TRUE(transcoder.ok()) << transcoder.status();
    auto routes = RouteTable::Build((*transcoder)->Services());
    ASSERT_TRUE(routes.ok()) << routes.status();
    GatewayOptions options;
    if (auth) {
      options.security.authenticator = &auth_;
      options.security.rbac = &rbac_;
    }
    gateway_ = std::make_unique<Gateway>(options, std::move(*transcoder), std::move(*routes),
                                         std::map<std::string, Backend*>{{kRouter, &backend_}},
                                         &registry_, GatewayMetrics::Register(&registry_));
  }

  HttpResponse Serve(std::string method, std::string target, std::string body = "",
                     std::map<std::string, std::string> headers = {}) {
    HttpResponse out;
    gateway_->Handle({std::move(method), std::move(target), std::move(body), std::move(headers)},
                     [&](HttpResponse r) { out = std::move(r); });
    return out;
  }

  std::map<std::string, std::string> Bearer(const std::vector<std::string>& roles) {
    return {{"authorization",
             "Bearer " +
                 SignHs256(DevTokenPayload("bob", roles, absl::Minutes(5), absl::Now()), kSecret)}};
  }

  static v1::CompleteResponse Answer() {
    v1::CompleteResponse a;
    a.set_text("Olá!");
    a.set_model("models/sim-local");
    a.set_provider("simulator");
    a.mutable_usage()->set_input_tokens(12);
    a.mutable_usage()->set_output_tokens(3);
    a.set_finish_reason("stop");
    a.set_task(v1::TASK_CHAT);
    return a;
  }

  JwtVerifier jwt_;
  Authenticator auth_;
  Rbac rbac_;
  testing::FakeBackend backend_;
  MetricsRegistry registry_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(OpenAiGatewayTest, ChatCompletionInOpenAiShape) {
  Start(false);
  backend_.replies[kComplete] = {grpc::Status::OK, Answer().SerializeAsString()};
  HttpResponse r =
      Serve("POST", "/v1/chat/completions",
            R"({"model": "sim-local", "messages": [{"role": "user", "content": "oi"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  json doc = json::parse(r.body);
  EXPECT_EQ(doc["object"], "chat.completion");
  EXPECT_EQ(doc["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_NEAR(doc["created"].get<double>(), absl::ToUnixSeconds(absl::Now()), 5);
  EXPECT_EQ(doc["model"], "sim-local");
  EXPECT_EQ(doc["choices"], json::parse(R"([{"index": 0, "logprobs": null, "finish_reason": "stop",
      "message": {"role": "assistant", "content": "Olá!"}}])"));
  EXPECT_EQ(doc["usage"],
            json::parse(R"({"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15})"));
  EXPECT_EQ(backend_.last_path, kComplete);
  v1::CompleteRequest sent;
  ASSERT_TRUE(sent.ParseFromString(backend_.last_request));
  EXPECT_EQ(sent.model(), "sim-local");
  ASSERT_EQ(sent.messages_size(), 1);
  EXPECT_EQ(sent.messages(0).content(), "oi");
}

TEST_F(OpenAiGatewayTest, StreamingIsOpenAiSseEndingWithDone) {
  Start(false);
  v1::StreamCompleteResponse a, b, summary;
  a.set_text("Ol");
  b.set_text("á!");
  *summary.mutable_summary() = Answer();
  backend_.streams[kStream] = {
      {a.SerializeAsString(), b.SerializeAsString(), summary.SerializeAsString()},
      grpc::Status::OK};
  HttpResponse r = Serve("POST", "/v1/chat/completions",
                         R"({"messages": [{"role": "user", "content": "oi"}], "stream": true,
                             "stream_options": {"include_usage": true}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/event-stream");
  ASSERT_NE(r.stream, nullptr);
  auto writer = std::make_shared<testing::CollectingWriter>();
  r.stream->Start(writer);
  EXPECT_TRUE(writer->finished);
  std::vector<std::string> events;
  for (size_t at = 0; at < writer->body.size();) {
    size_t end = writer->body.find("\n\n", at);
    ASSERT_NE(end, std::string::npos) << writer->body;
    std::string event = writer->body.substr(at, end - at);
    ASSERT_EQ(event.rfind("data: ", 0), 0u) << event;
    events.push_back(event.substr(6));
    at = end + 2;
  }
  ASSERT_EQ(events.size(), 5u) << writer->body;
  EXPECT_EQ(events.back(), "[DONE]");
  json first = json::parse(events[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["model"], "auto");
  EXPECT_EQ(first["choices"][0]["delta"], json::parse(R"({"role": "assistant", "content": "Ol"})"));
  EXPECT_TRUE(first["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"], json::parse(R"({"content": "á!"})"));
  json last = json::parse(events[2]);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(last["model"], "sim-local");
  EXPECT_EQ(last["id"], first["id"]);
  json usage = json::parse(events[3]);
  EXPECT_EQ(usage["choices"], json::array());
  EXPECT_EQ(usage["usage"]["total_tokens"], 15);
  EXPECT_EQ(backend_.last_path, kStream);
}

TEST(OpenAiParseTest, ToolsToolChoiceAndToolMessagesPassThrough) {
  auto parsed = openai::ParseChatRequest(R"({
      "messages": [{"role": "user", "content": "where is A-1?"},
                   {"role": "assistant", "content": null, "tool_calls": [
                     {"id": "call_1", "type": "function",
                      "function": {"name": "get_order", "arguments": "{\"order_id\":\"A-1\"}"}}]},
                   {"role": "tool", "tool_call_id": "call_1", "content": "shipped"}],
      "tools": [{"type": "function", "function": {"name": "get_order", "description": "Looks up.",
                 "parameters": {"type": "object", "properties": {"order_id": {"type": "string",
                   "maxLength": 16}}, "required": ["order_id"]}}}],
      "tool_choice": {"type": "function", "function": {"name": "get_order"}},
      "parallel_tool_calls": true})",
                                         {}, "");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const v1::CompleteRequest& r = parsed->request;
  ASSERT_EQ(r.messages_size(), 3);
  EXPECT_EQ(r.messages(1).role(), v1::ROLE_ASSISTANT);
  EXPECT_EQ(r.messages(1).content(), "");
  ASSERT_EQ(r.messages(1).tool_calls_size(), 1);
  EXPECT_EQ(r.messages(1).tool_calls(0).id(), "call_1");
  EXPECT_EQ(r.messages(1).tool_calls(0).name(), "get_order");
  EXPECT_EQ(r.messages(1).tool_calls(0).arguments(), R"({"order_id":"A-1"})");
  EXPECT_EQ(r.messages(2).role(), v1::ROLE_TOOL);
  EXPECT_EQ(r.messages(2).tool_call_id(), "call_1");
  EXPECT_EQ(r.messages(2).content(), "shipped");
  ASSERT_EQ(r.tools_size(), 1);
  EXPECT_EQ(r.tools(0).name(), "get_order");
  EXPECT_EQ(r.tools(0).description(), "Looks up.");
  const auto& props = r.tools(0).parameters().fields().at("properties").struct_value();
  EXPECT_EQ(props.fields().at("order_id").struct_value().fields().at("maxLength").number_value(),
            16);
  EXPECT_EQ(r.tool_choice().mode(), v1::TOOL_CHOICE_MODE_TOOL);
  EXPECT_EQ(r.tool_choice().tool_name(), "get_order");

  for (auto [text, mode] :
       {std::pair{"auto", v1::TOOL_CHOICE_MODE_AUTO}, std::pair{"none", v1::TOOL_CHOICE_MODE_NONE},
        std::pair{"required", v1::TOOL_CHOICE_MODE_REQUIRED}}) {
    auto p = openai::ParseChatRequest(
        absl::StrCat(R"({"messages": [{"role": "user", "content": "x"}], "tool_choice": ")", text,
                     R"("})"),
        {}, "");
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->request.tool_choice().mode(), mode) << text;
  }
  auto bad = openai::ParseChatRequest(
      R"({"messages": [{"role": "user", "content": "x"}], "tool_choice": "always",
          "tools": [{"type": "retrieval"}], "functions": [{"name": "f"}]})",
      {}, "");
  std::set<std::string> fields;
  for (const auto& [field, why] : FieldViolationsOf(bad.status())) fields.insert(field);
  EXPECT_EQ(fields, (std::set<std::string>{"tool_choice", "tools[0]", "functions"}));
}

TEST_F(OpenAiGatewayTest, ToolCallsInTheAnswerAndInStreamDeltas) {
  Start(false);
  v1::CompleteResponse answer = Answer();
  answer.set_text("");
  answer.set_finish_reason("tool_calls");
  answer.set_stop_reason(v1::STOP_REASON_TOOL_CALLS);
  auto* call = answer.add_tool_calls();
  call->set_id("call_1");
  call->set_name("get_order");
  call->set_arguments(R"({"order_id":"A-1"})");
  backend_.replies[kComplete] = {grpc::Status::OK, answer.SerializeAsString()};
  const std::string body = R"({"messages": [{"role": "user", "content": "oi"}],
      "tools": [{"type": "function", "function": {"name": "get_order"}}]})";
  HttpResponse r = Serve("POST", "/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.body;
  json doc = json::parse(r.body);
  EXPECT_EQ(doc["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(doc["choices"][0]["message"], json::parse(R"({"role": "assistant", "content": null,
      "tool_calls": [{"id": "call_1", "type": "function",
                      "function": {"name": "get_order", "arguments": "{\"order_id\":\"A-1\"}"}}]})"));
  v1::CompleteRequest sent;
  ASSERT_TRUE(sent.ParseFromString(backend_.last_request));
  ASSERT_EQ(sent.tools_size(), 1);
  EXPECT_EQ(sent.tools(0).name(), "get_order");

  v1::StreamCompleteResponse start, frag, summary;
  start.mutable_tool_call_delta()->set_index(0);
  start.mutable_tool_call_delta()->set_id("call_1");
  start.mutable_tool_call_delta()->set_name("get_order");
  frag.mutable_tool_call_delta()->set_index(0);
  frag.mutable_tool_call_delta()->set_arguments(R"({"order_id":"A-1"})");
  *summary.mutable_summary() = answer;
  backend_.streams[kStream] = {
      {start.SerializeAsString(), frag.SerializeAsString(), summary.SerializeAsString()},
      grpc::Status::OK};
  HttpResponse s = Serve("POST", "/v1/chat/completions",
                         absl::StrCat(body.substr(0, body.size() - 1), R"(, "stream": true})"));
  ASSERT_EQ(s.status, 200) << s.body;
  auto writer = std::make_shared<testing::CollectingWriter>();
  s.stream->Start(writer);
  std::vector<json> chunks;
  for (size_t at = 0; at < writer->body.size();) {
    size_t end = writer->body.find("\n\n", at);
    ASSERT_NE(end, std::string::npos) << writer->body;
    std::string event = writer->body.substr(at + 6, end - at - 6);
    if (event != "[DONE]") chunks.push_back(json::parse(event));
    at = end + 2;
  }
  ASSERT_EQ(chunks.size(), 3u) << writer->body;
  EXPECT_EQ(chunks[0]["choices"][0]["delta"], json::parse(R"({"role": "assistant", "content": null,
      "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                      "function": {"name": "get_order", "arguments": ""}}]})"));
  EXPECT_EQ(chunks[1]["choices"][0]["delta"], json::parse(R"({"tool_calls": [{"index": 0,
      "function": {"arguments": "{\"order_id\":\"A-1\"}"}}]})"));
  EXPECT_EQ(chunks[2]["choices"][0]["finish_reason"], "tool_calls");
}

TEST_F(OpenAiGatewayTest, StreamFailingMidWayEndsWithAnErrorEventAndNoDone) {
  Start(false);
  v1::StreamCompleteResponse a;
  a.set_text("Ol");
  backend_.streams[kStream] = {{a.SerializeAsString()},
                               ServiceStatus(grpc::StatusCode::UNAVAILABLE, "provider went away")};
  HttpResponse r = Serve("POST", "/v1/chat/completions",
                         R"({"messages": [{"role": "user", "content": "oi"}], "stream": true})");
  ASSERT_EQ(r.status, 200);
  auto writer = std::make_shared<testing::CollectingWriter>();
  r.stream->Start(writer);
  EXPECT_EQ(writer->body.find("[DONE]"), std::string::npos) << writer->body;
  size_t at = writer->body.rfind("data: ");
  json error = json::parse(writer->body.substr(at + 6));
  EXPECT_EQ(error["error"]["message"], "provider went away");
  EXPECT_EQ(error["error"]["code"], "unavailable");
}

TEST_F(OpenAiGatewayTest, ErrorsBeforeAnyAnswerUseOpenAiShapeAndStatus) {
  Start(false);
  HttpResponse r = Serve("POST", "/v1/chat/completions", R"({"messages": []})");
  EXPECT_EQ(r.status, 400);
  json e = json::parse(r.body);
  EXPECT_EQ(e["error"]["type"], "invalid_request_error");
  EXPECT_EQ(e["error"]["param"], "messages");
  EXPECT_EQ(backend_.calls, 0);

  backend_.replies[kComplete] = {
      grpc::Status(grpc::StatusCode::NOT_FOUND, "model models/nope is not in the registry"), ""};
  r = Serve("POST", "/v1/chat/completions",
            R"({"model": "nope", "messages": [{"role": "user", "content": "oi"}]})");
  EXPECT_EQ(r.status, 404);
  e = json::parse(r.body);
  EXPECT_EQ(e["error"]["message"], "model models/nope is not in the registry");
  EXPECT_EQ(e["error"]["type"], "not_found_error");

  backend_.streams[kStream] = {{}, grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "P0")};
  r = Serve("POST", "/v1/chat/completions",
            R"({"messages": [{"role": "user", "content": "oi"}], "stream": true})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.stream, nullptr);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "failed_precondition");
}

TEST_F(OpenAiGatewayTest, ModelsListTakesPrecedenceOverTheTranscodedRoute) {
  Start(false);
  v1::ListModelsResponse list;
  auto* m = list.add_models();
  m->set_name("models/sim-local");
  m->set_provider("simulator");
  m->set_enabled(true);
  auto* off = list.add_models();
  off->set_name("models/disabled");
  off->set_enabled(false);
  backend_.replies[kList] = {grpc::Status::OK, list.SerializeAsString()};
  HttpResponse r = Serve("GET", "/v1/models");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"object": "list", "data": [
      {"id": "sim-local", "object": "model", "created": 0, "owned_by": "simulator"}]})"));
  EXPECT_EQ(backend_.last_path, kList);
}

TEST_F(OpenAiGatewayTest, SameAuthAndRbacAsOtherRoutes) {
  Start(true);
  backend_.replies[kComplete] = {grpc::Status::OK, Answer().SerializeAsString()};
  const std::string body = R"({"messages": [{"role": "user", "content": "oi"}]})";
  HttpResponse r = Serve("POST", "/v1/chat/completions", body);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "authentication_error");
  r = Serve("POST", "/v1/chat/completions", body, Bearer({"viewer"}));  // read only
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "permission_error");
  r = Serve("POST", "/v1/chat/completions", body, Bearer({"agent"}));
  EXPECT_EQ(r.status, 200) << r.body;
  v1::CompleteRequest sent;
  ASSERT_TRUE(sent.ParseFromString(backend_.last_request));
  EXPECT_EQ(sent.subject(), "bob");  // the caller, when no `user` is given
  backend_.replies[kList] = {grpc::Status::OK, ""};
  EXPECT_EQ(Serve("GET", "/v1/models", "", Bearer({"viewer"})).status, 200);
}

}  // namespace
}  // namespace genesis::gateway
