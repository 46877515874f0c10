// PgBotStore, the bot registry's part (registry_store.h): bots.
#include "services/bot_manager/pg_store.h"

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/storage/pg_array.h"
#include "services/bot_manager/pg_rows.h"

namespace genesis::bot {

using namespace pg;  // NOLINT: the row mapping of the bot manager's tables

absl::StatusOr<BotConfig> PgBotStore::CreateBot(const BotConfig& bot,
                                                const std::optional<RequestKey>& key,
                                                const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<BotConfig> {
    if (key) {
      auto prior = tx.exec_params("SELECT request_hash FROM bot_manager.bots WHERE request_id = $1",
                                  key->request_id);
      if (!prior.empty()) {
        if (prior[0][0].as<std::string>() != key->request_hash) {
          return RequestIdReused(key->request_id, "bot");
        }
        auto existing = tx.exec_params(
            absl::StrCat("SELECT ", kBotColumns, " FROM bot_manager.bots WHERE request_id = $1"),
            key->request_id);
        return BotOf(existing[0]);
      }
    }
    auto r = tx.exec_params(
        absl::StrCat("INSERT INTO bot_manager.bots (id, channel, config, request_id, request_hash) "
                     "VALUES ($1, $2, $3::jsonb, NULLIF($4, ''), NULLIF($5, '')) "
                     "ON CONFLICT (id) DO NOTHING RETURNING ",
                     kBotColumns),
        bot.id, ChannelName(bot.channel), BotJson(bot).dump(),
        key ? key->request_id : std::string(), key ? key->request_hash : std::string());
    if (r.empty()) {
      return WithReason(
          absl::AlreadyExistsError(absl::StrCat("bot 'bots/", bot.id, "' already exists")),
          reasons::kBotAlreadyExists, {{"bot", absl::StrCat("bots/", bot.id)}});
    }
    return BotOf(r[0]);
  });
}

absl::StatusOr<BotConfig> PgBotStore::GetBot(const std::string& id, const CallContext& ctx) {
  return pool_->ReadOnly(ctx.deadline,
                         [&](pqxx::read_transaction& tx) -> absl::StatusOr<BotConfig> {
                           auto r = tx.exec_params(absl::StrCat("SELECT ", kBotColumns,
                                                                " FROM bot_manager.bots "
                                                                "WHERE id = $1"),
                                                   id);
                           if (r.empty()) return BotNotFound(id);
                           return BotOf(r[0]);
                         });
}

absl::StatusOr<std::vector<BotConfig>> PgBotStore::ListBots(const std::string& after_id, int limit,
                                                            const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<BotConfig>> {
        auto r = tx.exec_params(absl::StrCat("SELECT ", kBotColumns,
                                             " FROM bot_manager.bots WHERE id > $1 "
                                             "ORDER BY id LIMIT $2"),
                                after_id, limit);
        std::vector<BotConfig> out;
        for (const auto& row : r) out.push_back(BotOf(row));
        return out;
      });
}

absl::StatusOr<BotConfig> PgBotStore::UpdateBot(const BotConfig& bot, int64_t expected_version,
                                                const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<BotConfig> {
    auto r = tx.exec_params(
        absl::StrCat("UPDATE bot_manager.bots SET config = $2::jsonb, version = version + 1, "
                     "update_time = now() WHERE id = $1 AND version = $3 RETURNING ",
                     kBotColumns),
        bot.id, BotJson(bot).dump(), expected_version);
    if (!r.empty()) return BotOf(r[0]);
    auto exists = tx.exec_params("SELECT 1 FROM bot_manager.bots WHERE id = $1", bot.id);
    if (exists.empty()) return BotNotFound(bot.id);
    return WithReason(absl::AbortedError(absl::StrCat(
                          "bot 'bots/", bot.id, "' was changed meanwhile; get it again and retry")),
                      reasons::kConcurrentModification, {{"bot", absl::StrCat("bots/", bot.id)}});
  });
}

absl::Status PgBotStore::DeleteBot(const std::string& id, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    // Outbox rows reference inbox rows and proactive messages: drop them first.
    tx.exec_params("DELETE FROM bot_manager.outbox WHERE bot_id = $1", id);
    auto r = tx.exec_params("DELETE FROM bot_manager.bots WHERE id = $1", id);
    if (r.affected_rows() == 0) return BotNotFound(id);
    return absl::OkStatus();
  });
}
}  // namespace genesis::bot
