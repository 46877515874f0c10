// Anthropic Messages:
//   POST {base_url}/messages, x-api-key: KEY, anthropic-version: 2023-06-01
//   {"model", "max_tokens", "system", "messages": [{"role", "content"}],
//    "temperature", "stream"}
// Answer: content[] blocks of type "text", stop_reason ("end_turn",
// "max_tokens"...), usage.input_tokens / usage.output_tokens. Stream: SSE
// events message_start (message.usage.input_tokens), content_block_start,
// content_block_delta (delta.type "text_delta", delta.text), content_block_stop,
// message_delta (delta.stop_reason, usage.output_tokens, cumulative),
// message_stop; "ping" keeps the connection; "error" ends it.
#include <nlohmann/json.hpp>

#include "services/llm_router/providers/http_provider.h"

namespace genesis::llmrouter {
namespace {

using nlohmann::json;

std::string Normalise(const std::string& stop_reason) {
  if (stop_reason == "end_turn" || stop_reason == "stop_sequence") return "stop";
  if (stop_reason == "max_tokens") return "length";
  return stop_reason;
}

absl::Status StreamError(const json& doc) {
  std::string type, message;
  if (doc.contains("error") && doc["error"].is_object()) {
    type = doc["error"].value("type", "");
    message = doc["error"].value("message", "");
  }
  const std::string text = "stream error " + type + ": " + message;
  if (type == "overloaded_error" || type == "api_error") return absl::UnavailableError(text);
  if (type == "rate_limit_error") return absl::ResourceExhaustedError(text);
  return absl::InternalError(text);
}

class AnthropicClient final : public HttpProviderClient {
 protected:
  HttpRequest BuildRequest(const ProviderRequest& r, bool stream) const override {
    std::string system;
    json messages = json::array();
    for (const auto& m : *r.messages) {
      if (m.role == Role::kSystem) {
        if (!system.empty()) system += "\n\n";
        system += m.content;
      } else {
        messages.push_back(
            {{"role", m.role == Role::kAssistant ? "assistant" : "user"}, {"content", m.content}});
      }
    }
    json body = {{"model", r.model->provider_model},
                 {"max_tokens", r.max_tokens},
                 {"messages", std::move(messages)}};
    if (!system.empty()) body["system"] = system;
    if (r.temperature) body["temperature"] = *r.temperature;
    if (stream) body["stream"] = true;
    HttpRequest http;
    http.url = r.model->base_url + "/messages";
    http.headers = {"Content-Type: application/json", "anthropic-version: 2023-06-01"};
    if (!r.model->api_key.empty()) http.headers.push_back("x-api-key: " + r.model->api_key);
    http.body = body.dump();
    http.timeout = r.timeout;
    return http;
  }

  absl::StatusOr<ProviderReply> ParseReply(std::string_view body) const override {
    auto doc = json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("content") ||
        !doc["content"].is_array()) {
      return absl::InternalError("Anthropic answer without content");
    }
    ProviderReply reply;
    for (const auto& block : doc["content"]) {
      if (block.is_object() && block.value("type", "") == "text") {
        reply.text += block.value("text", "");
      }
    }
    if (doc.contains("stop_reason") && doc["stop_reason"].is_string()) {
      reply.finish_reason = Normalise(doc["stop_reason"].get<std::string>());
    }
    if (doc.contains("usage") && doc["usage"].is_object()) {
      reply.usage.input_tokens = doc["usage"].value("input_tokens", int64_t{0});
      reply.usage.output_tokens = doc["usage"].value("output_tokens", int64_t{0});
    }
    return reply;
  }

  absl::Status OnEvent(std::string_view event, std::string_view data,
                       StreamState* state) const override {
    auto doc = json::parse(data, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      return absl::InternalError("Anthropic stream event is not JSON");
    }
    const std::string type = doc.value("type", std::string(event));
    if (type == "content_block_delta") {
      const auto& delta = doc.value("delta", json::object());
      if (delta.value("type", "") == "text_delta") state->Emit(delta.value("text", ""));
    } else if (type == "message_start") {
      const auto& usage = doc.value("message", json::object()).value("usage", json::object());
      state->reply.usage.input_tokens = usage.value("input_tokens", int64_t{0});
      state->reply.usage.output_tokens = usage.value("output_tokens", int64_t{0});
    } else if (type == "message_delta") {
      const auto& delta = doc.value("delta", json::object());
      if (delta.contains("stop_reason") && delta["stop_reason"].is_string()) {
        state->reply.finish_reason = Normalise(delta["stop_reason"].get<std::string>());
      }
      const auto& usage = doc.value("usage", json::object());
      if (usage.contains("output_tokens")) {
        state->reply.usage.output_tokens = usage.value("output_tokens", int64_t{0});
      }
    } else if (type == "message_stop") {
      state->done = true;
    } else if (type == "error") {
      return StreamError(doc);
    }
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<ProviderClient> MakeAnthropicClient() {
  return std::make_unique<AnthropicClient>();
}

}  // namespace genesis::llmrouter
