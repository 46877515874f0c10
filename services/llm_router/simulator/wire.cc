#include "services/llm_router/simulator/wire.h"

#include <algorithm>
#include <functional>
#include <optional>

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
  // After tool results: their echo (what the model "read").
  const std::string result = LastToolResult(c);
  std::string text = "echo: " + (result.empty() ? LastUserText(c) : result);
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

namespace {

// The declared tools as (name, parameters schema), in order.
std::vector<std::pair<std::string, json>> Tools(const Call& c) {
  std::vector<std::pair<std::string, json>> out;
  auto add = [&](const json& f, const char* schema_key) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string()) return;
    out.emplace_back(f["name"].get<std::string>(), f.value(schema_key, json::object()));
  };
  for (const auto& t : c.body.value("tools", json::array())) {
    if (!t.is_object()) continue;
    switch (c.wire) {
      case Wire::kOpenAi:
        add(t.value("function", json::object()), "parameters");
        break;
      case Wire::kAnthropic:
        add(t, "input_schema");
        break;
      case Wire::kGemini:
        for (const auto& f : t.value("functionDeclarations", json::array())) add(f, "parameters");
        break;
    }
  }
  return out;
}

// "auto", "none", "required" or "tool:NAME" from the wire's tool choice.
std::string Choice(const Call& c) {
  switch (c.wire) {
    case Wire::kOpenAi: {
      const json& choice = c.body.value("tool_choice", json("auto"));
      if (choice.is_string()) return choice.get<std::string>();
      if (choice.is_object()) {
        return "tool:" + choice.value("function", json::object()).value("name", "");
      }
      return "auto";
    }
    case Wire::kAnthropic: {
      const json& choice = c.body.value("tool_choice", json::object());
      const std::string type = choice.is_object() ? choice.value("type", "auto") : "auto";
      if (type == "any") return "required";
      if (type == "tool") return "tool:" + choice.value("name", "");
      return type;
    }
    case Wire::kGemini: {
      const json& config =
          c.body.value("toolConfig", json::object()).value("functionCallingConfig", json::object());
      const std::string mode = config.value("mode", "AUTO");
      const json& names = config.value("allowedFunctionNames", json::array());
      if (mode == "ANY" && names.size() == 1 && names[0].is_string()) {
        return "tool:" + names[0].get<std::string>();
      }
      if (mode == "ANY") return "required";
      if (mode == "NONE") return "none";
      return "auto";
    }
  }
  return "auto";
}

json SampleValue(const json& schema) {
  if (!schema.is_object()) return "sample";
  if (schema.contains("enum") && schema["enum"].is_array() && !schema["enum"].empty()) {
    return schema["enum"][0];
  }
  std::string type = schema.value("type", "string");
  if (type == "number" || type == "integer") return 1;
  if (type == "boolean") return true;
  if (type == "array") return json::array();
  if (type == "object") return json::object();
  return "sample";
}

// Splits at about the middle, never inside a UTF-8 sequence.
std::pair<std::string, std::string> Halves(const std::string& text) {
  size_t mid = text.size() / 2;
  while (mid > 0 && (static_cast<unsigned char>(text[mid]) & 0xC0) == 0x80) --mid;
  return {text.substr(0, mid), text.substr(mid)};
}

json ArgsObject(const std::string& arguments) {
  json args = json::parse(arguments, nullptr, false);
  return args.is_object() ? args : json::object();
}

json OpenAiChunk(const Call& c, const json& delta, const json& finish) {
  return {{"id", "chatcmpl-sim"},
          {"object", "chat.completion.chunk"},
          {"model", c.model},
          {"choices", json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}};
}

}  // namespace

namespace {

// The last tool result when the conversation ends with tool results.
std::optional<std::string> ResultTail(const Call& c) {
  switch (c.wire) {
    case Wire::kOpenAi: {
      const json& messages = c.body.value("messages", json::array());
      if (messages.empty() || !messages.back().is_object() ||
          messages.back().value("role", "") != "tool") {
        return std::nullopt;
      }
      const json& content = messages.back().value("content", json(""));
      return content.is_string() ? content.get<std::string>() : content.dump();
    }
    case Wire::kAnthropic: {
      const json& messages = c.body.value("messages", json::array());
      if (messages.empty() || !messages.back().is_object()) return std::nullopt;
      const json& content = messages.back().value("content", json(""));
      if (!content.is_array() || content.empty()) return std::nullopt;
      std::string last;
      bool result = false;
      for (const auto& block : content) {
        if (!block.is_object()) continue;
        if (block.value("type", "") == "tool_result") {
          const json& r = block.value("content", json(""));
          last = r.is_string() ? r.get<std::string>() : r.dump();
          result = true;
        } else {
          result = false;  // a user text after the results: answered as usual
        }
      }
      return result ? std::optional<std::string>(last) : std::nullopt;
    }
    case Wire::kGemini: {
      const json& contents = c.body.value("contents", json::array());
      if (contents.empty() || !contents.back().is_object()) return std::nullopt;
      std::string last;
      bool result = false;
      for (const auto& part : contents.back().value("parts", json::array())) {
        if (part.is_object() && part.contains("functionResponse")) {
          const json& r = part["functionResponse"].value("response", json::object());
          last = r.is_object() && r.size() == 1 && r.contains("content") && r["content"].is_string()
                     ? r["content"].get<std::string>()
                     : r.dump();
          result = true;
        } else {
          result = false;
        }
      }
      return result ? std::optional<std::string>(last) : std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string LastToolResult(const Call& c) { return ResultTail(c).value_or(""); }

bool WantsToolCall(const Call& c) {
  return !Tools(c).empty() && Choice(c) != "none" && !ResultTail(c).has_value();
}

std::vector<SimToolCall> DefaultToolCalls(const Call& c) {
  auto tools = Tools(c);
  if (tools.empty()) return {};
  const std::string choice = Choice(c);
  const std::pair<std::string, json>* tool = &tools.front();
  if (choice.rfind("tool:", 0) == 0) {
    for (const auto& t : tools) {
      if (t.first == choice.substr(5)) tool = &t;
    }
  }
  json args = json::object();
  const json& schema = tool->second;
  if (schema.is_object()) {
    const json& properties = schema.value("properties", json::object());
    for (const auto& name : schema.value("required", json::array())) {
      if (!name.is_string()) continue;
      const std::string key = name.get<std::string>();
      args[key] = SampleValue(properties.is_object() ? properties.value(key, json::object())
                                                     : json::object());
    }
  }
  return {{tool->first, args.dump()}};
}

std::string SimToolCallId(const Call& c, size_t index) {
  const size_t turns =
      c.body.value(c.wire == Wire::kGemini ? "contents" : "messages", json::array()).size();
  return absl::StrCat("call_sim_", turns, "_", index);
}

std::string WholeToolCalls(const Call& c, const std::vector<SimToolCall>& calls, int64_t in,
                           int64_t out) {
  switch (c.wire) {
    case Wire::kAnthropic: {
      json content = json::array();
      for (size_t i = 0; i < calls.size(); ++i) {
        content.push_back({{"type", "tool_use"},
                           {"id", SimToolCallId(c, i)},
                           {"name", calls[i].name},
                           {"input", ArgsObject(calls[i].arguments)}});
      }
      return json{{"id", "msg_sim"},
                  {"type", "message"},
                  {"role", "assistant"},
                  {"model", c.model},
                  {"content", std::move(content)},
                  {"stop_reason", "tool_use"},
                  {"usage", {{"input_tokens", in}, {"output_tokens", out}}}}
          .dump();
    }
    case Wire::kGemini: {
      json parts = json::array();
      for (const auto& call : calls) {
        parts.push_back(
            {{"functionCall", {{"name", call.name}, {"args", ArgsObject(call.arguments)}}}});
      }
      return json{{"candidates", json::array({{{"content", {{"role", "model"}, {"parts", parts}}},
                                               {"finishReason", "STOP"},
                                               {"index", 0}}})},
                  {"usageMetadata",
                   {{"promptTokenCount", in},
                    {"candidatesTokenCount", out},
                    {"totalTokenCount", in + out}}},
                  {"modelVersion", c.model}}
          .dump();
    }
    case Wire::kOpenAi:
      break;
  }
  json tool_calls = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    tool_calls.push_back(
        {{"id", SimToolCallId(c, i)},
         {"type", "function"},
         {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}});
  }
  return json{
      {"id", "chatcmpl-sim"},
      {"object", "chat.completion"},
      {"created", 0},
      {"model", c.model},
      {"choices",
       json::array(
           {{{"index", 0},
             {"message", {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", tool_calls}}},
             {"finish_reason", "tool_calls"}}})},
      {"usage", {{"prompt_tokens", in}, {"completion_tokens", out}, {"total_tokens", in + out}}}}
      .dump();
}

std::string ToolStreamHead(const Call& c, int64_t in) {
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
           SseEvent("ping", {{"type", "ping"}});
  }
  if (c.wire == Wire::kOpenAi) {
    return SseEvent("", OpenAiChunk(c, {{"role", "assistant"}, {"content", nullptr}}, nullptr));
  }
  return "";
}

std::vector<std::string> ToolCallEvents(const Call& c, const std::vector<SimToolCall>& calls,
                                        int64_t in, int64_t out) {
  std::vector<std::string> events;
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto [first, second] = Halves(calls[i].arguments);
    const int index = static_cast<int>(i);
    switch (c.wire) {
      case Wire::kAnthropic:
        events.push_back(SseEvent("content_block_start", {{"type", "content_block_start"},
                                                          {"index", index},
                                                          {"content_block",
                                                           {{"type", "tool_use"},
                                                            {"id", SimToolCallId(c, i)},
                                                            {"name", calls[i].name},
                                                            {"input", json::object()}}}}));
        for (const std::string& piece : {first, second}) {
          events.push_back(
              SseEvent("content_block_delta",
                       {{"type", "content_block_delta"},
                        {"index", index},
                        {"delta", {{"type", "input_json_delta"}, {"partial_json", piece}}}}));
        }
        events.back() +=
            SseEvent("content_block_stop", {{"type", "content_block_stop"}, {"index", index}});
        break;
      case Wire::kGemini: {
        json chunk = {
            {"candidates",
             json::array(
                 {{{"content",
                    {{"role", "model"},
                     {"parts", json::array({{{"functionCall",
                                              {{"name", calls[i].name},
                                               {"args", ArgsObject(calls[i].arguments)}}}}})}}},
                   {"index", 0}}})}};
        if (i + 1 == calls.size()) {
          chunk["candidates"][0]["finishReason"] = "STOP";
          chunk["usageMetadata"] = {{"promptTokenCount", in},
                                    {"candidatesTokenCount", out},
                                    {"totalTokenCount", in + out}};
        }
        events.push_back("data: " + chunk.dump() + "\r\n\r\n");
        break;
      }
      case Wire::kOpenAi: {
        json start = {{"index", index},
                      {"id", SimToolCallId(c, i)},
                      {"type", "function"},
                      {"function", {{"name", calls[i].name}, {"arguments", ""}}}};
        events.push_back(
            SseEvent("", OpenAiChunk(c, {{"tool_calls", json::array({start})}}, nullptr)));
        for (const std::string& piece : {first, second}) {
          json frag = {{"index", index}, {"function", {{"arguments", piece}}}};
          events.push_back(
              SseEvent("", OpenAiChunk(c, {{"tool_calls", json::array({frag})}}, nullptr)));
        }
        break;
      }
    }
  }
  return events;
}

std::string ToolStreamTail(const Call& c, size_t, int64_t in, int64_t out) {
  if (c.wire == Wire::kAnthropic) {
    return SseEvent("message_delta", {{"type", "message_delta"},
                                      {"delta", {{"stop_reason", "tool_use"}}},
                                      {"usage", {{"output_tokens", out}}}}) +
           SseEvent("message_stop", {{"type", "message_stop"}});
  }
  if (c.wire == Wire::kOpenAi) {
    std::string tail = SseEvent("", OpenAiChunk(c, json::object(), "tool_calls"));
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
