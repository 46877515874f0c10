// Unit tests of the bot manager's API on in-memory fakes: webhooks stored
// only when verified, WhatsApp's verification, quiet hours and the proactive
// day, erasure and input validation.
#include "services/bot_manager/conversations/conversation_cache.h"
#include "services/bot_manager/tests/bot_manager_fixture.h"

namespace genesis::bot {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

// --- webhooks: nothing stored unless verified and well-formed

TEST_F(BotManagerTest, WebhooksAreStoredOnlyWhenVerified) {
  CreateWa();
  EXPECT_EQ(Receive("5511988887777", "oi", 1, "forged").status().code(),
            absl::StatusCode::kUnauthenticated);
  WebhookRequest unsigned_req;
  unsigned_req.bot = "wa";
  unsigned_req.body = R"({"entry":[]})";
  EXPECT_EQ(logic_->ReceiveWebhook(Channel::kWhatsApp, unsigned_req, ctx_).status().code(),
            absl::StatusCode::kUnauthenticated);
  WebhookRequest other = unsigned_req;
  other.bot = "nobody";
  EXPECT_EQ(logic_->ReceiveWebhook(Channel::kWhatsApp, other, ctx_).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(logic_->ReceiveWebhook(Channel::kTelegram, unsigned_req, ctx_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  const std::string bad = R"({"entry":[{"changes":[{"value":{"messages":[{"type":"text"}]}}]}]})";
  WebhookRequest malformed = unsigned_req;
  malformed.body = bad;
  malformed.headers["x-hub-signature-256"] = "sha256=" + HmacSha256Hex("app-secret", bad);
  auto st = logic_->ReceiveWebhook(Channel::kWhatsApp, malformed, ctx_).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(st), ElementsAre("body"));
  EXPECT_THAT(store_->Inbox(), IsEmpty());
  // The same message twice: stored once.
  EXPECT_EQ(Receive("5511988887777", "oi", 1)->accepted, 1);
  EXPECT_EQ(Receive("5511988887777", "oi", 1)->duplicates, 1);
  EXPECT_THAT(store_->Inbox(), SizeIs(1));
}

TEST_F(BotManagerTest, AnUnsetSecretIsAConfigurationProblemNotAnAuthFailure) {
  CreateWa();
  env_.erase("WA_SECRET");
  EXPECT_EQ(Receive("5511988887777", "oi", 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store_->Inbox(), IsEmpty());
}

TEST_F(BotManagerTest, WhatsAppVerificationEchoesTheChallenge) {
  CreateWa();
  auto ok = logic_->VerifyWhatsApp("wa", "subscribe", "verify", "1158201444", ctx_);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "1158201444");
  EXPECT_EQ(logic_->VerifyWhatsApp("wa", "subscribe", "wrong", "1", ctx_).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Fields(logic_->VerifyWhatsApp("wa", "unsubscribe", "verify", "1", ctx_).status()),
              ElementsAre("hub.mode"));
}

// --- quiet hours and the proactive day

absl::Time Utc(int y, int mo, int d, int h, int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone());
}

TEST(QuietHours, WithinOneDay) {
  QuietHours q{12, 14, ""};
  EXPECT_EQ(*EarliestSend(Utc(2026, 3, 10, 11, 59), q), Utc(2026, 3, 10, 11, 59));
  EXPECT_EQ(*EarliestSend(Utc(2026, 3, 10, 12, 0), q), Utc(2026, 3, 10, 14));
  EXPECT_EQ(*EarliestSend(Utc(2026, 3, 10, 13, 59), q), Utc(2026, 3, 10, 14));
  EXPECT_EQ(*EarliestSend(Utc(2026, 3, 10, 14, 0), q), Utc(2026, 3, 10, 14));
}

TEST(QuietHours, RangeCrossingMidnight) {
  QuietHours q{22, 7, ""};
  EXPECT_EQ(*EarliestSend(Utc(2026, 3, 10, 21, 30), q), Utc(2026, 3, 10, 21, 30));
  EXPECT_EQ(*EarliestSend(Utc(2026, 3, 10, 23, 30), q), Utc(2026, 3, 11, 7));
  EXPECT_EQ(*EarliestSend(Utc(2026, 3, 31, 22, 0), q), Utc(2026, 4, 1, 7));  // month end
  EXPECT_EQ(*EarliestSend(Utc(2026, 3, 11, 3, 0), q), Utc(2026, 3, 11, 7));
  EXPECT_EQ(*EarliestSend(Utc(2026, 3, 11, 7, 0), q), Utc(2026, 3, 11, 7));
}

TEST(QuietHours, InTheBotsTimeZoneAndNoneWhenStartEqualsEnd) {
  QuietHours sp{22, 7, "America/Sao_Paulo"};  // UTC-3
  // 01:30 UTC is 22:30 in São Paulo: wait for 07:00 there, 10:00 UTC.
  EXPECT_EQ(*EarliestSend(Utc(2026, 3, 11, 1, 30), sp), Utc(2026, 3, 11, 10));
  EXPECT_EQ(*EarliestSend(Utc(2026, 3, 11, 0, 30), sp), Utc(2026, 3, 11, 0, 30));
  EXPECT_EQ(*EarliestSend(Utc(2026, 3, 11, 3, 0), QuietHours{5, 5, ""}), Utc(2026, 3, 11, 3, 0));
  EXPECT_EQ(EarliestSend(absl::Now(), QuietHours{1, 2, "Mars/Olympus"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LocalDay(Utc(2026, 1, 1, 1, 0), sp), "2025-12-31");
  EXPECT_EQ(LocalDay(Utc(2026, 1, 1, 1, 0), QuietHours{}), "2026-01-01");
}

TEST_F(BotManagerTest, AProactiveMessageInQuietHoursIsQueuedForTheirEnd) {
  BotConfig b = WhatsAppBot();
  b.quiet_hours = {22, 7, "America/Sao_Paulo"};
  b.proactive_daily_limit = 3;
  CreateWa(b);
  clock_.Set(Utc(2026, 1, 1, 1, 30));  // 22:30 of Dec 31st in São Paulo
  (void)logic_->CreateProactiveMessage("bots/wa", "5511988887777", "Feliz ano novo", "", ctx_);
  auto calls = store_->proactive_calls();
  ASSERT_THAT(calls, SizeIs(1));
  EXPECT_EQ(calls[0].send_time, Utc(2026, 1, 1, 10));
  EXPECT_EQ(calls[0].day, "2025-12-31");  // the daily cap counts the bot's local day
  EXPECT_EQ(calls[0].daily_limit, 3);
  EXPECT_EQ(calls[0].recipient, "5511988887777");
}

// --- erasure

TEST_F(BotManagerTest, ErasureDeletesOneContactAndReportsCounts) {
  CreateWa();
  ASSERT_TRUE(Receive("5511988887777", "oi", 1).ok());
  ASSERT_TRUE(Receive("5511900000000", "olá", 2).ok());
  Drain();
  auto counts = logic_->EraseContact("bots/wa/contacts/5511988887777", ctx_);
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->messages, 2);
  EXPECT_EQ(counts->conversations, 1);
  EXPECT_EQ(counts->inbox, 1);
  EXPECT_EQ(counts->outbox, 1);
  EXPECT_EQ(counts->cache, 1);
  EXPECT_THAT(store_->Conversations(), SizeIs(1));
  std::lock_guard<std::mutex> l(cache_.mu);
  EXPECT_THAT(cache_.entries, SizeIs(1));
}

// --- input validation

TEST_F(BotManagerTest, CreateBotNamesEveryBadField) {
  BotConfig b;
  b.channel = Channel::kWhatsApp;
  b.task_type = "poetry";
  b.max_context_messages = 0;
  b.quiet_hours = {25, 7, "Nowhere/City"};
  auto st = logic_->CreateBot("Bad Id", b, ctx_).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(st),
              UnorderedElementsAre("bot_id", "bot.task_type", "bot.webhook_secret_env",
                                   "bot.access_token_env", "bot.verify_token_env",
                                   "bot.phone_number_id", "bot.max_context_messages",
                                   "bot.quiet_hours.start_hour", "bot.quiet_hours.time_zone"));
}

TEST_F(BotManagerTest, AnUnstorableTextDoesNotHideTheOtherViolations) {
  BotConfig b;
  b.channel = Channel::kWhatsApp;
  b.display_name = std::string("Sup") + std::string(1, '\0') + "orte";
  b.task_type = "poe\xc3";  // cut in the middle of a character
  b.max_context_messages = 0;
  auto st = logic_->CreateBot("wa", b, ctx_).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(st),
              UnorderedElementsAre("bot.display_name", "bot.task_type", "bot.webhook_secret_env",
                                   "bot.access_token_env", "bot.verify_token_env",
                                   "bot.phone_number_id", "bot.max_context_messages"));
  // The bad bytes are not echoed back by another rule.
  EXPECT_EQ(std::string(st.message()).find("poe\xc3"), std::string::npos) << st.message();
}

// Replicas share the store and each keeps its own cache of bots for the hot
// paths: a change made through one reaches another's cache once bot_cache_ttl
// has passed (the bound the README states), and the writer's own at once.
TEST_F(BotManagerTest, AnotherReplicasBotChangeReachesTheCacheWithinItsTtl) {
  CreateWa();
  BotManagerOptions options;
  options.bot_cache_ttl = absl::Milliseconds(200);
  BotRegistry writer(store_, options);
  BotRegistry reader(store_, options);
  auto before = reader.Cached("wa", ctx_);
  ASSERT_TRUE(before.ok()) << before.status();
  BotConfig change = WhatsAppBot();
  change.display_name = "Suporte 2";
  ASSERT_TRUE(writer.UpdateBot("bots/wa", change, {"display_name"}, "", ctx_).ok());
  EXPECT_EQ(writer.Cached("wa", ctx_)->display_name, "Suporte 2");
  absl::SleepFor(absl::Milliseconds(250));
  auto after = reader.Cached("wa", ctx_);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->display_name, "Suporte 2");
}

// The conversation cache of another replica over the same store: a person
// claiming the conversation through this replica reaches it within its TTL
// (services/bot_manager/README.md, "Caches across replicas"), not before the
// entry expires and never later.
TEST_F(BotManagerTest, AnotherReplicasClaimReachesTheConversationCacheWithinItsTtl) {
  CreateWa();
  ASSERT_TRUE(Receive("5511988887777", "oi", 1).ok());
  Drain();
  const absl::Duration ttl = absl::Milliseconds(300);
  ConversationCache other(store_, ttl);
  auto cached = other.Get("wa", "5511988887777", ctx_);
  ASSERT_TRUE(cached.ok()) << cached.status();
  const absl::Time cached_at = absl::Now();
  ASSERT_EQ(cached->state, kStateBot);
  const std::string name = absl::StrCat("bots/wa/conversations/", cached->id);
  ASSERT_TRUE(logic_->ClaimConversation(name, "ana", ctx_).ok());
  // Within the TTL the other replica may still see the old state (the bound
  // is a bound, not a promise of staleness: only checked when still early).
  auto early = other.Get("wa", "5511988887777", ctx_);
  ASSERT_TRUE(early.ok());
  if (absl::Now() - cached_at < ttl / 2) EXPECT_EQ(early->state, kStateBot);
  absl::SleepFor(ttl - (absl::Now() - cached_at) + absl::Milliseconds(50));
  auto after = other.Get("wa", "5511988887777", ctx_);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->state, kStateHandoffActive);
  EXPECT_EQ(after->agent, "ana");
}

TEST_F(BotManagerTest, UpdateBotChecksTheMaskAndTheResult) {
  CreateWa();
  BotConfig change = WhatsAppBot();
  change.quiet_hours = {21, 8, ""};
  change.display_name = "ignored";
  auto updated = logic_->UpdateBot("bots/wa", change, {"quiet_hours.start_hour"}, "", ctx_);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->quiet_hours.start_hour, 21);
  EXPECT_EQ(updated->quiet_hours.end_hour, 0);
  EXPECT_EQ(updated->display_name, "");
  EXPECT_THAT(Fields(logic_->UpdateBot("bots/wa", change, {"colour"}, "", ctx_).status()),
              ElementsAre("update_mask"));
  EXPECT_THAT(Fields(logic_->UpdateBot("bots/wa", change, {"channel"}, "", ctx_).status()),
              ElementsAre("update_mask"));
  change.max_reply_tokens = 1;
  EXPECT_THAT(Fields(logic_->UpdateBot("bots/wa", change, {"max_reply_tokens"}, "", ctx_).status()),
              ElementsAre("bot.max_reply_tokens"));
  EXPECT_EQ(logic_->UpdateBot("bots/wa", change, {"display_name"}, "\"1\"", ctx_).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(logic_->UpdateBot("bots/nobody", change, {"display_name"}, "", ctx_).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(BotManagerTest, CreateBotWithARequestIdIsSafeToRetry) {
  auto first = logic_->CreateBot("retry", WhatsAppBot(), "create-bot-1", ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = logic_->CreateBot("retry", WhatsAppBot(), "create-bot-1", ctx_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id, "retry");
  EXPECT_EQ(again->version, first->version);
  EXPECT_EQ(store_->BotCount(), 1u);
  BotConfig other = WhatsAppBot();
  other.display_name = "Someone else";
  auto reused = logic_->CreateBot("retry2", other, "create-bot-1", ctx_);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReasonOf(reused.status()), "REQUEST_ID_REUSED");
  EXPECT_THAT(
      Fields(logic_->CreateBot("long", WhatsAppBot(), std::string(129, 'x'), ctx_).status()),
      ElementsAre("request_id"));
}

// AIP-158: an oversized page_size is clamped to the maximum, on every list.
TEST_F(BotManagerTest, EveryListClampsAnOversizedPageSize) {
  CreateWa();
  const int huge = 1 << 30;
  auto bots = logic_->ListBots(huge, "", ctx_);
  ASSERT_TRUE(bots.ok()) << bots.status();
  EXPECT_EQ(bots->values.size(), 1u);
  EXPECT_TRUE(logic_->ListConversations("bots/wa", "", huge, "", ctx_).ok());
  EXPECT_TRUE(logic_->ListHandoffQueue(huge, "", ctx_).ok());
  EXPECT_TRUE(logic_->ListInbox("bots/wa", huge, "", ctx_).ok());
  EXPECT_TRUE(logic_->ListOutbox("bots/wa", huge, "", ctx_).ok());
}

// Each error names its specific reason (README.md, "Error reasons").
TEST_F(BotManagerTest, ErrorsNameTheirReason) {
  auto missing = logic_->GetBot("bots/nobody", ctx_);
  EXPECT_EQ(ReasonOf(missing.status()), "BOT_NOT_FOUND");
  EXPECT_EQ(ErrorInfoOf(missing.status())->metadata().at("bot"), "bots/nobody");
  CreateWa();
  EXPECT_EQ(ReasonOf(logic_->CreateBot("wa", WhatsAppBot(), ctx_).status()), "BOT_ALREADY_EXISTS");
  EXPECT_EQ(
      ReasonOf(
          logic_->UpdateBot("bots/wa", WhatsAppBot(), {"display_name"}, "\"7\"", ctx_).status()),
      "ETAG_MISMATCH");
  EXPECT_EQ(ReasonOf(logic_->GetConversation("bots/wa/conversations/42", 0, ctx_).status()),
            "CONVERSATION_NOT_FOUND");
}

TEST_F(BotManagerTest, BadNamesAndRequestsAreInvalidArguments) {
  CreateWa();
  EXPECT_THAT(Fields(logic_->GetBot("wa", ctx_).status()), ElementsAre("name"));
  EXPECT_THAT(Fields(logic_->GetConversation("bots/wa/conversations/x", 0, ctx_).status()),
              ElementsAre("name"));
  EXPECT_THAT(Fields(logic_->GetConversation("bots/wa/conversations/1", 900, ctx_).status()),
              ElementsAre("message_limit"));
  EXPECT_THAT(Fields(logic_->ListBots(-1, "", ctx_).status()), ElementsAre("page_size"));
  EXPECT_THAT(Fields(logic_->ListInbox("bots/wa", 10, "abc", ctx_).status()),
              ElementsAre("page_token"));
  EXPECT_THAT(Fields(logic_->CreateProactiveMessage("bots/wa", "", "  ", "", ctx_).status()),
              UnorderedElementsAre("proactive_message.recipient", "proactive_message.text"));
  EXPECT_THAT(Fields(logic_
                         ->ReplyToConversation("bots/wa/conversations/1", "ana", "",
                                               std::string(101, 'r'), ctx_)
                         .status()),
              UnorderedElementsAre("text", "request_id"));
  EXPECT_THAT(Fields(logic_->EraseContact("bots/wa/people/1", ctx_).status()), ElementsAre("name"));
  EXPECT_EQ(logic_->EraseContact("bots/nobody/contacts/1", ctx_).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(store_->proactive_calls(), IsEmpty());
}

}  // namespace
}  // namespace genesis::bot
