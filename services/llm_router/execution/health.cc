#include "services/llm_router/execution/health.h"

namespace genesis::llmrouter {

BreakerState HealthBook::StateOf(const Entry& e, absl::Time now) {
  if (!e.open_until) return BreakerState::kClosed;
  return now < *e.open_until ? BreakerState::kOpen : BreakerState::kHalfOpen;
}

ModelHealth HealthBook::Health(const std::string& model_id, absl::Time now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(model_id);
  if (it == entries_.end()) return {};
  const BreakerState state = StateOf(it->second, now);
  ModelHealth h;
  h.available = state == BreakerState::kClosed ||
                (state == BreakerState::kHalfOpen && !it->second.probe_in_flight);
  if (state == BreakerState::kOpen) h.open_for = *it->second.open_until - now;
  h.latency_ewma = it->second.ewma;
  return h;
}

BreakerState HealthBook::State(const std::string& model_id, absl::Time now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(model_id);
  return it == entries_.end() ? BreakerState::kClosed : StateOf(it->second, now);
}

bool HealthBook::TryAcquire(const std::string& model_id, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[model_id];
  switch (StateOf(e, now)) {
    case BreakerState::kClosed:
      return true;
    case BreakerState::kOpen:
      return false;
    case BreakerState::kHalfOpen:
      if (e.probe_in_flight) return false;
      e.probe_in_flight = true;
      return true;
  }
  return false;
}

void HealthBook::OnSuccess(const std::string& model_id, absl::Duration latency) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[model_id];
  e.consecutive_failures = 0;
  e.open_until.reset();
  e.probe_in_flight = false;
  e.ewma = e.ewma ? options_.ewma_alpha * latency + (1 - options_.ewma_alpha) * *e.ewma : latency;
}

void HealthBook::OnNeutral(const std::string& model_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[model_id];
  // The provider answered: a half-open probe proves it is up.
  if (e.probe_in_flight) {
    e.open_until.reset();
    e.consecutive_failures = 0;
    e.probe_in_flight = false;
  }
}

void HealthBook::OnFailure(const std::string& model_id, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[model_id];
  ++e.consecutive_failures;
  if (e.probe_in_flight || e.consecutive_failures >= options_.failure_threshold) {
    e.open_until = now + options_.open_for;
  }
  e.probe_in_flight = false;
}

}  // namespace genesis::llmrouter
