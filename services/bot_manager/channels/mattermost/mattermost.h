// Mattermost outgoing webhooks and slash commands: the token (X-Mattermost-Token
// header or the payload's `token`) and the JSON or form payload.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/bot_manager/channels/channel_adapter.h"

namespace genesis::bot {

// A Mattermost outgoing webhook or slash command, JSON or
// application/x-www-form-urlencoded. The token is returned in `token`; the
// external id is the post_id (outgoing webhook) or trigger_id (slash command);
// the reply goes to the channel_id. A leading trigger word ("@genesis") is
// removed from the text.
[[nodiscard]] absl::StatusOr<WebhookEvents> ParseMattermost(absl::string_view body,
                                                            absl::string_view content_type,
                                                            std::string* token);

class MattermostAdapter final : public ChannelAdapter {
 public:
  Channel channel() const override { return Channel::kMattermost; }
  std::vector<std::string> header_names() const override { return {"x-mattermost-token"}; }
  absl::Status Verify(const std::string& secret, const WebhookRequest& req) const override;
  absl::StatusOr<WebhookEvents> Parse(const WebhookRequest& req) const override;
};

}  // namespace genesis::bot
