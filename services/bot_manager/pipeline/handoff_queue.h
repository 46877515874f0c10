// Rows handed in memory from the writer that committed them (born leased to
// this process) to the threads that work on them, each used only while most
// of its lease is left; and the schedule of the claims in PostgreSQL that
// take whatever memory does not hold (retries, rows of a crashed process,
// rows written without a lease because memory was full). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace genesis::bot {

template <typename Row>
class HandoffQueue {
 public:
  // At most `capacity` rows wait (0: none, every row goes through claims);
  // claims at most every `claim_interval` unless made due at once.
  HandoffQueue(size_t capacity, absl::Duration claim_interval)
      : capacity_(capacity), claim_interval_(claim_interval) {}

  // The lease to write `n` new rows with: `lease` when they fit in memory,
  // else zero (written unleased, they wait for a claim).
  absl::Duration LeaseFor(size_t n, absl::Duration lease) const {
    if (capacity_ == 0) return absl::ZeroDuration();
    std::lock_guard<std::mutex> lock(mu_);
    return rows_.size() + n <= capacity_ ? lease : absl::ZeroDuration();
  }

  // Rows written at `written` with `lease`: usable until 80% of it has gone
  // (the rest is the margin against a claim by another process).
  void Push(std::vector<Row> rows, absl::Time written, absl::Duration lease) {
    const absl::Time until = written + lease * 0.8;
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& row : rows) rows_.emplace_back(std::move(row), until);
  }

  // Rows claimed at `written` with `lease`, taken before those waiting (they
  // are older: the claims' backlog), in their order.
  void PushFront(std::vector<Row> rows, absl::Time written, absl::Duration lease) {
    const absl::Time until = written + lease * 0.8;
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = rows.rbegin(); it != rows.rend(); ++it)
      rows_.emplace_front(std::move(*it), until);
  }

  // The oldest row with time left; rows whose lease is running out are
  // dropped (and a claim made due, which takes them once the lease ends).
  std::optional<Row> Take() {
    const absl::Time now = absl::Now();
    std::lock_guard<std::mutex> lock(mu_);
    while (!rows_.empty()) {
      auto [row, until] = std::move(rows_.front());
      rows_.pop_front();
      if (until > now) return std::move(row);
      ClaimNow();
    }
    return std::nullopt;
  }

  // Like Take, but hands the row to `on_row` while the queue is still locked
  // (so that rows taken one after the other are seen by `on_row` in queue
  // order); false when there was none. `on_row` must not use this queue.
  template <typename F>
  bool TakeAnd(F&& on_row) {
    const absl::Time now = absl::Now();
    std::lock_guard<std::mutex> lock(mu_);
    while (!rows_.empty()) {
      auto [row, until] = std::move(rows_.front());
      rows_.pop_front();
      if (until > now) {
        on_row(std::move(row));
        return true;
      }
      ClaimNow();
    }
    return false;
  }

  // Empties the queue; the ids of the rows it held (their leases to give back).
  std::vector<int64_t> DrainIds() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int64_t> ids;
    for (const auto& [row, until] : rows_) ids.push_back(row.id);
    rows_.clear();
    return ids;
  }

  [[nodiscard]] size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rows_.size();
  }

  // The next ClaimDue() is true at once (rows were written for a claim).
  void ClaimNow() { next_claim_ = 0; }
  // True for the one caller that should claim now; the next is due a claim interval later.
  bool ClaimDue() {
    const int64_t now = absl::ToUnixMicros(absl::Now());
    int64_t due = next_claim_.load();
    if (now < due) return false;
    return next_claim_.compare_exchange_strong(due,
                                               now + absl::ToInt64Microseconds(claim_interval_));
  }

 private:
  const size_t capacity_;
  const absl::Duration claim_interval_;
  mutable std::mutex mu_;
  std::deque<std::pair<Row, absl::Time>> rows_;
  std::atomic<int64_t> next_claim_{0};  // unix micros
};

}  // namespace genesis::bot
