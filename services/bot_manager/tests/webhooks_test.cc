#include "services/bot_manager/channels/mattermost/mattermost.h"
#include "services/bot_manager/channels/telegram/telegram.h"
#include "services/bot_manager/channels/webhook_util.h"
#include "services/bot_manager/channels/whatsapp/whatsapp.h"

#include <gtest/gtest.h>

#include "common/base/status.h"
#include "services/bot_manager/bot_manager.h"
#include "services/bot_manager/simulator/simulator.h"

namespace genesis::bot {
namespace {

TEST(Signature, WhatsAppAcceptsOnlyTheRightHmac) {
  const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
  const std::string good = "sha256=" + HmacSha256Hex("app-secret", body);
  EXPECT_TRUE(VerifyWhatsAppSignature("app-secret", body, good).ok());
  EXPECT_EQ(VerifyWhatsAppSignature("other", body, good).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyWhatsAppSignature("app-secret", body + " ", good).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyWhatsAppSignature("app-secret", body, "").code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyWhatsAppSignature("app-secret", body, HmacSha256Hex("app-secret", body)).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(Signature, KnownHmacVector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Signature, TokensCompareExactly) {
  EXPECT_TRUE(VerifyToken("s3cret", "s3cret", "token").ok());
  EXPECT_EQ(VerifyToken("s3cret", "s3cre", "token").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyToken("s3cret", "", "token").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
}

TEST(ParseWhatsApp, MessagesAndStatuses) {
  auto hook = sim::BuildWebhook("whatsapp", "k", "5511999990000", "1234", "olá", "wamid.A1");
  ASSERT_TRUE(hook.ok());
  auto events = ParseWhatsApp(hook->body);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->messages.size(), 1u);
  EXPECT_EQ(events->messages[0].external_id, "wamid.A1");
  EXPECT_EQ(events->messages[0].contact, "5511999990000");
  EXPECT_EQ(events->messages[0].reply_to, "5511999990000");
  EXPECT_EQ(events->messages[0].text, "olá");

  auto statuses = ParseWhatsApp(
      R"({"entry":[{"changes":[{"value":{"statuses":[{"id":"wamid.S","status":"read"}]}}]}]})");
  ASSERT_TRUE(statuses.ok());
  ASSERT_EQ(statuses->statuses.size(), 1u);
  EXPECT_EQ(statuses->statuses[0].status, "read");
}

TEST(ParseWhatsApp, MalformedIsInvalidArgument) {
  for (const char* body : {"not json", "[]", R"({"entry": 3})",
                           R"({"entry":[{"changes":[{"value":{"messages":[{"from":"1"}]}}]}]})",
                           R"({"entry":[{"changes":[{"value":{"statuses":[{"id":"x",
                              "status":"weird"}]}}]}]})"}) {
    EXPECT_EQ(ParseWhatsApp(body).status().code(), absl::StatusCode::kInvalidArgument) << body;
  }
}

TEST(ParseTelegram, TextMessage) {
  auto events = ParseTelegram(
      R"({"update_id": 42, "message": {"from": {"id": 7}, "chat": {"id": -100}, "text": "oi"}})");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->messages.size(), 1u);
  EXPECT_EQ(events->messages[0].external_id, "42");
  EXPECT_EQ(events->messages[0].contact, "7");
  EXPECT_EQ(events->messages[0].reply_to, "-100");
  EXPECT_EQ(ParseTelegram(R"({"message": {}})").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto sticker = ParseTelegram(R"({"update_id": 43, "message": {"chat": {"id": 1}}})");
  ASSERT_TRUE(sticker.ok());
  EXPECT_TRUE(sticker->messages.empty());
}

TEST(ParseMattermost, FormAndJsonWithTriggerWord) {
  std::string token;
  auto form = ParseMattermost(
      "token=tok&channel_id=c1&user_id=u1&post_id=p1&trigger_word=%40genesis&"
      "text=%40genesis+qual+o+status+da+sprint%3F",
      "application/x-www-form-urlencoded", &token);
  ASSERT_TRUE(form.ok()) << form.status();
  EXPECT_EQ(token, "tok");
  EXPECT_EQ(form->messages[0].text, "qual o status da sprint?");
  EXPECT_EQ(form->messages[0].reply_to, "c1");
  auto json = ParseMattermost(R"({"token":"t","channel_id":"c","user_id":"u","text":"x"})",
                              "application/json", &token);
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Rules, HandoffPhrases) {
  EXPECT_TRUE(IsHandoffRequest("Quero falar com um atendente"));
  EXPECT_TRUE(IsHandoffRequest("HUMAN please"));
  EXPECT_FALSE(IsHandoffRequest("qual o horário de hoje?"));
  EXPECT_TRUE(IsLowConfidence("[HANDOFF] não sei"));
}

TEST(Rules, TrimContextKeepsNewestWithinLimits) {
  std::vector<Message> m;
  for (int i = 0; i < 10; ++i) m.push_back({"contact", "", std::string(100, 'a' + i), {}});
  auto by_count = TrimContext(m, 3, 100000);
  ASSERT_EQ(by_count.size(), 3u);
  EXPECT_EQ(by_count.back().text[0], 'j');
  auto by_bytes = TrimContext(m, 100, 250);
  EXPECT_EQ(by_bytes.size(), 2u);
  auto huge = TrimContext({{"contact", "", std::string(5000, 'x'), {}}}, 5, 10);
  EXPECT_EQ(huge.size(), 1u);  // the newest always stays
}

TEST(Rules, QuietHoursWrapMidnight) {
  QuietHours q{22, 8, "America/Sao_Paulo"};
  absl::TimeZone tz;
  ASSERT_TRUE(absl::LoadTimeZone("America/Sao_Paulo", &tz));
  absl::Time late = absl::FromCivil(absl::CivilSecond(2026, 3, 10, 23, 30, 0), tz);
  auto send = EarliestSend(late, q);
  ASSERT_TRUE(send.ok());
  EXPECT_EQ(*send, absl::FromCivil(absl::CivilSecond(2026, 3, 11, 8, 0, 0), tz));
  absl::Time early = absl::FromCivil(absl::CivilSecond(2026, 3, 11, 3, 0, 0), tz);
  EXPECT_EQ(*EarliestSend(early, q), absl::FromCivil(absl::CivilSecond(2026, 3, 11, 8, 0, 0), tz));
  absl::Time noon = absl::FromCivil(absl::CivilSecond(2026, 3, 11, 12, 0, 0), tz);
  EXPECT_EQ(*EarliestSend(noon, q), noon);
  EXPECT_EQ(LocalDay(late, q), "2026-03-10");
}

TEST(Rules, BotValidationNamesFields) {
  BotConfig b;
  b.channel = Channel::kWhatsApp;
  b.task_type = "poetry";
  b.max_context_messages = 0;
  auto st = ValidateBot(b, "bot.");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  std::string all(st.message());
  for (const char* f :
       {"bot.task_type", "bot.webhook_secret_env", "bot.access_token_env", "bot.verify_token_env",
        "bot.phone_number_id", "bot.max_context_messages"}) {
    EXPECT_NE(all.find(f), std::string::npos) << f << " in " << all;
  }
}

TEST(ParseStorable, NulAndInvalidUtf8InATextAreReplacedNotRefused) {
  const std::string fffd = "\xEF\xBF\xBD";
  auto tg = ParseTelegram(
      R"({"update_id": 9, "message": {"from": {"id": 7}, "chat": {"id": 7}, "text": "a\u0000b"}})");
  ASSERT_TRUE(tg.ok()) << tg.status();
  EXPECT_EQ(tg->messages[0].text, "a" + fffd + "b");
  std::string token;
  auto mm = ParseMattermost("token=t&channel_id=c&user_id=u&post_id=p&text=oi%00x%FF",
                            "application/x-www-form-urlencoded", &token);
  ASSERT_TRUE(mm.ok()) << mm.status();
  EXPECT_EQ(mm->messages[0].text, "oi" + fffd + "x" + fffd);
  // A raw invalid byte in a JSON body does not refuse the whole body.
  auto wa = ParseWhatsApp(
      "{\"entry\":[{\"changes\":[{\"value\":{\"messages\":[{\"id\":\"w1\",\"from\":\"55\","
      "\"type\":\"text\",\"text\":{\"body\":\"ol\xE1\"}}]}}]}]}");
  ASSERT_TRUE(wa.ok()) << wa.status();
  EXPECT_EQ(wa->messages[0].text, "ol" + fffd);
}

TEST(ParseStorable, AnIdThatIsNotStorableTextRefusesThatDeliveryAlone) {
  std::string token;
  auto mm = ParseMattermost("token=t&channel_id=c&user_id=u%00x&post_id=p&text=oi",
                            "application/x-www-form-urlencoded", &token);
  EXPECT_EQ(mm.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mm.status().message(),
            "the Mattermost sender id must not contain NUL characters (U+0000)");
  auto tg = ParseTelegram(
      R"({"update_id": 9, "message": {"from": {"id": "7\u0000"}, "chat": {"id": 7}, "text": "a"}})");
  EXPECT_EQ(tg.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Rules, BotTextFieldsMustBeStorable) {
  using namespace std::string_literals;
  BotConfig b;
  b.channel = Channel::kTelegram;
  b.webhook_secret_env = "S";
  b.access_token_env = "T";
  b.display_name = "Sup\0orte"s;
  b.system_prompt = "Voc\xEA";
  b.quiet_hours.time_zone = "America/Sao_Paulo\0x"s;
  auto st = ValidateBot(b, "bot.");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& [field, why] : FieldViolationsOf(st)) fields.push_back(field);
  EXPECT_EQ(fields, (std::vector<std::string>{"bot.display_name", "bot.system_prompt",
                                              "bot.quiet_hours.time_zone"}));
}

}  // namespace
}  // namespace genesis::bot
