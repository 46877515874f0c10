#include "services/llm_router/accounting/settings_cache.h"

namespace genesis::llmrouter {

uint64_t SettingsCache::epoch() {
  std::lock_guard<std::mutex> lock(mu_);
  return epoch_;
}

std::optional<bool> SettingsCache::Sandbox(const std::string& subject, absl::Time now) {
  if (!enabled()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sandbox_.find(subject);
  if (it == sandbox_.end()) return std::nullopt;
  if (it->second.second <= now) {
    sandbox_.erase(it);
    return std::nullopt;
  }
  return it->second.first;
}

void SettingsCache::PutSandbox(const std::string& subject, bool sandbox, absl::Time now,
                               uint64_t epoch) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (epoch != epoch_) return;  // read before a change through this router
  if (sandbox_.size() >= max_entries_ && sandbox_.count(subject) == 0) sandbox_.clear();
  sandbox_[subject] = {sandbox, now + ttl_};
}

void SettingsCache::ForgetSandbox(const std::string& subject) {
  std::lock_guard<std::mutex> lock(mu_);
  ++epoch_;
  sandbox_.erase(subject);
}

bool SettingsCache::NoBudgets(const std::string& subject, const std::string& agent,
                              absl::Time now) {
  if (!enabled()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = no_budgets_.find({subject, agent});
  if (it == no_budgets_.end()) return false;
  if (it->second <= now) {
    no_budgets_.erase(it);
    return false;
  }
  return true;
}

void SettingsCache::PutNoBudgets(const std::string& subject, const std::string& agent,
                                 absl::Time now, uint64_t epoch) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (epoch != epoch_) return;
  std::pair<std::string, std::string> key{subject, agent};
  if (no_budgets_.size() >= max_entries_ && no_budgets_.count(key) == 0) no_budgets_.clear();
  no_budgets_[std::move(key)] = now + ttl_;
}

void SettingsCache::ForgetBudgets() {
  std::lock_guard<std::mutex> lock(mu_);
  ++epoch_;
  no_budgets_.clear();
}

size_t SettingsCache::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return sandbox_.size() + no_budgets_.size();
}

}  // namespace genesis::llmrouter
