// The reply pipeline: webhook events committed to the inbox, the inbox
// workers' step (inbox -> router -> outbox, inbox_worker.cc) and the outbox
// senders' step (outbox -> channel, outbox_sender.cc). It owns everything
// those steps share: the group committers (inbox writer, completions, send
// starts, sent marks), the in-memory hand-off queues between them, the
// per-conversation and per-recipient order gates, the send rate limits
// (send_rate_limiter.h) and the worker loops that run the steps
// (options.inbox_workers / outbox_workers; none in tests, which call the
// steps). Storage: ReplyPipelineStore. Thread-safe.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/call_context.h"
#include "common/runtime/worker_loop.h"
#include "common/storage/group_commit.h"
#include "services/bot_manager/conversations/conversation_cache.h"
#include "services/bot_manager/deps.h"
#include "services/bot_manager/metrics.h"
#include "services/bot_manager/options.h"
#include "services/bot_manager/pipeline/handoff_queue.h"
#include "services/bot_manager/pipeline/pipeline_store.h"
#include "services/bot_manager/pipeline/send_rate_limiter.h"
#include "services/bot_manager/registry/bot_registry.h"

namespace genesis::bot {

class ReplyPipeline {
 public:
  // Not owned: all outlive the pipeline.
  ReplyPipeline(ReplyPipelineStore* store, BotRegistry* bots, ConversationCache* conversations,
                ContextCache* context, ReplyModel* model, ChannelSender* sender,
                const BotManagerOptions& options, const BotMetrics& metrics);
  ~ReplyPipeline();  // StopWorkers(), then what the committers hold is written

  // One webhook's events, committed with the others that arrive meanwhile
  // (group commit); the new rows go to the workers in memory.
  absl::StatusOr<IngestOutcome> Ingest(IngestItem item, absl::Time deadline);
  // Rows were written to the outbox outside the pipeline (a person's reply,
  // an Alexa turn): the senders claim them at once.
  void OutboxWritten();

  // --- the steps: the number of rows handled.
  absl::StatusOr<int> ProcessInbox(const CallContext& ctx);
  absl::StatusOr<int> SendOutbox(const CallContext& ctx);

  // Starts the worker loops (when options ask for them).
  void StartWorkers();
  // Stops the loops (the steps in progress finish). Idempotent.
  void StopWorkers();
  // After the workers stopped: gives the leases of rows still waiting in
  // memory back to PostgreSQL, so that a restarted process takes them at once.
  absl::Status Drain(const CallContext& ctx);
  // Rows waiting in memory for a worker and for a sender (tests, metrics).
  [[nodiscard]] std::pair<size_t, size_t> handed_waiting() const;
  // Webhooks queued for the inbox writer's next flush (tests, metrics).
  [[nodiscard]] size_t webhooks_waiting() const;

 private:
  // Group-commit flushes (see the committers below).
  absl::StatusOr<std::vector<absl::StatusOr<IngestOutcome>>> FlushIngest(
      const std::vector<IngestItem>& items, absl::Time deadline);
  absl::StatusOr<std::vector<absl::StatusOr<CompletionResult>>> FlushCompletions(
      const std::vector<InboxOutcome>& outcomes, absl::Time deadline);
  absl::StatusOr<std::vector<absl::StatusOr<bool>>> FlushMarks(const std::vector<SentMark>& marks,
                                                               absl::Time deadline);
  absl::StatusOr<std::vector<absl::StatusOr<bool>>> FlushStarts(const std::vector<int64_t>& ids,
                                                                absl::Time deadline);
  // Wakes `rows` idle workers / senders (at least one, at most 64).
  void WakeInbox(size_t rows);
  void WakeOutbox(size_t rows);
  // Whether a worker that took `row` answers it now (kRun: the conversation
  // is its own until AnswerInOrder returns), leaves it to the worker that
  // holds the conversation (kQueued: moved into the gate) or gives it back
  // to PostgreSQL behind the conversation's backlog (kBehind). See gates_.
  enum class Admission { kRun, kQueued, kBehind };
  Admission AdmitToGate(InboxRow* row);
  // Answers `row` (admitted with kRun), then the messages of its
  // conversation queued meanwhile, in order.
  void AnswerInOrder(InboxRow row, const CallContext& ctx);
  // Gives inbox rows back to PostgreSQL (the attempt uncounted).
  void GiveBackInbox(const std::vector<int64_t>& ids, const CallContext& ctx);
  // One message: answered, handed off or recorded (nullopt), or given back
  // for a retry of the router at the returned time.
  absl::StatusOr<std::optional<absl::Time>> ProcessOne(const InboxRow& row, const CallContext& ctx);
  // True when the sender that took `row` sends it now (the recipient is its
  // own until SendInOrder returns); false: moved into the recipient's gate
  // for the sender that holds it.
  bool AdmitToSendGate(OutboxRow* row);
  // Sends `row` (admitted), then the replies to its recipient queued meanwhile, in order.
  void SendInOrder(OutboxRow row, const CallContext& ctx);
  absl::Status SendOne(const OutboxRow& row, const CallContext& ctx);
  absl::Duration Backoff(int attempts) const;

  ReplyPipelineStore* const store_;
  BotRegistry* const bots_;
  ConversationCache* const conversations_;
  ContextCache* const context_;
  ReplyModel* const model_;
  ChannelSender* const sender_;
  const BotManagerOptions options_;
  const BotMetrics metrics_;
  SendRateLimiter rate_limits_;

  // Per conversation (bot, contact), the order of its messages in this
  // process: one worker at a time answers a conversation (messages handed to
  // others meanwhile wait in `waiting`, by id). Once a message waits for a
  // retry of the router, it and every later message of the conversation up
  // to `backlog_to` wait in PostgreSQL, where a claim takes only the oldest
  // waiting message of each conversation; messages handed over in memory go
  // there too until the backlog is answered (or, answered elsewhere, until
  // `backlog_expiry`).
  struct Gate {
    bool busy = false;
    std::deque<std::pair<InboxRow, absl::Time>> waiting;  // with the end of their usable lease
    int64_t backlog_to = 0;
    absl::Time backlog_expiry = absl::InfinitePast();
  };
  std::mutex gates_mu_;
  std::map<std::pair<std::string, std::string>, Gate> gates_;

  // Per recipient (bot, recipient): one sender at a time, so that one chat's
  // replies reach the channel in order; replies handed to other senders
  // meanwhile wait here (by id, with the end of their usable lease).
  struct SendGate {
    bool busy = false;
    std::deque<std::pair<OutboxRow, absl::Time>> waiting;
  };
  std::mutex send_gates_mu_;
  std::map<std::pair<std::string, std::string>, SendGate> send_gates_;

  // Rows handed over in memory: inbox rows to the workers, replies to the senders.
  HandoffQueue<InboxRow> handed_inbox_{options_.handoff_capacity, options_.claim_interval};
  HandoffQueue<OutboxRow> handed_outbox_{options_.handoff_capacity, options_.claim_interval};

  // Stopped (flushing what is queued) by the destructor once the loops are.
  std::unique_ptr<GroupCommitter<IngestItem, IngestOutcome>> ingest_;
  std::unique_ptr<GroupCommitter<InboxOutcome, CompletionResult>> completions_;
  std::unique_ptr<GroupCommitter<SentMark, bool>> marks_;
  std::unique_ptr<GroupCommitter<int64_t, bool>> starts_;  // "send started" before each send

  // The loops running the steps (null when options ask for none).
  std::unique_ptr<WorkerLoop> inbox_loop_;
  std::unique_ptr<WorkerLoop> outbox_loop_;
};

}  // namespace genesis::bot
