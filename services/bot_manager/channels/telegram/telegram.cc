#include "services/bot_manager/channels/telegram/telegram.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "services/bot_manager/channels/webhook_util.h"

namespace genesis::bot {

using nlohmann::json;

absl::StatusOr<WebhookEvents> ParseTelegram(absl::string_view body) {
  auto root = ParseJsonObject(body, "Telegram");
  if (!root.ok()) return root.status();
  auto update_id = root->find("update_id");
  if (update_id == root->end() || !update_id->is_number_integer()) {
    return absl::InvalidArgumentError("the Telegram update has no integer \"update_id\"");
  }
  WebhookEvents events;
  const json* message = nullptr;
  for (const char* key : {"message", "edited_message"}) {
    if (root->contains(key) && (*root)[key].is_object()) {
      message = &(*root)[key];
      break;
    }
  }
  if (message == nullptr || !message->contains("text")) return events;
  InboundMessage in;
  in.external_id = std::to_string(update_id->get<int64_t>());
  in.reply_to = JsonText(message->value("chat", json::object()), "id");
  in.contact = JsonText(message->value("from", json::object()), "id");
  if (in.contact.empty()) in.contact = in.reply_to;
  if (in.reply_to.empty()) {
    return absl::InvalidArgumentError("the Telegram message has no \"chat.id\"");
  }
  in.text = JsonText(*message, "text");
  events.messages.push_back(std::move(in));
  GENESIS_RETURN_IF_ERROR(MakeStorable(&events, "Telegram"));
  return events;
}

absl::Status TelegramAdapter::Verify(const std::string& secret, const WebhookRequest& req) const {
  return VerifyToken(secret, req.Header("x-telegram-bot-api-secret-token"),
                     "X-Telegram-Bot-Api-Secret-Token");
}

absl::StatusOr<WebhookEvents> TelegramAdapter::Parse(const WebhookRequest& req) const {
  return ParseTelegram(req.body);
}

}  // namespace genesis::bot
