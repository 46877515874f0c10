// Shared by the router's tests: a fake clock and models pointing at an
// in-process simulator.
#pragma once

#include <mutex>
#include <vector>

#include "services/llm_router/execution/health.h"
#include "services/llm_router/model.h"

namespace genesis::llmrouter::testing {

// Time stands still unless a test (or a backoff) moves it.
class FakeClock final : public Clock {
 public:
  absl::Time Now() override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void SleepFor(absl::Duration d) override {
    std::lock_guard<std::mutex> lock(mu_);
    sleeps_.push_back(d);
    now_ += d;
  }
  void Advance(absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }
  std::vector<absl::Duration> sleeps() {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }

 private:
  std::mutex mu_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
  std::vector<absl::Duration> sleeps_;
};

inline ModelSpec SimModel(const std::string& id, Protocol protocol, const std::string& sim_url,
                          Locality locality = Locality::kCloud) {
  ModelSpec m;
  m.id = id;
  m.provider = "simulator";
  m.provider_model = id;
  m.protocol = protocol;
  m.base_url = sim_url + (protocol == Protocol::kGemini ? "/v1beta" : "/v1");
  m.locality = locality;
  m.simulated = true;
  m.configured = true;
  m.input_price_per_mtok = 1;
  m.output_price_per_mtok = 2;
  m.context_window = 100000;
  return m;
}

}  // namespace genesis::llmrouter::testing
