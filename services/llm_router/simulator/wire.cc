#include "services/llm_router/simulator/wire.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace genesis::llmrouter::sim {
namespace {

std::string SseEvent(const std::string& event, const json& data) {
  std::string out;
  if (!event.empty()) out = "event: " + event + "\n";
  return out + "data: " + data.dump() + "\n\n";
}

std::string LastUserText(const Call& c) {
  std::string last;
  if (c.wire == Wire::kGemini) {
    for (const auto& m : c.body.value("contents", json::array())) {
      if (m.value("role", "user") != "user") continue;
      last.clear();
      for (const auto& p : m.value("parts", json::array())) last += p.value("text", "");
    }
  } else {
    for (const auto& m : c.body.value("messages", json::array())) {
      if (m.value("role", "") == "user" && m.contains("content") && m["content"].is_string()) {
        last = m["content"].get<std::string>();
      }
    }
  }
  return last;
}

int MaxTokens(const Call& c) {
  if (c.wire == Wire::kGemini) {
    return c.body.value("generationConfig", json::object()).value("maxOutputTokens", 256);
  }
  return c.body.value("max_tokens", 256);
}

}  // namespace

int64_t InputBytes(const Call& c) {
  int64_t bytes = 0;
  std::function<void(const json&)> walk = [&](const json& j) {
    if (j.is_string()) bytes += static_cast<int64_t>(j.get_ref<const std::string&>().size());
    if (j.is_array() || j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        if (k == "model" || k == "role") continue;
        walk(v);
      }
    }
  };
  for (const char* key : {"messages", "system", "contents", "systemInstruction"}) {
    if (c.body.contains(key)) walk(c.body[key]);
  }
  return bytes;
}

std::vector<std::string> AnswerWords(const Call& c) {
  std::vector<std::string> words;
  std::string text = "echo: " + LastUserText(c);
  for (absl::string_view w : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    words.push_back((words.empty() ? "" : " ") + std::string(w));
    if (static_cast<int>(words.size()) >= std::max(1, MaxTokens(c))) break;
  }
  return words;
}

std::vector<std::string> FixedPieces(const std::string& text) {
  std::vector<std::string> pieces;
  size_t start = 0;
  while (start < text.size()) {
    size_t space = text.find(' ', start);
    size_t end = space == std::string::npos ? text.size() : space + 1;
    pieces.push_back(text.substr(start, end - start));
    start = end;
  }
  if (pieces.empty()) pieces.push_back("");
  return pieces;
}

std::string ErrorBody(Wire wire, int status, const std::string& custom) {
  const std::string message =
      custom.empty() ? absl::StrCat("simulated failure (HTTP ", status, ")") : custom;
  switch (wire) {
    case Wire::kAnthropic: {
      const char* type = status == 429   ? "rate_limit_error"
                         : status == 529 ? "overloaded_error"
                         : status >= 500 ? "api_error"
                                         : "invalid_request_error";
      return json{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}}.dump();
    }
    case Wire::kGemini:
      return json{{"error",
                   {{"code", status},
                    {"message", message},
                    {"status", status == 429 ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE"}}}}
          .dump();
    case Wire::kOpenAi:
      break;
  }
  return json{{"error", {{"message", message}, {"type", "server_error"}, {"code", nullptr}}}}
      .dump();
}

std::string Whole(const Call& c, const std::string& text, int64_t in, int64_t out) {
  switch (c.wire) {
    case Wire::kAnthropic:
      return json{{"id", "msg_sim"},
                  {"type", "message"},
                  {"role", "assistant"},
                  {"model", c.model},
                  {"content", json::array({{{"type", "text"}, {"text", text}}})},
                  {"stop_reason", "end_turn"},
                  {"usage", {{"input_tokens", in}, {"output_tokens", out}}}}
          .dump();
    case Wire::kGemini:
      return json{{"candidates",
                   json::array({{{"content",
                                  {{"role", "model"}, {"parts", json::array({{{"text", text}}})}}},
                                 {"finishReason", "STOP"},
                                 {"index", 0}}})},
                  {"usageMetadata",
                   {{"promptTokenCount", in},
                    {"candidatesTokenCount", out},
                    {"totalTokenCount", in + out}}},
                  {"modelVersion", c.model}}
          .dump();
    case Wire::kOpenAi:
      break;
  }
  return json{
      {"id", "chatcmpl-sim"},
      {"object", "chat.completion"},
      {"created", 0},
      {"model", c.model},
      {"choices", json::array({{{"index", 0},
                                {"message", {{"role", "assistant"}, {"content", text}}},
                                {"finish_reason", "stop"}}})},
      {"usage", {{"prompt_tokens", in}, {"completion_tokens", out}, {"total_tokens", in + out}}}}
      .dump();
}

std::string ChunkEvents(const Call& c, const std::string& word, int64_t in, int64_t out,
                        bool last) {
  switch (c.wire) {
    case Wire::kAnthropic:
      return SseEvent("content_block_delta", {{"type", "content_block_delta"},
                                              {"index", 0},
                                              {"delta", {{"type", "text_delta"}, {"text", word}}}});
    case Wire::kGemini: {
      json chunk = {
          {"candidates",
           json::array(
               {{{"content", {{"role", "model"}, {"parts", json::array({{{"text", word}}})}}},
                 {"index", 0}}})}};
      if (last) {
        chunk["candidates"][0]["finishReason"] = "STOP";
        chunk["usageMetadata"] = {
            {"promptTokenCount", in}, {"candidatesTokenCount", out}, {"totalTokenCount", in + out}};
      }
      return "data: " + chunk.dump() + "\r\n\r\n";
    }
    case Wire::kOpenAi:
      break;
  }
  json chunk = {
      {"id", "chatcmpl-sim"},
      {"object", "chat.completion.chunk"},
      {"model", c.model},
      {"choices",
       json::array({{{"index", 0}, {"delta", {{"content", word}}}, {"finish_reason", nullptr}}})}};
  if (c.include_usage) chunk["usage"] = nullptr;
  return SseEvent("", chunk);
}

std::string StreamHead(const Call& c, int64_t in) {
  if (c.wire == Wire::kAnthropic) {
    return SseEvent("message_start",
                    {{"type", "message_start"},
                     {"message",
                      {{"id", "msg_sim"},
                       {"type", "message"},
                       {"role", "assistant"},
                       {"model", c.model},
                       {"content", json::array()},
                       {"stop_reason", nullptr},
                       {"usage", {{"input_tokens", in}, {"output_tokens", 1}}}}}}) +
           SseEvent("content_block_start", {{"type", "content_block_start"},
                                            {"index", 0},
                                            {"content_block", {{"type", "text"}, {"text", ""}}}}) +
           SseEvent("ping", {{"type", "ping"}});
  }
  if (c.wire == Wire::kOpenAi) {
    json first = {{"id", "chatcmpl-sim"},
                  {"object", "chat.completion.chunk"},
                  {"model", c.model},
                  {"choices", json::array({{{"index", 0},
                                            {"delta", {{"role", "assistant"}, {"content", ""}}},
                                            {"finish_reason", nullptr}}})}};
    return SseEvent("", first);
  }
  return "";
}

std::string StreamTail(const Call& c, int64_t in, int64_t out) {
  if (c.wire == Wire::kAnthropic) {
    return SseEvent("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}) +
           SseEvent("message_delta", {{"type", "message_delta"},
                                      {"delta", {{"stop_reason", "end_turn"}}},
                                      {"usage", {{"output_tokens", out}}}}) +
           SseEvent("message_stop", {{"type", "message_stop"}});
  }
  if (c.wire == Wire::kOpenAi) {
    std::string tail = SseEvent(
        "",
        {{"id", "chatcmpl-sim"},
         {"object", "chat.completion.chunk"},
         {"model", c.model},
         {"choices",
          json::array({{{"index", 0}, {"delta", json::object()}, {"finish_reason", "stop"}}})}});
    if (c.include_usage) {
      tail += SseEvent(
          "", {{"id", "chatcmpl-sim"},
               {"object", "chat.completion.chunk"},
               {"model", c.model},
               {"choices", json::array()},
               {"usage",
                {{"prompt_tokens", in}, {"completion_tokens", out}, {"total_tokens", in + out}}}});
    }
    return tail + "data: [DONE]\n\n";
  }
  return "";
}

}  // namespace genesis::llmrouter::sim
