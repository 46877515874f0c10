// The fixture of the bot manager's unit tests: the facade on in-memory fakes
// (fake_store.h), an injected clock, signed WhatsApp webhooks, and a drain
// of the inbox and outbox until neither has work.
#pragma once

#include "services/bot_manager/bot_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <condition_variable>
#include <sstream>
#include <thread>

#include "absl/time/civil_time.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"
#include "services/bot_manager/channel_client.h"
#include "services/bot_manager/channels/mattermost/mattermost.h"
#include "services/bot_manager/channels/telegram/telegram.h"
#include "services/bot_manager/channels/webhook_util.h"
#include "services/bot_manager/channels/whatsapp/whatsapp.h"
#include "services/bot_manager/simulator/simulator.h"
#include "services/bot_manager/tests/fake_store.h"

namespace genesis::bot {

inline std::vector<std::string> Fields(const absl::Status& st) {
  std::vector<std::string> out;
  for (const auto& [field, desc] : FieldViolationsOf(st)) out.push_back(field);
  return out;
}

class BotManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(BotManagerOptions{}); }

  void Build(BotManagerOptions options) {
    options.clock = &clock_;
    options.max_send_pacing = absl::ZeroDuration();  // the injected clock does not move in a sleep
    registry_ = std::make_unique<MetricsRegistry>();
    auto store = std::make_unique<testing::FakeBotStore>(&clock_);
    store_ = store.get();
    logic_ = std::make_unique<BotManager>(
        std::move(store), std::make_unique<testing::MapContextCache>(&cache_),
        std::make_unique<testing::ScriptedModel>(&model_),
        std::make_unique<testing::RecordingSender>(&sender_),
        [this](const std::string& name) -> std::optional<std::string> {
          auto it = env_.find(name);
          if (it == env_.end()) return std::nullopt;
          return it->second;
        },
        options, metrics_ = BotMetrics::Register(registry_.get()));
  }

  // The value of one counter of a labelled family.
  static double Count(Family<Counter>* family, const std::vector<std::string>& labels) {
    return family->WithLabels(labels).Value();
  }

  BotConfig WhatsAppBot() {
    BotConfig b;
    b.channel = Channel::kWhatsApp;
    b.webhook_secret_env = "WA_SECRET";
    b.access_token_env = "WA_TOKEN";
    b.verify_token_env = "WA_VERIFY";
    b.phone_number_id = "100200300";
    return b;
  }

  void CreateWa(BotConfig b = {}) {
    if (b.webhook_secret_env.empty()) b = WhatsAppBot();
    auto created = logic_->CreateBot("wa", b, ctx_);
    ASSERT_TRUE(created.ok()) << created.status();
  }

  // A signed WhatsApp webhook from `from` with `text`, id wamid.<n>.
  absl::StatusOr<WebhookResult> Receive(const std::string& from, const std::string& text, int n,
                                        const std::string& secret = "app-secret") {
    auto hook =
        sim::BuildWebhook("whatsapp", secret, from, "100200300", text, absl::StrCat("wamid.", n));
    if (!hook.ok()) return hook.status();
    WebhookRequest req;
    req.bot = "wa";
    req.body = hook->body;
    req.content_type = "application/json";
    req.headers["x-hub-signature-256"] = hook->headers[0].substr(hook->headers[0].find(' ') + 1);
    return logic_->ReceiveWebhook(Channel::kWhatsApp, req, ctx_);
  }

  // Processes inbox and outbox until neither has work.
  void Drain() {
    for (int i = 0; i < 20; ++i) {
      auto a = logic_->ProcessInbox(ctx_);
      auto b = logic_->SendOutbox(ctx_);
      ASSERT_TRUE(a.ok() && b.ok());
      if (*a == 0 && *b == 0) return;
    }
  }

  std::vector<std::string> SentTexts() {
    std::lock_guard<std::mutex> l(sender_.mu);
    std::vector<std::string> out;
    for (const auto& r : sender_.sent) out.push_back(r.text);
    return out;
  }

  Conversation ConvOf(const std::string& contact) {
    for (const auto& c : store_->Conversations()) {
      if (c.contact == contact) return c;
    }
    ADD_FAILURE() << "no conversation of " << contact;
    return {};
  }

  ManualClock clock_{
      absl::FromCivil(absl::CivilSecond(2026, 3, 10, 15, 0, 0), absl::UTCTimeZone())};
  CallContext ctx_ = CallContext::Background();
  std::map<std::string, std::string> env_ = {
      {"WA_SECRET", "app-secret"}, {"WA_TOKEN", "token"}, {"WA_VERIFY", "verify"}};
  testing::FakeBotStore* store_ = nullptr;
  testing::MapContextCache::Shared cache_;
  testing::ScriptedModel::Shared model_;
  testing::RecordingSender::Shared sender_;
  std::unique_ptr<MetricsRegistry> registry_;
  BotMetrics metrics_;
  std::unique_ptr<BotManager> logic_;
};

}  // namespace genesis::bot
