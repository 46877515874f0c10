// The channels this service receives webhooks from: one line per channel.
#include "services/bot_manager/channels/channel_adapter.h"
#include "services/bot_manager/channels/mattermost/mattermost.h"
#include "services/bot_manager/channels/telegram/telegram.h"
#include "services/bot_manager/channels/whatsapp/whatsapp.h"

namespace genesis::bot {

std::map<Channel, std::unique_ptr<ChannelAdapter>> MakeChannelAdapters() {
  std::map<Channel, std::unique_ptr<ChannelAdapter>> adapters;
  adapters[Channel::kWhatsApp] = std::make_unique<WhatsAppAdapter>();
  adapters[Channel::kTelegram] = std::make_unique<TelegramAdapter>();
  adapters[Channel::kMattermost] = std::make_unique<MattermostAdapter>();
  return adapters;
}

}  // namespace genesis::bot
