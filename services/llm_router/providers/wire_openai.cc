// OpenAI-compatible chat completions (OpenAI, DeepSeek, xAI, Ollama's /v1):
//   POST {base_url}/chat/completions, Authorization: Bearer KEY
//   {"model", "messages": [{"role", "content"}], "max_tokens", "temperature",
//    "stream", "stream_options": {"include_usage": true}}
// Answer: choices[0].message.content, choices[0].finish_reason,
// usage.prompt_tokens / usage.completion_tokens. Stream: "data: {chunk}"
// events with choices[0].delta.content, a last chunk with empty choices and
// the usage (include_usage), then "data: [DONE]".
#include <nlohmann/json.hpp>

#include "services/llm_router/providers/http_provider.h"

namespace genesis::llmrouter {
namespace {

using nlohmann::json;

const char* RoleName(Role role) {
  switch (role) {
    case Role::kSystem:
      return "system";
    case Role::kAssistant:
      return "assistant";
    case Role::kUser:
    case Role::kUnspecified:
      break;
  }
  return "user";
}

void ReadUsage(const json& doc, Usage* usage) {
  if (!doc.contains("usage") || !doc["usage"].is_object()) return;
  usage->input_tokens = doc["usage"].value("prompt_tokens", int64_t{0});
  usage->output_tokens = doc["usage"].value("completion_tokens", int64_t{0});
}

class OpenAiClient final : public HttpProviderClient {
 protected:
  HttpRequest BuildRequest(const ProviderRequest& r, bool stream) const override {
    json messages = json::array();
    for (const auto& m : *r.messages) {
      messages.push_back({{"role", RoleName(m.role)}, {"content", m.content}});
    }
    json body = {{"model", r.model->provider_model},
                 {"messages", std::move(messages)},
                 {"max_tokens", r.max_tokens}};
    if (r.temperature) body["temperature"] = *r.temperature;
    if (stream) {
      body["stream"] = true;
      body["stream_options"] = {{"include_usage", true}};
    }
    HttpRequest http;
    http.url = r.model->base_url + "/chat/completions";
    http.headers = {"Content-Type: application/json"};
    if (!r.model->api_key.empty())
      http.headers.push_back("Authorization: Bearer " + r.model->api_key);
    http.body = body.dump();
    http.timeout = r.timeout;
    return http;
  }

  absl::StatusOr<ProviderReply> ParseReply(std::string_view body) const override {
    auto doc = json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("choices") ||
        !doc["choices"].is_array() || doc["choices"].empty()) {
      return absl::InternalError("OpenAI answer without choices");
    }
    const auto& choice = doc["choices"][0];
    ProviderReply reply;
    if (choice.contains("message") && choice["message"].is_object() &&
        choice["message"].contains("content") && choice["message"]["content"].is_string()) {
      reply.text = choice["message"]["content"].get<std::string>();
    }
    if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) {
      reply.finish_reason = choice["finish_reason"].get<std::string>();
    }
    ReadUsage(doc, &reply.usage);
    return reply;
  }

  absl::Status OnEvent(std::string_view, std::string_view data, StreamState* state) const override {
    if (data == "[DONE]") {
      state->done = true;
      return absl::OkStatus();
    }
    auto doc = json::parse(data, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      return absl::InternalError("OpenAI stream chunk is not JSON");
    }
    if (doc.contains("error")) return StatusFromHttp(500, data);
    if (doc.contains("choices") && doc["choices"].is_array() && !doc["choices"].empty()) {
      const auto& choice = doc["choices"][0];
      if (choice.contains("delta") && choice["delta"].is_object() &&
          choice["delta"].contains("content") && choice["delta"]["content"].is_string()) {
        state->Emit(choice["delta"]["content"].get<std::string>());
      }
      if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) {
        state->reply.finish_reason = choice["finish_reason"].get<std::string>();
      }
    }
    ReadUsage(doc, &state->reply.usage);
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<ProviderClient> MakeOpenAiClient() { return std::make_unique<OpenAiClient>(); }

}  // namespace genesis::llmrouter
