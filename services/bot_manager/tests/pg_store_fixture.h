// The fixture of the bot manager's storage tests on real PostgreSQL (label
// `pg`): a fresh database per test with the bot manager's migrations,
// PgBotStore under the facade, two bots (wa, tg).
#pragma once

#include "services/bot_manager/pg_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <functional>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/base/text.h"
#include "services/bot_manager/channels/mattermost/mattermost.h"
#include "services/bot_manager/channels/telegram/telegram.h"
#include "services/bot_manager/channels/webhook_util.h"
#include "services/bot_manager/channels/whatsapp/whatsapp.h"

#include "absl/time/civil_time.h"
#include "common/storage/migrations.h"
#include "services/bot_manager/bot_manager.h"
#include "services/bot_manager/context_cache.h"
#include "services/bot_manager/tests/fake_store.h"
#include "tests/testing/test_database.h"

namespace genesis {
std::vector<Migration> BotManagerMigrations();
}

namespace genesis::bot {

class BotPgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = genesis::testing::TestDatabase::Create();
    if (!db_) GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set (scripts/test.sh sets it)";
    ASSERT_TRUE(ApplyMigrations(db_->dsn(), "bot_manager", BotManagerMigrations()).ok());
    PgPoolOptions options;
    options.dsn = db_->dsn();
    options.size = 4;
    pool_ = std::make_unique<PgPool>(options, nullptr);
    auto store = std::make_unique<PgBotStore>(pool_.get());
    store_ = store.get();
    BotManagerOptions o;
    o.clock = &clock_;
    logic_ = std::make_unique<BotManager>(
        std::move(store), nullptr, std::make_unique<bot::testing::ScriptedModel>(&model_),
        std::make_unique<bot::testing::RecordingSender>(&sender_),
        [](const std::string&) -> std::optional<std::string> { return "secret"; }, o);
    for (const char* id : {"wa", "tg"}) {
      BotConfig b;
      b.id = id;
      b.channel = std::string(id) == "wa" ? Channel::kWhatsApp : Channel::kTelegram;
      b.webhook_secret_env = "S";
      b.access_token_env = "T";
      b.verify_token_env = "V";
      b.phone_number_id = "1";
      b.proactive_daily_limit = 2;
      ASSERT_TRUE(store_->CreateBot(b, ctx_).ok());
    }
  }

  // Answers and sends until nothing is left (a claim takes one message per conversation).
  void ProcessAll() {
    for (int i = 0; i < 20; ++i) {
      auto in = logic_->ProcessInbox(ctx_);
      auto out = logic_->SendOutbox(ctx_);
      ASSERT_TRUE(in.ok() && out.ok());
      if (*in == 0 && *out == 0) return;
    }
  }

  int64_t Count(const std::string& sql) {
    pqxx::connection c(db_->dsn());
    pqxx::nontransaction tx(c);
    return tx.exec(sql)[0][0].as<int64_t>();
  }
  void Exec(const std::string& sql) {
    pqxx::connection c(db_->dsn());
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  }

  static WebhookEvents Messages(const std::string& contact, std::vector<std::string> ids) {
    WebhookEvents e;
    for (const auto& id : ids) e.messages.push_back({id, contact, contact, "texto " + id});
    return e;
  }

  std::unique_ptr<genesis::testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  PgBotStore* store_ = nullptr;
  std::unique_ptr<BotManager> logic_;
  bot::testing::ScriptedModel::Shared model_;
  bot::testing::RecordingSender::Shared sender_;
  ManualClock clock_{absl::Now()};
  CallContext ctx_ = CallContext::Background();
};

}  // namespace genesis::bot
