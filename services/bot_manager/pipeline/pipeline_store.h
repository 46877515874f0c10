// The reply pipeline's storage: the inbox (verified webhooks waiting for an
// answer), the conversations they open and the outbox (replies waiting to be
// sent) (pipeline/reply_pipeline.h). PgBotStore (pg_store.h) is the real one.
//
// Every method runs in one transaction and returns the most specific status:
// NOT_FOUND for a missing row, ALREADY_EXISTS for a taken id, ABORTED for a
// stale version, FAILED_PRECONDITION when the state forbids the change,
// RESOURCE_EXHAUSTED for a spent daily limit, UNAVAILABLE or
// DEADLINE_EXCEEDED when the database cannot answer in time. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/call_context.h"
#include "services/bot_manager/model.h"

namespace genesis::bot {

// What a worker decided for one inbox row (see ReplyPipelineStore::CompleteInbox).
struct InboxOutcome {
  int64_t inbox_id = 0;
  std::optional<std::string> reply;  // the bot's answer, if any
  bool sandboxed = false;            // record the reply, never send it
  // Moves the conversation to handoff_waiting with this reason when set.
  std::optional<std::string> handoff_reason;
  bool reset_failures = true;
};

// One webhook's events for ReplyPipelineStore::IngestBatch, and what became of them.
struct IngestItem {
  std::string bot_id;
  std::string channel;
  WebhookEvents events;
};
struct IngestOutcome {
  absl::Status status;  // NOT_FOUND for an unknown bot (nothing stored)
  WebhookResult result;
  std::vector<InboxRow> leased;  // the new rows, leased to the caller (with a lease only)
};

// What became of one InboxOutcome in ReplyPipelineStore::CompleteInboxBatch.
struct CompletionResult {
  absl::Status status;                       // ABORTED when the row was no longer pending
  std::optional<OutboxRow> leased;           // the reply's outbox row, leased to the caller
  std::optional<Conversation> conversation;  // as left by the completion
};

// A send the channel accepted (ReplyPipelineStore::MarkSentBatch).
struct SentMark {
  int64_t outbox_id = 0;
  std::string external_id;
};

class ReplyPipelineStore {
 public:
  virtual ~ReplyPipelineStore() = default;

  // --- webhooks: inbox rows (new external ids only) and outbox statuses of
  // many webhooks in one transaction (group commit); one outcome per item, in
  // order. An external id that appears twice is accepted once (first item).
  // With a positive `lease` the new rows are born leased to the caller until
  // now + lease, one attempt counted (handed to a worker in memory; taken by
  // ClaimInbox again only if the lease runs out), and their contacts'
  // conversations are opened in the same transaction (InboxRow's
  // conversation fields).
  virtual absl::StatusOr<std::vector<IngestOutcome>> IngestBatch(
      const std::vector<IngestItem>& items, absl::Duration lease, const CallContext& ctx) = 0;
  // One webhook, not leased. NOT_FOUND when the bot does not exist.
  absl::StatusOr<WebhookResult> Ingest(const std::string& bot_id, const std::string& channel,
                                       const WebhookEvents& events, const CallContext& ctx) {
    auto out = IngestBatch({{bot_id, channel, events}}, absl::ZeroDuration(), ctx);
    if (!out.ok()) return out.status();
    if (!(*out)[0].status.ok()) return (*out)[0].status;
    return (*out)[0].result;
  }

  // --- inbox processing
  // Leases up to `limit` pending rows whose lease expired (or never had one)
  // until now + lease, counting an attempt on each; only the oldest pending
  // row of each conversation (bot, contact) is taken, so that a conversation's
  // messages are answered in the order they arrived (Alexa rows excepted:
  // each is answered by its own request).
  virtual absl::StatusOr<std::vector<InboxRow>> ClaimInbox(int limit, absl::Duration lease,
                                                           const CallContext& ctx) = 0;
  // The conversation of (bot, contact), created in state bot when new.
  virtual absl::StatusOr<Conversation> OpenConversation(const std::string& bot_id,
                                                        const std::string& contact,
                                                        const CallContext& ctx) = 0;
  // The last `limit` messages, oldest first.
  virtual absl::StatusOr<std::vector<Message>> RecentMessages(int64_t conversation_id, int limit,
                                                              const CallContext& ctx) = 0;
  // For each outcome, in order, all in one transaction: records the
  // contact's message, the reply (as a bot message plus an outbox row,
  // dropped when the conversation is no longer held by the bot), the
  // handoff, and marks the row done. A row no longer pending (another worker
  // finished it) gets ABORTED and nothing is written for it. With a positive
  // `outbox_lease` a pending reply's outbox row is born leased to the caller.
  virtual absl::StatusOr<std::vector<CompletionResult>> CompleteInboxBatch(
      const std::vector<InboxOutcome>& outcomes, absl::Duration outbox_lease,
      const CallContext& ctx) = 0;
  absl::Status CompleteInbox(const InboxOutcome& outcome, const CallContext& ctx) {
    auto out = CompleteInboxBatch({outcome}, absl::ZeroDuration(), ctx);
    if (!out.ok()) return out.status();
    return (*out)[0].status;
  }
  // Gives a leased row back for a later attempt at `retry_time`.
  virtual absl::Status RetryInbox(int64_t inbox_id, absl::Time retry_time, const std::string& error,
                                  const CallContext& ctx) = 0;

  // --- outbox
  // Leases up to `limit` pending rows that are due.
  virtual absl::StatusOr<std::vector<OutboxRow>> ClaimOutbox(int limit, absl::Duration lease,
                                                             const CallContext& ctx) = 0;
  // Pending rows become sent with the channel's message id, in one transaction.
  virtual absl::Status MarkSentBatch(const std::vector<SentMark>& marks,
                                     const CallContext& ctx) = 0;
  absl::Status MarkSent(int64_t outbox_id, const std::string& external_id, const CallContext& ctx) {
    return MarkSentBatch({{outbox_id, external_id}}, ctx);
  }
  // Records that a send of each pending row is about to start (before the
  // channel is called): a row claimed again with this mark and no sent mark
  // may have reached the channel (OutboxRow::send_started).
  virtual absl::Status MarkSendStartedBatch(const std::vector<int64_t>& outbox_ids,
                                            const CallContext& ctx) = 0;
  // Gives back leases still held on pending rows (a graceful stop), the attempt uncounted.
  virtual absl::Status ReleaseLeases(const std::vector<int64_t>& inbox_ids,
                                     const std::vector<int64_t>& outbox_ids,
                                     const CallContext& ctx) = 0;
  // Puts a leased row back until `until` without counting the attempt (rate limited).
  virtual absl::Status DeferOutbox(int64_t outbox_id, absl::Time until, const CallContext& ctx) = 0;
  // A failed attempt: back to pending at `retry_time`, or failed when nullopt.
  // `maybe_delivered` (a timeout: the channel may have taken it) keeps the
  // row's send-started mark; else it is cleared (the channel refused it).
  virtual absl::Status MarkSendFailed(int64_t outbox_id, std::optional<absl::Time> retry_time,
                                      const std::string& error, bool maybe_delivered,
                                      const CallContext& ctx) = 0;
};

}  // namespace genesis::bot
