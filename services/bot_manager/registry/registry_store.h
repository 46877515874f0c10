// The bot registry's storage: bot configurations (registry/bot_registry.h).
// PgBotStore (pg_store.h) is the real one.
//
// Every method runs in one transaction and returns the most specific status:
// NOT_FOUND for a missing row, ALREADY_EXISTS for a taken id, ABORTED for a
// stale version, FAILED_PRECONDITION when the state forbids the change,
// RESOURCE_EXHAUSTED for a spent daily limit, UNAVAILABLE or
// DEADLINE_EXCEEDED when the database cannot answer in time. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/request_key.h"
#include "common/rpc/call_context.h"
#include "services/bot_manager/model.h"

namespace genesis::bot {

class BotRegistryStore {
 public:
  virtual ~BotRegistryStore() = default;

  // ALREADY_EXISTS when the id is taken. With a key: when a bot still stored
  // was created with the key and the same hash, returns it instead; with
  // another hash, ALREADY_EXISTS (REQUEST_ID_REUSED).
  virtual absl::StatusOr<BotConfig> CreateBot(const BotConfig& bot,
                                              const std::optional<RequestKey>& key,
                                              const CallContext& ctx) = 0;
  absl::StatusOr<BotConfig> CreateBot(const BotConfig& bot, const CallContext& ctx) {
    return CreateBot(bot, std::nullopt, ctx);
  }
  virtual absl::StatusOr<BotConfig> GetBot(const std::string& id, const CallContext& ctx) = 0;
  // Bots with id > after_id in id order, at most `limit`.
  virtual absl::StatusOr<std::vector<BotConfig>> ListBots(const std::string& after_id, int limit,
                                                          const CallContext& ctx) = 0;
  // Replaces the configuration when the stored version is `expected_version`.
  virtual absl::StatusOr<BotConfig> UpdateBot(const BotConfig& bot, int64_t expected_version,
                                              const CallContext& ctx) = 0;
  virtual absl::Status DeleteBot(const std::string& id, const CallContext& ctx) = 0;

  // Whether the database answers (readiness probes).
  virtual absl::Status Ping(const CallContext& ctx) = 0;
};

}  // namespace genesis::bot
