// List paging of the bot manager: opaque page tokens (common/base/paging.h) that
// walk a list to its end and are refused by another list or another scope.
#include <gtest/gtest.h>

#include "common/base/status.h"
#include "services/bot_manager/bot_manager.h"
#include "services/bot_manager/tests/fake_store.h"

namespace genesis::bot {
namespace {

class BotPagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BotManagerOptions options;
    options.clock = &clock_;
    logic_ = std::make_unique<BotManager>(
        std::make_unique<testing::FakeBotStore>(&clock_),
        std::make_unique<testing::MapContextCache>(&cache_),
        std::make_unique<testing::ScriptedModel>(&model_),
        std::make_unique<testing::RecordingSender>(&sender_),
        [](const std::string&) -> std::optional<std::string> { return "secret"; }, options);
    for (const char* id : {"alfa", "bravo", "charlie", "delta", "echo"}) {
      BotConfig b;
      b.channel = Channel::kTelegram;
      b.webhook_secret_env = "TG_SECRET";
      b.access_token_env = "TG_TOKEN";
      ASSERT_TRUE(logic_->CreateBot(id, b, ctx_).ok());
    }
  }

  ManualClock clock_{absl::FromUnixSeconds(1770000000)};
  CallContext ctx_ = CallContext::Background();
  testing::MapContextCache::Shared cache_;
  testing::ScriptedModel::Shared model_;
  testing::RecordingSender::Shared sender_;
  std::unique_ptr<BotManager> logic_;
};

TEST_F(BotPagingTest, BotPagesWalkTheListOnceWithOpaqueTokens) {
  std::vector<std::string> seen;
  std::string token;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = logic_->ListBots(2, token, ctx_);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& b : page->values) seen.push_back(b.id);
    if (page->next_page_token.empty()) break;
    EXPECT_EQ(page->next_page_token.find(page->values.back().id), std::string::npos)
        << "the token is opaque";
    token = page->next_page_token;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"alfa", "bravo", "charlie", "delta", "echo"}));
}

TEST_F(BotPagingTest, ATokenOfAnotherListOrScopeIsRefused) {
  auto bots = logic_->ListBots(1, "", ctx_);
  ASSERT_TRUE(bots.ok());
  ASSERT_FALSE(bots->next_page_token.empty());
  // A bot id is not a token.
  EXPECT_EQ(logic_->ListBots(1, "bravo", ctx_).status().code(), absl::StatusCode::kInvalidArgument);
  // The bots' token is not the hand-off queue's nor a bot's inbox's.
  auto queue = logic_->ListHandoffQueue(1, bots->next_page_token, ctx_);
  EXPECT_EQ(queue.status().code(), absl::StatusCode::kInvalidArgument);
  const auto fields = FieldViolationsOf(queue.status());
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].first, "page_token");
  EXPECT_EQ(logic_->ListInbox("bots/alfa", 1, bots->next_page_token, ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Nor is an offset.
  EXPECT_EQ(logic_->ListConversations("bots/alfa", "", 1, "1", ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace genesis::bot
