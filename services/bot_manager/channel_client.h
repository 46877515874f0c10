// ChannelSender over the channels' real HTTP APIs (the mesh's one HTTP
// client, common/http/http_client.h):
//   WhatsApp   POST {whatsapp_base_url}/{graph_version}/{phone_number_id}/messages
//              Bearer access token; the reply's wamid becomes the external id
//   Telegram   POST {telegram_base_url}/bot{token}/sendMessage {chat_id, text}
//   Mattermost POST {mattermost_base_url}/api/v4/posts {channel_id, message,
//              pending_post_id} Bearer bot token
// Every request carries `Idempotency-Key: <outbox key>`. Of the real
// channels only Mattermost drops repeats (same pending_post_id within its
// dedupe window); the Graph API and the Bot API do not, so a crash between a
// send and its bookkeeping can show a reply twice there. The channel
// simulator honours the header, so tests see exactly-once at the channel.
// Thread-safe.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "common/http/http_client.h"
#include "services/bot_manager/deps.h"

namespace genesis::bot {

struct ChannelEndpoints {
  std::string whatsapp_base_url = "https://graph.facebook.com";
  std::string graph_version = "v17.0";
  std::string telegram_base_url = "https://api.telegram.org";
  std::string mattermost_base_url;  // required for Mattermost bots
  absl::Duration timeout = absl::Seconds(10);
};

class HttpChannelSender final : public ChannelSender {
 public:
  HttpChannelSender(ChannelEndpoints endpoints, Secrets secrets)
      : endpoints_(std::move(endpoints)), secrets_(std::move(secrets)) {}

  absl::StatusOr<SendResult> Send(const BotConfig& bot, const OutboxRow& row,
                                  const CallContext& ctx) override;
  // Mattermost only, within its 30 s pendingPostIDsCacheTTL (kept per server
  // node). The Graph API and the Bot API have no idempotency key, nor a way
  // to look a sent message up by ours.
  bool DeduplicatesResend(Channel channel, absl::Duration since_first) const override {
    return channel == Channel::kMattermost && since_first < absl::Seconds(30);
  }

 private:
  const ChannelEndpoints endpoints_;
  const Secrets secrets_;
};

// POSTs a JSON body with common/http/http_client.h (exposed for the simulator's
// emitter and the tests). UNAVAILABLE / DEADLINE_EXCEEDED on transport
// failures; a failure after the connection was made carries
// kMaybeDeliveredPayload. HTTP error statuses are responses.
absl::StatusOr<HttpResponse> PostJson(const std::string& url,
                                      const std::vector<std::string>& headers,
                                      const std::string& body, absl::Duration timeout);

}  // namespace genesis::bot
