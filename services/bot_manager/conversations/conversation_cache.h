// Each contact's conversation (id and state) as last seen by this process,
// reused for conversation_cache_ttl so that a worker answering a message does
// not read it every time. Completions, claims and releases refresh it; an
// erasure drops it. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/call_context.h"
#include "services/bot_manager/model.h"
#include "services/bot_manager/pipeline/pipeline_store.h"

namespace genesis::bot {

class ConversationCache {
 public:
  ConversationCache(ReplyPipelineStore* store, absl::Duration ttl) : store_(store), ttl_(ttl) {}

  // The conversation of (bot, contact): cached, else opened in the store
  // (created in state bot when new).
  absl::StatusOr<Conversation> Get(const std::string& bot_id, const std::string& contact,
                                   const CallContext& ctx);
  void Remember(const Conversation& c);
  void Forget(const std::string& bot_id, const std::string& contact);

 private:
  ReplyPipelineStore* const store_;
  const absl::Duration ttl_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::pair<Conversation, absl::Time>> convs_;
};

}  // namespace genesis::bot
