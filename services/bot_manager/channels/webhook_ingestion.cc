#include "services/bot_manager/channels/webhook_ingestion.h"

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "services/bot_manager/channels/alexa/alexa.h"
#include "services/bot_manager/channels/webhook_util.h"
#include "services/bot_manager/resource_names.h"

namespace genesis::bot {

WebhookIngestion::WebhookIngestion(BotRegistry* bots, ReplyPipeline* pipeline, Secrets secrets,
                                   const BotMetrics& metrics)
    : bots_(bots),
      pipeline_(pipeline),
      secrets_(std::move(secrets)),
      adapters_(MakeChannelAdapters()),
      metrics_(metrics) {}

std::vector<std::string> WebhookIngestion::WebhookHeaders(Channel channel) const {
  if (channel == Channel::kAlexa) return AlexaHeaderNames();
  auto adapter = adapters_.find(channel);
  return adapter == adapters_.end() ? std::vector<std::string>{} : adapter->second->header_names();
}

absl::StatusOr<std::string> WebhookIngestion::VerifyWhatsApp(const std::string& bot_id,
                                                             const std::string& mode,
                                                             const std::string& verify_token,
                                                             const std::string& challenge,
                                                             const CallContext& ctx) {
  if (!ValidBotId(bot_id))
    return InvalidField("bot", absl::StrCat("'", bot_id, "' is not a bot id"));
  GENESIS_ASSIGN_OR_RETURN(BotConfig bot, bots_->Cached(bot_id, ctx));
  if (bot.channel != Channel::kWhatsApp) {
    return absl::FailedPreconditionError(absl::StrCat("bot '", bot_id, "' is not a WhatsApp bot"));
  }
  auto secret = secrets_(bot.verify_token_env);
  if (!secret) {
    return absl::FailedPreconditionError(absl::StrCat("the verification token variable of bot '",
                                                      bot_id, "' is not set on the service"));
  }
  if (mode != "subscribe") {
    return InvalidField("hub.mode", absl::StrCat("must be 'subscribe', got '", mode, "'"));
  }
  GENESIS_RETURN_IF_ERROR(VerifyToken(*secret, verify_token, "hub.verify_token"));
  if (challenge.empty()) return InvalidField("hub.challenge", "required");
  return challenge;
}

absl::StatusOr<WebhookResult> WebhookIngestion::ReceiveWebhook(Channel channel,
                                                               const WebhookRequest& req,
                                                               const CallContext& ctx) {
  const std::string cname = ChannelName(channel);
  auto count = [&](const char* result, int n) {
    if (metrics_.webhooks != nullptr && n > 0)
      metrics_.webhooks->WithLabels({cname, result}).Inc(n);
  };
  if (!ValidBotId(req.bot)) {
    count("rejected", 1);
    return InvalidField("bot", absl::StrCat("'", req.bot, "' is not a bot id"));
  }
  auto bot = bots_->Cached(req.bot, ctx);
  if (!bot.ok()) {
    count("rejected", 1);
    return bot.status();
  }
  if (bot->channel != channel) {
    count("rejected", 1);
    return absl::FailedPreconditionError(absl::StrCat(
        "bot '", req.bot, "' is a ", ChannelName(bot->channel),
        " bot; its webhooks go to /v1/webhooks/", ChannelName(bot->channel), "/", req.bot));
  }
  auto secret = secrets_(bot->webhook_secret_env);
  if (!secret) {
    count("rejected", 1);
    return absl::FailedPreconditionError(absl::StrCat("the webhook secret variable of bot '",
                                                      req.bot, "' is not set on the service"));
  }
  auto adapter = adapters_.find(channel);
  if (adapter == adapters_.end()) {
    count("rejected", 1);
    return absl::FailedPreconditionError("Alexa requests go to /v1/webhooks/alexa/{bot}");
  }
  if (auto st = adapter->second->Verify(*secret, req); !st.ok()) {
    count("rejected", 1);
    return st;
  }
  absl::StatusOr<WebhookEvents> events = adapter->second->Parse(req);
  if (!events.ok()) {
    count("rejected", 1);
    return InvalidField("body", std::string(events.status().message()));
  }
  // Committed together with the webhooks that arrive meanwhile (group commit).
  GENESIS_ASSIGN_OR_RETURN(IngestOutcome stored,
                           pipeline_->Ingest({req.bot, cname, *std::move(events)}, ctx.deadline));
  count("accepted", stored.result.accepted);
  count("duplicate", stored.result.duplicates);
  return stored.result;
}

}  // namespace genesis::bot
