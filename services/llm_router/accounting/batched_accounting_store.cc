#include "services/llm_router/accounting/batched_accounting_store.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace genesis::llmrouter {
namespace {

// Failures worth retrying the same batch for; anything else means the
// database rejected what the batch holds.
bool Retryable(const absl::Status& st) {
  switch (st.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

}  // namespace

BatchedAccountingStore::BatchedAccountingStore(std::unique_ptr<RouterStore> inner,
                                               BatchedAccountingOptions options,
                                               RouterMetrics metrics)
    : inner_(std::move(inner)),
      options_(options),
      metrics_(metrics),
      log_(Logger("llm_router.accounting")) {
  writer_ = std::thread([this] { Run(); });
}

BatchedAccountingStore::~BatchedAccountingStore() { Close(); }

size_t BatchedAccountingStore::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return lost_;
    if (!stopping_) {
      stopping_ = true;
      give_up_ = absl::Now() + options_.shutdown_timeout;
    }
  }
  wake_writer_.notify_all();
  if (writer_.joinable()) writer_.join();
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  return lost_;
}

size_t BatchedAccountingStore::pending_rows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size() + writing_.size();
}

absl::StatusOr<int64_t> BatchedAccountingStore::NextId(const CallContext& ctx) {
  std::lock_guard<std::mutex> lock(id_mu_);
  if (ids_.empty()) {
    auto ids = inner_->ReserveExecutionIds(options_.id_block, ctx);
    if (!ids.ok()) return ids.status();
    ids_.insert(ids_.end(), ids->begin(), ids->end());
    if (ids_.empty()) return absl::InternalError("no execution id was reserved");
  }
  const int64_t id = ids_.front();
  ids_.pop_front();
  return id;
}

void BatchedAccountingStore::TopUpIds() {
  {
    std::lock_guard<std::mutex> lock(id_mu_);
    if (ids_.size() >= static_cast<size_t>(options_.id_block) / 2) return;
  }
  auto ids = inner_->ReserveExecutionIds(options_.id_block,
                                         CallContext::Background(options_.write_timeout));
  if (!ids.ok()) return;  // the next call reserves them itself
  std::lock_guard<std::mutex> lock(id_mu_);
  ids_.insert(ids_.end(), ids->begin(), ids->end());
}

absl::StatusOr<RecordResult> BatchedAccountingStore::WriteNow(const ExecutionRecord& record,
                                                              const CallContext& ctx) {
  RouterMetrics::Inc(metrics_.accounting_sync_fallback);
  ExecutionRecord r = record;
  r.id = 0;  // the database assigns it
  return inner_->RecordExecution(r, ctx);
}

void BatchedAccountingStore::AddPending(const ExecutionRecord& r, int sign) {
  const int64_t tokens = r.usage.input_tokens + r.usage.output_tokens;
  if (tokens == 0 && r.cost_usd == 0) return;
  const std::string day = UtcDay(r.time);
  auto add = [&](BudgetScope scope, const std::string& owner) {
    if (owner.empty()) return;
    auto it = pending_usage_.try_emplace({scope, owner, day}, 0, 0.0).first;
    it->second.first += sign * tokens;
    it->second.second += sign * r.cost_usd;
    if (it->second.first == 0 && std::abs(it->second.second) < 1e-12) pending_usage_.erase(it);
  };
  add(BudgetScope::kSubject, r.subject);
  add(BudgetScope::kAgent, r.agent);
}

absl::StatusOr<RecordResult> BatchedAccountingStore::RecordExecution(const ExecutionRecord& record,
                                                                     const CallContext& ctx) {
  ExecutionRecord r = record;
  if (r.time == absl::InfinitePast()) r.time = absl::Now();
  auto full = [&] {
    return stopping_ || queue_.size() + writing_.size() >= options_.max_queued_rows;
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (full()) return WriteNow(r, ctx);
  }
  auto id = NextId(ctx);
  if (!id.ok()) {
    log_->warn("could not reserve execution ids, writing the row in the call: {}",
               id.status().message());
    return WriteNow(r, ctx);
  }
  r.id = *id;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (full()) return WriteNow(r, ctx);
    AddPending(r, +1);
    pending_ids_[r.id] = ++queued_seq_;
    queue_.push_back({std::move(r), absl::Now()});
    wake = queue_.size() >= options_.max_batch_rows || queue_.size() == 1;
    RouterMetrics::Set(metrics_.accounting_queue_rows,
                       static_cast<double>(queue_.size() + writing_.size()));
  }
  RouterMetrics::Inc(metrics_.accounting_queued);
  if (wake) wake_writer_.notify_one();
  return RecordResult{*id, {}};
}

void BatchedAccountingStore::Run() {
  absl::Duration backoff = options_.retry_initial_backoff;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (writing_.empty()) {
      // Wait for a full batch, the oldest row's deadline, a flush or Close().
      while (!stopping_ && !flush_now_ && queue_.size() < options_.max_batch_rows) {
        if (queue_.empty()) {
          wake_writer_.wait(lock);
          continue;
        }
        const absl::Time due = queue_.front().at + options_.flush_interval;
        if (absl::Now() >= due) break;
        wake_writer_.wait_until(lock, absl::ToChronoTime(due));
      }
      if (queue_.empty()) {
        flush_now_ = false;
        if (stopping_) break;
        continue;
      }
      const size_t n = std::min(queue_.size(), options_.max_batch_rows);
      writing_.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        writing_.push_back(std::move(queue_.front().record));
        queue_.pop_front();
      }
      if (queue_.empty()) flush_now_ = false;
    }
    lock.unlock();
    const bool done = WriteBatch(writing_);
    if (done) TopUpIds();
    lock.lock();
    if (done) {
      for (const auto& r : writing_) {
        AddPending(r, -1);
        pending_ids_.erase(r.id);
      }
      done_seq_ += writing_.size();
      writing_.clear();
      backoff = options_.retry_initial_backoff;
      RouterMetrics::Set(metrics_.accounting_queue_rows, static_cast<double>(queue_.size()));
      written_.notify_all();
      continue;
    }
    if (stopping_ && absl::Now() >= give_up_) {
      // Shutting down and the database still fails: give up, loudly.
      const size_t n = writing_.size() + queue_.size();
      lost_ += n;
      RouterMetrics::Inc(metrics_.accounting_lost, static_cast<double>(n));
      log_->error("gave up writing {} accounting row(s) at shutdown: the database kept failing", n);
      writing_.clear();
      queue_.clear();
      pending_usage_.clear();
      pending_ids_.clear();
      done_seq_ = queued_seq_;
      written_.notify_all();
      break;
    }
    // Retry the same batch after a backoff (new rows keep queueing; past
    // max_queued_rows they are written in their calls).
    absl::Duration wait = backoff;
    if (stopping_) wait = std::min(wait, std::max(absl::ZeroDuration(), give_up_ - absl::Now()));
    wake_writer_.wait_for(lock, absl::ToChronoNanoseconds(wait));
    backoff = std::min(backoff * 2, options_.retry_max_backoff);
  }
}

bool BatchedAccountingStore::WriteBatch(const std::vector<ExecutionRecord>& batch) {
  auto alerts = inner_->RecordExecutions(batch, CallContext::Background(options_.write_timeout));
  if (alerts.ok()) {
    RouterMetrics::Inc(metrics_.accounting_written, static_cast<double>(batch.size()));
    ReportAlerts(*alerts);
    return true;
  }
  if (Retryable(alerts.status())) {
    RouterMetrics::Inc(metrics_.accounting_write_errors);
    log_->warn("could not write {} accounting row(s), retrying: {}", batch.size(),
               alerts.status().message());
    return false;
  }
  // The database rejected the batch's content: find the row(s) it rejects.
  RouterMetrics::Inc(metrics_.accounting_write_errors);
  log_->warn("the database rejected a batch of {} accounting row(s), writing them one by one: {}",
             batch.size(), alerts.status().message());
  for (const auto& r : batch) {
    auto one = inner_->RecordExecutions({r}, CallContext::Background(options_.write_timeout));
    if (one.ok()) {
      RouterMetrics::Inc(metrics_.accounting_written);
      ReportAlerts(*one);
    } else if (one.status().code() == absl::StatusCode::kAlreadyExists) {
      // Written by an earlier try whose commit answer was lost.
      RouterMetrics::Inc(metrics_.accounting_written);
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      ++lost_;
      RouterMetrics::Inc(metrics_.accounting_lost);
      log_->error("accounting row of execution {} (request {}) not written: {}", r.id, r.request_id,
                  one.status().message());
    }
  }
  return true;
}

void BatchedAccountingStore::ReportAlerts(const std::vector<BudgetAlert>& alerts) {
  for (const auto& a : alerts) {
    RouterMetrics::Inc(metrics_.budget_alerts);
    log_->warn("{}", BudgetAlertMessage(a));
  }
}

absl::Status BatchedAccountingStore::WaitFor(uint64_t seq, absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  if (done_seq_ >= seq) return absl::OkStatus();
  flush_now_ = true;
  wake_writer_.notify_all();
  const bool done =
      written_.wait_until(lock, absl::ToChronoTime(deadline), [&] { return done_seq_ >= seq; });
  if (done) return absl::OkStatus();
  return absl::DeadlineExceededError(
      absl::StrCat(queue_.size() + writing_.size(), " accounting row(s) are not written yet"));
}

absl::Status BatchedAccountingStore::Flush(absl::Time deadline) {
  uint64_t target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    target = queued_seq_;
  }
  return WaitFor(target, deadline);
}

void BatchedAccountingStore::FlushBestEffort(const CallContext& ctx) {
  if (auto st = Flush(std::min(ctx.deadline, absl::Now() + options_.write_timeout)); !st.ok()) {
    log_->warn("reading without the latest accounting rows: {}", st.message());
  }
}

void BatchedAccountingStore::AddQueuedUsage(std::vector<Budget>* budgets, absl::Time now) {
  const std::string today = UtcDay(now), month = UtcMonthStart(now);
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_usage_.empty()) return;
  for (auto& b : *budgets) {
    const std::string& from = b.period == BudgetPeriod::kDay ? today : month;
    for (auto it = pending_usage_.lower_bound({b.scope, b.owner, from}); it != pending_usage_.end();
         ++it) {
      const auto& [scope, owner, day] = it->first;
      if (scope != b.scope || owner != b.owner || day > today) break;
      b.used_tokens += it->second.first;
      b.used_cost_usd += it->second.second;
    }
  }
}

absl::StatusOr<std::vector<Budget>> BatchedAccountingStore::ListBudgets(const std::string& owner,
                                                                        absl::Time now,
                                                                        const CallContext& ctx) {
  auto budgets = inner_->ListBudgets(owner, now, ctx);
  if (budgets.ok()) AddQueuedUsage(&*budgets, now);
  return budgets;
}

absl::StatusOr<std::vector<Budget>> BatchedAccountingStore::BudgetsFor(const std::string& subject,
                                                                       const std::string& agent,
                                                                       absl::Time now,
                                                                       const CallContext& ctx) {
  auto budgets = inner_->BudgetsFor(subject, agent, now, ctx);
  if (budgets.ok()) AddQueuedUsage(&*budgets, now);
  return budgets;
}

absl::StatusOr<Feedback> BatchedAccountingStore::UpsertFeedback(const Feedback& feedback,
                                                                absl::Time now, bool* created,
                                                                const CallContext& ctx) {
  uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_ids_.find(feedback.execution_id);
    if (it != pending_ids_.end()) seq = it->second;
  }
  if (seq > 0) {
    if (auto st = WaitFor(seq, ctx.deadline); !st.ok()) {
      return absl::UnavailableError(absl::StrCat("execution executions/", feedback.execution_id,
                                                 " is still being recorded; retry shortly"));
    }
  }
  return inner_->UpsertFeedback(feedback, now, created, ctx);
}

absl::StatusOr<std::vector<UsageRow>> BatchedAccountingStore::UsageReport(const UsageQuery& query,
                                                                          const CallContext& ctx) {
  FlushBestEffort(ctx);
  return inner_->UsageReport(query, ctx);
}

absl::StatusOr<std::vector<ArmReport>> BatchedAccountingStore::ExperimentReport(
    const Experiment& experiment, const CallContext& ctx) {
  FlushBestEffort(ctx);
  return inner_->ExperimentReport(experiment, ctx);
}

}  // namespace genesis::llmrouter
