#include "services/llm_router/providers/provider.h"

#include <nlohmann/json.hpp>

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/llm_router/providers/http_provider.h"

namespace genesis::llmrouter {
namespace {

class Dispatch final : public ProviderClient {
 public:
  Dispatch()
      : openai_(MakeOpenAiClient()),
        anthropic_(MakeAnthropicClient()),
        gemini_(MakeGeminiClient()) {}
  ProviderResult Complete(const ProviderRequest& r) override { return For(r).Complete(r); }
  ProviderResult Stream(const ProviderRequest& r, const TextSink& sink) override {
    return For(r).Stream(r, sink);
  }

 private:
  ProviderClient& For(const ProviderRequest& r) {
    switch (r.model->protocol) {
      case Protocol::kAnthropic:
        return *anthropic_;
      case Protocol::kGemini:
        return *gemini_;
      case Protocol::kOpenAi:
        break;
    }
    return *openai_;
  }
  std::unique_ptr<ProviderClient> openai_, anthropic_, gemini_;
};

}  // namespace

std::unique_ptr<ProviderClient> MakeProviderClients() { return std::make_unique<Dispatch>(); }

std::unique_ptr<HttpProviderClient> MakeWireClient(Protocol protocol) {
  switch (protocol) {
    case Protocol::kAnthropic:
      return MakeAnthropicWire();
    case Protocol::kGemini:
      return MakeGeminiWire();
    case Protocol::kOpenAi:
      break;
  }
  return MakeOpenAiWire();
}

absl::Status StatusFromHttp(int http_status, std::string_view body) {
  std::string message;
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_discarded() && doc.is_object() && doc.contains("error")) {
    const auto& e = doc["error"];
    // An error body is untrusted: a "message" that is not a string is ignored.
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      message = e["message"].get<std::string>();
    }
    if (e.is_string()) message = e.get<std::string>();
  }
  if (message.empty()) message = std::string(body.substr(0, 200));
  const std::string text = absl::StrCat("HTTP ", http_status, ": ", message);
  switch (http_status) {
    case 400:
    case 413:
    case 422:
      return absl::InvalidArgumentError(text);
    case 401:
      return absl::UnauthenticatedError(text);
    case 403:
      return absl::PermissionDeniedError(text);
    case 404:
      return absl::NotFoundError(text);
    case 408:
      return absl::DeadlineExceededError(text);
    case 429:
      return absl::ResourceExhaustedError(text);
    default:
      return http_status >= 500 ? absl::UnavailableError(text) : absl::UnknownError(text);
  }
}

bool IsRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

std::string MakeToolCallId(int index) {
  thread_local std::mt19937 random{std::random_device{}()};
  return absl::StrFormat("call_%d_%08x", index, static_cast<uint32_t>(random()));
}

std::string ToolNameOf(const std::vector<Message>& messages, const std::string& tool_call_id) {
  for (const auto& m : messages) {
    for (const auto& call : m.tool_calls) {
      if (call.id == tool_call_id) return call.name;
    }
  }
  return "";
}

void SettleToolCalls(ProviderReply* reply) {
  if (reply->tool_calls.empty()) return;
  for (auto& call : reply->tool_calls) {
    if (call.arguments.empty()) call.arguments = "{}";
  }
  if (reply->finish_reason.empty() || reply->finish_reason == "stop" ||
      reply->finish_reason == "tool_use") {
    reply->finish_reason = "tool_calls";
  }
}

}  // namespace genesis::llmrouter
