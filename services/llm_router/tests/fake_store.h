// RouterStore in memory for unit tests: what the logic wrote is inspectable.
#pragma once

#include <map>
#include <mutex>

#include "services/llm_router/store.h"

namespace genesis::llmrouter::testing {

class FakeRouterStore final : public RouterStore {
 public:
  absl::Status SeedModels(const std::vector<ModelSpec>& models, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& m : models) {
      auto [it, inserted] = models_.emplace(m.id, m);
      if (!inserted) {
        ModelSpec& s = it->second;
        s.provider = m.provider;
        s.provider_model = m.provider_model;
        s.protocol = m.protocol;
        s.base_url = m.base_url;
        s.locality = m.locality;
        s.simulated = m.simulated;
      }
      it->second.api_key.clear();
      it->second.configured = false;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<ModelSpec>> LoadModels(const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!up_) return absl::UnavailableError("fake store down");
    std::vector<ModelSpec> out;
    for (const auto& [id, m] : models_) out.push_back(m);
    return out;
  }
  absl::Status SaveTunables(const ModelSpec& m, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = models_.find(m.id);
    if (it == models_.end()) return absl::NotFoundError("model " + m.id + " not found");
    it->second.enabled = m.enabled;
    it->second.input_price_per_mtok = m.input_price_per_mtok;
    it->second.output_price_per_mtok = m.output_price_per_mtok;
    it->second.context_window = m.context_window;
    it->second.capabilities = m.capabilities;
    it->second.quality = m.quality;
    return absl::OkStatus();
  }
  absl::Status RecordExecution(const ExecutionRecord& r, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    executions_.push_back(r);
    return absl::OkStatus();
  }
  absl::Status EnqueueRetry(const RetryRecord& r, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    retries_.push_back(r);
    return absl::OkStatus();
  }
  absl::Status Ping(const CallContext&) override {
    return up_ ? absl::OkStatus() : absl::UnavailableError("fake store down");
  }

  std::vector<ExecutionRecord> executions() {
    std::lock_guard<std::mutex> lock(mu_);
    return executions_;
  }
  std::vector<RetryRecord> retries() {
    std::lock_guard<std::mutex> lock(mu_);
    return retries_;
  }
  void set_up(bool up) {
    std::lock_guard<std::mutex> lock(mu_);
    up_ = up;
  }

 private:
  std::mutex mu_;
  bool up_ = true;
  std::map<std::string, ModelSpec> models_;
  std::vector<ExecutionRecord> executions_;
  std::vector<RetryRecord> retries_;
};

}  // namespace genesis::llmrouter::testing
