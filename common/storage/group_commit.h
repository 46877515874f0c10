// Group commit: callers hand in items; one flusher thread passes everything
// queued (up to `max_batch`) to `flush` at once — typically one database
// transaction — and gives each item its own result. At low load a batch holds
// a single item and nothing waits for company; under load the items that
// arrive while one flush runs go together in the next, so a commit (and its
// WAL flush) is shared by many callers. The same idea as PostgreSQL's own
// group commit and LevelDB's write batching.
//
// Items whose deadline has passed before their flush starts are answered
// DEADLINE_EXCEEDED and never flushed. An item that was flushed always gets
// the flush's answer, however long it took (it may have been committed).
// After Stop() new items are answered UNAVAILABLE. Thread-safe.
//
// One bad item must not fail its neighbours: when a flush fails as a whole
// with INVALID_ARGUMENT or OUT_OF_RANGE (a value the database refused — by
// default; see `isolate`), the batch is split in halves and each half flushed
// again, down to single items, so only the items that cause the error get it
// (one bad item among n costs about 2·log2(n) more flushes). Transient errors
// (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED…) still answer the whole batch: a
// retry item by item would only add load. This needs a flush that is all or
// nothing when it returns a batch error (one transaction or one statement).
// Each flush runs with the request ids of its items as the thread's request id
// (logging.h), so what the flush logs names the calls it wrote.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/runtime/logging.h"

namespace genesis {

template <typename Item, typename Result>
class GroupCommitter {
 public:
  using Done = std::function<void(absl::StatusOr<Result>)>;
  // One result per item, in item order; or one error for the whole batch.
  // `deadline` is the latest deadline of the batch's items.
  using Flush = std::function<absl::StatusOr<std::vector<absl::StatusOr<Result>>>(
      const std::vector<Item>& items, absl::Time deadline)>;

  // Told of every flush: how many items it wrote and how long it took (metrics).
  using Observe = std::function<void(size_t items, absl::Duration took)>;

  // Whether a batch error is caused by some item(s) rather than the moment,
  // so that the batch is worth splitting (see above).
  using Isolate = std::function<bool(const absl::Status& batch_error)>;
  static bool DataError(const absl::Status& st) {
    return st.code() == absl::StatusCode::kInvalidArgument ||
           st.code() == absl::StatusCode::kOutOfRange;
  }

  // `linger`: how long the flusher waits for company once an item is queued
  // (zero: flush at once). Worth it for writes nobody waits on.
  // `isolate`: which batch errors split the batch (null: none).
  GroupCommitter(std::string name, size_t max_batch, Flush flush,
                 absl::Duration linger = absl::ZeroDuration(), Observe observe = nullptr,
                 Isolate isolate = DataError)
      : name_(std::move(name)),
        max_batch_(std::max<size_t>(1, max_batch)),
        flush_(std::move(flush)),
        linger_(linger),
        observe_(std::move(observe)),
        isolate_(std::move(isolate)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~GroupCommitter() { Stop(); }
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues `item`; `done` runs on the flusher thread (or at once when stopped).
  void Add(Item item, absl::Time deadline, Done done) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) {
        queue_.push_back(
            {std::move(item), deadline, std::move(done), std::string(CurrentRequestId())});
        cv_.notify_one();
        return;
      }
    }
    done(absl::UnavailableError(absl::StrCat(name_, " is shutting down")));
  }

  // Queues `item` and waits for its result.
  absl::StatusOr<Result> Submit(Item item, absl::Time deadline) {
    std::promise<absl::StatusOr<Result>> promise;
    auto future = promise.get_future();
    Add(std::move(item), deadline,
        [&promise](absl::StatusOr<Result> r) { promise.set_value(std::move(r)); });
    return future.get();
  }

  // Flushes what is queued, then joins the flusher. Idempotent.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Items waiting for a flush; items flushed and flushes run so far (for metrics and tests).
  [[nodiscard]] size_t queued() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
  }
  [[nodiscard]] uint64_t items_flushed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_flushed_;
  }
  [[nodiscard]] uint64_t flushes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return flushes_;
  }

 private:
  struct Entry {
    Item item;
    absl::Time deadline;
    Done done;
    std::string request_id;  // of the call that added it ("" outside a call)
  };

  void Run() {
    while (true) {
      std::vector<Entry> batch;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        if (linger_ > absl::ZeroDuration() && !stopping_ && queue_.size() < max_batch_) {
          cv_.wait_for(lock, absl::ToChronoMicroseconds(linger_),
                       [&] { return stopping_ || queue_.size() >= max_batch_; });
        }
        while (!queue_.empty() && batch.size() < max_batch_) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      FlushBatch(std::move(batch));
    }
  }

  void FlushBatch(std::vector<Entry> batch) {
    const absl::Time now = absl::Now();
    std::vector<Entry> live;
    for (auto& e : batch) {
      if (e.deadline <= now) {
        e.done(absl::DeadlineExceededError(
            absl::StrCat(name_, ": the deadline passed while waiting to be written")));
        continue;
      }
      live.push_back(std::move(e));
    }
    if (!live.empty()) FlushRange(live, 0, live.size());
  }

  // Flushes live[begin, end) and answers each of them; splits on an error
  // `isolate_` blames on the items.
  void FlushRange(std::vector<Entry>& live, size_t begin, size_t end) {
    std::vector<Item> items;
    absl::Time deadline = absl::InfinitePast();
    std::string ids;  // the first few request ids, then how many more
    size_t named = 0;
    for (size_t i = begin; i < end; ++i) {
      deadline = std::max(deadline, live[i].deadline);
      items.push_back(std::move(live[i].item));
      if (live[i].request_id.empty()) continue;
      if (++named <= 4) absl::StrAppend(&ids, ids.empty() ? "" : ",", live[i].request_id);
    }
    if (named > 4) absl::StrAppend(&ids, ",+", named - 4);
    absl::StatusOr<std::vector<absl::StatusOr<Result>>> results = absl::UnknownError("");
    {
      RequestIdScope scope(ids);
      const absl::Time flush_start = absl::Now();
      results = flush_(items, deadline);
      if (observe_) observe_(items.size(), absl::Now() - flush_start);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_flushed_ += items.size();
      ++flushes_;
    }
    if (results.ok() && results->size() != items.size()) {
      results = absl::InternalError(absl::StrCat(name_, ": the flush answered ", results->size(),
                                                 " results for ", items.size(), " items"));
    }
    if (!results.ok() && end - begin > 1 && isolate_ && isolate_(results.status()) &&
        absl::Now() < deadline) {
      for (size_t i = begin; i < end; ++i) live[i].item = std::move(items[i - begin]);
      const size_t mid = begin + (end - begin) / 2;
      FlushRange(live, begin, mid);
      FlushRange(live, mid, end);
      return;
    }
    for (size_t i = begin; i < end; ++i) {
      if (results.ok()) {
        live[i].done(std::move((*results)[i - begin]));
      } else {
        live[i].done(results.status());
      }
    }
  }

  const std::string name_;
  const size_t max_batch_;
  const Flush flush_;
  const absl::Duration linger_;
  const Observe observe_;
  const Isolate isolate_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry> queue_;
  bool stopping_ = false;
  uint64_t items_flushed_ = 0;
  uint64_t flushes_ = 0;
  std::thread thread_;
};

}  // namespace genesis
