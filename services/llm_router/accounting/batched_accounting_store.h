// Batched accounting: a RouterStore that takes the executions row off the
// call's path (`--accounting_mode=batched`). Everything else goes straight
// to the wrapped store. The rows come from UsageRecorder (usage_recorder.h);
// the wrapped PgRouterStore writes them (store/pg_accounting_store.cc).
//
// RecordExecution mints the row's id (ids reserved from the database in
// blocks, so they are unique across router instances and Complete can
// return one at once), queues the row and returns; a writer thread inserts
// queued rows in batches (RouterStore::RecordExecutions: one COPY and the
// summed day counters per transaction) every `max_batch_rows` rows or
// `flush_interval`, whichever comes first. When the queue holds
// `max_queued_rows` the row is written in the call instead (counted as
// `sync_fallback`), never dropped.
//
// What reads see:
// - budgets (BudgetsFor, ListBudgets) add the tokens and cost of queued
//   rows from memory, so a budget is spent as soon as the call that spent it
//   returns, as in sync mode (briefly over-counted, never under-counted,
//   while a batch commits);
// - UpsertFeedback on a queued execution waits until it is written (up to
//   the caller's deadline, else UNAVAILABLE asking to retry);
// - UsageReport and ExperimentReport first wait for the rows queued before
//   them (best effort, at most `write_timeout`).
// Budget alerts a batch raises are logged and counted by the writer.
//
// A failed batch (database down, timeout) is kept and retried with backoff;
// a batch the database rejects for its content is written row by row and
// the rows it still rejects are logged and counted as `lost`. Close()
// writes what is queued (up to `shutdown_timeout`) and stops the writer; a
// kill -9 loses the queued rows (at most `max_queued_rows`, normally what
// arrived in the last `flush_interval`). Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/runtime/logging.h"
#include "services/llm_router/metrics.h"
#include "services/llm_router/store/store.h"

namespace genesis::llmrouter {

struct BatchedAccountingOptions {
  size_t max_batch_rows = 500;                              // rows per insert
  absl::Duration flush_interval = absl::Milliseconds(100);  // oldest row waits at most this
  size_t max_queued_rows = 20000;  // queued + being written; beyond: written in the call
  int id_block = 1000;             // ids reserved per database round trip
  absl::Duration write_timeout = absl::Seconds(5);      // one batch transaction
  absl::Duration shutdown_timeout = absl::Seconds(10);  // Close() gives up after this
  // A failed batch is retried after these waits, doubling (2 s, 4 s, 8 s ...
  // at most 30 s): the seed's back-off for work nobody waits on. A Flush()
  // or Close() retries at once.
  absl::Duration retry_initial_backoff = absl::Seconds(2);
  absl::Duration retry_max_backoff = absl::Seconds(30);
};

class BatchedAccountingStore final : public RouterStore {
 public:
  // Starts the writer thread. `inner` does the writing (PgRouterStore).
  BatchedAccountingStore(std::unique_ptr<RouterStore> inner, BatchedAccountingOptions options,
                         RouterMetrics metrics = {});
  ~BatchedAccountingStore() override;  // Close()

  // Writes every queued row (retrying until options.shutdown_timeout) and
  // stops the writer; rows recorded afterwards are written in the call.
  // Returns how many rows could not be written (logged, counted as lost).
  // Idempotent.
  size_t Close();
  // Waits until every row queued before this call is written (or given up
  // on). DEADLINE_EXCEEDED when `deadline` comes first.
  absl::Status Flush(absl::Time deadline);
  // Rows queued or being written.
  [[nodiscard]] size_t pending_rows() const;

  absl::StatusOr<RecordResult> RecordExecution(const ExecutionRecord& record,
                                               const CallContext& ctx) override;
  absl::StatusOr<std::vector<Budget>> ListBudgets(const std::string& owner, absl::Time now,
                                                  const CallContext& ctx) override;
  absl::StatusOr<std::vector<Budget>> BudgetsFor(const std::string& subject,
                                                 const std::string& agent, absl::Time now,
                                                 const CallContext& ctx) override;
  absl::StatusOr<Feedback> UpsertFeedback(const Feedback& feedback, absl::Time now, bool* created,
                                          const CallContext& ctx) override;
  absl::StatusOr<std::vector<UsageRow>> UsageReport(const UsageQuery& query,
                                                    const CallContext& ctx) override;
  absl::StatusOr<std::vector<ArmReport>> ExperimentReport(const Experiment& experiment,
                                                          const CallContext& ctx) override;

  // Delegated unchanged.
  absl::Status SeedModels(const std::vector<ModelSpec>& models, const CallContext& ctx) override {
    return inner_->SeedModels(models, ctx);
  }
  absl::StatusOr<std::vector<ModelSpec>> LoadModels(const CallContext& ctx) override {
    return inner_->LoadModels(ctx);
  }
  absl::Status SaveTunables(const ModelSpec& model, const CallContext& ctx) override {
    return inner_->SaveTunables(model, ctx);
  }
  absl::StatusOr<std::vector<int64_t>> ReserveExecutionIds(int count,
                                                           const CallContext& ctx) override {
    return inner_->ReserveExecutionIds(count, ctx);
  }
  absl::StatusOr<std::vector<BudgetAlert>> RecordExecutions(
      const std::vector<ExecutionRecord>& records, const CallContext& ctx) override {
    return inner_->RecordExecutions(records, ctx);
  }
  // Feedback needs its execution written (UpsertFeedback waits for it), so
  // queued rows have none yet.
  absl::StatusOr<std::vector<FeedbackStat>> FeedbackStats(const CallContext& ctx) override {
    return inner_->FeedbackStats(ctx);
  }
  absl::Status SetBudget(const Budget& budget, const CallContext& ctx) override {
    return inner_->SetBudget(budget, ctx);
  }
  absl::StatusOr<bool> GetSandbox(const std::string& subject, const CallContext& ctx) override {
    return inner_->GetSandbox(subject, ctx);
  }
  absl::Status SetSandbox(const std::string& subject, bool sandbox,
                          const CallContext& ctx) override {
    return inner_->SetSandbox(subject, sandbox, ctx);
  }
  absl::StatusOr<Experiment> CreateExperiment(const Experiment& experiment,
                                              const std::optional<RequestKey>& key,
                                              const CallContext& ctx) override {
    return inner_->CreateExperiment(experiment, key, ctx);
  }
  absl::StatusOr<Experiment> GetExperiment(const std::string& id, const CallContext& ctx) override {
    return inner_->GetExperiment(id, ctx);
  }
  absl::StatusOr<std::vector<Experiment>> ListExperiments(Task task, bool running_only,
                                                          const CallContext& ctx) override {
    return inner_->ListExperiments(task, running_only, ctx);
  }
  absl::StatusOr<Experiment> StopExperiment(const std::string& id, absl::Time now,
                                            const CallContext& ctx) override {
    return inner_->StopExperiment(id, now, ctx);
  }
  absl::Status EnqueueRetry(const RetryRecord& record, const CallContext& ctx) override {
    return inner_->EnqueueRetry(record, ctx);
  }
  absl::Status Ping(const CallContext& ctx) override { return inner_->Ping(ctx); }

 private:
  // (scope, owner, UTC day) -> tokens, dollars of rows not yet written.
  using UsageKey = std::tuple<BudgetScope, std::string, std::string>;

  absl::StatusOr<int64_t> NextId(const CallContext& ctx);
  void TopUpIds();  // the writer reserves the next block before it is needed
  // DEADLINE_EXCEEDED unless the rows up to `seq` are done by `deadline`.
  absl::Status WaitFor(uint64_t seq, absl::Time deadline);
  absl::StatusOr<RecordResult> WriteNow(const ExecutionRecord& record, const CallContext& ctx);
  void AddPending(const ExecutionRecord& record, int sign);  // mu_ held
  void AddQueuedUsage(std::vector<Budget>* budgets, absl::Time now);
  void Run();  // the writer thread
  // Writes `batch`; false when it should be retried later.
  bool WriteBatch(const std::vector<ExecutionRecord>& batch);
  void ReportAlerts(const std::vector<BudgetAlert>& alerts);
  void FlushBestEffort(const CallContext& ctx);

  const std::unique_ptr<RouterStore> inner_;
  const BatchedAccountingOptions options_;
  const RouterMetrics metrics_;
  std::shared_ptr<spdlog::logger> log_;

  std::mutex id_mu_;  // serialises id reservations
  std::deque<int64_t> ids_;

  mutable std::mutex mu_;
  std::condition_variable wake_writer_;
  std::condition_variable written_;
  struct Queued {
    ExecutionRecord record;
    absl::Time at;  // when it was queued
  };
  std::deque<Queued> queue_;
  std::vector<ExecutionRecord> writing_;  // taken by the writer, not yet committed
  uint64_t queued_seq_ = 0;               // rows ever queued
  uint64_t done_seq_ = 0;                 // rows written or given up on, in queue order
  bool flush_now_ = false;
  bool stopping_ = false;
  absl::Time give_up_ = absl::InfiniteFuture();  // set by Close()
  bool closed_ = false;
  size_t lost_ = 0;
  std::map<UsageKey, std::pair<int64_t, double>> pending_usage_;
  std::unordered_map<int64_t, uint64_t> pending_ids_;  // execution id -> its seq
  std::thread writer_;
};

}  // namespace genesis::llmrouter
