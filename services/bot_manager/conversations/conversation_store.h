// The conversations' storage: hand-off, human replies, proactive messages,
// erasure, inspection and retention (conversations/conversations.h).
// PgBotStore (pg_store.h) is the real one.
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

// A new proactive message (see ConversationStore::CreateProactive).
struct NewProactive {
  std::string id;
  std::string bot_id;
  std::string channel;
  std::string recipient;
  std::string text;
  std::string request_id;  // may be empty
  absl::Time send_time;    // earliest send (end of quiet hours)
  std::string day;         // the bot's local date, YYYY-MM-DD, for the daily limit
  int daily_limit = 5;
  bool sandboxed = false;
};

class ConversationStore {
 public:
  virtual ~ConversationStore() = default;

  // --- conversations and handoff
  virtual absl::StatusOr<Conversation> GetConversation(const std::string& bot_id, int64_t id,
                                                       int message_limit,
                                                       const CallContext& ctx) = 0;
  // Most recently updated first; `state` empty for all; keyset on id via offset.
  virtual absl::StatusOr<std::vector<Conversation>> ListConversations(const std::string& bot_id,
                                                                      const std::string& state,
                                                                      int offset, int limit,
                                                                      const CallContext& ctx) = 0;
  // handoff_waiting conversations of every bot, oldest handoff first.
  virtual absl::StatusOr<std::vector<Conversation>> ListHandoffQueue(int offset, int limit,
                                                                     const CallContext& ctx) = 0;
  virtual absl::StatusOr<Conversation> Claim(const std::string& bot_id, int64_t id,
                                             const std::string& agent, const CallContext& ctx) = 0;
  virtual absl::StatusOr<Conversation> Release(const std::string& bot_id, int64_t id,
                                               const std::string& agent,
                                               const CallContext& ctx) = 0;
  // Records the human's message and its outbox row; with a request id that
  // was used before, returns the first message instead.
  virtual absl::StatusOr<Message> HumanReply(const std::string& bot_id, int64_t id,
                                             const std::string& agent, const std::string& text,
                                             const std::string& request_id, bool sandboxed,
                                             const CallContext& ctx) = 0;

  // --- proactive messages
  // Applies the daily limit (RESOURCE_EXHAUSTED), holds the first message to
  // a contact that never wrote and was never approved (awaiting_approval),
  // else queues it in the outbox at send_time. A reused request id returns
  // the first message.
  virtual absl::StatusOr<ProactiveMessage> CreateProactive(const NewProactive& p,
                                                           const CallContext& ctx) = 0;
  virtual absl::StatusOr<ProactiveMessage> GetProactive(const std::string& bot_id,
                                                        const std::string& id,
                                                        const CallContext& ctx) = 0;
  // Approves the contact and queues the message at `send_time` (at the
  // earliest). FAILED_PRECONDITION when it is not awaiting approval.
  virtual absl::StatusOr<ProactiveMessage> ApproveProactive(const std::string& bot_id,
                                                            const std::string& id,
                                                            absl::Time send_time, bool sandboxed,
                                                            const CallContext& ctx) = 0;

  // --- erasure and inspection
  // Deletes everything of one contact; returns the counts and the ids of the
  // deleted conversations (for the cache).
  virtual absl::StatusOr<std::pair<EraseCounts, std::vector<int64_t>>> EraseContact(
      const std::string& bot_id, const std::string& contact, const CallContext& ctx) = 0;
  virtual absl::StatusOr<std::vector<InboxRow>> ListInbox(const std::string& bot_id,
                                                          int64_t before_id, int limit,
                                                          const CallContext& ctx) = 0;
  virtual absl::StatusOr<std::vector<OutboxRow>> ListOutbox(const std::string& bot_id,
                                                            int64_t before_id, int limit,
                                                            const CallContext& ctx) = 0;
  // Retention: deletes up to `limit` rows per table created before `cutoff`
  // (finished inbox and outbox rows, messages, proactive messages without a
  // pending send, and conversations with the bot and no message left); the
  // number of rows deleted.
  virtual absl::StatusOr<int64_t> PurgeBefore(absl::Time cutoff, int limit,
                                              const CallContext& ctx) = 0;
};

}  // namespace genesis::bot
