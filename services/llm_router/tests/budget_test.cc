// Budgets and the settings cache as pure code: validation, the 120 % alert,
// what the cache keeps and for how long.
#include <gtest/gtest.h>

#include <optional>

#include "common/base/status.h"
#include "services/llm_router/accounting/budget.h"
#include "services/llm_router/accounting/settings_cache.h"

namespace genesis::llmrouter {
namespace {

TEST(SettingsCacheTest, KeepsAnswersForTheTtlAndForgetsOnChange) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  SettingsCache cache(absl::Seconds(1));
  EXPECT_FALSE(cache.Sandbox("u", t0).has_value());
  cache.PutSandbox("u", true, t0, cache.epoch());
  EXPECT_EQ(cache.Sandbox("u", t0 + absl::Milliseconds(999)), std::optional<bool>(true));
  EXPECT_FALSE(cache.Sandbox("u", t0 + absl::Seconds(1)).has_value());  // expired
  cache.PutSandbox("u", false, t0, cache.epoch());
  cache.ForgetSandbox("u");
  EXPECT_FALSE(cache.Sandbox("u", t0).has_value());
  EXPECT_FALSE(cache.NoBudgets("u", "a", t0));
  cache.PutNoBudgets("u", "a", t0, cache.epoch());
  EXPECT_TRUE(cache.NoBudgets("u", "a", t0 + absl::Milliseconds(500)));
  EXPECT_FALSE(cache.NoBudgets("u", "b", t0));  // another agent
  EXPECT_FALSE(cache.NoBudgets("v", "a", t0));  // another subject
  cache.ForgetBudgets();
  EXPECT_FALSE(cache.NoBudgets("u", "a", t0));
}

TEST(SettingsCacheTest, AnAnswerReadBeforeAChangeIsNotKeptAfterIt) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  SettingsCache cache(absl::Seconds(10));
  // A call reads "not sandboxed" and "no budget"; before it stores them, an admin call
  // through this router sets the sandbox and a budget.
  const uint64_t before = cache.epoch();
  cache.ForgetSandbox("u");
  cache.ForgetBudgets();
  cache.PutSandbox("u", false, t0, before);
  cache.PutNoBudgets("u", "a", t0, before);
  EXPECT_FALSE(cache.Sandbox("u", t0).has_value());
  EXPECT_FALSE(cache.NoBudgets("u", "a", t0));
  // Read after the change: kept.
  cache.PutSandbox("u", true, t0, cache.epoch());
  EXPECT_EQ(cache.Sandbox("u", t0), std::optional<bool>(true));
}

TEST(SettingsCacheTest, AZeroTtlKeepsNothingAndTheSizeIsBounded) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  SettingsCache off(absl::ZeroDuration());
  off.PutSandbox("u", true, t0, off.epoch());
  off.PutNoBudgets("u", "a", t0, off.epoch());
  EXPECT_FALSE(off.Sandbox("u", t0).has_value());
  EXPECT_FALSE(off.NoBudgets("u", "a", t0));
  EXPECT_EQ(off.size(), 0u);
  SettingsCache small(absl::Seconds(10), 2);
  small.PutSandbox("a", true, t0, small.epoch());
  small.PutSandbox("b", true, t0, small.epoch());
  small.PutSandbox("b", false, t0, small.epoch());  // a refresh of a held key keeps the rest
  EXPECT_TRUE(small.Sandbox("a", t0).has_value());
  small.PutSandbox("c", true, t0, small.epoch());  // full: cleared, then kept
  EXPECT_FALSE(small.Sandbox("a", t0).has_value());
  EXPECT_TRUE(small.Sandbox("c", t0).has_value());
  for (int i = 0; i < 5; ++i) small.PutNoBudgets("s" + std::to_string(i), "a", t0, small.epoch());
  EXPECT_LE(small.size(), 4u);  // at most 2 of each kind
}

TEST(BudgetTest, ASpentBudgetSaysWhichAndWhenItRenews) {
  Budget day;
  day.owner = "ana";
  day.token_limit = 100;
  day.used_tokens = 100;
  const absl::Time now =
      absl::FromCivil(absl::CivilSecond(2026, 3, 31, 22, 0, 0), absl::UTCTimeZone());
  absl::Status st = CheckBudgets({day}, now);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReasonOf(st), "BUDGET_EXCEEDED");
  auto info = ErrorInfoOf(st);
  EXPECT_EQ(info->metadata().at("owner"), "ana");
  EXPECT_EQ(info->metadata().at("period"), "day");
  EXPECT_EQ(RetryDelayOf(st), absl::Hours(2));
  Budget month = day;
  month.period = BudgetPeriod::kMonth;
  EXPECT_EQ(RetryDelayOf(CheckBudgets({month}, now - absl::Hours(24))), absl::Hours(26));
  day.used_tokens = 99;
  EXPECT_TRUE(CheckBudgets({day}, now).ok());
}

TEST(BudgetTest, ValidationNamesTheField) {
  auto st = ValidateBudget({BudgetScope::kSubject, "", BudgetPeriod::kDay, -1, 0});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  auto fields = FieldViolationsOf(st);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].first, "budget.owner");
  EXPECT_EQ(fields[1].first, "budget.token_limit");
  fields = FieldViolationsOf(ValidateBudget({BudgetScope::kAgent, "a", BudgetPeriod::kDay, 0, 0}));
  ASSERT_EQ(fields.size(), 1u);  // no limit at all
  EXPECT_EQ(fields[0].first, "budget.token_limit");
}

TEST(BudgetTest, AlertPassesAt120PercentOfADayBudgetOnly) {
  Budget day{BudgetScope::kSubject, "u", BudgetPeriod::kDay, 100, 1.0};
  EXPECT_FALSE(PassesAlert(day, 120, 1.2));
  EXPECT_TRUE(PassesAlert(day, 121, 0));
  EXPECT_TRUE(PassesAlert(day, 0, 1.21));
  Budget month = day;
  month.period = BudgetPeriod::kMonth;
  EXPECT_FALSE(PassesAlert(month, 1000, 10));
}

}  // namespace
}  // namespace genesis::llmrouter
