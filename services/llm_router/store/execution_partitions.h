// Keeps llm_router.executions (one row per routed call, the router's largest
// table) partitioned by UTC day and bounded in time.
//
// Migration 0005 made executions a table partitioned by range of
// create_time: `executions_legacy` holds everything before the day after the
// upgrade, `executions_default` takes rows whose day has no partition yet,
// and daily partitions are named `executions_pYYYYMMDD`. Maintain():
//   - creates the partitions of today and `days_ahead` days after it, and of
//     any day that has rows waiting in the default partition (moved into
//     their day's partition in the same transaction);
//   - with a retention, drops the daily partitions (and the legacy one) that
//     lie wholly before now - retention, after deleting the feedback on their
//     executions, and deletes in batches the older rows of partitions that
//     straddle the cutoff (legacy, default).
// Each step is its own short transaction behind a transaction-level advisory
// lock, so replicas running it at once take turns (a dead replica's lock goes
// with its connection) and every step re-checks what it changes under the
// lock. DDL waits at most `lock_timeout` for its locks (the step fails and the
// next round tries again), so it never queues calls behind a long report.
// Thread-compatible; one instance per process.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/rpc/call_context.h"
#include "common/storage/pg_pool.h"

namespace genesis::llmrouter {

struct ExecutionPartitionOptions {
  absl::Duration retention = absl::ZeroDuration();  // zero: keep every row
  int days_ahead = 7;
  int delete_batch = 10000;  // rows per batched delete of a straddling partition
  absl::Duration lock_timeout = absl::Seconds(5);
};

struct PartitionWork {
  int created = 0;           // daily partitions created
  int64_t moved = 0;         // rows moved out of the default partition
  int dropped = 0;           // partitions dropped whole
  int64_t rows_deleted = 0;  // rows deleted one by one (straddling partitions)
  int64_t feedback_deleted = 0;
  // Whether anything changed (the caller runs again at once while it does).
  [[nodiscard]] int64_t total() const { return created + moved + dropped + rows_deleted; }
};

class ExecutionPartitions {
 public:
  // `pool` must outlive this.
  ExecutionPartitions(PgPool* pool, ExecutionPartitionOptions options)
      : pool_(pool), options_(options) {}

  // One round at `now` (see above). Errors: those of the pool (UNAVAILABLE,
  // DEADLINE_EXCEEDED when a lock was not granted in time).
  absl::StatusOr<PartitionWork> Maintain(absl::Time now, const CallContext& ctx);

 private:
  absl::Status CreateDay(absl::CivilDay day, PartitionWork* work, const CallContext& ctx);

  PgPool* pool_;
  const ExecutionPartitionOptions options_;
};

}  // namespace genesis::llmrouter
