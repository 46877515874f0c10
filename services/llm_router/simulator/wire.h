// What the simulator says, in each provider's own wire format: the request
// as it arrived (Call), the deterministic answer (an echo of the last user
// message, or a fixed text, in pieces), whole answers, stream events and
// error bodies of OpenAI chat completions, Anthropic Messages and Gemini
// generateContent. Pure functions; simulator.cc serves them over HTTP.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace genesis::llmrouter::sim {

using nlohmann::json;

enum class Wire { kOpenAi, kAnthropic, kGemini };

// One request to a model, as the simulator read it.
struct Call {
  Wire wire;
  std::string model;
  bool stream = false;
  bool include_usage = false;
  json body;
};

// A tool call the simulator answers with (arguments: JSON object text).
struct SimToolCall {
  std::string name;
  std::string arguments;
};

// Function calling. True when the request offers tools, its tool choice is
// not "none", and its conversation does not end with tool results (after a
// result the model answers text: the loop ends).
bool WantsToolCall(const Call& c);
// The default calls: one call of the named tool (a tool choice naming one)
// or of the first declared tool, with arguments built from its schema's
// required properties (string "sample" or the first enum value, number 1,
// boolean true, array [], object {}).
std::vector<SimToolCall> DefaultToolCalls(const Call& c);
// The text of the last tool result when the conversation ends with tool
// results (the answer then echoes it), else "".
std::string LastToolResult(const Call& c);
// Ids the simulator gives calls (OpenAI, Anthropic; Gemini gives none):
// "call_sim_{messages in the request}_{index}", unique within a conversation.
std::string SimToolCallId(const Call& c, size_t index);
// A whole answer with tool calls, and a stream of them: the opening events,
// one event per piece (a call's start, then its arguments in two
// fragments), the closing events.
std::string WholeToolCalls(const Call& c, const std::vector<SimToolCall>& calls, int64_t in,
                           int64_t out);
std::string ToolStreamHead(const Call& c, int64_t in);
std::vector<std::string> ToolCallEvents(const Call& c, const std::vector<SimToolCall>& calls,
                                        int64_t in, int64_t out);
std::string ToolStreamTail(const Call& c, size_t calls, int64_t in, int64_t out);

// Bytes of the prompt's text (messages, system, contents), for the input
// token count.
int64_t InputBytes(const Call& c);
// The answer's words, each with its leading space (so chunks concatenate).
std::vector<std::string> AnswerWords(const Call& c);
// A fixed answer in pieces that each end after a space (whole UTF-8
// sequences; they concatenate to the text).
std::vector<std::string> FixedPieces(const std::string& text);
// The provider's error body for an HTTP `status`.
std::string ErrorBody(Wire wire, int status, const std::string& message = "");
// A whole (not streamed) answer.
std::string Whole(const Call& c, const std::string& text, int64_t in, int64_t out);
// A stream: the opening events, the events of one chunk of text (`last`:
// the final one), the closing events.
std::string StreamHead(const Call& c, int64_t in);
std::string ChunkEvents(const Call& c, const std::string& word, int64_t in, int64_t out, bool last);
std::string StreamTail(const Call& c, int64_t in, int64_t out);

}  // namespace genesis::llmrouter::sim
