// What the router learns about each model while it runs: a circuit breaker
// (closed -> after `failure_threshold` consecutive failures open for
// `open_for` -> half-open, one probe: success closes, failure reopens) and a
// moving average (EWMA) of successful calls' latency for the lowest-latency
// strategy. Only failures worth retrying (429, 5xx, timeouts, connection
// errors) count; a provider that answers 400 is up. Time comes from the
// caller (an injected clock). In memory, per process. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/llm_router/selection/selection.h"

namespace genesis::llmrouter {

enum class BreakerState { kClosed, kOpen, kHalfOpen };

struct HealthOptions {
  int failure_threshold = 5;
  absl::Duration open_for = absl::Seconds(60);
  double ewma_alpha = 0.2;  // weight of the newest latency
};

class HealthBook {
 public:
  explicit HealthBook(HealthOptions options = {}) : options_(options) {}

  // For selection: would a call go through now? (No side effects.)
  ModelHealth Health(const std::string& model_id, absl::Time now) const;
  BreakerState State(const std::string& model_id, absl::Time now) const;
  // Before calling a model: true when the call may go; in half-open state
  // only one caller gets the probe until it reports back.
  bool TryAcquire(const std::string& model_id, absl::Time now);
  void OnSuccess(const std::string& model_id, absl::Duration latency);
  // A failure that says nothing about the model's health (e.g. HTTP 400).
  void OnNeutral(const std::string& model_id);
  void OnFailure(const std::string& model_id, absl::Time now);

 private:
  struct Entry {
    int consecutive_failures = 0;
    std::optional<absl::Time> open_until;  // set while open or half-open
    bool probe_in_flight = false;
    std::optional<absl::Duration> ewma;
  };
  static BreakerState StateOf(const Entry& e, absl::Time now);

  const HealthOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace genesis::llmrouter
