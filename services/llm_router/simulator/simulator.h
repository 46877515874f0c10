// A provider simulator: an HTTP server on loopback that speaks the three wire
// protocols the router uses, plain and streaming, with deterministic answers
// and scriptable misbehaviour, so the router can be run and tested with no
// keys and no network.
//
//   POST /v1/chat/completions                          OpenAI (stream + include_usage)
//   POST /v1/messages                                  Anthropic Messages (SSE events)
//   POST /v1beta/models/{m}:generateContent            Gemini
//   POST /v1beta/models/{m}:streamGenerateContent?alt=sse
//   POST /_sim/script  {"model": m, ...ModelScript fields}   scripts a model
//   POST /_sim/reset                                   forgets scripts and counts
//   GET  /_sim/stats   {"requests": {model: count}}
//
// The answer is "echo: " + the last user message, cut to max_tokens words;
// input tokens are ceil(bytes of all messages / 4), output tokens the words
// answered (each overridable). Function calling: when the request offers
// tools (tool choice not "none") and its conversation does not end with
// tool results, the answer is tool calls — the script's `tool_calls`, the
// request header `x-sim-tool-calls` (the same JSON array), or one call of
// the named or first tool with arguments from its schema's required
// properties (wire.h DefaultToolCalls) — plain or streamed (a call's id and
// name, then its arguments in two fragments); after tool results, the echo
// is of the last result. Output tokens of calls: their bytes / 4, at least 1.
// A fixed answer replaces the echo, first found
// of: the request header `x-sim-answer`, the model's script (`"answer"`), the
// simulator's option (--answer / --answer_file); it is sent whole (not cut
// to max_tokens), streamed in pieces that end after each space, and its
// output tokens are the number of pieces. Model names ending in "-fail503", "-429" or
// "-hang" misbehave without a script. One thread per connection, at most
// 256 connections. Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/llm_router/simulator/wire.h"

namespace genesis::llmrouter::sim {

struct ModelScript {
  int latency_ms = 0;         // before the answer (or the first chunk)
  int fail_status = 0;        // HTTP status to answer instead (0: none)
  int fail_count = -1;        // fail the next N requests, then succeed (-1: always)
  double retry_after_s = -1;  // Retry-After on failures (-1: none)
  std::string fail_message;   // the error body's message (empty: "simulated failure ...")
  bool hang = false;          // never answer (until the client gives up)
  int input_tokens = -1;      // reported usage overrides (-1: counted)
  int output_tokens = -1;
  int chunk_delay_ms = 0;       // between streamed chunks
  int drop_after_chunks = -1;   // stream: close the connection after N chunks
  int stall_after_chunks = -1;  // stream: send nothing more after N chunks (connection kept open)
  // A fixed answer instead of the echo (any text, e.g. a JSON document).
  std::optional<std::string> answer;
  // Function calling: the calls to answer with (instead of the default call)
  // when the request offers tools and the conversation does not end with
  // tool results; two or more are parallel calls. Script JSON:
  // "tool_calls": [{"name": "...", "arguments": {...}}].
  std::optional<std::vector<SimToolCall>> tool_calls;
};

// Options of the whole simulator.
struct SimulatorOptions {
  // Every model answers this text instead of the echo (unset: echo).
  std::optional<std::string> answer;
  // Zero latency: scripted latency_ms and chunk_delay_ms are ignored (for
  // benchmarks); failures, hangs and drops still apply.
  bool instant = false;
};

class ProviderSimulator {
 public:
  // Listens on host:port (0: a free port).
  static absl::StatusOr<std::unique_ptr<ProviderSimulator>> Start(const std::string& host, int port,
                                                                  SimulatorOptions options = {});
  ~ProviderSimulator();  // stops, closes connections, joins threads
  ProviderSimulator(const ProviderSimulator&) = delete;
  ProviderSimulator& operator=(const ProviderSimulator&) = delete;

  [[nodiscard]] int port() const;
  [[nodiscard]] std::string url() const;  // http://host:port
  void Script(const std::string& model, const ModelScript& script);
  void Reset();
  // Requests received for `model` (failed ones included).
  [[nodiscard]] int Requests(const std::string& model) const;

  struct Impl;

 private:
  explicit ProviderSimulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace genesis::llmrouter::sim
