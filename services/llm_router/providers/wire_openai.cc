// OpenAI-compatible chat completions (OpenAI, DeepSeek, xAI, Ollama's /v1):
//   POST {base_url}/chat/completions, Authorization: Bearer KEY
//   {"model", "messages": [{"role", "content"}], "max_tokens", "temperature",
//    "stream", "stream_options": {"include_usage": true}}
// Answer: choices[0].message.content, choices[0].finish_reason,
// usage.prompt_tokens / usage.completion_tokens. Stream: "data: {chunk}"
// events with choices[0].delta.content, a last chunk with empty choices and
// the usage (include_usage), then "data: [DONE]".
// Function calling: "tools": [{"type": "function", "function": {"name",
// "description", "parameters"}}], "tool_choice": "auto" | "none" |
// "required" | {"type": "function", "function": {"name"}}; an assistant
// message carries "tool_calls": [{"id", "type": "function", "function":
// {"name", "arguments"}}] (content null when it has no text), a result is
// {"role": "tool", "tool_call_id", "content"}. The answer's
// message.tool_calls has the same shape (finish_reason "tool_calls"); a
// stream sends delta.tool_calls: [{"index", "id", "function": {"name",
// "arguments"}}], id and name in a call's first piece, then argument
// fragments, several calls (parallel) by index.
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
    case Role::kTool:
      return "tool";
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

json MessageJson(const Message& m) {
  json out = {{"role", RoleName(m.role)}, {"content", m.content}};
  if (m.role == Role::kTool) out["tool_call_id"] = m.tool_call_id;
  if (!m.tool_calls.empty()) {
    if (m.content.empty()) out["content"] = nullptr;
    json calls = json::array();
    for (const auto& c : m.tool_calls) {
      calls.push_back({{"id", c.id},
                       {"type", "function"},
                       {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    }
    out["tool_calls"] = std::move(calls);
  }
  return out;
}

void AddTools(const ProviderRequest& r, json* body) {
  if (r.tools == nullptr || r.tools->empty()) return;
  json tools = json::array();
  for (const auto& t : *r.tools) {
    json function = {{"name", t.name}};
    if (!t.description.empty()) function["description"] = t.description;
    function["parameters"] = t.parameters.empty()
                                 ? json{{"type", "object"}, {"properties", json::object()}}
                                 : json::parse(t.parameters);
    tools.push_back({{"type", "function"}, {"function", std::move(function)}});
  }
  (*body)["tools"] = std::move(tools);
  switch (r.tool_choice.mode) {
    case ToolChoiceMode::kAuto:
      (*body)["tool_choice"] = "auto";
      break;
    case ToolChoiceMode::kNone:
      (*body)["tool_choice"] = "none";
      break;
    case ToolChoiceMode::kRequired:
      (*body)["tool_choice"] = "required";
      break;
    case ToolChoiceMode::kTool:
      (*body)["tool_choice"] = {{"type", "function"}, {"function", {{"name", r.tool_choice.name}}}};
      break;
  }
}

// A string field or "" (null and other types too).
std::string Text(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

class OpenAiClient final : public HttpProviderClient {
 public:
  HttpRequest BuildRequest(const ProviderRequest& r, bool stream) const override {
    json messages = json::array();
    for (const auto& m : *r.messages) messages.push_back(MessageJson(m));
    json body = {{"model", r.model->provider_model},
                 {"messages", std::move(messages)},
                 {"max_tokens", r.max_tokens}};
    if (r.temperature) body["temperature"] = *r.temperature;
    AddTools(r, &body);
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
    const json& message = choice.value("message", json::object());
    if (message.contains("tool_calls") && message["tool_calls"].is_array()) {
      for (const auto& c : message["tool_calls"]) {
        if (!c.is_object()) continue;
        const json& f = c.value("function", json::object());
        reply.tool_calls.push_back({Text(c, "id"), Text(f, "name"), Text(f, "arguments")});
      }
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
      const json& delta = choice.value("delta", json::object());
      if (delta.contains("tool_calls") && delta["tool_calls"].is_array()) {
        for (const auto& c : delta["tool_calls"]) {
          if (!c.is_object()) continue;
          const json& f = c.value("function", json::object());
          // Without an index (some compatible servers): one call per piece
          // that has an id, fragments belong to the last call.
          int index = static_cast<int>(state->reply.tool_calls.size());
          if (c.contains("index") && c["index"].is_number_integer()) {
            index = c["index"].get<int>();
          } else if (Text(c, "id").empty() && index > 0) {
            --index;
          }
          state->EmitToolDelta(index, Text(c, "id"), Text(f, "name"), Text(f, "arguments"));
        }
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
std::unique_ptr<HttpProviderClient> MakeOpenAiWire() { return std::make_unique<OpenAiClient>(); }

}  // namespace genesis::llmrouter
