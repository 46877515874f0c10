// WhatsApp Cloud API webhooks: the X-Hub-Signature-256 HMAC of the raw body
// under the app secret, and the notification format.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/bot_manager/channels/channel_adapter.h"

namespace genesis::bot {

// WhatsApp: `header` must be "sha256=" + HmacSha256Hex(app_secret, body).
[[nodiscard]] absl::Status VerifyWhatsAppSignature(absl::string_view app_secret,
                                                   absl::string_view body,
                                                   absl::string_view header);

// A WhatsApp Cloud API notification ({"object": "whatsapp_business_account",
// "entry": [{"changes": [{"value": {"messages": [...], "statuses": [...]}}]}]}).
// Text messages (and the text of button replies) become messages; other
// message types become a message with text "[<type>]". Statuses become
// DeliveryStatus.
[[nodiscard]] absl::StatusOr<WebhookEvents> ParseWhatsApp(absl::string_view body);

class WhatsAppAdapter final : public ChannelAdapter {
 public:
  Channel channel() const override { return Channel::kWhatsApp; }
  std::vector<std::string> header_names() const override { return {"x-hub-signature-256"}; }
  absl::Status Verify(const std::string& secret, const WebhookRequest& req) const override;
  absl::StatusOr<WebhookEvents> Parse(const WebhookRequest& req) const override;
};

}  // namespace genesis::bot
