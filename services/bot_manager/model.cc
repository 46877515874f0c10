#include "services/bot_manager/model.h"

namespace genesis::bot {

std::string ChannelName(Channel channel) {
  switch (channel) {
    case Channel::kWhatsApp:
      return "whatsapp";
    case Channel::kTelegram:
      return "telegram";
    case Channel::kMattermost:
      return "mattermost";
    case Channel::kAlexa:
      return "alexa";
  }
  return "whatsapp";
}

std::optional<Channel> ChannelFromName(std::string_view name) {
  if (name == "whatsapp") return Channel::kWhatsApp;
  if (name == "telegram") return Channel::kTelegram;
  if (name == "mattermost") return Channel::kMattermost;
  if (name == "alexa") return Channel::kAlexa;
  return std::nullopt;
}

}  // namespace genesis::bot
