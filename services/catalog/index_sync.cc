#include "services/catalog/index_sync.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"

namespace genesis::catalog {

IndexSync::IndexSync(CatalogStore* store, SearchIndex* index, IndexSyncOptions options,
                     IndexSyncMetrics metrics)
    : store_(store), index_(index), options_(options), metrics_(metrics) {}

absl::StatusOr<int> IndexSync::Step(const CallContext& ctx) {
  std::lock_guard<std::mutex> l(step_mu_);
  if (rebuild_requested_.exchange(false) || index_->AppliedThrough() == 0) return Rebuild(ctx);
  auto batch = store_->ReadIndexChanges(index_->AppliedThrough(), options_.batch_transactions, ctx);
  if (batch.status().code() == absl::StatusCode::kFailedPrecondition) {
    Logger("catalog")->warn("search index: {}; rebuilding", batch.status().message());
    return Rebuild(ctx);
  }
  if (!batch.ok()) return batch.status();
  const int n = static_cast<int>(batch->changes.size());
  // With nothing to apply, the position is written only now and then: the
  // horizon moves with every transaction on the server, and each write of the
  // index makes its readers reopen it.
  const absl::Time now = absl::Now();
  if (n == 0 && (batch->applied_through == index_->AppliedThrough() ||
                 now - last_position_write_ < absl::Seconds(10))) {
    return 0;
  }
  last_position_write_ = now;
  GENESIS_RETURN_IF_ERROR(index_->Apply(batch->changes, batch->applied_through));
  if (metrics_.changes_applied != nullptr) metrics_.changes_applied->Inc(n);
  Published();
  // A batch that moved only the position handled nothing: the loop may idle.
  return batch->more ? std::max(n, 1) : n;
}

absl::StatusOr<int> IndexSync::Rebuild(const CallContext& ctx) {
  auto log = Logger("catalog");
  log->info("search index: rebuilding from PostgreSQL");
  const absl::Time start = absl::Now();
  auto builder = index_->Rebuild();
  if (!builder.ok()) return builder.status();
  int64_t items = 0;
  auto position = store_->ScanLiveItems(
      [&](std::vector<Item> batch) -> absl::Status {
        for (const auto& item : batch) GENESIS_RETURN_IF_ERROR((*builder)->Add(item));
        items += static_cast<int64_t>(batch.size());
        return absl::OkStatus();
      },
      ctx);
  if (!position.ok()) return position.status();
  // A position of 0 would read as "never built".
  GENESIS_RETURN_IF_ERROR((*builder)->Finish(std::max<int64_t>(*position, 1)));
  if (metrics_.rebuilds != nullptr) metrics_.rebuilds->Inc();
  log->info("search index: rebuilt with {} items in {}", items,
            absl::FormatDuration(absl::Now() - start));
  Published();
  return static_cast<int>(std::min<int64_t>(items, 1 << 30)) + 1;
}

absl::Status IndexSync::CatchUp(const CallContext& ctx) {
  for (;;) {
    auto n = Step(ctx);
    if (!n.ok()) return n.status();
    if (*n == 0) return absl::OkStatus();
  }
}

void IndexSync::Published() {
  if (metrics_.ready != nullptr) metrics_.ready->Set(Ready() ? 1 : 0);
  if (metrics_.items != nullptr) metrics_.items->Set(static_cast<double>(index_->Size()));
  std::lock_guard<std::mutex> l(mu_);
  applied_cv_.notify_all();
}

void IndexSync::NoteWrite(int64_t position) {
  int64_t seen = last_write_.load();
  while (position > seen && !last_write_.compare_exchange_weak(seen, position)) {
  }
  if (wake_) wake_();
}

bool IndexSync::WaitForWrites(absl::Time deadline) {
  const int64_t want = last_write_.load();
  if (index_->AppliedThrough() > want) return true;
  if (wake_) wake_();
  std::unique_lock<std::mutex> l(mu_);
  while (index_->AppliedThrough() <= want) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    applied_cv_.wait_for(l, absl::ToChronoMilliseconds(std::min(left, absl::Milliseconds(50))) +
                                std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace genesis::catalog
