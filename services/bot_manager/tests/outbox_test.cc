// Unit tests of the outbox senders and the channel sender on in-memory
// fakes: retries with backoff, resends that may repeat a delivery, refusals,
// rate limits, delivery statuses, and what reaches logs and errors.
#include "services/bot_manager/tests/bot_manager_fixture.h"

#include "absl/strings/str_cat.h"
#include "common/http/sim_http_server.h"

namespace genesis::bot {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

// --- outbox

TEST_F(BotManagerTest, FailedSendsAreRetriedWithBackoffThenGivenUp) {
  BotManagerOptions o;
  o.max_send_attempts = 3;
  Build(o);
  CreateWa();
  sender_.fail_next = 100;
  ASSERT_TRUE(Receive("5511988887777", "oi", 1).ok());
  ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);
  ASSERT_EQ(*logic_->SendOutbox(ctx_), 1);
  EXPECT_EQ(store_->Outbox()[0].row.state, "pending");
  EXPECT_EQ(*logic_->SendOutbox(ctx_), 0);  // waits for its backoff
  clock_.Advance(absl::Seconds(2));
  ASSERT_EQ(*logic_->SendOutbox(ctx_), 1);
  clock_.Advance(absl::Seconds(5));
  ASSERT_EQ(*logic_->SendOutbox(ctx_), 1);
  EXPECT_EQ(store_->Outbox()[0].row.state, "failed");
  EXPECT_THAT(store_->Outbox()[0].row.error, HasSubstr("channel down"));
}

// kill -9 between the channel's answer and the sent mark leaves a pending row
// that is sent again after its lease. The issue: such resends went uncounted,
// and nothing told them from rows never sent. A send is recorded as started
// before the channel is called; a row claimed again with that mark (or after
// a timeout) is a possible duplicate, counted by channel; one whose send was
// refused by an HTTP error, or never started, is not.
TEST_F(BotManagerTest, ARowWhoseSendMayHaveReachedTheChannelIsCountedWhenSentAgain) {
  BotManagerOptions o;
  o.handoff_capacity = 0;  // every row through claims, as after a restart
  Build(o);
  CreateWa();
  auto resends = [&] { return Count(metrics_.outbox_resends, {"whatsapp", "no"}); };
  // Refused with 503: not delivered, retried without counting.
  sender_.fail_next = 1;
  sender_.failure = absl::UnavailableError("WhatsApp answered HTTP 503");
  ASSERT_TRUE(Receive("5511988887777", "um", 1).ok());
  ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);
  ASSERT_EQ(*logic_->SendOutbox(ctx_), 1);
  EXPECT_FALSE(store_->Outbox()[0].row.send_started.has_value());
  clock_.Advance(absl::Seconds(3));
  ASSERT_EQ(*logic_->SendOutbox(ctx_), 1);
  EXPECT_EQ(store_->Outbox()[0].row.state, "sent");
  EXPECT_EQ(resends(), 0);
  // Timed out: it may have arrived; the retry is counted.
  sender_.fail_next = 1;
  sender_.failure = absl::DeadlineExceededError("POST timed out");
  ASSERT_TRUE(Receive("5511988887777", "dois", 2).ok());
  ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);
  ASSERT_EQ(*logic_->SendOutbox(ctx_), 1);
  EXPECT_TRUE(store_->Outbox()[1].row.send_started.has_value());
  clock_.Advance(absl::Seconds(3));
  ASSERT_EQ(*logic_->SendOutbox(ctx_), 1);
  EXPECT_EQ(store_->Outbox()[1].row.state, "sent");
  EXPECT_EQ(resends(), 1);
  // Started, then the process died before the mark: counted when sent again.
  ASSERT_TRUE(Receive("5511988887777", "três", 3).ok());
  ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);
  const int64_t third = store_->Outbox()[2].row.id;
  ASSERT_TRUE(store_->MarkSendStartedBatch({third}, ctx_).ok());
  ASSERT_EQ(*logic_->SendOutbox(ctx_), 1);
  EXPECT_EQ(store_->Outbox()[2].row.state, "sent");
  EXPECT_EQ(resends(), 2);
  EXPECT_THAT(SentTexts(), SizeIs(3));
}

TEST(ChannelSender, OnlyMattermostDropsARepeatedKeyWithinItsWindow) {
  HttpChannelSender sender(ChannelEndpoints{}, [](const std::string&) { return std::nullopt; });
  EXPECT_TRUE(sender.DeduplicatesResend(Channel::kMattermost, absl::Seconds(10)));
  EXPECT_FALSE(sender.DeduplicatesResend(Channel::kMattermost, absl::Seconds(31)));
  EXPECT_FALSE(sender.DeduplicatesResend(Channel::kWhatsApp, absl::Seconds(1)));
  EXPECT_FALSE(sender.DeduplicatesResend(Channel::kTelegram, absl::Seconds(1)));
  EXPECT_TRUE(MayHaveReachedChannel(absl::DeadlineExceededError("timed out")));
  EXPECT_FALSE(MayHaveReachedChannel(absl::UnavailableError("answered HTTP 503")));
  absl::Status broken = absl::UnavailableError("connection reset");
  broken.SetPayload(kMaybeDeliveredPayload, absl::Cord("1"));
  EXPECT_TRUE(MayHaveReachedChannel(broken));
}

TEST_F(BotManagerTest, ARefusedSendIsNotRetried) {
  CreateWa();
  sender_.fail_next = 1;
  sender_.failure = absl::InvalidArgumentError("recipient is not a WhatsApp user");
  ASSERT_TRUE(Receive("5511988887777", "oi", 1).ok());
  Drain();
  EXPECT_EQ(store_->Outbox()[0].row.state, "failed");
  EXPECT_EQ(store_->Outbox()[0].row.attempts, 1);
}

TEST_F(BotManagerTest, RepliesOverTheRateLimitWaitWithoutSpendingAttempts) {
  BotManagerOptions o;
  o.send_rate_per_bot = 2;
  o.send_rate_per_recipient = 1;
  o.max_send_attempts = 1;
  Build(o);
  CreateWa();
  ASSERT_TRUE(Receive("5511900000001", "a", 1).ok());
  ASSERT_TRUE(Receive("5511900000001", "b", 2).ok());
  ASSERT_TRUE(Receive("5511900000002", "c", 3).ok());
  ASSERT_TRUE(Receive("5511900000003", "d", 4).ok());
  Drain();
  // One per recipient per second, two per bot per second.
  EXPECT_THAT(SentTexts(), ElementsAre("echo: a", "echo: c"));
  for (const auto& o : store_->Outbox()) {
    if (o.row.state == "pending") {
      EXPECT_EQ(o.row.attempts, 0) << o.row.text;
    }
  }
  clock_.Advance(absl::Seconds(1));
  Drain();
  EXPECT_THAT(SentTexts(), ElementsAre("echo: a", "echo: c", "echo: b", "echo: d"));
}

TEST_F(BotManagerTest, DeliveryStatusesMoveTheOutboxForwardOnly) {
  CreateWa();
  ASSERT_TRUE(Receive("5511988887777", "oi", 1).ok());
  Drain();
  const std::string ext = store_->Outbox()[0].row.external_id;
  auto status = [&](const std::string& s) {
    const std::string body = absl::StrCat(
        R"({"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"statuses":[{"id":")",
        ext, R"(","status":")", s, R"(","recipient_id":"5511988887777"}]}}]}]})");
    WebhookRequest req;
    req.bot = "wa";
    req.body = body;
    req.headers["x-hub-signature-256"] = "sha256=" + HmacSha256Hex("app-secret", body);
    return logic_->ReceiveWebhook(Channel::kWhatsApp, req, ctx_);
  };
  ASSERT_EQ(status("delivered")->statuses, 1);
  EXPECT_EQ(store_->Outbox()[0].row.state, "delivered");
  ASSERT_EQ(status("read")->statuses, 1);
  ASSERT_EQ(status("delivered")->statuses, 0);  // late, out of order: ignored
  EXPECT_EQ(store_->Outbox()[0].row.state, "read");
}

// --- logs

TEST_F(BotManagerTest, LogsMaskPhoneNumbersAndNeverCarryMessageText) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  std::vector<std::shared_ptr<spdlog::logger>> loggers = {Logger("bot"), Logger("bot.worker"),
                                                          Logger("bot.sender")};
  for (auto& l : loggers) l->sinks().push_back(sink);
  CreateWa();
  sender_.fail_next = 1;
  sender_.failure = absl::InvalidArgumentError("refused");
  ASSERT_TRUE(Receive("5511988887777", "meu CPF é 123.456.789-00", 1).ok());
  Drain();
  ASSERT_TRUE(logic_->EraseContact("bots/wa/contacts/5511988887777", ctx_).ok());
  for (auto& l : loggers) l->sinks().pop_back();
  const std::string logs = captured.str();
  EXPECT_THAT(logs, HasSubstr("551********77"));  // the send failure and the erasure
  EXPECT_THAT(logs, Not(HasSubstr("5511988887777")));
  EXPECT_THAT(logs, Not(HasSubstr("123.456.789-00")));
}

TEST(ChannelSender, ErrorsNeverCarryTheAccessToken) {
  ChannelEndpoints endpoints;
  endpoints.telegram_base_url = "http://127.0.0.1:1";  // nothing listens on port 1
  endpoints.timeout = absl::Seconds(2);
  HttpChannelSender sender(endpoints, [](const std::string&) -> std::optional<std::string> {
    return "123456:very-secret-token";
  });
  BotConfig bot;
  bot.id = "tg";
  bot.channel = Channel::kTelegram;
  bot.access_token_env = "TG_TOKEN";
  OutboxRow row;
  row.recipient = "42";
  row.text = "oi";
  auto sent = sender.Send(bot, row, CallContext::Background());
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(sent.status().message(), Not(HasSubstr("very-secret-token")));
  EXPECT_THAT(sent.status().message(), HasSubstr("<token>"));
}

// A channel's answer to a send in a shape other than its documented one
// (ids that are numbers, a message that is not an object, an id holding NUL)
// is a send without an external id, never an exception out of Send.
TEST(ChannelSender, AnAnswerOfAnotherShapeIsASendWithoutExternalId) {
  std::string answer;
  auto server = SimHttpServer::Start("127.0.0.1", 0, 4, [&](auto& socket, const auto& request) {
    return SimHttpServer::Respond(socket, request, boost::beast::http::status::ok,
                                  "application/json", answer);
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string base = absl::StrCat("http://127.0.0.1:", (*server)->port());
  ChannelEndpoints endpoints;
  endpoints.whatsapp_base_url = base;
  endpoints.telegram_base_url = base;
  endpoints.mattermost_base_url = base;
  endpoints.timeout = absl::Seconds(5);
  HttpChannelSender sender(
      endpoints, [](const std::string&) -> std::optional<std::string> { return "token"; });
  OutboxRow row;
  row.recipient = "5511988887777";
  row.text = "oi";
  BotConfig bot;
  bot.id = "b";
  bot.access_token_env = "T";
  bot.phone_number_id = "100";
  struct Case {
    Channel channel;
    std::string answer, external_id;
  };
  const Case cases[] = {
      {Channel::kMattermost, R"({"id": "p1"})", "p1"},
      {Channel::kMattermost, R"({"id": 7})", ""},
      {Channel::kMattermost, R"({"id": "a\u0000b"})", ""},
      {Channel::kWhatsApp, R"({"messages": [{"id": "wamid.1"}]})", "wamid.1"},
      {Channel::kWhatsApp, R"({"messages": [5]})", ""},
      {Channel::kWhatsApp, R"({"messages": [{"id": ["x"]}]})", ""},
  };
  for (const Case& c : cases) {
    bot.channel = c.channel;
    answer = c.answer;
    auto sent = sender.Send(bot, row, CallContext::Background());
    ASSERT_TRUE(sent.ok()) << c.answer << ": " << sent.status();
    EXPECT_EQ(sent->external_id, c.external_id) << c.answer;
  }
}

}  // namespace
}  // namespace genesis::bot
