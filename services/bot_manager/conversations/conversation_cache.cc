#include "services/bot_manager/conversations/conversation_cache.h"

#include "absl/time/clock.h"
#include "common/base/status.h"

namespace genesis::bot {

absl::StatusOr<Conversation> ConversationCache::Get(const std::string& bot_id,
                                                    const std::string& contact,
                                                    const CallContext& ctx) {
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = convs_.find({bot_id, contact});
    if (it != convs_.end() && it->second.second > now) return it->second.first;
  }
  GENESIS_ASSIGN_OR_RETURN(Conversation c, store_->OpenConversation(bot_id, contact, ctx));
  Remember(c);
  return c;
}

void ConversationCache::Remember(const Conversation& c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (convs_.size() > 100000) convs_.clear();
  convs_[{c.bot_id, c.contact}] = {c, absl::Now() + ttl_};
}

void ConversationCache::Forget(const std::string& bot_id, const std::string& contact) {
  std::lock_guard<std::mutex> lock(mu_);
  convs_.erase({bot_id, contact});
}

}  // namespace genesis::bot
