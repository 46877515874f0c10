// The bot manager's logic, one facade over its components (each with its own
// store interface and folder):
//   registry/       BotRegistry: bots' configurations and their cache
//   channels/       WebhookIngestion (a ChannelAdapter per channel folder)
//                   and AlexaSkill (channels/alexa/)
//   pipeline/       ReplyPipeline: inbox -> router -> outbox -> channel, its
//                   worker loops, hand-off queues, group committers, rate limits
//   conversations/  Conversations: hand-off, a person's replies, proactive
//                   messages, erasure, retention, inspection
// Plain domain types in, absl::Status out; no gRPC (grpc_service.h is the
// transport). Store, cache, model, sender, secrets and clock are injected.
//
// Errors: INVALID_ARGUMENT with field violations for bad input (names, bot
// settings, page tokens, malformed webhook payloads); UNAUTHENTICATED for a
// bad or missing webhook signature; NOT_FOUND for an unknown bot,
// conversation or proactive message; ALREADY_EXISTS for a taken bot id;
// ABORTED for a stale etag; FAILED_PRECONDITION when the state forbids the
// change (the bot's secret is not configured, someone else holds the
// conversation, a webhook sent to a bot of another channel);
// RESOURCE_EXHAUSTED for the proactive daily limit; UNAVAILABLE /
// DEADLINE_EXCEEDED from storage. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/base/paging.h"
#include "common/rpc/call_context.h"
#include "services/bot_manager/channels/alexa/alexa_skill.h"
#include "services/bot_manager/channels/channel_adapter.h"
#include "services/bot_manager/channels/webhook_ingestion.h"
#include "services/bot_manager/conversations/conversation_cache.h"
#include "services/bot_manager/conversations/conversations.h"
#include "services/bot_manager/deps.h"
#include "services/bot_manager/metrics.h"
#include "services/bot_manager/options.h"
#include "services/bot_manager/pipeline/reply_pipeline.h"
#include "services/bot_manager/pipeline/reply_rules.h"
#include "services/bot_manager/registry/bot_registry.h"
#include "services/bot_manager/store.h"

namespace genesis::bot {

class BotManager {
 public:
  BotManager(std::unique_ptr<BotStore> store, std::unique_ptr<ContextCache> cache,
             std::unique_ptr<ReplyModel> model, std::unique_ptr<ChannelSender> sender,
             Secrets secrets, BotManagerOptions options, BotMetrics metrics = {});

  // --- bots (registry/bot_registry.h)
  absl::StatusOr<BotConfig> CreateBot(const std::string& bot_id, BotConfig bot,
                                      const std::string& request_id, const CallContext& ctx) {
    return registry_.CreateBot(bot_id, std::move(bot), request_id, ctx);
  }
  absl::StatusOr<BotConfig> CreateBot(const std::string& bot_id, BotConfig bot,
                                      const CallContext& ctx) {
    return registry_.CreateBot(bot_id, std::move(bot), "", ctx);
  }
  absl::StatusOr<BotConfig> GetBot(const std::string& name, const CallContext& ctx) {
    return registry_.GetBot(name, ctx);
  }
  absl::StatusOr<Page<BotConfig>> ListBots(int page_size, const std::string& page_token,
                                           const CallContext& ctx) {
    return registry_.ListBots(page_size, page_token, ctx);
  }
  // `bot.id` comes from `name`. `mask`: field names of Bot (empty: caller resolved).
  absl::StatusOr<BotConfig> UpdateBot(const std::string& name, const BotConfig& bot,
                                      const std::vector<std::string>& mask, const std::string& etag,
                                      const CallContext& ctx) {
    return registry_.UpdateBot(name, bot, mask, etag, ctx);
  }
  absl::Status DeleteBot(const std::string& name, const CallContext& ctx) {
    return registry_.DeleteBot(name, ctx);
  }

  // --- webhooks (channels/webhook_ingestion.h, channels/alexa/alexa_skill.h)
  [[nodiscard]] std::vector<std::string> WebhookHeaders(Channel channel) const {
    return ingestion_.WebhookHeaders(channel);
  }
  // The challenge to echo. UNAUTHENTICATED when the token does not match.
  absl::StatusOr<std::string> VerifyWhatsApp(const std::string& bot_id, const std::string& mode,
                                             const std::string& verify_token,
                                             const std::string& challenge, const CallContext& ctx) {
    return ingestion_.VerifyWhatsApp(bot_id, mode, verify_token, challenge, ctx);
  }
  // Verifies, parses and commits the webhook; returns once it is stored.
  absl::StatusOr<WebhookResult> ReceiveWebhook(Channel channel, const WebhookRequest& req,
                                               const CallContext& ctx) {
    return ingestion_.ReceiveWebhook(channel, req, ctx);
  }
  // An Alexa skill request, answered at once with the Alexa response JSON.
  absl::StatusOr<std::string> ReceiveAlexa(const WebhookRequest& req, const CallContext& ctx) {
    return alexa_.ReceiveAlexa(req, ctx);
  }

  // --- the reply pipeline's steps (pipeline/reply_pipeline.h): rows handled.
  absl::StatusOr<int> ProcessInbox(const CallContext& ctx) { return pipeline_.ProcessInbox(ctx); }
  absl::StatusOr<int> SendOutbox(const CallContext& ctx) { return pipeline_.SendOutbox(ctx); }

  // --- conversations and handoff (conversations/conversations.h)
  absl::StatusOr<Page<Conversation>> ListConversations(const std::string& parent,
                                                       const std::string& state, int page_size,
                                                       const std::string& page_token,
                                                       const CallContext& ctx) {
    return conversations_.ListConversations(parent, state, page_size, page_token, ctx);
  }
  absl::StatusOr<Conversation> GetConversation(const std::string& name, int message_limit,
                                               const CallContext& ctx) {
    return conversations_.GetConversation(name, message_limit, ctx);
  }
  absl::StatusOr<Page<Conversation>> ListHandoffQueue(int page_size, const std::string& page_token,
                                                      const CallContext& ctx) {
    return conversations_.ListHandoffQueue(page_size, page_token, ctx);
  }
  // `agent` empty: the caller's subject.
  absl::StatusOr<Conversation> ClaimConversation(const std::string& name, std::string agent,
                                                 const CallContext& ctx) {
    return conversations_.ClaimConversation(name, std::move(agent), ctx);
  }
  absl::StatusOr<Message> ReplyToConversation(const std::string& name, std::string agent,
                                              const std::string& text,
                                              const std::string& request_id,
                                              const CallContext& ctx) {
    return conversations_.ReplyToConversation(name, std::move(agent), text, request_id, ctx);
  }
  absl::StatusOr<Conversation> ReleaseConversation(const std::string& name, std::string agent,
                                                   const CallContext& ctx) {
    return conversations_.ReleaseConversation(name, std::move(agent), ctx);
  }

  // --- proactive messages
  absl::StatusOr<ProactiveMessage> CreateProactiveMessage(const std::string& parent,
                                                          const std::string& recipient,
                                                          const std::string& text,
                                                          const std::string& request_id,
                                                          const CallContext& ctx) {
    return conversations_.CreateProactiveMessage(parent, recipient, text, request_id, ctx);
  }
  absl::StatusOr<ProactiveMessage> GetProactiveMessage(const std::string& name,
                                                       const CallContext& ctx) {
    return conversations_.GetProactiveMessage(name, ctx);
  }
  absl::StatusOr<ProactiveMessage> ApproveProactiveMessage(const std::string& name,
                                                           const CallContext& ctx) {
    return conversations_.ApproveProactiveMessage(name, ctx);
  }

  // --- erasure and inspection
  absl::StatusOr<EraseCounts> EraseContact(const std::string& name, const CallContext& ctx) {
    return conversations_.EraseContact(name, ctx);
  }
  absl::StatusOr<Page<InboxRow>> ListInbox(const std::string& parent, int page_size,
                                           const std::string& page_token, const CallContext& ctx) {
    return conversations_.ListInbox(parent, page_size, page_token, ctx);
  }
  absl::StatusOr<Page<OutboxRow>> ListOutbox(const std::string& parent, int page_size,
                                             const std::string& page_token,
                                             const CallContext& ctx) {
    return conversations_.ListOutbox(parent, page_size, page_token, ctx);
  }
  // One retention step (Conversations::PurgeExpired).
  absl::StatusOr<int64_t> PurgeExpired(const CallContext& ctx) {
    return conversations_.PurgeExpired(ctx);
  }

  // --- the pipeline's worker loops (options.inbox_workers / outbox_workers)
  void StartWorkers() { pipeline_.StartWorkers(); }
  void StopWorkers() { pipeline_.StopWorkers(); }
  // After the workers stopped: gives the leases of rows still waiting in
  // memory back to PostgreSQL, so that a restarted process takes them at once.
  absl::Status Drain(const CallContext& ctx) { return pipeline_.Drain(ctx); }
  // Rows waiting in memory for a worker and for a sender (tests, metrics).
  [[nodiscard]] std::pair<size_t, size_t> handed_waiting() const {
    return pipeline_.handed_waiting();
  }
  // Webhooks queued for the inbox writer's next flush (tests, metrics).
  [[nodiscard]] size_t webhooks_waiting() const { return pipeline_.webhooks_waiting(); }

  absl::Status Ready(const CallContext& ctx) { return store_->Ping(ctx); }
  [[nodiscard]] const BotManagerOptions& options() const { return options_; }

 private:
  // Owned dependencies first: the components below use them until they go.
  const std::unique_ptr<BotStore> store_;
  const std::unique_ptr<ContextCache> context_;
  const std::unique_ptr<ReplyModel> model_;
  const std::unique_ptr<ChannelSender> sender_;
  const BotManagerOptions options_;

  BotRegistry registry_;
  ConversationCache conversation_cache_;
  ReplyPipeline pipeline_;
  WebhookIngestion ingestion_;
  AlexaSkill alexa_;
  Conversations conversations_;
};

}  // namespace genesis::bot
