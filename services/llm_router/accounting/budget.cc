#include "services/llm_router/accounting/budget.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/status.h"
#include "services/llm_router/reasons.h"

namespace genesis::llmrouter {

const char* BudgetScopeName(BudgetScope s) {
  return s == BudgetScope::kAgent ? "agent" : "subject";
}
const char* BudgetPeriodName(BudgetPeriod p) { return p == BudgetPeriod::kMonth ? "month" : "day"; }

absl::Time BudgetPeriodEnd(BudgetPeriod period, absl::Time now) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilSecond civil = absl::ToCivilSecond(now, utc);
  if (period == BudgetPeriod::kMonth) {
    return absl::FromCivil(absl::CivilMonth(civil) + 1, utc);
  }
  return absl::FromCivil(absl::CivilDay(civil) + 1, utc);
}

absl::Status CheckBudgets(const std::vector<Budget>& budgets, absl::Time now) {
  for (const auto& b : budgets) {
    const std::string who = absl::StrCat("budget of ", BudgetScopeName(b.scope), " '", b.owner,
                                         "' per ", BudgetPeriodName(b.period), " is spent: ");
    absl::Status spent;
    if (b.token_limit > 0 && b.used_tokens >= b.token_limit) {
      spent = absl::ResourceExhaustedError(
          absl::StrCat(who, b.used_tokens, " of ", b.token_limit, " tokens used"));
    } else if (b.cost_limit_usd > 0 && b.used_cost_usd >= b.cost_limit_usd) {
      spent = absl::ResourceExhaustedError(absl::StrCat(
          who, absl::StrFormat("%.6f of %.6f", b.used_cost_usd, b.cost_limit_usd), " USD used"));
    } else {
      continue;
    }
    return WithRetryDelay(WithReason(std::move(spent), reasons::kBudgetExceeded,
                                     {{"scope", BudgetScopeName(b.scope)},
                                      {"owner", b.owner},
                                      {"period", BudgetPeriodName(b.period)}}),
                          BudgetPeriodEnd(b.period, now) - now);
  }
  return absl::OkStatus();
}

absl::Status ValidateBudget(const Budget& b) {
  FieldViolations v;
  if (b.owner.empty()) v.Add("budget.owner", "is required (the subject or agent id)");
  if (b.token_limit < 0) v.Add("budget.token_limit", "must not be negative");
  if (!(b.cost_limit_usd >= 0)) v.Add("budget.cost_limit_usd", "must not be negative");
  if (b.token_limit == 0 && b.cost_limit_usd == 0) {
    v.Add("budget.token_limit", "set token_limit, cost_limit_usd or both");
  }
  return v.ToStatus();
}

bool PassesAlert(const Budget& b, int64_t day_tokens, double day_cost) {
  if (b.period != BudgetPeriod::kDay) return false;
  return (b.token_limit > 0 && static_cast<double>(day_tokens) >
                                   kBudgetAlertRatio * static_cast<double>(b.token_limit)) ||
         (b.cost_limit_usd > 0 && day_cost > kBudgetAlertRatio * b.cost_limit_usd);
}

std::string UtcDay(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }
std::string UtcMonthStart(absl::Time t) {
  return absl::FormatTime("%Y-%m-01", t, absl::UTCTimeZone());
}

absl::Status ValidateUsageQuery(const UsageQuery& q) {
  FieldViolations v;
  if (q.start == absl::InfinitePast()) v.Add("start_time", "is required");
  if (q.end == absl::InfinitePast()) v.Add("end_time", "is required");
  if (q.start != absl::InfinitePast() && q.end != absl::InfinitePast() && q.end <= q.start) {
    v.Add("end_time", "must be after start_time");
  }
  std::set<UsageGroupBy> seen;
  for (auto g : q.group_by) {
    if (!seen.insert(g).second) v.Add("group_by", "names a dimension twice");
  }
  return v.ToStatus();
}

std::string BudgetAlertMessage(const BudgetAlert& a) {
  return absl::StrFormat(
      "budget alert: %s '%s' used %d tokens / %.6f USD on %s, past %.0f%% of its day budget (%d "
      "tokens / %.6f USD)",
      BudgetScopeName(a.scope), a.owner, a.used_tokens, a.used_cost_usd, a.day,
      kBudgetAlertRatio * 100, a.token_limit, a.cost_limit_usd);
}

}  // namespace genesis::llmrouter
