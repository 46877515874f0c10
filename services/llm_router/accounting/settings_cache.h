// The per-subject settings the router reads before every call — the
// subject's sandbox flag, and whether any budget applies to a (subject,
// agent) pair — kept for a bounded time, as LiteLLM keeps budgets in memory
// between syncs with its database.
//
// Only the answer "no budget applies" is kept: when a budget applies, its
// definition and its usage are still read on every call (the batched store
// adding queued usage as before), so enforcement is exactly as tight as
// without the cache. Changes made through this router drop the affected
// entries at once; changes made through another router instance are seen
// within the TTL. Bounded (each map cleared when full); errors are never
// cached (the caller does not Put them). A zero TTL keeps nothing.
//
// The cache lives in the Router rather than around the store so that only
// the call path (Router::Sandbox, Router::CheckBudget) reuses answers: the
// admin reads (GetSubjectSettings, ListBudgets) stay exact, and the TTL runs
// on the router's injected clock.
//
// A read racing a change: the caller takes epoch() before reading the store
// and hands it to Put*; every Forget* moves the epoch on, so an answer read
// before a change through this router is never kept after it. Thread-safe.
#pragma once

#include <cstdint>
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

  // Take before reading the store; pass to Put*.
  [[nodiscard]] uint64_t epoch();

  // The subject's sandbox flag, when known and fresh at `now`.
  std::optional<bool> Sandbox(const std::string& subject, absl::Time now);
  // Kept until now + ttl, unless something was forgotten since `epoch`.
  void PutSandbox(const std::string& subject, bool sandbox, absl::Time now, uint64_t epoch);
  void ForgetSandbox(const std::string& subject);

  // True when no budget applied to (subject, agent) at most one TTL before `now`.
  bool NoBudgets(const std::string& subject, const std::string& agent, absl::Time now);
  void PutNoBudgets(const std::string& subject, const std::string& agent, absl::Time now,
                    uint64_t epoch);
  // Any budget was set or removed: forget every "no budget" answer.
  void ForgetBudgets();

  // Entries held (expired ones included until looked up or cleared).
  [[nodiscard]] size_t size();

 private:
  const absl::Duration ttl_;
  const size_t max_entries_;
  std::mutex mu_;
  uint64_t epoch_ = 0;                                                    // bumped by Forget*
  std::map<std::string, std::pair<bool, absl::Time>> sandbox_;            // value, expiry
  std::map<std::pair<std::string, std::string>, absl::Time> no_budgets_;  // expiry
};

}  // namespace genesis::llmrouter
