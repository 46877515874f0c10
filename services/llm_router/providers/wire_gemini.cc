// Gemini generateContent:
//   POST {base_url}/models/{model}:generateContent, x-goog-api-key: KEY
//   POST {base_url}/models/{model}:streamGenerateContent?alt=sse (stream)
//   {"contents": [{"role": "user"|"model", "parts": [{"text"}]}],
//    "systemInstruction": {"parts": [{"text"}]},
//    "generationConfig": {"maxOutputTokens", "temperature"}}
// Answer: candidates[0].content.parts[].text, candidates[0].finishReason
// ("STOP", "MAX_TOKENS"...), usageMetadata.promptTokenCount /
// candidatesTokenCount. Stream: each "data:" event is a whole answer chunk
// of the same shape; the last one carries the final usageMetadata; there is
// no end marker: the chunk with a finishReason is the last.
// Function calling: "tools": [{"functionDeclarations": [{"name",
// "description", "parameters"}]}], "toolConfig": {"functionCallingConfig":
// {"mode": "AUTO" | "NONE" | "ANY", "allowedFunctionNames": [name]}} (a
// named tool: ANY with that one name); an assistant turn's calls are
// {"functionCall": {"name", "args"}} parts of its "model" content, results
// {"functionResponse": {"name", "response": object}} parts of the next
// "user" content (one content for consecutive results: parallel calls are
// answered together). The answer (and each stream chunk) carries whole
// functionCall parts; Gemini stops with "STOP" and gives no call ids (newer
// models may: kept when present), so the router makes them.
#include <nlohmann/json.hpp>

#include "services/llm_router/providers/http_provider.h"

namespace genesis::llmrouter {
namespace {

using nlohmann::json;

std::string Normalise(const std::string& reason) {
  if (reason == "STOP") return "stop";
  if (reason == "MAX_TOKENS") return "length";
  if (reason == "SAFETY" || reason == "PROHIBITED_CONTENT") return "content_filter";
  return reason;
}

// A tool result as the object Gemini wants for "response": the result when
// it is a JSON object, else {"content": the text}.
json ResponseOf(const std::string& content) {
  json doc = json::parse(content, nullptr, false);
  if (!doc.is_discarded() && doc.is_object()) return doc;
  return {{"content", content}};
}

json Contents(const std::vector<Message>& all, std::string* system) {
  json contents = json::array();
  bool open_results = false;  // the last content is a user turn of tool results
  for (const auto& m : all) {
    if (m.role == Role::kSystem) {
      if (!system->empty()) *system += "\n\n";
      *system += m.content;
      continue;
    }
    if (m.role == Role::kTool) {
      json part = {
          {"functionResponse",
           {{"name", ToolNameOf(all, m.tool_call_id)}, {"response", ResponseOf(m.content)}}}};
      if (open_results) {
        contents.back()["parts"].push_back(std::move(part));
      } else {
        contents.push_back({{"role", "user"}, {"parts", json::array({std::move(part)})}});
        open_results = true;
      }
      continue;
    }
    if (m.role == Role::kUser && open_results) {
      contents.back()["parts"].push_back({{"text", m.content}});
      open_results = false;
      continue;
    }
    open_results = false;
    json parts = json::array();
    if (!m.content.empty() || m.tool_calls.empty()) parts.push_back({{"text", m.content}});
    for (const auto& c : m.tool_calls) {
      json args = json::parse(c.arguments.empty() ? "{}" : c.arguments, nullptr, false);
      parts.push_back({{"functionCall",
                        {{"name", c.name}, {"args", args.is_object() ? args : json::object()}}}});
    }
    contents.push_back(
        {{"role", m.role == Role::kAssistant ? "model" : "user"}, {"parts", std::move(parts)}});
  }
  return contents;
}

void AddTools(const ProviderRequest& r, json* body) {
  if (r.tools == nullptr || r.tools->empty()) return;
  json declarations = json::array();
  for (const auto& t : *r.tools) {
    json d = {{"name", t.name}};
    if (!t.description.empty()) d["description"] = t.description;
    // A function without arguments has no "parameters" (Gemini refuses an
    // object schema without properties).
    if (!t.parameters.empty()) d["parameters"] = json::parse(t.parameters);
    declarations.push_back(std::move(d));
  }
  (*body)["tools"] = json::array({{{"functionDeclarations", std::move(declarations)}}});
  json config;
  switch (r.tool_choice.mode) {
    case ToolChoiceMode::kAuto:
      config = {{"mode", "AUTO"}};
      break;
    case ToolChoiceMode::kNone:
      config = {{"mode", "NONE"}};
      break;
    case ToolChoiceMode::kRequired:
      config = {{"mode", "ANY"}};
      break;
    case ToolChoiceMode::kTool:
      config = {{"mode", "ANY"}, {"allowedFunctionNames", json::array({r.tool_choice.name})}};
      break;
  }
  (*body)["toolConfig"] = {{"functionCallingConfig", std::move(config)}};
}

// Appends the text and tool calls of one answer (or chunk) and reads its
// finish reason and usage. `first_call` numbers the calls (ids made for them).
absl::Status ReadChunk(const json& doc, ProviderReply* reply, std::string* text,
                       std::vector<ToolCall>* calls, size_t first_call) {
  if (doc.contains("error")) return StatusFromHttp(doc["error"].value("code", 500), doc.dump());
  if (doc.contains("candidates") && doc["candidates"].is_array() && !doc["candidates"].empty()) {
    const auto& c = doc["candidates"][0];
    const auto& parts = c.value("content", json::object()).value("parts", json::array());
    for (const auto& p : parts) {
      if (p.is_object() && p.contains("text") && p["text"].is_string()) {
        text->append(p["text"].get<std::string>());
      }
      if (p.is_object() && p.contains("functionCall") && p["functionCall"].is_object()) {
        const json& f = p["functionCall"];
        std::string id = f.contains("id") && f["id"].is_string() ? f["id"].get<std::string>() : "";
        if (id.empty()) id = MakeToolCallId(static_cast<int>(first_call + calls->size()));
        const json& args = f.value("args", json::object());
        calls->push_back({id, f.value("name", ""), args.dump()});
      }
    }
    if (c.contains("finishReason") && c["finishReason"].is_string()) {
      reply->finish_reason = Normalise(c["finishReason"].get<std::string>());
    }
  }
  if (doc.contains("usageMetadata") && doc["usageMetadata"].is_object()) {
    const auto& u = doc["usageMetadata"];
    reply->usage.input_tokens = u.value("promptTokenCount", int64_t{0});
    reply->usage.output_tokens = u.value("candidatesTokenCount", int64_t{0});
  }
  return absl::OkStatus();
}

class GeminiClient final : public HttpProviderClient {
 public:
  HttpRequest BuildRequest(const ProviderRequest& r, bool stream) const override {
    std::string system;
    json contents = Contents(*r.messages, &system);
    json config = {{"maxOutputTokens", r.max_tokens}};
    if (r.temperature) config["temperature"] = *r.temperature;
    json body = {{"contents", std::move(contents)}, {"generationConfig", std::move(config)}};
    if (!system.empty()) body["systemInstruction"] = {{"parts", json::array({{{"text", system}}})}};
    AddTools(r, &body);
    HttpRequest http;
    http.url = r.model->base_url + "/models/" + r.model->provider_model +
               (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
    http.headers = {"Content-Type: application/json"};
    if (!r.model->api_key.empty()) http.headers.push_back("x-goog-api-key: " + r.model->api_key);
    http.body = body.dump();
    http.timeout = r.timeout;
    return http;
  }

  absl::StatusOr<ProviderReply> ParseReply(std::string_view body) const override {
    auto doc = json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("candidates")) {
      return absl::InternalError("Gemini answer without candidates");
    }
    ProviderReply reply;
    if (auto st = ReadChunk(doc, &reply, &reply.text, &reply.tool_calls, 0); !st.ok()) return st;
    return reply;
  }

  absl::Status OnEvent(std::string_view, std::string_view data, StreamState* state) const override {
    auto doc = json::parse(data, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      return absl::InternalError("Gemini stream chunk is not JSON");
    }
    std::string text;
    std::vector<ToolCall> calls;
    const size_t first = state->reply.tool_calls.size();
    if (auto st = ReadChunk(doc, &state->reply, &text, &calls, first); !st.ok()) return st;
    state->Emit(text);
    for (size_t i = 0; i < calls.size(); ++i) {
      state->EmitToolDelta(static_cast<int>(first + i), calls[i].id, calls[i].name,
                           calls[i].arguments);
    }
    // No end marker: the chunk with a finish reason is the last one.
    if (!state->reply.finish_reason.empty()) state->done = true;
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<ProviderClient> MakeGeminiClient() { return std::make_unique<GeminiClient>(); }
std::unique_ptr<HttpProviderClient> MakeGeminiWire() { return std::make_unique<GeminiClient>(); }

}  // namespace genesis::llmrouter
