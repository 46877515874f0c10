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
