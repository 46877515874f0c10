// Webhook ingestion: a webhook's path from the transport to the inbox. The
// bot is looked up (registry), its secret read from the environment by the
// name it stores, the channel's adapter (channel_adapter.h) verifies and
// parses the body, and the events go to the reply pipeline, which commits
// them (group commit) and hands the new rows to its workers. Returns once
// the rows are committed.
//
// Errors: INVALID_ARGUMENT for a bad bot id or a malformed body (field
// `body`); NOT_FOUND for an unknown bot; FAILED_PRECONDITION for a bot of
// another channel or whose secret is not set on the service;
// UNAUTHENTICATED for a bad or missing signature; UNAVAILABLE /
// DEADLINE_EXCEEDED from storage. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/rpc/call_context.h"
#include "services/bot_manager/channels/channel_adapter.h"
#include "services/bot_manager/deps.h"
#include "services/bot_manager/metrics.h"
#include "services/bot_manager/pipeline/reply_pipeline.h"
#include "services/bot_manager/registry/bot_registry.h"

namespace genesis::bot {

class WebhookIngestion {
 public:
  // Not owned: both outlive the ingestion.
  WebhookIngestion(BotRegistry* bots, ReplyPipeline* pipeline, Secrets secrets,
                   const BotMetrics& metrics);

  // The request headers (lower-case) a webhook of `channel` is verified with.
  [[nodiscard]] std::vector<std::string> WebhookHeaders(Channel channel) const;
  // WhatsApp's subscription check: the challenge to echo. UNAUTHENTICATED
  // when the token does not match.
  absl::StatusOr<std::string> VerifyWhatsApp(const std::string& bot_id, const std::string& mode,
                                             const std::string& verify_token,
                                             const std::string& challenge, const CallContext& ctx);
  // Verifies, parses and commits the webhook; returns once it is stored.
  absl::StatusOr<WebhookResult> ReceiveWebhook(Channel channel, const WebhookRequest& req,
                                               const CallContext& ctx);

 private:
  BotRegistry* const bots_;
  ReplyPipeline* const pipeline_;
  const Secrets secrets_;
  const std::map<Channel, std::unique_ptr<ChannelAdapter>> adapters_;
  const BotMetrics metrics_;
};

}  // namespace genesis::bot
