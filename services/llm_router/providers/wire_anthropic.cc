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
// Function calling: "tools": [{"name", "description", "input_schema"}],
// "tool_choice": {"type": "auto" | "any" | "none"} or {"type": "tool",
// "name"}; an assistant turn's calls are "tool_use" blocks {"id", "name",
// "input": object} after its text block, results are "tool_result" blocks
// {"tool_use_id", "content"} in the next user message (consecutive results,
// and a user text right after them, share one user message: the roles must
// alternate). The answer has tool_use blocks and stop_reason "tool_use"; a
// stream opens each call with content_block_start {"index", "content_block":
// {"type": "tool_use", "id", "name"}} and sends its input as
// content_block_delta {"delta": {"type": "input_json_delta", "partial_json"}}.
#include <nlohmann/json.hpp>

#include "services/llm_router/providers/http_provider.h"

namespace genesis::llmrouter {
namespace {

using nlohmann::json;

std::string Normalise(const std::string& stop_reason) {
  if (stop_reason == "end_turn" || stop_reason == "stop_sequence") return "stop";
  if (stop_reason == "max_tokens") return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  return stop_reason;
}

// The arguments as the object Anthropic wants for "input" (validated JSON;
// anything else, e.g. a model's broken JSON echoed back, as {}).
json InputOf(const std::string& arguments) {
  json input = json::parse(arguments.empty() ? "{}" : arguments, nullptr, false);
  return input.is_object() ? input : json::object();
}

json Messages(const std::vector<Message>& all, std::string* system) {
  json messages = json::array();
  bool open_results = false;  // the last message is a user turn of tool results
  for (const auto& m : all) {
    if (m.role == Role::kSystem) {
      if (!system->empty()) *system += "\n\n";
      *system += m.content;
      continue;
    }
    if (m.role == Role::kTool) {
      json block = {
          {"type", "tool_result"}, {"tool_use_id", m.tool_call_id}, {"content", m.content}};
      if (open_results) {
        messages.back()["content"].push_back(std::move(block));
      } else {
        messages.push_back({{"role", "user"}, {"content", json::array({std::move(block)})}});
        open_results = true;
      }
      continue;
    }
    if (m.role == Role::kUser && open_results) {
      messages.back()["content"].push_back({{"type", "text"}, {"text", m.content}});
      open_results = false;
      continue;
    }
    open_results = false;
    if (m.role == Role::kAssistant && !m.tool_calls.empty()) {
      json blocks = json::array();
      if (!m.content.empty()) blocks.push_back({{"type", "text"}, {"text", m.content}});
      for (const auto& c : m.tool_calls) {
        blocks.push_back({{"type", "tool_use"},
                          {"id", c.id},
                          {"name", c.name},
                          {"input", InputOf(c.arguments)}});
      }
      messages.push_back({{"role", "assistant"}, {"content", std::move(blocks)}});
      continue;
    }
    messages.push_back(
        {{"role", m.role == Role::kAssistant ? "assistant" : "user"}, {"content", m.content}});
  }
  return messages;
}

void AddTools(const ProviderRequest& r, json* body) {
  if (r.tools == nullptr || r.tools->empty()) return;
  json tools = json::array();
  for (const auto& t : *r.tools) {
    json tool = {{"name", t.name}};
    if (!t.description.empty()) tool["description"] = t.description;
    tool["input_schema"] = t.parameters.empty()
                               ? json{{"type", "object"}, {"properties", json::object()}}
                               : json::parse(t.parameters);
    tools.push_back(std::move(tool));
  }
  (*body)["tools"] = std::move(tools);
  switch (r.tool_choice.mode) {
    case ToolChoiceMode::kAuto:
      (*body)["tool_choice"] = {{"type", "auto"}};
      break;
    case ToolChoiceMode::kNone:
      (*body)["tool_choice"] = {{"type", "none"}};
      break;
    case ToolChoiceMode::kRequired:
      (*body)["tool_choice"] = {{"type", "any"}};
      break;
    case ToolChoiceMode::kTool:
      (*body)["tool_choice"] = {{"type", "tool"}, {"name", r.tool_choice.name}};
      break;
  }
}

std::string Text(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
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
 public:
  HttpRequest BuildRequest(const ProviderRequest& r, bool stream) const override {
    std::string system;
    json messages = Messages(*r.messages, &system);
    json body = {{"model", r.model->provider_model},
                 {"max_tokens", r.max_tokens},
                 {"messages", std::move(messages)}};
    if (!system.empty()) body["system"] = system;
    if (r.temperature) body["temperature"] = *r.temperature;
    AddTools(r, &body);
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
      if (block.is_object() && block.value("type", "") == "tool_use") {
        const json& input = block.value("input", json::object());
        reply.tool_calls.push_back({Text(block, "id"), Text(block, "name"), input.dump()});
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
      if (delta.value("type", "") == "input_json_delta") {
        auto call = state->tool_blocks.find(doc.value("index", -1));
        if (call != state->tool_blocks.end()) {
          state->EmitToolDelta(call->second, "", "", Text(delta, "partial_json"));
        }
      }
    } else if (type == "content_block_start") {
      const auto& block = doc.value("content_block", json::object());
      if (block.value("type", "") == "tool_use") {
        const int call = static_cast<int>(state->reply.tool_calls.size());
        state->tool_blocks[doc.value("index", -1)] = call;
        state->EmitToolDelta(call, Text(block, "id"), Text(block, "name"), "");
      }
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
std::unique_ptr<HttpProviderClient> MakeAnthropicWire() {
  return std::make_unique<AnthropicClient>();
}

}  // namespace genesis::llmrouter
