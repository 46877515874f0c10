// Calls the selected models in order until one answers: retries on the same
// model for retryable failures (429, 5xx, timeouts) with exponential backoff
// and jitter, honouring Retry-After, never past the caller's deadline; skips
// models whose circuit breaker is open; then falls back to the next model.
// A stream falls back only while no text has reached the caller.
//
// Backoff before retry n (1-based): min(max_backoff, initial * 2^(n-1)),
// scaled by a random factor in [0.5, 1) ("equal jitter"); a Retry-After
// longer than that is waited instead, and one longer than max_backoff, or a
// wait past the deadline, moves on to the next model at once.
// Thread-safe (state lives in the HealthBook).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/llm_router/health.h"
#include "services/llm_router/model.h"
#include "services/llm_router/provider.h"

namespace genesis::llmrouter {

struct ExecutorOptions {
  int max_attempts_per_model = 3;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(8);
  absl::Duration provider_timeout = absl::Seconds(30);
};

struct ExecutionParams {
  const std::vector<Message>* messages = nullptr;
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
  // stream's error after text reached the caller.
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

  ProviderClient* client_;
  HealthBook* health_;
  Clock* clock_;
  std::function<double()> random01_;
  const ExecutorOptions options_;
};

// "sim-a try 1: HTTP 503 ...; sim-b: circuit open" for error messages.
std::string DescribeAttempts(const std::vector<Attempt>& attempts);

}  // namespace genesis::llmrouter
