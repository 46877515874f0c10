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
#include <nlohmann/json.hpp>

#include "services/llm_router/providers/http_provider.h"

namespace genesis::llmrouter {
namespace {

using nlohmann::json;

std::string Normalise(const std::string& reason) {
  if (reason == "STOP") return "stop";
  if (reason == "MAX_TOKENS") return "length";
  return reason;
}

// Appends the text of one answer (or chunk) and reads its finish reason and usage.
absl::Status ReadChunk(const json& doc, ProviderReply* reply, std::string* text) {
  if (doc.contains("error")) return StatusFromHttp(doc["error"].value("code", 500), doc.dump());
  if (doc.contains("candidates") && doc["candidates"].is_array() && !doc["candidates"].empty()) {
    const auto& c = doc["candidates"][0];
    const auto& parts = c.value("content", json::object()).value("parts", json::array());
    for (const auto& p : parts) {
      if (p.is_object() && p.contains("text") && p["text"].is_string()) {
        text->append(p["text"].get<std::string>());
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
 protected:
  HttpRequest BuildRequest(const ProviderRequest& r, bool stream) const override {
    std::string system;
    json contents = json::array();
    for (const auto& m : *r.messages) {
      if (m.role == Role::kSystem) {
        if (!system.empty()) system += "\n\n";
        system += m.content;
      } else {
        contents.push_back({{"role", m.role == Role::kAssistant ? "model" : "user"},
                            {"parts", json::array({{{"text", m.content}}})}});
      }
    }
    json config = {{"maxOutputTokens", r.max_tokens}};
    if (r.temperature) config["temperature"] = *r.temperature;
    json body = {{"contents", std::move(contents)}, {"generationConfig", std::move(config)}};
    if (!system.empty()) body["systemInstruction"] = {{"parts", json::array({{{"text", system}}})}};
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
    if (auto st = ReadChunk(doc, &reply, &reply.text); !st.ok()) return st;
    return reply;
  }

  absl::Status OnEvent(std::string_view, std::string_view data, StreamState* state) const override {
    auto doc = json::parse(data, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      return absl::InternalError("Gemini stream chunk is not JSON");
    }
    std::string text;
    if (auto st = ReadChunk(doc, &state->reply, &text); !st.ok()) return st;
    state->Emit(text);
    // No end marker: the chunk with a finish reason is the last one.
    if (!state->reply.finish_reason.empty()) state->done = true;
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<ProviderClient> MakeGeminiClient() { return std::make_unique<GeminiClient>(); }

}  // namespace genesis::llmrouter
