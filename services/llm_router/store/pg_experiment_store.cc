// PgRouterStore: feedback on executions and experiments (schema in
// migrations/0004_feedback_experiments.sql).
#include <cmath>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/base/request_key.h"
#include "services/llm_router/store/pg_store.h"

namespace genesis::llmrouter {
namespace {

absl::Time FromEpoch(const pqxx::field& f) {
  return f.is_null() ? absl::InfinitePast()
                     : absl::FromUnixMicros(std::llround(f.as<double>() * 1e6));
}

std::string ArmsJson(const std::vector<ExperimentArm>& arms) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& a : arms) {
    j.push_back({{"id", a.id},
                 {"model", a.model},
                 {"strategy", static_cast<int>(a.strategy)},
                 {"percent", a.percent}});
  }
  return j.dump();
}

std::vector<ExperimentArm> ArmsFromJson(const std::string& text) {
  std::vector<ExperimentArm> arms;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return arms;
  for (const auto& a : j) {
    ExperimentArm arm;
    arm.id = a.value("id", "");
    arm.model = a.value("model", "");
    const int strategy = a.value("strategy", 0);
    arm.strategy =
        strategy >= 0 && strategy <= 3 ? static_cast<Strategy>(strategy) : Strategy::kPolicy;
    arm.percent = a.value("percent", 0);
    arms.push_back(std::move(arm));
  }
  return arms;
}

constexpr char kExperimentColumns[] =
    "id, description, task, arms::text, running, extract(epoch FROM create_time)::float8, "
    "extract(epoch FROM stop_time)::float8";

Experiment ExperimentFromRow(const pqxx::row& r) {
  Experiment e;
  e.id = r[0].as<std::string>();
  e.description = r[1].as<std::string>();
  e.task = TaskFromName(r[2].as<std::string>()).value_or(Task::kUnspecified);
  e.arms = ArmsFromJson(r[3].as<std::string>());
  e.running = r[4].as<bool>();
  e.create_time = FromEpoch(r[5]);
  e.stop_time = FromEpoch(r[6]);
  return e;
}

}  // namespace

absl::StatusOr<Feedback> PgRouterStore::UpsertFeedback(const Feedback& f, absl::Time now,
                                                       bool* created, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<Feedback> {
    if (tx.exec_params("SELECT 1 FROM llm_router.executions WHERE id = $1", f.execution_id)
            .empty()) {
      return absl::NotFoundError(
          absl::StrCat("execution executions/", f.execution_id, " not found"));
    }
    const std::string at = absl::FormatTime(absl::RFC3339_full, now, absl::UTCTimeZone());
    auto r = tx.exec_params(
        "INSERT INTO llm_router.feedback (execution_id, subject, score, comment, create_time, "
        "update_time) VALUES ($1, $2, $3, $4, $5::timestamptz, $5::timestamptz) "
        "ON CONFLICT (execution_id, subject) DO UPDATE SET score = EXCLUDED.score, "
        "comment = EXCLUDED.comment, update_time = EXCLUDED.update_time "
        "RETURNING (xmax = 0), extract(epoch FROM create_time)::float8, "
        "extract(epoch FROM update_time)::float8",
        f.execution_id, f.subject, f.score, f.comment, at);
    Feedback out = f;
    *created = r[0][0].as<bool>();
    out.create_time = FromEpoch(r[0][1]);
    out.update_time = FromEpoch(r[0][2]);
    return out;
  });
}

absl::StatusOr<std::vector<FeedbackStat>> PgRouterStore::FeedbackStats(const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<FeedbackStat>> {
        std::vector<FeedbackStat> out;
        auto rows = tx.exec(
            "SELECT e.task, e.model_id, count(*), coalesce(sum(f.score - 1), 0)::float8 / 4, "
            "coalesce(sum(5 - f.score), 0)::float8 / 4 "
            "FROM llm_router.feedback f JOIN llm_router.executions e ON e.id = f.execution_id "
            "WHERE e.model_id IS NOT NULL GROUP BY e.task, e.model_id");
        for (const auto& r : rows) {
          auto task = TaskFromName(r[0].as<std::string>());
          if (!task) continue;
          out.push_back({*task, r[1].as<std::string>(), r[2].as<int64_t>(), r[3].as<double>(),
                         r[4].as<double>()});
        }
        return out;
      });
}

absl::StatusOr<Experiment> PgRouterStore::CreateExperiment(const Experiment& e,
                                                           const std::optional<RequestKey>& key,
                                                           const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<Experiment> {
    if (key) {
      auto prior = tx.exec_params(
          "SELECT request_hash FROM llm_router.experiments WHERE request_id = $1", key->request_id);
      if (!prior.empty()) {
        if (prior[0][0].as<std::string>() != key->request_hash) {
          return RequestIdReused(key->request_id, "experiment");
        }
        auto again = tx.exec_params(std::string("SELECT ") + kExperimentColumns +
                                        " FROM llm_router.experiments WHERE request_id = $1",
                                    key->request_id);
        return ExperimentFromRow(again[0]);
      }
    }
    if (!tx.exec_params("SELECT 1 FROM llm_router.experiments WHERE id = $1", e.id).empty()) {
      return absl::AlreadyExistsError("experiment experiments/" + e.id + " already exists");
    }
    auto running =
        tx.exec_params("SELECT id FROM llm_router.experiments WHERE task = $1 AND running",
                       std::string(TaskName(e.task)));
    if (!running.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "experiment experiments/", running[0][0].as<std::string>(),
          " is already running on task ", TaskName(e.task), "; stop it first (StopExperiment)"));
    }
    const std::string created =
        absl::FormatTime(absl::RFC3339_full, e.create_time, absl::UTCTimeZone());
    tx.exec_params(
        "INSERT INTO llm_router.experiments (id, description, task, arms, create_time, "
        "request_id, request_hash) "
        "VALUES ($1, $2, $3, $4::jsonb, $5::timestamptz, NULLIF($6, ''), NULLIF($7, ''))",
        e.id, e.description, std::string(TaskName(e.task)), ArmsJson(e.arms), created,
        key ? key->request_id : std::string(), key ? key->request_hash : std::string());
    return e;
  });
}

absl::StatusOr<Experiment> PgRouterStore::GetExperiment(const std::string& id,
                                                        const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<Experiment> {
        auto r = tx.exec_params(std::string("SELECT ") + kExperimentColumns +
                                    " FROM llm_router.experiments WHERE id = $1",
                                id);
        if (r.empty()) {
          return absl::NotFoundError("experiment experiments/" + id + " not found");
        }
        return ExperimentFromRow(r[0]);
      });
}

absl::StatusOr<std::vector<Experiment>> PgRouterStore::ListExperiments(Task task, bool running_only,
                                                                       const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<Experiment>> {
        std::vector<Experiment> out;
        auto rows =
            tx.exec_params(std::string("SELECT ") + kExperimentColumns +
                               " FROM llm_router.experiments WHERE ($1 = '' OR task = $1) AND "
                               "(running OR NOT $2) ORDER BY create_time DESC, id",
                           std::string(TaskName(task)), running_only);
        for (const auto& r : rows) out.push_back(ExperimentFromRow(r));
        return out;
      });
}

absl::StatusOr<Experiment> PgRouterStore::StopExperiment(const std::string& id, absl::Time now,
                                                         const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<Experiment> {
    auto r = tx.exec_params(std::string("SELECT ") + kExperimentColumns +
                                " FROM llm_router.experiments WHERE id = $1 FOR UPDATE",
                            id);
    if (r.empty()) return absl::NotFoundError("experiment experiments/" + id + " not found");
    Experiment e = ExperimentFromRow(r[0]);
    if (!e.running) {
      return absl::FailedPreconditionError("experiment experiments/" + id + " is already stopped");
    }
    tx.exec_params(
        "UPDATE llm_router.experiments SET running = false, stop_time = $2::timestamptz "
        "WHERE id = $1",
        id, absl::FormatTime(absl::RFC3339_full, now, absl::UTCTimeZone()));
    e.running = false;
    e.stop_time = now;
    return e;
  });
}

absl::StatusOr<std::vector<ArmReport>> PgRouterStore::ExperimentReport(const Experiment& e,
                                                                       const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<ArmReport>> {
        auto rows = tx.exec_params(
            "SELECT x.arm, count(*), count(*) FILTER (WHERE x.outcome <> 'ok'), "
            "coalesce(sum(x.cost_usd), 0), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY x.latency_ms) "
            "  FILTER (WHERE x.outcome = 'ok'), "
            "percentile_cont(0.95) WITHIN GROUP (ORDER BY x.latency_ms) "
            "  FILTER (WHERE x.outcome = 'ok'), "
            "coalesce(sum(f.n), 0)::bigint, coalesce(sum(f.s), 0)::float8 "
            "FROM llm_router.executions x LEFT JOIN (SELECT execution_id, count(*) AS n, "
            "  sum(score) AS s FROM llm_router.feedback GROUP BY execution_id) f "
            "  ON f.execution_id = x.id "
            "WHERE x.experiment_id = $1 GROUP BY x.arm",
            e.id);
        std::vector<ArmReport> out;
        for (const auto& a : e.arms) {
          ArmReport rep;
          rep.arm = a.id;
          for (const auto& r : rows) {
            if (r[0].is_null() || r[0].as<std::string>() != a.id) continue;
            rep.executions = r[1].as<int64_t>();
            rep.errors = r[2].as<int64_t>();
            rep.cost_usd = r[3].as<double>();
            if (!r[4].is_null()) rep.latency_p50 = absl::Milliseconds(r[4].as<double>());
            if (!r[5].is_null()) rep.latency_p95 = absl::Milliseconds(r[5].as<double>());
            rep.feedback_count = r[6].as<int64_t>();
            if (rep.feedback_count > 0) {
              rep.mean_score = r[7].as<double>() / static_cast<double>(rep.feedback_count);
            }
          }
          out.push_back(std::move(rep));
        }
        return out;
      });
}

}  // namespace genesis::llmrouter
