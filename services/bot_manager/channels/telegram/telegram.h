// Telegram Bot API webhooks: the X-Telegram-Bot-Api-Secret-Token header and
// the Update format.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/bot_manager/channels/channel_adapter.h"

namespace genesis::bot {

// A Telegram Update with "message" or "edited_message" text; the external id
// is the update_id, the contact the sender's id, the reply goes to the chat.
// Updates without text (stickers, joins) parse to no message.
[[nodiscard]] absl::StatusOr<WebhookEvents> ParseTelegram(absl::string_view body);

class TelegramAdapter final : public ChannelAdapter {
 public:
  Channel channel() const override { return Channel::kTelegram; }
  std::vector<std::string> header_names() const override {
    return {"x-telegram-bot-api-secret-token"};
  }
  absl::Status Verify(const std::string& secret, const WebhookRequest& req) const override;
  absl::StatusOr<WebhookEvents> Parse(const WebhookRequest& req) const override;
};

}  // namespace genesis::bot
