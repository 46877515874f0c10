#include "services/bot_manager/bot_manager.h"

namespace genesis::bot {

BotManager::BotManager(std::unique_ptr<BotStore> store, std::unique_ptr<ContextCache> cache,
                       std::unique_ptr<ReplyModel> model, std::unique_ptr<ChannelSender> sender,
                       Secrets secrets, BotManagerOptions options, BotMetrics metrics)
    : store_(std::move(store)),
      context_(cache ? std::move(cache) : std::make_unique<NoContextCache>()),
      model_(std::move(model)),
      sender_(std::move(sender)),
      options_(std::move(options)),
      registry_(store_.get(), options_),
      conversation_cache_(store_.get(), options_.conversation_cache_ttl),
      pipeline_(store_.get(), &registry_, &conversation_cache_, context_.get(), model_.get(),
                sender_.get(), options_, metrics),
      ingestion_(&registry_, &pipeline_, std::move(secrets), metrics),
      alexa_(&registry_, store_.get(), &pipeline_, context_.get(), model_.get(), options_, metrics),
      conversations_(store_.get(), &registry_, &conversation_cache_, context_.get(), &pipeline_,
                     options_, metrics) {}

}  // namespace genesis::bot
