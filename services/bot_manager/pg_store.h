// BotStore on PostgreSQL (schema bot_manager, see migrations/) over PgPool.
// SQL lives in the pg_*.cc files only, one per component store:
// registry/pg_registry_store.cc, pipeline/pg_inbox_store.cc,
// pipeline/pg_outbox_store.cc, conversations/pg_conversation_store.cc (the
// row mapping they share: pg_rows.h). Thread-safe.
#pragma once

#include "common/storage/pg_pool.h"
#include "services/bot_manager/store.h"

namespace genesis::bot {

class PgBotStore final : public BotStore {
 public:
  explicit PgBotStore(PgPool* pool) : pool_(pool) {}

  absl::StatusOr<BotConfig> CreateBot(const BotConfig& bot, const std::optional<RequestKey>& key,
                                      const CallContext& ctx) override;
  using BotRegistryStore::CreateBot;
  absl::StatusOr<BotConfig> GetBot(const std::string& id, const CallContext& ctx) override;
  absl::StatusOr<std::vector<BotConfig>> ListBots(const std::string& after_id, int limit,
                                                  const CallContext& ctx) override;
  absl::StatusOr<BotConfig> UpdateBot(const BotConfig& bot, int64_t expected_version,
                                      const CallContext& ctx) override;
  absl::Status DeleteBot(const std::string& id, const CallContext& ctx) override;
  absl::StatusOr<std::vector<IngestOutcome>> IngestBatch(const std::vector<IngestItem>& items,
                                                         absl::Duration lease,
                                                         const CallContext& ctx) override;
  absl::StatusOr<std::vector<InboxRow>> ClaimInbox(int limit, absl::Duration lease,
                                                   const CallContext& ctx) override;
  absl::StatusOr<Conversation> OpenConversation(const std::string& bot_id,
                                                const std::string& contact,
                                                const CallContext& ctx) override;
  absl::StatusOr<std::vector<Message>> RecentMessages(int64_t conversation_id, int limit,
                                                      const CallContext& ctx) override;
  absl::StatusOr<std::vector<CompletionResult>> CompleteInboxBatch(
      const std::vector<InboxOutcome>& outcomes, absl::Duration outbox_lease,
      const CallContext& ctx) override;
  absl::Status RetryInbox(int64_t inbox_id, absl::Time retry_time, const std::string& error,
                          const CallContext& ctx) override;
  absl::StatusOr<std::vector<OutboxRow>> ClaimOutbox(int limit, absl::Duration lease,
                                                     const CallContext& ctx) override;
  absl::Status MarkSentBatch(const std::vector<SentMark>& marks, const CallContext& ctx) override;
  absl::Status MarkSendStartedBatch(const std::vector<int64_t>& outbox_ids,
                                    const CallContext& ctx) override;
  absl::Status ReleaseLeases(const std::vector<int64_t>& inbox_ids,
                             const std::vector<int64_t>& outbox_ids,
                             const CallContext& ctx) override;
  absl::Status DeferOutbox(int64_t outbox_id, absl::Time until, const CallContext& ctx) override;
  absl::Status MarkSendFailed(int64_t outbox_id, std::optional<absl::Time> retry_time,
                              const std::string& error, bool maybe_delivered,
                              const CallContext& ctx) override;
  absl::StatusOr<Conversation> GetConversation(const std::string& bot_id, int64_t id,
                                               int message_limit, const CallContext& ctx) override;
  absl::StatusOr<std::vector<Conversation>> ListConversations(const std::string& bot_id,
                                                              const std::string& state, int offset,
                                                              int limit,
                                                              const CallContext& ctx) override;
  absl::StatusOr<std::vector<Conversation>> ListHandoffQueue(int offset, int limit,
                                                             const CallContext& ctx) override;
  absl::StatusOr<Conversation> Claim(const std::string& bot_id, int64_t id,
                                     const std::string& agent, const CallContext& ctx) override;
  absl::StatusOr<Conversation> Release(const std::string& bot_id, int64_t id,
                                       const std::string& agent, const CallContext& ctx) override;
  absl::StatusOr<Message> HumanReply(const std::string& bot_id, int64_t id,
                                     const std::string& agent, const std::string& text,
                                     const std::string& request_id, bool sandboxed,
                                     const CallContext& ctx) override;
  absl::StatusOr<ProactiveMessage> CreateProactive(const NewProactive& p,
                                                   const CallContext& ctx) override;
  absl::StatusOr<ProactiveMessage> GetProactive(const std::string& bot_id, const std::string& id,
                                                const CallContext& ctx) override;
  absl::StatusOr<ProactiveMessage> ApproveProactive(const std::string& bot_id,
                                                    const std::string& id, absl::Time send_time,
                                                    bool sandboxed,
                                                    const CallContext& ctx) override;
  absl::StatusOr<std::pair<EraseCounts, std::vector<int64_t>>> EraseContact(
      const std::string& bot_id, const std::string& contact, const CallContext& ctx) override;
  absl::StatusOr<std::vector<InboxRow>> ListInbox(const std::string& bot_id, int64_t before_id,
                                                  int limit, const CallContext& ctx) override;
  absl::StatusOr<std::vector<OutboxRow>> ListOutbox(const std::string& bot_id, int64_t before_id,
                                                    int limit, const CallContext& ctx) override;
  absl::StatusOr<int64_t> PurgeBefore(absl::Time cutoff, int limit,
                                      const CallContext& ctx) override;
  absl::Status Ping(const CallContext& ctx) override { return pool_->Ping(ctx.deadline); }

 private:
  PgPool* pool_;
};

}  // namespace genesis::bot
