#include "services/bot_manager/pipeline/reply_pipeline.h"

#include <algorithm>

#include "common/base/status.h"

namespace genesis::bot {
namespace {

CallContext WithDeadline(absl::Time deadline) {
  CallContext ctx = CallContext::Background();
  ctx.deadline = deadline;
  return ctx;
}

// One wake-up per row handed over (each wakes one idle thread), at least one, at most 64.
void Wake(WorkerLoop* loop, size_t rows) {
  if (loop == nullptr) return;
  for (size_t i = 0; i < std::max<size_t>(1, std::min<size_t>(rows, 64)); ++i) loop->Notify();
}

// A store's per-item outcomes (each with its `status`) as the group committer's results.
template <typename T>
std::vector<absl::StatusOr<T>> PerItem(std::vector<T> outcomes) {
  std::vector<absl::StatusOr<T>> out;
  out.reserve(outcomes.size());
  for (auto& o : outcomes) {
    if (o.status.ok()) {
      out.push_back(std::move(o));
    } else {
      out.push_back(o.status);
    }
  }
  return out;
}

}  // namespace

ReplyPipeline::ReplyPipeline(ReplyPipelineStore* store, BotRegistry* bots,
                             ConversationCache* conversations, ContextCache* context,
                             ReplyModel* model, ChannelSender* sender,
                             const BotManagerOptions& options, const BotMetrics& metrics)
    : store_(store),
      bots_(bots),
      conversations_(conversations),
      context_(context),
      model_(model),
      sender_(sender),
      options_(options),
      metrics_(metrics),
      rate_limits_(options.send_rate_per_bot, options.send_rate_per_recipient, options.clock) {
  // Flush time and size per writer (genesis_bot_commit_seconds / _items).
  auto observe = [this](const std::string& writer) -> std::function<void(size_t, absl::Duration)> {
    if (metrics_.commit_seconds == nullptr || metrics_.commit_items == nullptr) return nullptr;
    Histogram* seconds = &metrics_.commit_seconds->WithLabels({writer});
    Histogram* items = &metrics_.commit_items->WithLabels({writer});
    return [seconds, items](size_t n, absl::Duration took) {
      seconds->Observe(absl::ToDoubleSeconds(took));
      items->Observe(static_cast<double>(n));
    };
  };
  ingest_ = std::make_unique<GroupCommitter<IngestItem, IngestOutcome>>(
      "inbox writer", options_.commit_batch,
      [this](const std::vector<IngestItem>& items, absl::Time deadline) {
        return FlushIngest(items, deadline);
      },
      absl::ZeroDuration(), observe("inbox"));
  completions_ = std::make_unique<GroupCommitter<InboxOutcome, CompletionResult>>(
      "completion writer", options_.commit_batch,
      [this](const std::vector<InboxOutcome>& outcomes, absl::Time deadline) {
        return FlushCompletions(outcomes, deadline);
      },
      absl::ZeroDuration(), observe("completions"));
  marks_ = std::make_unique<GroupCommitter<SentMark, bool>>(
      "sent-mark writer", options_.commit_batch,
      [this](const std::vector<SentMark>& marks, absl::Time deadline) {
        return FlushMarks(marks, deadline);
      },
      options_.wait_for_sent_marks ? absl::ZeroDuration() : options_.sent_mark_linger,
      observe("sent_marks"));
  starts_ = std::make_unique<GroupCommitter<int64_t, bool>>(
      "send-start writer", options_.commit_batch,
      [this](const std::vector<int64_t>& ids, absl::Time deadline) {
        return FlushStarts(ids, deadline);
      },
      absl::ZeroDuration(), observe("send_starts"));
  const absl::Duration idle = options_.claim_interval > absl::ZeroDuration()
                                  ? options_.claim_interval
                                  : absl::Milliseconds(200);
  const absl::Duration step_timeout = options_.worker_step_timeout;
  if (options_.inbox_workers > 0) {
    inbox_loop_ = std::make_unique<WorkerLoop>(
        "bot.worker", options_.inbox_workers, idle,
        [this, step_timeout] { return ProcessInbox(CallContext::Background(step_timeout)); });
  }
  if (options_.outbox_workers > 0) {
    outbox_loop_ = std::make_unique<WorkerLoop>(
        "bot.sender", options_.outbox_workers, idle,
        [this, step_timeout] { return SendOutbox(CallContext::Background(step_timeout)); });
  }
}

ReplyPipeline::~ReplyPipeline() {
  StopWorkers();
  // What the committers still hold is written before the rest goes.
  ingest_.reset();
  completions_.reset();
  marks_.reset();
  starts_.reset();
}

void ReplyPipeline::StartWorkers() {
  if (inbox_loop_) inbox_loop_->Start();
  if (outbox_loop_) outbox_loop_->Start();
}

void ReplyPipeline::StopWorkers() {
  if (inbox_loop_) inbox_loop_->Stop();
  if (outbox_loop_) outbox_loop_->Stop();
}

void ReplyPipeline::WakeInbox(size_t rows) { Wake(inbox_loop_.get(), rows); }
void ReplyPipeline::WakeOutbox(size_t rows) { Wake(outbox_loop_.get(), rows); }

absl::StatusOr<IngestOutcome> ReplyPipeline::Ingest(IngestItem item, absl::Time deadline) {
  return ingest_->Submit(std::move(item), deadline);
}

void ReplyPipeline::OutboxWritten() {
  handed_outbox_.ClaimNow();  // written for a claim, not handed over
  WakeOutbox(1);
}

absl::StatusOr<std::vector<absl::StatusOr<IngestOutcome>>> ReplyPipeline::FlushIngest(
    const std::vector<IngestItem>& items, absl::Time deadline) {
  size_t rows = 0;
  for (const auto& item : items) rows += item.events.messages.size();
  const absl::Duration lease = handed_inbox_.LeaseFor(rows, options_.inbox_lease);
  const absl::Time written = absl::Now();
  GENESIS_ASSIGN_OR_RETURN(auto outcomes,
                           store_->IngestBatch(items, lease, WithDeadline(deadline)));
  std::vector<InboxRow> handed;
  bool accepted = false;
  for (auto& o : outcomes) {
    accepted = accepted || o.result.accepted > 0;
    for (auto& row : o.leased) handed.push_back(std::move(row));
    o.leased.clear();
  }
  if (accepted) {
    // Rows written without a lease wait for a claim: make the next one happen now.
    if (lease == absl::ZeroDuration()) handed_inbox_.ClaimNow();
    const size_t n = handed.size();
    handed_inbox_.Push(std::move(handed), written, lease);
    WakeInbox(n);
  }
  return PerItem(std::move(outcomes));
}

absl::StatusOr<std::vector<absl::StatusOr<CompletionResult>>> ReplyPipeline::FlushCompletions(
    const std::vector<InboxOutcome>& outcomes, absl::Time deadline) {
  const absl::Duration lease = handed_outbox_.LeaseFor(outcomes.size(), options_.outbox_lease);
  const absl::Time written = absl::Now();
  GENESIS_ASSIGN_OR_RETURN(auto results,
                           store_->CompleteInboxBatch(outcomes, lease, WithDeadline(deadline)));
  std::vector<OutboxRow> handed;
  bool replies = false;
  for (size_t i = 0; i < results.size(); ++i) {
    replies = replies || (results[i].status.ok() && outcomes[i].reply.has_value());
    if (results[i].leased) handed.push_back(std::move(*results[i].leased));
    results[i].leased.reset();
  }
  if (replies) {
    if (lease == absl::ZeroDuration()) handed_outbox_.ClaimNow();
    const size_t n = handed.size();
    handed_outbox_.Push(std::move(handed), written, lease);
    WakeOutbox(n);
  }
  return PerItem(std::move(results));
}

absl::StatusOr<std::vector<absl::StatusOr<bool>>> ReplyPipeline::FlushMarks(
    const std::vector<SentMark>& marks, absl::Time deadline) {
  GENESIS_RETURN_IF_ERROR(store_->MarkSentBatch(marks, WithDeadline(deadline)));
  return std::vector<absl::StatusOr<bool>>(marks.size(), true);
}

size_t ReplyPipeline::webhooks_waiting() const { return ingest_->queued(); }

absl::StatusOr<std::vector<absl::StatusOr<bool>>> ReplyPipeline::FlushStarts(
    const std::vector<int64_t>& ids, absl::Time deadline) {
  GENESIS_RETURN_IF_ERROR(store_->MarkSendStartedBatch(ids, WithDeadline(deadline)));
  return std::vector<absl::StatusOr<bool>>(ids.size(), true);
}

std::pair<size_t, size_t> ReplyPipeline::handed_waiting() const {
  return {handed_inbox_.size(), handed_outbox_.size()};
}

absl::Status ReplyPipeline::Drain(const CallContext& ctx) {
  std::vector<int64_t> inbox = handed_inbox_.DrainIds();
  {
    std::lock_guard<std::mutex> lock(gates_mu_);
    for (auto& [key, gate] : gates_) {
      for (const auto& [row, until] : gate.waiting) inbox.push_back(row.id);
      gate.waiting.clear();
    }
  }
  std::vector<int64_t> outbox = handed_outbox_.DrainIds();
  {
    std::lock_guard<std::mutex> lock(send_gates_mu_);
    for (auto& [key, gate] : send_gates_) {
      for (const auto& [row, until] : gate.waiting) outbox.push_back(row.id);
      gate.waiting.clear();
    }
  }
  return store_->ReleaseLeases(inbox, outbox, ctx);
}

absl::Duration ReplyPipeline::Backoff(int attempts) const {
  absl::Duration d = options_.retry_backoff;
  for (int i = 1; i < attempts && d < options_.max_retry_backoff; ++i) d *= 2;
  return std::min(d, options_.max_retry_backoff);
}

}  // namespace genesis::bot
