// The per-subject settings the router reads before every call — the
// subject's sandbox flag, and whether any budget applies to a (subject,
// agent) pair — kept for a bounded time, as LiteLLM keeps budgets in memory
// between syncs with its database.
//
// Only the answer "no budget applies" is kept: when a budget applies, its
// usage is still read on every call, so enforcement is exactly as tight as
// without the cache. Changes made through this router drop the affected
// entries at once; changes made through another router instance are seen
// within the TTL. Bounded (cleared when full); errors are never cached (the
// caller does not Put them). A zero TTL keeps nothing. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/time/time.h"

namespace genesis::llmrouter {

class SettingsCache {
 public:
  explicit SettingsCache(absl::Duration ttl, size_t max_entries = 10000)
      : ttl_(ttl), max_entries_(max_entries) {}

  [[nodiscard]] bool enabled() const { return ttl_ > absl::ZeroDuration(); }

  // The subject's sandbox flag, when known and fresh at `now`.
  std::optional<bool> Sandbox(const std::string& subject, absl::Time now);
  void PutSandbox(const std::string& subject, bool sandbox, absl::Time now);
  void ForgetSandbox(const std::string& subject);

  // True when no budget applied to (subject, agent) at most one TTL before `now`.
  bool NoBudgets(const std::string& subject, const std::string& agent, absl::Time now);
  void PutNoBudgets(const std::string& subject, const std::string& agent, absl::Time now);
  // Any budget was set or removed: forget every "no budget" answer.
  void ForgetBudgets();

 private:
  const absl::Duration ttl_;
  const size_t max_entries_;
  std::mutex mu_;
  std::map<std::string, std::pair<bool, absl::Time>> sandbox_;            // value, expiry
  std::map<std::pair<std::string, std::string>, absl::Time> no_budgets_;  // expiry
};

}  // namespace genesis::llmrouter
