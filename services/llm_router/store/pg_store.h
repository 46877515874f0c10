// RouterStore on PostgreSQL (schema `llm_router`, migrations/). All of the
// router's SQL lives in store/pg_*.cc: the model registry and the retry
// queue in pg_store.cc, the executions rows with their usage counters in
// pg_accounting_store.cc, budgets, sandbox mode and the usage report in
// pg_budget_store.cc, feedback and experiments in pg_experiment_store.cc.
#pragma once

#include "common/storage/pg_pool.h"
#include "services/llm_router/store/store.h"

namespace genesis::llmrouter {

class PgRouterStore final : public RouterStore {
 public:
  // `pool` must outlive the store.
  explicit PgRouterStore(PgPool* pool) : pool_(pool) {}

  absl::Status SeedModels(const std::vector<ModelSpec>& models, const CallContext& ctx) override;
  absl::StatusOr<std::vector<ModelSpec>> LoadModels(const CallContext& ctx) override;
  absl::Status SaveTunables(const ModelSpec& model, const CallContext& ctx) override;
  // The accounting write (pg_accounting_store.cc): the executions row, the
  // day counters and the alerts.
  absl::StatusOr<RecordResult> RecordExecution(const ExecutionRecord& record,
                                               const CallContext& ctx) override;
  absl::StatusOr<std::vector<int64_t>> ReserveExecutionIds(int count,
                                                           const CallContext& ctx) override;
  // COPY into executions (ids given), then the summed day counters.
  absl::StatusOr<std::vector<BudgetAlert>> RecordExecutions(
      const std::vector<ExecutionRecord>& records, const CallContext& ctx) override;
  // Budgets, sandbox mode and the usage report: pg_budget_store.cc.
  absl::Status SetBudget(const Budget& budget, const CallContext& ctx) override;
  absl::StatusOr<std::vector<Budget>> ListBudgets(const std::string& owner, absl::Time now,
                                                  const CallContext& ctx) override;
  absl::StatusOr<std::vector<Budget>> BudgetsFor(const std::string& subject,
                                                 const std::string& agent, absl::Time now,
                                                 const CallContext& ctx) override;
  absl::StatusOr<bool> GetSandbox(const std::string& subject, const CallContext& ctx) override;
  absl::Status SetSandbox(const std::string& subject, bool sandbox,
                          const CallContext& ctx) override;
  absl::StatusOr<std::vector<UsageRow>> UsageReport(const UsageQuery& query,
                                                    const CallContext& ctx) override;
  // Feedback and experiments: pg_experiment_store.cc.
  absl::StatusOr<Feedback> UpsertFeedback(const Feedback& feedback, absl::Time now, bool* created,
                                          const CallContext& ctx) override;
  absl::StatusOr<std::vector<FeedbackStat>> FeedbackStats(const CallContext& ctx) override;
  absl::StatusOr<Experiment> CreateExperiment(const Experiment& experiment,
                                              const std::optional<RequestKey>& key,
                                              const CallContext& ctx) override;
  absl::StatusOr<Experiment> GetExperiment(const std::string& id, const CallContext& ctx) override;
  absl::StatusOr<std::vector<Experiment>> ListExperiments(Task task, bool running_only,
                                                          const CallContext& ctx) override;
  absl::StatusOr<Experiment> StopExperiment(const std::string& id, absl::Time now,
                                            const CallContext& ctx) override;
  absl::StatusOr<std::vector<ArmReport>> ExperimentReport(const Experiment& experiment,
                                                          const CallContext& ctx) override;
  absl::Status EnqueueRetry(const RetryRecord& record, const CallContext& ctx) override;
  absl::Status Ping(const CallContext& ctx) override { return pool_->Ping(ctx.deadline); }

 private:
  absl::StatusOr<std::vector<Budget>> QueryBudgets(const std::string& where, const std::string& a,
                                                   const std::string& b, absl::Time now,
                                                   const CallContext& ctx);
  PgPool* pool_;
};

}  // namespace genesis::llmrouter
