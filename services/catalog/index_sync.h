// Keeps this replica's search index in step with PostgreSQL: builds it from
// the items when it was never built (first start, an in-memory index, an index
// of another format), when the change log was trimmed past it (a replica that
// was down longer than the log is kept) or on request; otherwise applies the
// change log (`catalog.search_outbox`) batch by batch, in transaction order.
// A batch and its position commit together in the index, so after a crash the
// index resumes from its last batch; applying a change twice is harmless (it
// sets the item's current state).
//
// Read-your-writes: writes made through this replica report their position
// (NoteWrite); WaitForWrites blocks a search until the index has applied every
// one of them, or until its deadline.
// Thread-safe; Step runs one at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/metrics.h"
#include "common/rpc/call_context.h"
#include "services/catalog/search_index.h"
#include "services/catalog/store.h"

namespace genesis::catalog {

struct IndexSyncOptions {
  int batch_transactions = 500;  // transactions read per batch
};

struct IndexSyncMetrics {
  Counter* changes_applied = nullptr;
  Counter* rebuilds = nullptr;
  Gauge* ready = nullptr;  // 1 once the index is built
  Gauge* items = nullptr;  // items in the index
};

class IndexSync {
 public:
  // `store` and `index` must outlive this.
  IndexSync(CatalogStore* store, SearchIndex* index, IndexSyncOptions options = {},
            IndexSyncMetrics metrics = {});

  // Rebuilds when needed, else applies one batch; returns how many changes
  // (or items, for a rebuild) went in. Store and index errors as they are.
  absl::StatusOr<int> Step(const CallContext& ctx);
  // Steps until nothing is left to apply.
  absl::Status CatchUp(const CallContext& ctx);
  // The next Step rebuilds.
  void RequestRebuild() { rebuild_requested_ = true; }
  // Called when a change may be waiting (e.g. WorkerLoop::Notify); may be empty.
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }

  // True once the index was built: searches may use it (it may lag).
  [[nodiscard]] bool Ready() const { return index_->AppliedThrough() > 0; }
  // A write through this replica committed at `position`.
  void NoteWrite(int64_t position);
  // Waits until every write NoteWrite was told of is in the index; false when
  // `deadline` came first.
  bool WaitForWrites(absl::Time deadline);

 private:
  absl::StatusOr<int> Rebuild(const CallContext& ctx);
  void Published();

  CatalogStore* store_;
  SearchIndex* index_;
  const IndexSyncOptions options_;
  IndexSyncMetrics metrics_;
  std::function<void()> wake_;
  std::mutex step_mu_;
  std::atomic<bool> rebuild_requested_{false};
  absl::Time last_position_write_ = absl::InfinitePast();  // under step_mu_
  std::atomic<int64_t> last_write_{0};
  std::mutex mu_;
  std::condition_variable applied_cv_;
};

}  // namespace genesis::catalog
