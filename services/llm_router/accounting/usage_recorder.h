// The accounting write: where Complete and StreamComplete record what a call
// used and cost. Every call that reached selection leaves one `executions`
// row — answered ("ok", with the answering model's tokens and cost),
// failed on every model ("failed"), refused before any model ran
// ("rejected": P0 or constraints, unreadable settings, a spent budget), or
// answered from the response cache ("ok", cached, 0 tokens, 0 cost).
//
// The row goes to RouterStore::RecordExecution, which in the same write adds
// its tokens and dollars to the day counters of the subject and the agent
// (what budgets are checked against) and raises the 120 % budget alerts.
// With --accounting_mode=batched (the default) that store is a
// BatchedAccountingStore (batched_accounting_store.h): the row is queued and
// a writer thread inserts it; the SQL is store/pg_accounting_store.cc.
//
// Never fails a call: the answer is already paid for, so a failed write is
// logged and the row's id is 0. Every row is also logged (task, model,
// outcome, tokens, cost, latency). Thread-safe.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/rpc/call_context.h"
#include "common/runtime/logging.h"
#include "services/llm_router/execution/executor.h"
#include "services/llm_router/execution/response_cache.h"
#include "services/llm_router/metrics.h"
#include "services/llm_router/model.h"
#include "services/llm_router/selection/selection.h"
#include "services/llm_router/store/store.h"

namespace genesis::llmrouter {

// What every row of one call shares.
struct AccountedCall {
  const CompletionRequest& request;
  const Selection& selection;
  absl::Duration latency;
  bool streamed = false;
  bool sandbox = false;
  const CallContext& ctx;
};

class UsageRecorder {
 public:
  // `store` and `clock` must outlive the recorder. With `record_content`
  // the prompt and the answer are kept in the row (personal data masked).
  UsageRecorder(RouterStore* store, Clock* clock, bool record_content, RouterMetrics metrics);

  // Each returns the row's id (0 when it could not be written).
  // A call refused before any model was called, with the refusal.
  int64_t Rejected(const AccountedCall& call, const absl::Status& status);
  // A call the executor ran: its answer or its failure, and its attempts.
  int64_t Executed(const AccountedCall& call, const Execution& execution);
  // A call answered from the response cache.
  int64_t CacheHit(const AccountedCall& call, const CachedAnswer& hit);

 private:
  // The fields every outcome shares.
  ExecutionRecord Row(const AccountedCall& call) const;
  int64_t Write(const ExecutionRecord& row);

  RouterStore* store_;
  Clock* clock_;
  const bool record_content_;
  const RouterMetrics metrics_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace genesis::llmrouter
