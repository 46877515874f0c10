#include "services/bot_manager/channels/mattermost/mattermost.h"

#include <map>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "services/bot_manager/channels/webhook_util.h"

namespace genesis::bot {

using nlohmann::json;

absl::StatusOr<WebhookEvents> ParseMattermost(absl::string_view body,
                                              absl::string_view content_type, std::string* token) {
  json fields = json::object();
  if (absl::StartsWithIgnoreCase(content_type, "application/x-www-form-urlencoded")) {
    for (auto& [k, v] : ParseForm(body)) fields[k] = v;
  } else {
    auto root = ParseJsonObject(body, "Mattermost");
    if (!root.ok()) return root.status();
    fields = std::move(*root);
  }
  *token = JsonText(fields, "token");
  InboundMessage in;
  in.external_id = JsonText(fields, "post_id");
  if (in.external_id.empty()) in.external_id = JsonText(fields, "trigger_id");
  in.contact = JsonText(fields, "user_id");
  in.reply_to = JsonText(fields, "channel_id");
  std::string text = JsonText(fields, "text");
  if (in.external_id.empty()) {
    return absl::InvalidArgumentError(
        "the Mattermost payload has neither \"post_id\" (outgoing webhook) nor \"trigger_id\" "
        "(slash command)");
  }
  if (in.contact.empty() || in.reply_to.empty()) {
    return absl::InvalidArgumentError("the Mattermost payload lacks \"user_id\" or \"channel_id\"");
  }
  const std::string trigger = JsonText(fields, "trigger_word");
  absl::string_view t(text);
  if (!trigger.empty() && absl::StartsWith(t, trigger)) t.remove_prefix(trigger.size());
  in.text = std::string(absl::StripAsciiWhitespace(t));
  if (in.text.empty()) {
    return absl::InvalidArgumentError("the Mattermost message has no text after the trigger word");
  }
  WebhookEvents events;
  events.messages.push_back(std::move(in));
  GENESIS_RETURN_IF_ERROR(MakeStorable(&events, "Mattermost"));
  return events;
}

absl::Status MattermostAdapter::Verify(const std::string& secret, const WebhookRequest& req) const {
  // The token comes in the X-Mattermost-Token header, or else in the payload
  // (outgoing webhooks and slash commands carry it there).
  std::string token = req.Header("x-mattermost-token");
  if (token.empty()) (void)ParseMattermost(req.body, req.content_type, &token);
  return VerifyToken(secret, token, "Mattermost token");
}

absl::StatusOr<WebhookEvents> MattermostAdapter::Parse(const WebhookRequest& req) const {
  std::string token;
  return ParseMattermost(req.body, req.content_type, &token);
}

}  // namespace genesis::bot
