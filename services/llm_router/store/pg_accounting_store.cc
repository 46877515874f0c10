// PgRouterStore: the accounting write — the executions rows (one per call,
// or a batch of them with reserved ids) and, in the same transaction, their
// tokens and dollars added to the day counters of the subject and agent,
// raising the 120 % budget alerts (schema in migrations/0001_init.sql and
// 0002_budgets.sql). Budgets themselves are read in pg_budget_store.cc.
#include <map>
#include <optional>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "services/llm_router/store/pg_store.h"

namespace genesis::llmrouter {
namespace {

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

// Adds to the day counter of (scope, owner) and raises the day's alert the
// first time it passes 120 % of the day budget. Runs inside the row's
// transaction: the upsert takes the counter row's lock, so concurrent
// executions add up exactly and only one of them inserts the alert.
void AddToCounter(pqxx::work& tx, BudgetScope scope, const std::string& owner, const char* day,
                  int64_t add_tokens, double add_cost, std::vector<BudgetAlert>* alerts) {
  const std::string scope_name = BudgetScopeName(scope);
  auto r = tx.exec_params(
      "INSERT INTO llm_router.usage_counters (scope, owner, day, tokens, cost_usd) "
      "VALUES ($1, $2, coalesce($3::date, (now() AT TIME ZONE 'UTC')::date), $4, $5) "
      "ON CONFLICT (scope, owner, day) DO UPDATE SET "
      "tokens = llm_router.usage_counters.tokens + EXCLUDED.tokens, "
      "cost_usd = llm_router.usage_counters.cost_usd + EXCLUDED.cost_usd "
      "RETURNING day::text, tokens, cost_usd",
      scope_name, owner, day, add_tokens, add_cost);
  const std::string counter_day = r[0][0].as<std::string>();
  const int64_t tokens = r[0][1].as<int64_t>();
  const double cost = r[0][2].as<double>();
  auto b = tx.exec_params(
      "SELECT token_limit, cost_limit_usd FROM llm_router.budgets "
      "WHERE scope = $1 AND owner = $2 AND period = 'day'",
      scope_name, owner);
  if (b.empty()) return;
  Budget budget{scope, owner, BudgetPeriod::kDay, b[0][0].as<int64_t>(), b[0][1].as<double>()};
  if (!PassesAlert(budget, tokens, cost)) return;
  auto ins = tx.exec_params(
      "INSERT INTO llm_router.budget_alerts (scope, owner, day, used_tokens, used_cost_usd, "
      "token_limit, cost_limit_usd) VALUES ($1, $2, $3::date, $4, $5, $6, $7) "
      "ON CONFLICT DO NOTHING",
      scope_name, owner, counter_day, tokens, cost, budget.token_limit, budget.cost_limit_usd);
  if (ins.affected_rows() == 1) {
    alerts->push_back(BudgetAlert{scope, owner, counter_day, tokens, cost, budget.token_limit,
                                  budget.cost_limit_usd});
  }
}

}  // namespace

absl::StatusOr<RecordResult> PgRouterStore::RecordExecution(const ExecutionRecord& e,
                                                            const CallContext& ctx) {
  std::vector<BudgetAlert> alerts;
  int64_t id = 0;
  // A prompt, a model's answer or an error may hold NUL or invalid UTF-8 (a provider's
  // "\u0000"); PostgreSQL refuses those bytes, and a libpq parameter stops at the first NUL.
  const std::string prompt_text = ToStorableText(e.prompt);
  const std::string response_text = ToStorableText(e.response);
  const std::string error_text = ToStorableText(e.error);
  GENESIS_RETURN_IF_ERROR(pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    alerts.clear();  // the transaction may be retried
    const char* prompt = e.prompt.empty() ? nullptr : prompt_text.c_str();
    const char* response = e.response.empty() ? nullptr : response_text.c_str();
    const char* model = e.model_id.empty() ? nullptr : e.model_id.c_str();
    const char* provider = e.provider.empty() ? nullptr : e.provider.c_str();
    const bool has_time = e.time != absl::InfinitePast();
    const std::string time = has_time ? Rfc3339(e.time) : "";
    const std::string day = has_time ? UtcDay(e.time) : "";
    const char* experiment = e.experiment_id.empty() ? nullptr : e.experiment_id.c_str();
    const char* arm = e.arm.empty() ? nullptr : e.arm.c_str();
    auto inserted = tx.exec_params(
        "INSERT INTO llm_router.executions (request_id, subject, agent, task, model_id, "
        "provider, input_tokens, output_tokens, cost_usd, latency_ms, attempts, outcome, "
        "error, sensitive, streamed, simulated, prompt, response, cached, sandbox, create_time, "
        "experiment_id, arm) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
        "$18, $19, $20, coalesce($21::timestamptz, now()), $22, $23) RETURNING id",
        e.request_id, e.subject, e.agent, std::string(TaskName(e.task)), model, provider,
        e.usage.input_tokens, e.usage.output_tokens, e.cost_usd,
        absl::ToDoubleMilliseconds(e.latency), e.attempts, e.outcome, error_text, e.sensitive,
        e.streamed, e.simulated, prompt, response, e.cached, e.sandbox,
        has_time ? time.c_str() : nullptr, experiment, arm);
    id = inserted[0][0].as<int64_t>();
    if (e.usage.input_tokens + e.usage.output_tokens == 0 && e.cost_usd == 0) {
      return absl::OkStatus();
    }
    const char* day_arg = has_time ? day.c_str() : nullptr;
    const int64_t tokens = e.usage.input_tokens + e.usage.output_tokens;
    if (!e.subject.empty()) {
      AddToCounter(tx, BudgetScope::kSubject, e.subject, day_arg, tokens, e.cost_usd, &alerts);
    }
    if (!e.agent.empty()) {
      AddToCounter(tx, BudgetScope::kAgent, e.agent, day_arg, tokens, e.cost_usd, &alerts);
    }
    return absl::OkStatus();
  }));
  return RecordResult{id, std::move(alerts)};
}

absl::StatusOr<std::vector<int64_t>> PgRouterStore::ReserveExecutionIds(int count,
                                                                        const CallContext& ctx) {
  if (count < 1 || count > 10000) {
    return absl::InvalidArgumentError(absl::StrCat("cannot reserve ", count, " execution ids"));
  }
  return pool_->Transaction(
      ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<int64_t>> {
        std::vector<int64_t> ids;
        ids.reserve(count);
        for (const auto& r :
             tx.exec_params("SELECT nextval(pg_get_serial_sequence('llm_router.executions', 'id')) "
                            "FROM generate_series(1, $1)",
                            count)) {
          ids.push_back(r[0].as<int64_t>());
        }
        return ids;
      });
}

absl::StatusOr<std::vector<BudgetAlert>> PgRouterStore::RecordExecutions(
    const std::vector<ExecutionRecord>& records, const CallContext& ctx) {
  using Text = std::optional<std::string>;
  // Storable text (see RecordExecution): one bad row must not fail the COPY of the batch.
  auto opt = [](const std::string& s) -> Text {
    return s.empty() ? Text() : Text(ToStorableText(s));
  };
  // Day counters summed over the batch, locked in one global order (every
  // subject, then every agent, by owner and day) so that concurrent batches
  // and single rows (subject, then agent) never deadlock.
  struct Key {
    int scope_order;  // 0 subject, 1 agent
    std::string owner, day;
    bool operator<(const Key& o) const {
      return std::tie(scope_order, owner, day) < std::tie(o.scope_order, o.owner, o.day);
    }
  };
  std::map<Key, std::pair<int64_t, double>> counters;
  const absl::Time now = absl::Now();
  for (const auto& e : records) {
    if (e.id <= 0) return absl::InvalidArgumentError("an execution row without a reserved id");
    const int64_t tokens = e.usage.input_tokens + e.usage.output_tokens;
    if (tokens == 0 && e.cost_usd == 0) continue;
    const std::string day = UtcDay(e.time == absl::InfinitePast() ? now : e.time);
    if (!e.subject.empty()) {
      auto& c = counters[{0, e.subject, day}];
      c.first += tokens;
      c.second += e.cost_usd;
    }
    if (!e.agent.empty()) {
      auto& c = counters[{1, e.agent, day}];
      c.first += tokens;
      c.second += e.cost_usd;
    }
  }
  std::vector<BudgetAlert> alerts;
  GENESIS_RETURN_IF_ERROR(pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    alerts.clear();  // the transaction may be retried
    // COPY writes the given ids into the identity column (as INSERT ...
    // OVERRIDING SYSTEM VALUE would); they come from its own sequence.
    pqxx::stream_to copy(
        tx, "llm_router.executions",
        std::vector<std::string>{
            "id",       "request_id",   "subject",       "agent",       "task",          "model_id",
            "provider", "input_tokens", "output_tokens", "cost_usd",    "latency_ms",    "attempts",
            "outcome",  "error",        "sensitive",     "streamed",    "simulated",     "prompt",
            "response", "cached",       "sandbox",       "create_time", "experiment_id", "arm"});
    for (const auto& e : records) {
      copy << std::make_tuple(
          e.id, e.request_id, e.subject, e.agent, std::string(TaskName(e.task)), opt(e.model_id),
          opt(e.provider), e.usage.input_tokens, e.usage.output_tokens, e.cost_usd,
          absl::ToDoubleMilliseconds(e.latency), e.attempts, e.outcome, ToStorableText(e.error),
          e.sensitive, e.streamed, e.simulated, opt(e.prompt), opt(e.response), e.cached, e.sandbox,
          Rfc3339(e.time == absl::InfinitePast() ? now : e.time), opt(e.experiment_id), opt(e.arm));
    }
    copy.complete();
    for (const auto& [key, sum] : counters) {
      AddToCounter(tx, key.scope_order == 0 ? BudgetScope::kSubject : BudgetScope::kAgent,
                   key.owner, key.day.c_str(), sum.first, sum.second, &alerts);
    }
    return absl::OkStatus();
  }));
  return alerts;
}

}  // namespace genesis::llmrouter
