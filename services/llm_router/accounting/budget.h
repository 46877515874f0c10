// Budgets and usage reports: plain types and the pure checks the router runs
// before an execution. Periods are calendar days and months in UTC.
//
// How spending is counted: every accounting row adds its tokens and cost to
// a per-owner, per-day counter (llm_router.usage_counters) in the same
// transaction as the row itself (an atomic upsert, so concurrent calls never
// lose an addition); a month is the sum of its days. The check reads the
// counters before the call: calls already running when a budget runs out
// still finish, so a budget can be overshot by what those calls use — which
// is exactly what the alert at 120 % of a day's budget is there to catch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace genesis::llmrouter {

enum class BudgetScope { kSubject, kAgent };
enum class BudgetPeriod { kDay, kMonth };

const char* BudgetScopeName(BudgetScope scope);     // "subject", "agent"
const char* BudgetPeriodName(BudgetPeriod period);  // "day", "month"

struct Budget {
  BudgetScope scope = BudgetScope::kSubject;
  std::string owner;  // the subject or agent id
  BudgetPeriod period = BudgetPeriod::kDay;
  int64_t token_limit = 0;    // input + output tokens; 0: none
  double cost_limit_usd = 0;  // 0: none
  // Used in the period containing the time asked about (output only).
  int64_t used_tokens = 0;
  double used_cost_usd = 0;
};

// A day whose usage passed 120 % of its day budget (raised once per owner
// and day).
struct BudgetAlert {
  BudgetScope scope = BudgetScope::kSubject;
  std::string owner;
  std::string day;  // YYYY-MM-DD
  int64_t used_tokens = 0;
  double used_cost_usd = 0;
  int64_t token_limit = 0;
  double cost_limit_usd = 0;
};

inline constexpr double kBudgetAlertRatio = 1.2;

// The log line of an alert: "budget alert: subject 'ana' used ...".
std::string BudgetAlertMessage(const BudgetAlert& alert);

// RESOURCE_EXHAUSTED naming the first spent budget (used >= limit), else OK;
// reason BUDGET_EXCEEDED (metadata scope, owner, period) and a RetryInfo of
// the time from `now` to the end of the budget's UTC day or month.
absl::Status CheckBudgets(const std::vector<Budget>& budgets, absl::Time now);

// The start of the UTC day or month after the one containing `now`.
absl::Time BudgetPeriodEnd(BudgetPeriod period, absl::Time now);

// INVALID_ARGUMENT naming the field (budget.owner, budget.token_limit...).
absl::Status ValidateBudget(const Budget& budget);

// True when a day's usage passes 120 % of the day budget `b`.
bool PassesAlert(const Budget& b, int64_t day_tokens, double day_cost);

// UTC calendar day "YYYY-MM-DD" of `t`, and the first day of its month.
std::string UtcDay(absl::Time t);
std::string UtcMonthStart(absl::Time t);

enum class UsageGroupBy { kDay, kModel, kSubject, kAgent };

struct UsageQuery {
  std::string subject, agent, model_id;  // filters; "" any
  absl::Time start = absl::InfinitePast();
  absl::Time end = absl::InfinitePast();  // exclusive
  std::vector<UsageGroupBy> group_by;     // empty: one total row
};

struct UsageRow {
  std::string day, model_id, subject, agent;  // only the grouped ones are set
  int64_t requests = 0, cached = 0, failed = 0;
  int64_t input_tokens = 0, output_tokens = 0;
  double cost_usd = 0;
};

// INVALID_ARGUMENT naming start_time / end_time / group_by.
absl::Status ValidateUsageQuery(const UsageQuery& query);

}  // namespace genesis::llmrouter
