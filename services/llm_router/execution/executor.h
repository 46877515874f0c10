// Calls the selected models in order until one answers: retries on the same
// model for retryable failures (429, 5xx) with exponential backoff and
// jitter, honouring Retry-After, never past the caller's deadline; skips
// models whose circuit breaker is open; then falls back to the next model.
// A stream falls back only while no text (nor a tool-call piece) has reached
// the caller.
//
// Interactive calls (someone waits on the deadline), so every wait is cut to
// the time that is left:
//   - Each attempt gets a share of the remaining deadline: remaining / (this
//     model + the later models whose breaker is not open). That share bounds
//     the wait for the answer (a plain call) or a stream's first text
//     (also at most `stream_first_byte_timeout`), so a hung
//     model leaves time for its fallbacks; the last model gets all that is
//     left. After a stream's first text, `stream_idle_timeout` bounds each
//     gap between chunks and the deadline bounds the rest. Every attempt is
//     also capped by `provider_timeout`.
//   - An attempt that timed out (hung or too slow) is not retried on the
//     same model: the next model is tried at once.
//   - Backoff before retry n (1-based): min(max_backoff, initial * 2^(n-1)),
//     scaled by a random factor in [0.5, 1) ("equal jitter"); a longer
//     Retry-After (429) is waited instead. A wait that does not fit in the
//     model's share of the remaining deadline moves on to the next model at
//     once (for the last model: in the remaining deadline).
//   - A stream cut or stalled after text reached the caller ends with an
//     error (UNAVAILABLE while the deadline has not passed), never silently
//     restarted on another model.
// Thread-safe (state lives in the HealthBook).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "services/llm_router/execution/health.h"
#include "services/llm_router/model.h"
#include "services/llm_router/providers/provider.h"

namespace genesis::llmrouter {

struct ExecutorOptions {
  int max_attempts_per_model = 3;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(2);
  absl::Duration provider_timeout = absl::Seconds(30);  // one attempt at most
  absl::Duration stream_first_byte_timeout = absl::Seconds(10);
  absl::Duration stream_idle_timeout = absl::Seconds(10);  // between chunks
};

struct ExecutionParams {
  const std::vector<Message>* messages = nullptr;
  const std::vector<ToolSpec>* tools = nullptr;  // function calling (null: none)
  ToolChoice tool_choice{};
  // Streams: tool-call pieces (null: none passed on). A piece that reached
  // the caller stops fallbacks as text does.
  const ToolCallSink* tool_sink = nullptr;
  int max_tokens = 1024;
  std::optional<float> temperature;
  absl::Time deadline = absl::InfiniteFuture();
  std::function<bool()> cancelled;  // the caller went away
  // Before each call to a model: "" lets it go, otherwise why not (its
  // provider rate limit); the model is then passed over for the next one.
  std::function<std::string(const ModelSpec&)> admit;
};

struct Execution {
  // OK; UNAVAILABLE listing the attempts when every model failed;
  // DEADLINE_EXCEEDED when the deadline ran out first; CANCELLED; or the
  // stream's error after text reached the caller (a stall: UNAVAILABLE).
  absl::Status status;
  const ModelSpec* model = nullptr;  // the one that answered
  ProviderReply reply;
  std::vector<Attempt> attempts;
  bool streamed_any = false;
};

class Executor {
 public:
  // Pointers must outlive the executor. `random01` returns values in [0, 1).
  Executor(ProviderClient* client, HealthBook* health, Clock* clock,
           std::function<double()> random01, ExecutorOptions options);

  // `sink` null: a plain call; otherwise a stream.
  Execution Run(const std::vector<const ModelSpec*>& order, const ExecutionParams& params,
                const TextSink* sink);

  [[nodiscard]] const ExecutorOptions& options() const { return options_; }

 private:
  absl::Duration Backoff(int retry) const;
  // The remaining time divided among `order[index]` and the later models
  // that could still be called (breaker not open).
  absl::Duration Share(const std::vector<const ModelSpec*>& order, size_t index, absl::Time now,
                       absl::Time deadline) const;

  ProviderClient* client_;
  HealthBook* health_;
  Clock* clock_;
  std::function<double()> random01_;
  const ExecutorOptions options_;
};

// "sim-a try 1: HTTP 503 ...; sim-b: circuit open" for error messages.
std::string DescribeAttempts(const std::vector<Attempt>& attempts);

}  // namespace genesis::llmrouter
