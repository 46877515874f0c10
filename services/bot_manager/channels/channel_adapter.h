// A channel's webhooks behind one small interface: which headers carry its
// signature, how a webhook is verified against the bot's secret, and how its
// body becomes events. One folder per channel implements it (whatsapp/,
// telegram/, mattermost/); webhook_ingestion.h picks the adapter by channel.
// Adding a channel is one more folder and one line in MakeChannelAdapters
// (see the README's checklist).
//
// Verification answers UNAUTHENTICATED for a missing or wrong signature or
// token (secrets compared in constant time); parsing answers INVALID_ARGUMENT
// with a message naming what is malformed. Neither stores anything. Adapters
// are stateless and thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/bot_manager/model.h"

namespace genesis::bot {

// What a webhook brought, before verification (the transport fills it).
struct WebhookRequest {
  std::string bot;  // bot id (path)
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> headers;  // lower-case names

  // The header's value, "" when absent.
  [[nodiscard]] std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class ChannelAdapter {
 public:
  virtual ~ChannelAdapter() = default;
  [[nodiscard]] virtual Channel channel() const = 0;
  // The request headers (lower-case) Verify and Parse read; the transport
  // copies these from the call's metadata.
  [[nodiscard]] virtual std::vector<std::string> header_names() const = 0;
  // Whether the webhook was sent by the channel for the bot whose secret
  // (the value of its webhook_secret_env) is `secret`.
  [[nodiscard]] virtual absl::Status Verify(const std::string& secret,
                                            const WebhookRequest& req) const = 0;
  // The messages and delivery statuses of a verified webhook, storable text.
  [[nodiscard]] virtual absl::StatusOr<WebhookEvents> Parse(const WebhookRequest& req) const = 0;
};

// The adapters of the channels whose webhooks are queued into the inbox, by channel.
std::map<Channel, std::unique_ptr<ChannelAdapter>> MakeChannelAdapters();

}  // namespace genesis::bot
