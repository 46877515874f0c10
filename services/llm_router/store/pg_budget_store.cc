// PgRouterStore: budgets with their usage, sandbox mode per subject and the
// usage report (schema in migrations/0002_budgets.sql, 0003_sandbox.sql).
// The usage counters are written with the executions rows
// (pg_accounting_store.cc).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/status.h"
#include "services/llm_router/store/pg_store.h"

namespace genesis::llmrouter {
namespace {

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

}  // namespace

absl::Status PgRouterStore::SetBudget(const Budget& b, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "INSERT INTO llm_router.budgets (scope, owner, period, token_limit, cost_limit_usd) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, owner, period) DO UPDATE SET "
        "token_limit = EXCLUDED.token_limit, cost_limit_usd = EXCLUDED.cost_limit_usd, "
        "update_time = now()",
        std::string(BudgetScopeName(b.scope)), b.owner, std::string(BudgetPeriodName(b.period)),
        b.token_limit, b.cost_limit_usd);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<Budget>> PgRouterStore::QueryBudgets(const std::string& where,
                                                                const std::string& a,
                                                                const std::string& b,
                                                                absl::Time now,
                                                                const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<Budget>> {
        std::vector<Budget> out;
        auto rows = tx.exec_params(
            "SELECT b.scope, b.owner, b.period, b.token_limit, b.cost_limit_usd, "
            "coalesce(sum(c.tokens), 0)::bigint, coalesce(sum(c.cost_usd), 0) "
            "FROM llm_router.budgets b LEFT JOIN llm_router.usage_counters c "
            "ON c.scope = b.scope AND c.owner = b.owner AND c.day <= $1::date AND "
            "c.day >= CASE WHEN b.period = 'day' THEN $1::date ELSE $2::date END "
            "WHERE " +
                where +
                " GROUP BY b.scope, b.owner, b.period, b.token_limit, b.cost_limit_usd "
                "ORDER BY b.scope DESC, b.owner, b.period",
            UtcDay(now), UtcMonthStart(now), a, b);
        for (const auto& r : rows) {
          Budget x;
          x.scope = r[0].as<std::string>() == "agent" ? BudgetScope::kAgent : BudgetScope::kSubject;
          x.owner = r[1].as<std::string>();
          x.period = r[2].as<std::string>() == "month" ? BudgetPeriod::kMonth : BudgetPeriod::kDay;
          x.token_limit = r[3].as<int64_t>();
          x.cost_limit_usd = r[4].as<double>();
          x.used_tokens = r[5].as<int64_t>();
          x.used_cost_usd = r[6].as<double>();
          out.push_back(std::move(x));
        }
        return out;
      });
}

absl::StatusOr<std::vector<Budget>> PgRouterStore::ListBudgets(const std::string& owner,
                                                               absl::Time now,
                                                               const CallContext& ctx) {
  return QueryBudgets("($3 = '' OR b.owner = $3) AND $4 = ''", owner, "", now, ctx);
}

absl::StatusOr<std::vector<Budget>> PgRouterStore::BudgetsFor(const std::string& subject,
                                                              const std::string& agent,
                                                              absl::Time now,
                                                              const CallContext& ctx) {
  return QueryBudgets(
      "((b.scope = 'subject' AND b.owner = $3) OR (b.scope = 'agent' AND b.owner = $4))", subject,
      agent, now, ctx);
}

absl::StatusOr<bool> PgRouterStore::GetSandbox(const std::string& subject, const CallContext& ctx) {
  return pool_->ReadOnly(ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<bool> {
    auto r = tx.exec_params("SELECT sandbox FROM llm_router.subject_settings WHERE subject = $1",
                            subject);
    return !r.empty() && r[0][0].as<bool>();
  });
}

absl::Status PgRouterStore::SetSandbox(const std::string& subject, bool sandbox,
                                       const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "INSERT INTO llm_router.subject_settings (subject, sandbox) VALUES ($1, $2) "
        "ON CONFLICT (subject) DO UPDATE SET sandbox = EXCLUDED.sandbox, update_time = now()",
        subject, sandbox);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<UsageRow>> PgRouterStore::UsageReport(const UsageQuery& q,
                                                                 const CallContext& ctx) {
  // Dimension expressions come from this fixed table, never from the caller.
  auto expr = [](UsageGroupBy g) -> const char* {
    switch (g) {
      case UsageGroupBy::kDay:
        return "to_char(create_time AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
      case UsageGroupBy::kModel:
        return "coalesce(model_id, '')";
      case UsageGroupBy::kSubject:
        return "subject";
      case UsageGroupBy::kAgent:
        return "agent";
    }
    return "''";
  };
  auto pick = [&](UsageGroupBy g) -> std::string {
    for (auto x : q.group_by) {
      if (x == g) return expr(g);
    }
    return "''";
  };
  std::vector<std::string> groups;
  for (auto g : q.group_by) groups.push_back(expr(g));
  const std::string group = groups.empty() ? ""
                                           : " GROUP BY " + absl::StrJoin(groups, ", ") +
                                                 " ORDER BY " + absl::StrJoin(groups, ", ");
  const std::string sql = absl::StrCat(
      "SELECT ", pick(UsageGroupBy::kDay), ", ", pick(UsageGroupBy::kModel), ", ",
      pick(UsageGroupBy::kSubject), ", ", pick(UsageGroupBy::kAgent),
      ", count(*), count(*) FILTER (WHERE cached), count(*) FILTER (WHERE outcome <> 'ok'), "
      "coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(output_tokens), 0)::bigint, "
      "coalesce(sum(cost_usd), 0) FROM llm_router.executions "
      "WHERE create_time >= $1::timestamptz AND create_time < $2::timestamptz "
      "AND ($3 = '' OR subject = $3) AND ($4 = '' OR agent = $4) "
      "AND ($5 = '' OR model_id = $5)",
      group);
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<UsageRow>> {
        std::vector<UsageRow> out;
        for (const auto& r : tx.exec_params(sql, Rfc3339(q.start), Rfc3339(q.end), q.subject,
                                            q.agent, q.model_id)) {
          UsageRow u;
          u.day = r[0].as<std::string>();
          u.model_id = r[1].as<std::string>();
          u.subject = r[2].as<std::string>();
          u.agent = r[3].as<std::string>();
          u.requests = r[4].as<int64_t>();
          u.cached = r[5].as<int64_t>();
          u.failed = r[6].as<int64_t>();
          u.input_tokens = r[7].as<int64_t>();
          u.output_tokens = r[8].as<int64_t>();
          u.cost_usd = r[9].as<double>();
          out.push_back(std::move(u));
        }
        return out;
      });
}

}  // namespace genesis::llmrouter
