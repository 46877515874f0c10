// The storage the bot manager needs: the stores of its components in one
// (the facade, tests and PgBotStore implement them together). PgBotStore
// (pg_store.h) is the real one. Thread-safe.
#pragma once

#include "services/bot_manager/conversations/conversation_store.h"
#include "services/bot_manager/pipeline/pipeline_store.h"
#include "services/bot_manager/registry/registry_store.h"

namespace genesis::bot {

class BotStore : public BotRegistryStore, public ReplyPipelineStore, public ConversationStore {
 public:
  ~BotStore() override = default;
};

}  // namespace genesis::bot
