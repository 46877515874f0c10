// Conversations after the bot: the hand-off queue and a person's claim,
// reply and release; proactive messages (proactive.cc); a contact's erasure
// (LGPD); retention; and inspection of a bot's inbox and outbox. Storage:
// ConversationStore. A person's reply goes to the outbox, where the reply
// pipeline's senders take it.
//
// Errors: INVALID_ARGUMENT with field violations (names, agent, text, page
// size and token); NOT_FOUND for an unknown bot, conversation or proactive
// message; FAILED_PRECONDITION when someone else holds the conversation, a
// proactive message is not awaiting approval, or the bot is an Alexa bot
// (it speaks only in answer to a request); RESOURCE_EXHAUSTED for the
// proactive daily limit; UNAVAILABLE / DEADLINE_EXCEEDED from storage.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/paging.h"
#include "common/rpc/call_context.h"
#include "services/bot_manager/conversations/conversation_cache.h"
#include "services/bot_manager/conversations/conversation_store.h"
#include "services/bot_manager/deps.h"
#include "services/bot_manager/metrics.h"
#include "services/bot_manager/options.h"
#include "services/bot_manager/pipeline/reply_pipeline.h"
#include "services/bot_manager/registry/bot_registry.h"

namespace genesis::bot {

// The longest text a person or another service may send to a contact.
inline constexpr size_t kMaxTextBytes = 4096;

// When a proactive message may go: `now`, or the end of the quiet hours in
// progress. INVALID_ARGUMENT for an unknown time zone.
absl::StatusOr<absl::Time> EarliestSend(absl::Time now, const QuietHours& quiet);
// The date in the bot's zone as YYYY-MM-DD.
std::string LocalDay(absl::Time t, const QuietHours& quiet);

class Conversations {
 public:
  // Not owned: all outlive the component.
  Conversations(ConversationStore* store, BotRegistry* bots, ConversationCache* conversations,
                ContextCache* context, ReplyPipeline* pipeline, const BotManagerOptions& options,
                const BotMetrics& metrics);

  // --- conversations and handoff
  absl::StatusOr<Page<Conversation>> ListConversations(const std::string& parent,
                                                       const std::string& state, int page_size,
                                                       const std::string& page_token,
                                                       const CallContext& ctx);
  absl::StatusOr<Conversation> GetConversation(const std::string& name, int message_limit,
                                               const CallContext& ctx);
  absl::StatusOr<Page<Conversation>> ListHandoffQueue(int page_size, const std::string& page_token,
                                                      const CallContext& ctx);
  // `agent` empty: the caller's subject.
  absl::StatusOr<Conversation> ClaimConversation(const std::string& name, std::string agent,
                                                 const CallContext& ctx);
  absl::StatusOr<Message> ReplyToConversation(const std::string& name, std::string agent,
                                              const std::string& text,
                                              const std::string& request_id,
                                              const CallContext& ctx);
  absl::StatusOr<Conversation> ReleaseConversation(const std::string& name, std::string agent,
                                                   const CallContext& ctx);

  // --- proactive messages (proactive.cc)
  absl::StatusOr<ProactiveMessage> CreateProactiveMessage(const std::string& parent,
                                                          const std::string& recipient,
                                                          const std::string& text,
                                                          const std::string& request_id,
                                                          const CallContext& ctx);
  absl::StatusOr<ProactiveMessage> GetProactiveMessage(const std::string& name,
                                                       const CallContext& ctx);
  absl::StatusOr<ProactiveMessage> ApproveProactiveMessage(const std::string& name,
                                                           const CallContext& ctx);

  // --- erasure, inspection and retention
  absl::StatusOr<EraseCounts> EraseContact(const std::string& name, const CallContext& ctx);
  absl::StatusOr<Page<InboxRow>> ListInbox(const std::string& parent, int page_size,
                                           const std::string& page_token, const CallContext& ctx);
  absl::StatusOr<Page<OutboxRow>> ListOutbox(const std::string& parent, int page_size,
                                             const std::string& page_token, const CallContext& ctx);
  // One retention step: deletes up to purge_batch rows per table older than
  // `retention`; the number deleted (0 when nothing is left or retention is off).
  absl::StatusOr<int64_t> PurgeExpired(const CallContext& ctx);

 private:
  // A page of a bot's inbox or outbox rows (`kind`), newest first:
  // `list(bot, before_id, limit)`.
  template <typename Row, typename List>
  absl::StatusOr<Page<Row>> ListNewestFirst(const char* kind, const std::string& parent,
                                            int page_size, const std::string& page_token,
                                            const CallContext& ctx, List list);

  ConversationStore* const store_;
  BotRegistry* const bots_;
  ConversationCache* const conversations_;
  ContextCache* const context_;
  ReplyPipeline* const pipeline_;
  const BotManagerOptions options_;
  const BotMetrics metrics_;
};

}  // namespace genesis::bot
