// The storage the router needs: the model registry, the accounting rows of
// every execution and the queue of requests that failed everywhere.
// PgRouterStore (pg_store.h) is the real one; tests use FakeRouterStore
// (tests/fake_store.h). Errors: NOT_FOUND for an unknown model; UNAVAILABLE
// or DEADLINE_EXCEEDED when the database cannot answer in time.
// Implementations are thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/base/request_key.h"
#include "common/rpc/call_context.h"
#include "services/llm_router/accounting/budget.h"
#include "services/llm_router/model.h"
#include "services/llm_router/selection/experiment.h"

namespace genesis::llmrouter {

// One accounting row: every Complete/StreamComplete that reached execution
// or was refused by P0/constraints.
struct ExecutionRecord {
  // Minted by the router before the row is written (batched accounting,
  // ReserveExecutionIds); 0: the database assigns it (RecordExecution).
  int64_t id = 0;
  std::string request_id;
  std::string subject;
  std::string agent;
  Task task = Task::kChat;
  std::string model_id;  // "" when no model answered
  std::string provider;
  Usage usage;
  double cost_usd = 0;
  absl::Duration latency;
  int attempts = 0;
  std::string outcome;  // "ok", "failed", "rejected"
  std::string error;    // status message when not ok (personal data masked)
  bool sensitive = false;
  bool streamed = false;
  bool simulated = false;
  bool cached = false;        // answered from the response cache (tokens and cost 0)
  bool sandbox = false;       // the subject is in sandbox mode
  std::string experiment_id;  // the experiment and arm that routed it ("" none)
  std::string arm;
  // When it happened (the router's clock); InfinitePast: the database's now().
  absl::Time time = absl::InfinitePast();
  // Only with --record_content (personal data masked).
  std::string prompt;
  std::string response;
};

// A request every model failed, kept for a later retry.
struct RetryRecord {
  std::string request_id;
  std::string subject;
  std::string agent;
  Task task = Task::kChat;
  std::string request_json;   // messages and parameters
  std::string attempts_json;  // what was tried
  std::string error;
};

// What RecordExecution wrote.
struct RecordResult {
  int64_t execution_id = 0;
  std::vector<BudgetAlert> alerts;
};

class RouterStore {
 public:
  virtual ~RouterStore() = default;
  // Inserts models that are not stored yet; for stored ones refreshes only
  // what the configuration owns (provider, provider model, protocol, base
  // URL, locality, simulated), keeping the tunables an admin may have changed.
  virtual absl::Status SeedModels(const std::vector<ModelSpec>& models, const CallContext& ctx) = 0;
  // Every stored model (api_key and configured are not stored).
  virtual absl::StatusOr<std::vector<ModelSpec>> LoadModels(const CallContext& ctx) = 0;
  // Saves the tunables of `model` (enabled, prices, context window,
  // capabilities, quality). NOT_FOUND for an unknown id.
  virtual absl::Status SaveTunables(const ModelSpec& model, const CallContext& ctx) = 0;
  // Writes the row and, in the same transaction, adds its tokens and cost to
  // the day counters of its subject and agent (accounting/budget.h). Returns the budget
  // alerts this row raised: the first time a day's usage passes 120 % of a
  // day budget (kept in budget_alerts, once per owner and day), and the id
  // of the new row.
  virtual absl::StatusOr<RecordResult> RecordExecution(const ExecutionRecord& record,
                                                       const CallContext& ctx) = 0;
  // `count` new execution ids (1..10000), unique across every router
  // instance on the database, for rows written later by RecordExecutions.
  virtual absl::StatusOr<std::vector<int64_t>> ReserveExecutionIds(int count,
                                                                   const CallContext& ctx) = 0;
  // Writes rows whose ids were reserved, all in one transaction, adding
  // their tokens and cost to the day counters as RecordExecution does
  // (summed per owner and day). Returns the alerts the batch raised. A row
  // without a time gets the writer's clock. Nothing is written on error.
  virtual absl::StatusOr<std::vector<BudgetAlert>> RecordExecutions(
      const std::vector<ExecutionRecord>& records, const CallContext& ctx) = 0;
  // Creates or replaces the budget (scope, owner, period).
  virtual absl::Status SetBudget(const Budget& budget, const CallContext& ctx) = 0;
  // Budgets whose owner is `owner` ("" all), and, when `subject`/`agent` are
  // given instead, those of that subject and that agent; with the usage of
  // the period containing `now`. Subjects first, then by owner and period.
  virtual absl::StatusOr<std::vector<Budget>> ListBudgets(const std::string& owner, absl::Time now,
                                                          const CallContext& ctx) = 0;
  virtual absl::StatusOr<std::vector<Budget>> BudgetsFor(const std::string& subject,
                                                         const std::string& agent, absl::Time now,
                                                         const CallContext& ctx) = 0;
  // Whether `subject` is in sandbox mode (false when never set).
  virtual absl::StatusOr<bool> GetSandbox(const std::string& subject, const CallContext& ctx) = 0;
  virtual absl::Status SetSandbox(const std::string& subject, bool sandbox,
                                  const CallContext& ctx) = 0;
  // Sums executions (see UsageQuery); rows ordered by the grouped dimensions.
  virtual absl::StatusOr<std::vector<UsageRow>> UsageReport(const UsageQuery& query,
                                                            const CallContext& ctx) = 0;
  // Creates or replaces the feedback of (execution, subject); returns it with
  // its times and sets `*created` when it is new. NOT_FOUND when the
  // execution does not exist.
  virtual absl::StatusOr<Feedback> UpsertFeedback(const Feedback& feedback, absl::Time now,
                                                  bool* created, const CallContext& ctx) = 0;
  // Feedback summed per (task, model) over every execution with feedback.
  virtual absl::StatusOr<std::vector<FeedbackStat>> FeedbackStats(const CallContext& ctx) = 0;
  // ALREADY_EXISTS for a used id; FAILED_PRECONDITION naming the running
  // experiment when one already runs on the task. With a key: when an
  // experiment was created with the key and the same hash, returns it
  // instead; with another hash, ALREADY_EXISTS (REQUEST_ID_REUSED).
  virtual absl::StatusOr<Experiment> CreateExperiment(const Experiment& experiment,
                                                      const std::optional<RequestKey>& key,
                                                      const CallContext& ctx) = 0;
  // NOT_FOUND for an unknown id.
  virtual absl::StatusOr<Experiment> GetExperiment(const std::string& id,
                                                   const CallContext& ctx) = 0;
  // Newest first; `task` kUnspecified: any.
  virtual absl::StatusOr<std::vector<Experiment>> ListExperiments(Task task, bool running_only,
                                                                  const CallContext& ctx) = 0;
  // NOT_FOUND; FAILED_PRECONDITION when already stopped. Returns it stopped.
  virtual absl::StatusOr<Experiment> StopExperiment(const std::string& id, absl::Time now,
                                                    const CallContext& ctx) = 0;
  // Per arm of `experiment`, from the executions it routed and their feedback.
  virtual absl::StatusOr<std::vector<ArmReport>> ExperimentReport(const Experiment& experiment,
                                                                  const CallContext& ctx) = 0;
  virtual absl::Status EnqueueRetry(const RetryRecord& record, const CallContext& ctx) = 0;
  virtual absl::Status Ping(const CallContext& ctx) = 0;
};

}  // namespace genesis::llmrouter
