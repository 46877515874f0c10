// The bot registry: bots' configurations (create, read, list, update with
// field mask and etag, delete) and the short-lived cache of them that the
// webhook and reply paths read (bot_cache_ttl). Storage: BotRegistryStore.
//
// Errors: INVALID_ARGUMENT with field violations (names, settings, page
// size and token), NOT_FOUND, ALREADY_EXISTS for a taken id, ABORTED for a
// stale etag, UNAVAILABLE / DEADLINE_EXCEEDED from storage. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/paging.h"
#include "common/rpc/call_context.h"
#include "services/bot_manager/model.h"
#include "services/bot_manager/options.h"
#include "services/bot_manager/registry/registry_store.h"

namespace genesis::bot {

// The bot's problems as field violations under `prefix` (e.g. "bot.").
absl::Status ValidateBot(const BotConfig& bot, const std::string& prefix);

class BotRegistry {
 public:
  BotRegistry(BotRegistryStore* store, const BotManagerOptions& options);

  // `request_id` may be empty (CreateBotRequest.request_id).
  absl::StatusOr<BotConfig> CreateBot(const std::string& bot_id, BotConfig bot,
                                      const std::string& request_id, const CallContext& ctx);
  absl::StatusOr<BotConfig> GetBot(const std::string& name, const CallContext& ctx);
  absl::StatusOr<Page<BotConfig>> ListBots(int page_size, const std::string& page_token,
                                           const CallContext& ctx);
  // `bot.id` comes from `name`. `mask`: field names of Bot (empty: caller resolved).
  absl::StatusOr<BotConfig> UpdateBot(const std::string& name, const BotConfig& bot,
                                      const std::vector<std::string>& mask, const std::string& etag,
                                      const CallContext& ctx);
  absl::Status DeleteBot(const std::string& name, const CallContext& ctx);

  // A bot's configuration by id, reused for bot_cache_ttl (the hot paths).
  absl::StatusOr<BotConfig> Cached(const std::string& id, const CallContext& ctx);
  // A bot's configuration by id as stored now.
  absl::StatusOr<BotConfig> Read(const std::string& id, const CallContext& ctx) {
    return store_->GetBot(id, ctx);
  }
  absl::Status Ping(const CallContext& ctx) { return store_->Ping(ctx); }

 private:
  void Forget(const std::string& id);

  BotRegistryStore* const store_;
  const BotManagerOptions options_;
  std::mutex mu_;
  std::map<std::string, std::pair<BotConfig, absl::Time>> cache_;
};

}  // namespace genesis::bot
