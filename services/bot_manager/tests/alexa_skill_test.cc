// The bot manager's Alexa requests (channels/alexa/alexa_skill.h), on the
// in-memory fakes: answered at once, the turn recorded, refusals storing
// nothing.
#include "services/bot_manager/channels/alexa/alexa_skill.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "common/base/status.h"
#include "services/bot_manager/bot_manager.h"
#include "services/bot_manager/channel_client.h"
#include "services/bot_manager/simulator/alexa_signer.h"
#include "services/bot_manager/simulator/simulator.h"
#include "services/bot_manager/tests/alexa_test_util.h"
#include "services/bot_manager/tests/fake_store.h"

namespace genesis::bot {
namespace {

using sim::AlexaRequestSpec;
using sim::AlexaSigner;
using sim::AlexaSignerOptions;

// --- the bot manager's Alexa requests, on the in-memory fakes

class AlexaBotTest : public ::testing::Test {
 protected:
  static constexpr char kSkill[] = "amzn1.ask.skill.test";
  static constexpr char kUser[] = "amzn1.ask.account.U1";

  void SetUp() override {
    verifier_ = VerifierFor(GoodSigner().chain_pem(), GoodSigner().ca_pem());
    BotManagerOptions options;
    options.clock = &clock_;
    options.alexa_verifier = verifier_.get();
    options.alexa_answer_grace = absl::Seconds(60);
    auto store = std::make_unique<testing::FakeBotStore>(&clock_);
    store_ = store.get();
    logic_ = std::make_unique<BotManager>(
        std::move(store), std::make_unique<testing::MapContextCache>(&cache_),
        std::make_unique<testing::ScriptedModel>(&model_),
        std::make_unique<testing::RecordingSender>(&sender_),
        [](const std::string&) -> std::optional<std::string> { return std::nullopt; }, options);
    BotConfig bot;
    bot.channel = Channel::kAlexa;
    bot.alexa_skill_id = kSkill;
    bot.system_prompt = "Você é o assistente da Urbana.";
    ASSERT_TRUE(logic_->CreateBot("voz", bot, ctx_).ok());
  }

  // A request signed by the good signer (headers as the gateway forwards them).
  WebhookRequest Signed(AlexaRequestSpec spec) {
    if (spec.application_id.empty()) spec.application_id = kSkill;
    spec.user_id = kUser;
    spec.timestamp = clock_.Now();
    WebhookRequest req;
    req.bot = "voz";
    req.body = sim::BuildAlexaRequest(spec);
    req.content_type = "application/json";
    req.headers["signature-256"] = GoodSigner().Sign(req.body);
    req.headers["signaturecertchainurl"] = kUrl;
    return req;
  }
  WebhookRequest Ask(const std::string& words, const std::string& id) {
    AlexaRequestSpec spec;
    spec.text = words;
    spec.request_id = id;
    return Signed(spec);
  }

  std::vector<Message> History() {
    auto convs = store_->Conversations();
    if (convs.empty()) return {};
    auto conv =
        logic_->GetConversation(absl::StrCat("bots/voz/conversations/", convs[0].id), 50, ctx_);
    EXPECT_TRUE(conv.ok()) << conv.status();
    return conv.ok() ? conv->messages : std::vector<Message>{};
  }

  static nlohmann::json Json(const absl::StatusOr<std::string>& answer) {
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.ok() ? nlohmann::json::parse(*answer) : nlohmann::json::object();
  }

  ManualClock clock_{absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))};
  CallContext ctx_ = CallContext::Background();
  std::unique_ptr<AlexaVerifier> verifier_;
  testing::FakeBotStore* store_ = nullptr;
  testing::MapContextCache::Shared cache_;
  testing::ScriptedModel::Shared model_;
  testing::RecordingSender::Shared sender_;
  std::unique_ptr<BotManager> logic_;
};

TEST_F(AlexaBotTest, AnswersAnIntentAtOnceAndRecordsTheTurn) {
  auto j = Json(logic_->ReceiveAlexa(Ask("qual o horário?", "r1"), ctx_));
  EXPECT_EQ(j["response"]["outputSpeech"]["text"], "echo: qual o horário?");
  EXPECT_EQ(j["response"]["shouldEndSession"], false);
  auto inbox = store_->Inbox();
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].row.channel, "alexa");
  EXPECT_EQ(inbox[0].row.contact, kUser);
  EXPECT_EQ(inbox[0].row.state, "done");
  auto history = History();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].author, "contact");
  EXPECT_EQ(history[0].text, "qual o horário?");
  EXPECT_EQ(history[1].author, "bot");
  EXPECT_EQ(history[1].text, "echo: qual o horário?");
  // The answer was spoken: the sender records it as sent without calling the channel.
  ASSERT_TRUE(logic_->SendOutbox(ctx_).ok());
  auto outbox = store_->Outbox();
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].row.state, "sent");
  EXPECT_TRUE(sender_.sent.empty());
}

TEST_F(AlexaBotTest, TheModelSeesTheEarlierTurns) {
  ASSERT_TRUE(logic_->ReceiveAlexa(Ask("primeira", "r1"), ctx_).ok());
  ASSERT_TRUE(logic_->ReceiveAlexa(Ask("segunda", "r2"), ctx_).ok());
  ASSERT_EQ(model_.calls.size(), 2u);
  const auto& context = model_.calls[1];
  ASSERT_EQ(context.size(), 3u);
  EXPECT_EQ(context[0].text, "primeira");
  EXPECT_EQ(context[1].text, "echo: primeira");
  EXPECT_EQ(context[2].text, "segunda");
}

TEST_F(AlexaBotTest, RefusalsStoreNothing) {
  WebhookRequest tampered = Ask("original", "r1");
  tampered.body.replace(tampered.body.find("original"), 8, "trocado!");
  EXPECT_EQ(logic_->ReceiveAlexa(tampered, ctx_).status().code(),
            absl::StatusCode::kUnauthenticated);
  WebhookRequest unsigned_request = Ask("oi", "r2");
  unsigned_request.headers.erase("signature-256");
  EXPECT_EQ(logic_->ReceiveAlexa(unsigned_request, ctx_).status().code(),
            absl::StatusCode::kUnauthenticated);
  AlexaRequestSpec other_skill;
  other_skill.application_id = "amzn1.ask.skill.other";
  other_skill.text = "oi";
  EXPECT_EQ(logic_->ReceiveAlexa(Signed(other_skill), ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
  WebhookRequest stale = Ask("oi", "r3");
  clock_.Advance(absl::Seconds(151));
  absl::Status st = logic_->ReceiveAlexa(stale, ctx_).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldViolationsOf(st)[0].first, ::testing::Eq("body.request.timestamp"));
  EXPECT_TRUE(store_->Inbox().empty());
  EXPECT_TRUE(model_.calls.empty());
}

TEST_F(AlexaBotTest, AReplayedRequestIdIsAnsweredOnce) {
  WebhookRequest req = Ask("oi", "r1");
  ASSERT_TRUE(logic_->ReceiveAlexa(req, ctx_).ok());
  EXPECT_EQ(logic_->ReceiveAlexa(req, ctx_).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(model_.calls.size(), 1u);
  EXPECT_EQ(History().size(), 2u);
}

TEST_F(AlexaBotTest, OnlyAlexaBotsTakeAlexaRequests) {
  BotConfig wa;
  wa.channel = Channel::kWhatsApp;
  wa.webhook_secret_env = "S";
  wa.access_token_env = "T";
  wa.verify_token_env = "V";
  wa.phone_number_id = "123";
  ASSERT_TRUE(logic_->CreateBot("wa", wa, ctx_).ok());
  WebhookRequest req = Ask("oi", "r1");
  req.bot = "wa";
  EXPECT_EQ(logic_->ReceiveAlexa(req, ctx_).status().code(), absl::StatusCode::kFailedPrecondition);
  req.bot = "nobody";
  EXPECT_EQ(logic_->ReceiveAlexa(req, ctx_).status().code(), absl::StatusCode::kNotFound);
  req.bot = "Not An Id";
  EXPECT_EQ(logic_->ReceiveAlexa(req, ctx_).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AlexaBotTest, LaunchStopAndSessionEnd) {
  AlexaRequestSpec launch;
  launch.type = "LaunchRequest";
  auto j = Json(logic_->ReceiveAlexa(Signed(launch), ctx_));
  EXPECT_FALSE(j["response"]["outputSpeech"]["text"].get<std::string>().empty());
  EXPECT_EQ(j["response"]["shouldEndSession"], false);
  AlexaRequestSpec stop;
  stop.intent = "AMAZON.StopIntent";
  stop.slot = "";
  j = Json(logic_->ReceiveAlexa(Signed(stop), ctx_));
  EXPECT_EQ(j["response"]["shouldEndSession"], true);
  AlexaRequestSpec ended;
  ended.type = "SessionEndedRequest";
  j = Json(logic_->ReceiveAlexa(Signed(ended), ctx_));
  EXPECT_EQ(j["response"], nlohmann::json::object());
  AlexaRequestSpec no_words;
  no_words.slot = "";
  j = Json(logic_->ReceiveAlexa(Signed(no_words), ctx_));
  EXPECT_EQ(j["response"]["shouldEndSession"], false);
  EXPECT_TRUE(store_->Inbox().empty());
  EXPECT_TRUE(model_.calls.empty());
}

TEST_F(AlexaBotTest, AModelFailureIsSpokenAndTheWordsRecorded) {
  model_.script = {absl::UnavailableError("router down")};
  auto j = Json(logic_->ReceiveAlexa(Ask("oi", "r1"), ctx_));
  EXPECT_THAT(j["response"]["outputSpeech"]["text"].get<std::string>(),
              ::testing::HasSubstr("Desculpe"));
  auto history = History();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].author, "contact");
  EXPECT_TRUE(store_->Outbox().empty());
  EXPECT_EQ(store_->Inbox()[0].row.state, "done");
}

TEST_F(AlexaBotTest, WorkersLeaveAnAlexaRowToItsRequestThenRecordIt) {
  // A request that stored its words and went away (crash) before answering.
  WebhookEvents events;
  events.messages.push_back({"r-lost", kUser, kUser, "alguém aí?"});
  ASSERT_TRUE(store_->Ingest("voz", "alexa", events, ctx_).ok());
  ASSERT_TRUE(logic_->ProcessInbox(ctx_).ok());
  EXPECT_EQ(store_->Inbox()[0].row.state, "pending");
  clock_.Advance(absl::Seconds(61));
  ASSERT_TRUE(logic_->ProcessInbox(ctx_).ok());
  EXPECT_EQ(store_->Inbox()[0].row.state, "done");
  EXPECT_TRUE(model_.calls.empty());  // nobody is listening any more: no answer
  EXPECT_TRUE(store_->Outbox().empty());
  EXPECT_EQ(History().size(), 1u);
}

TEST_F(AlexaBotTest, AlexaBotsNeedASkillIdAndNoSecrets) {
  BotConfig bot;
  bot.channel = Channel::kAlexa;
  absl::Status st = ValidateBot(bot, "bot.");
  std::vector<std::string> fields;
  for (auto& [f, d] : FieldViolationsOf(st)) fields.push_back(f);
  EXPECT_THAT(fields, ::testing::ElementsAre("bot.alexa_skill_id"));
  bot.alexa_skill_id = kSkill;
  EXPECT_TRUE(ValidateBot(bot, "bot.").ok());
  bot.channel = Channel::kTelegram;
  bot.webhook_secret_env = "S";
  bot.access_token_env = "T";
  st = ValidateBot(bot, "bot.");
  ASSERT_EQ(FieldViolationsOf(st).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(st)[0].first, "bot.alexa_skill_id");
}

TEST_F(AlexaBotTest, PeopleCannotWriteToAlexaUsers) {
  ASSERT_TRUE(logic_->ReceiveAlexa(Ask("oi", "r1"), ctx_).ok());
  const int64_t id = store_->Conversations()[0].id;
  ctx_.subject = "ana";
  EXPECT_EQ(
      logic_
          ->ReplyToConversation(absl::StrCat("bots/voz/conversations/", id), "ana", "Olá", "", ctx_)
          .status()
          .code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(logic_->CreateProactiveMessage("bots/voz", kUser, "Olá", "", ctx_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(AlexaBotTest, WhileAPersonHoldsTheConversationTheModelIsNotAsked) {
  ASSERT_TRUE(logic_->ReceiveAlexa(Ask("oi", "r1"), ctx_).ok());
  const int64_t id = store_->Conversations()[0].id;
  ASSERT_TRUE(
      logic_->ClaimConversation(absl::StrCat("bots/voz/conversations/", id), "ana", ctx_).ok());
  auto j = Json(logic_->ReceiveAlexa(Ask("ainda aí?", "r2"), ctx_));
  EXPECT_THAT(j["response"]["outputSpeech"]["text"].get<std::string>(),
              ::testing::HasSubstr("pessoa"));
  EXPECT_EQ(model_.calls.size(), 1u);
  auto history = History();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[2].text, "ainda aí?");
}

}  // namespace
}  // namespace genesis::bot
