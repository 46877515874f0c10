// Router: budgets (the check before a call, SetBudget, ListBudgets), the
// subject's sandbox mode and the usage report.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "services/llm_router/reasons.h"
#include "services/llm_router/roles.h"
#include "services/llm_router/router.h"

namespace genesis::llmrouter {

CallContext Router::SettingsReadContext(const CallContext& ctx) const {
  CallContext read = ctx;
  // Real time: the bound is on the database, not on the router's clock.
  read.deadline = std::min(ctx.deadline, absl::Now() + options_.settings_read_timeout);
  return read;
}

absl::Status Router::CheckBudget(const CompletionRequest& request, absl::Time now,
                                 const CallContext& ctx) {
  if (request.subject.empty() && request.agent.empty()) return absl::OkStatus();
  if (settings_.enabled()) {
    const bool none = settings_.NoBudgets(request.subject, request.agent, now);
    RouterMetrics::Inc(none ? metrics_.settings_cache_hits : metrics_.settings_cache_misses);
    if (none) return absl::OkStatus();
  }
  const uint64_t epoch = settings_.epoch();
  auto budgets = store_->BudgetsFor(request.subject, request.agent, now, SettingsReadContext(ctx));
  if (!budgets.ok()) {
    // Executing unchecked would lift every limit for as long as the table
    // is unreadable; the caller retries instead. Errors are never cached.
    RouterMetrics::Inc(metrics_.budget_check_errors);
    log_->warn("could not read the budgets, failing the call: {}", budgets.status().message());
    return WithReason(
        absl::UnavailableError(
            "the budgets of this subject or agent could not be read right now; retry the call"),
        reasons::kSettingsUnavailable);
  }
  if (budgets->empty()) settings_.PutNoBudgets(request.subject, request.agent, now, epoch);
  absl::Status st = CheckBudgets(*budgets, now);
  if (!st.ok()) {
    RouterMetrics::Inc(metrics_.budget_rejections);
    log_->warn("{}", st.message());
  }
  return st;
}

absl::StatusOr<bool> Router::Sandbox(const std::string& subject, const CallContext& ctx) {
  if (subject.empty()) return false;
  const absl::Time now = clock_->Now();
  if (settings_.enabled()) {
    const std::optional<bool> known = settings_.Sandbox(subject, now);
    RouterMetrics::Inc(known ? metrics_.settings_cache_hits : metrics_.settings_cache_misses);
    if (known) return *known;
  }
  const uint64_t epoch = settings_.epoch();
  auto sandbox = store_->GetSandbox(subject, SettingsReadContext(ctx));
  if (sandbox.ok()) {
    settings_.PutSandbox(subject, *sandbox, now, epoch);
    return *sandbox;
  }
  // Guessing either way changes the answer's meaning (a sandbox mark makes
  // callers drop it; "not sandbox" causes real effects for a test subject).
  RouterMetrics::Inc(metrics_.sandbox_unknown);
  log_->warn("could not read the sandbox mode of the subject, failing the call: {}",
             sandbox.status().message());
  return WithReason(
      absl::UnavailableError(
          "the subject's settings (sandbox mode) could not be read right now; retry the call"),
      reasons::kSettingsUnavailable);
}

absl::StatusOr<bool> Router::GetSandbox(const std::string& subject, const CallContext& ctx) {
  if (subject.empty()) return InvalidField("subject", "is required");
  return store_->GetSandbox(subject, ctx);
}

absl::Status Router::SetSandbox(const std::string& subject, bool sandbox, const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(RequireAdmin(ctx, "UpdateSubjectSettings"));
  if (subject.empty()) return InvalidField("subject", "is required");
  GENESIS_RETURN_IF_ERROR(store_->SetSandbox(subject, sandbox, ctx));
  settings_.ForgetSandbox(subject);
  log_->info("subject sandbox mode {}", sandbox ? "on" : "off");
  return absl::OkStatus();
}

absl::Status Router::SetBudget(const Budget& budget, const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(RequireAdmin(ctx, "SetBudget"));
  GENESIS_RETURN_IF_ERROR(ValidateBudget(budget));
  GENESIS_RETURN_IF_ERROR(store_->SetBudget(budget, ctx));
  settings_.ForgetBudgets();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Budget>> Router::ListBudgets(const std::string& owner,
                                                        const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(RequireReader(
      ctx, owner, owner.empty() ? "ListBudgets of every owner" : "ListBudgets of another owner"));
  return store_->ListBudgets(owner, clock_->Now(), ctx);
}

absl::StatusOr<std::vector<UsageRow>> Router::UsageReport(const UsageQuery& query,
                                                          const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(ValidateUsageQuery(query));
  GENESIS_RETURN_IF_ERROR(RequireReader(ctx, query.subject,
                                        query.subject.empty()
                                            ? "GetUsageReport of every subject"
                                            : "GetUsageReport of another subject"));
  UsageQuery q = query;
  if (q.model_id.rfind("models/", 0) == 0) q.model_id = q.model_id.substr(7);
  return store_->UsageReport(q, ctx);
}

}  // namespace genesis::llmrouter
