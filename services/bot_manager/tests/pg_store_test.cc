// The reply pipeline's storage on real PostgreSQL (label `pg`): inbox
// idempotency, leases with SKIP LOCKED and their expiry, exactly one reply per
// inbound message, outbox state changes and delivery statuses, batches of
// webhooks and completions; one poisoned webhook (NUL, invalid UTF-8) in a
// group commit fails nobody and leaks nothing. Each test gets a fresh database.
#include "services/bot_manager/tests/pg_store_fixture.h"

namespace genesis::bot {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// A retried CreateBot returns the stored bot and writes no second row.
TEST_F(BotPgStoreTest, CreateBotRequestIdStoresOneRow) {
  BotConfig b;
  b.channel = Channel::kTelegram;
  b.webhook_secret_env = "S";
  b.access_token_env = "T";
  b.verify_token_env = "V";
  b.phone_number_id = "1";
  auto first = logic_->CreateBot("tg-retry", b, "bot-req-1", ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = logic_->CreateBot("tg-retry", b, "bot-req-1", ctx_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->create_time, first->create_time);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.bots WHERE id = 'tg-retry'"), 1);
  b.display_name = "changed";
  EXPECT_EQ(ReasonOf(logic_->CreateBot("tg-retry2", b, "bot-req-1", ctx_).status()),
            "REQUEST_ID_REUSED");
}

TEST_F(BotPgStoreTest, InboxIsIdempotentPerBotChannelAndExternalId) {
  auto first = store_->Ingest("wa", "whatsapp", Messages("5511", {"wamid.1", "wamid.2"}), ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->accepted, 2);
  auto again = store_->Ingest("wa", "whatsapp", Messages("5511", {"wamid.2", "wamid.3"}), ctx_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->accepted, 1);
  EXPECT_EQ(again->duplicates, 1);
  // The same id is another message on another bot.
  EXPECT_EQ(store_->Ingest("tg", "telegram", Messages("77", {"wamid.1"}), ctx_)->accepted, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.inbox"), 4);
  EXPECT_EQ(store_->Ingest("nobody", "whatsapp", Messages("1", {"x"}), ctx_).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.inbox"), 4);
}

TEST_F(BotPgStoreTest, ClaimSkipsLockedRowsAndRetakesExpiredLeases) {
  for (const char* id : {"a", "b", "c", "d"}) {  // one contact each (see the next test)
    ASSERT_TRUE(
        store_->Ingest("wa", "whatsapp", Messages(absl::StrCat("55", id), {id}), ctx_).ok());
  }
  // Another worker is in the middle of a transaction holding row "a".
  pqxx::connection other(db_->dsn());
  pqxx::work holding(other);
  holding.exec("SELECT id FROM bot_manager.inbox WHERE external_id = 'a' FOR UPDATE");
  auto claimed = store_->ClaimInbox(2, absl::Seconds(30), ctx_);
  ASSERT_TRUE(claimed.ok()) << claimed.status();  // did not wait for the lock
  ASSERT_THAT(*claimed, SizeIs(2));
  EXPECT_EQ((*claimed)[0].external_id, "b");
  EXPECT_EQ((*claimed)[1].external_id, "c");
  EXPECT_EQ((*claimed)[0].attempts, 1);
  holding.commit();
  auto rest = store_->ClaimInbox(10, absl::Seconds(30), ctx_);
  ASSERT_TRUE(rest.ok());
  ASSERT_THAT(*rest, SizeIs(2));  // a and d; b and c are leased
  EXPECT_THAT(*store_->ClaimInbox(10, absl::Seconds(30), ctx_), IsEmpty());
  // The worker holding b died: once its lease is over, b is taken again.
  Exec(
      "UPDATE bot_manager.inbox SET lease_until = now() - interval '1 second' "
      "WHERE external_id = 'b'");
  auto retaken = store_->ClaimInbox(10, absl::Seconds(30), ctx_);
  ASSERT_TRUE(retaken.ok());
  ASSERT_THAT(*retaken, SizeIs(1));
  EXPECT_EQ((*retaken)[0].external_id, "b");
  EXPECT_EQ((*retaken)[0].attempts, 2);
}

// A conversation's messages are answered in the order they arrived: while
// an earlier one waits (leased, or given back for a retry), a claim does not
// take the later ones; other conversations go on.
TEST_F(BotPgStoreTest, AClaimTakesOnlyTheOldestWaitingMessageOfEachConversation) {
  ASSERT_TRUE(store_->Ingest("wa", "whatsapp", Messages("5511", {"a1", "a2", "a3"}), ctx_).ok());
  ASSERT_TRUE(store_->Ingest("wa", "whatsapp", Messages("5522", {"b1", "b2"}), ctx_).ok());
  ASSERT_TRUE(store_->Ingest("tg", "telegram", Messages("5511", {"t1"}), ctx_).ok());
  auto external_ids = [](const std::vector<InboxRow>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.external_id);
    return out;
  };
  auto first = store_->ClaimInbox(10, absl::Seconds(30), ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(external_ids(*first), ElementsAre("a1", "b1", "t1"));
  // a1 waits for a retry of the router: a2 is not taken meanwhile.
  ASSERT_TRUE(store_->RetryInbox((*first)[0].id, absl::Now() + absl::Hours(1), "down", ctx_).ok());
  InboxOutcome done;
  done.inbox_id = (*first)[1].id;
  ASSERT_TRUE(store_->CompleteInbox(done, ctx_).ok());
  EXPECT_THAT(external_ids(*store_->ClaimInbox(10, absl::Seconds(30), ctx_)), ElementsAre("b2"));
  Exec(
      "UPDATE bot_manager.inbox SET lease_until = now() - interval '1 second' "
      "WHERE external_id = 'a1'");
  auto retried = store_->ClaimInbox(10, absl::Seconds(30), ctx_);
  EXPECT_THAT(external_ids(*retried), ElementsAre("a1"));
  done.inbox_id = (*retried)[0].id;
  ASSERT_TRUE(store_->CompleteInbox(done, ctx_).ok());
  EXPECT_THAT(external_ids(*store_->ClaimInbox(10, absl::Seconds(30), ctx_)), ElementsAre("a2"));
}

// A send is recorded as started before the channel is called; a row claimed
// again with that mark may have reached the channel. A refusal (an HTTP
// error answer) clears it, a timeout keeps it.
TEST_F(BotPgStoreTest, ASendStartedComesBackWithTheClaimUntilARefusalClearsIt) {
  for (const char* id : {"a", "b"}) {
    ASSERT_TRUE(
        store_->Ingest("wa", "whatsapp", Messages(absl::StrCat("55", id), {id}), ctx_).ok());
  }
  auto claimed = store_->ClaimInbox(10, absl::Seconds(30), ctx_);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  for (const auto& row : *claimed) {
    InboxOutcome outcome;
    outcome.inbox_id = row.id;
    outcome.reply = "r-" + row.external_id;
    auto st = store_->CompleteInbox(outcome, ctx_);
    ASSERT_TRUE(st.ok()) << st;
  }
  auto out = store_->ClaimOutbox(10, absl::Seconds(30), ctx_);
  ASSERT_THAT(*out, SizeIs(2));
  EXPECT_FALSE((*out)[0].send_started.has_value());
  const int64_t a = (*out)[0].id, b = (*out)[1].id;
  ASSERT_TRUE(store_->MarkSendStartedBatch({a, b}, ctx_).ok());
  // a: the process died after the start (its lease runs out); b: refused with 503.
  ASSERT_TRUE(store_->MarkSendFailed(b, absl::Now() - absl::Seconds(1), "503", false, ctx_).ok());
  Exec("UPDATE bot_manager.outbox SET lease_until = now() - interval '1 second' WHERE id = " +
       std::to_string(a));
  auto again = store_->ClaimOutbox(10, absl::Seconds(30), ctx_);
  ASSERT_THAT(*again, SizeIs(2));
  EXPECT_TRUE((*again)[0].send_started.has_value());
  EXPECT_FALSE((*again)[1].send_started.has_value());
  // A timeout keeps the mark.
  ASSERT_TRUE(store_->MarkSendStartedBatch({b}, ctx_).ok());
  ASSERT_TRUE(
      store_->MarkSendFailed(b, absl::Now() - absl::Seconds(1), "timed out", true, ctx_).ok());
  ASSERT_TRUE(store_->MarkSent(a, "wamid.A", ctx_).ok());
  auto last = store_->ClaimOutbox(10, absl::Seconds(30), ctx_);
  ASSERT_THAT(*last, SizeIs(1));
  EXPECT_EQ((*last)[0].id, b);
  EXPECT_TRUE((*last)[0].send_started.has_value());
}

TEST_F(BotPgStoreTest, AnInboxRowIsCompletedOnceWithOneReply) {
  ASSERT_TRUE(store_->Ingest("wa", "whatsapp", Messages("5511", {"a"}), ctx_).ok());
  auto rows = store_->ClaimInbox(1, absl::Seconds(30), ctx_);
  ASSERT_THAT(*rows, SizeIs(1));
  InboxOutcome outcome;
  outcome.inbox_id = (*rows)[0].id;
  outcome.reply = "resposta";
  ASSERT_TRUE(store_->CompleteInbox(outcome, ctx_).ok());
  // A second worker that processed the same row after a lease expiry.
  EXPECT_EQ(store_->CompleteInbox(outcome, ctx_).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.outbox"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.messages"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.inbox WHERE state = 'done'"), 1);
  EXPECT_THAT(*store_->ClaimInbox(1, absl::Seconds(30), ctx_), IsEmpty());
}

TEST_F(BotPgStoreTest, OutboxMovesThroughItsStates) {
  ASSERT_TRUE(store_->Ingest("wa", "whatsapp", Messages("5511", {"a"}), ctx_).ok());
  ASSERT_TRUE(store_->Ingest("wa", "whatsapp", Messages("5522", {"b"}), ctx_).ok());
  auto claimed = store_->ClaimInbox(2, absl::Seconds(30), ctx_);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  for (const auto& row : *claimed) {
    InboxOutcome outcome;
    outcome.inbox_id = row.id;
    outcome.reply = "r-" + row.external_id;
    auto st = store_->CompleteInbox(outcome, ctx_);
    ASSERT_TRUE(st.ok()) << st;
  }
  auto out = store_->ClaimOutbox(10, absl::Seconds(30), ctx_);
  ASSERT_THAT(*out, SizeIs(2));
  const OutboxRow a = (*out)[0], b = (*out)[1];
  EXPECT_EQ(a.state, "pending");
  EXPECT_EQ(a.attempts, 1);
  EXPECT_THAT(a.idempotency_key, HasSubstr("wa-in-"));
  EXPECT_NE(a.idempotency_key, b.idempotency_key);
  // a: failed once, retried later; b: rate limited, put back without spending the attempt.
  ASSERT_TRUE(store_->MarkSendFailed(a.id, absl::Now() + absl::Hours(1), "503", false, ctx_).ok());
  ASSERT_TRUE(store_->DeferOutbox(b.id, absl::Now() - absl::Seconds(1), ctx_).ok());
  auto again = store_->ClaimOutbox(10, absl::Seconds(30), ctx_);
  ASSERT_THAT(*again, SizeIs(1));
  EXPECT_EQ((*again)[0].id, b.id);
  EXPECT_EQ((*again)[0].attempts, 1);
  ASSERT_TRUE(store_->MarkSent(b.id, "wamid.OUT1", ctx_).ok());
  ASSERT_TRUE(store_->MarkSendFailed(a.id, std::nullopt, "recipient unknown", false, ctx_).ok());
  // Delivery statuses move a sent row forward only.
  WebhookEvents statuses;
  statuses.statuses = {{"wamid.OUT1", "delivered", ""}, {"wamid.OUT1", "read", ""}};
  EXPECT_EQ(store_->Ingest("wa", "whatsapp", statuses, ctx_)->statuses, 2);
  statuses.statuses = {{"wamid.OUT1", "delivered", ""}, {"wamid.NONE", "read", ""}};
  EXPECT_EQ(store_->Ingest("wa", "whatsapp", statuses, ctx_)->statuses, 0);
  auto listed = store_->ListOutbox("wa", INT64_MAX, 10, ctx_);
  ASSERT_THAT(*listed, SizeIs(2));
  EXPECT_EQ((*listed)[0].state, "read");  // newest first: b
  EXPECT_EQ((*listed)[0].external_id, "wamid.OUT1");
  EXPECT_EQ((*listed)[1].state, "failed");
  EXPECT_EQ((*listed)[1].error, "recipient unknown");
}

// A channel's error body, cut at a byte count, may end inside a UTF-8 character or hold a
// NUL; recording it must not fail (the reply would stay pending) nor cut it short silently.
TEST_F(BotPgStoreTest, ASendErrorWithNulOrACutCharacterIsRecorded) {
  ASSERT_TRUE(store_->Ingest("wa", "whatsapp", Messages("5511", {"a"}), ctx_).ok());
  auto claimed = store_->ClaimInbox(1, absl::Seconds(30), ctx_);
  ASSERT_THAT(*claimed, SizeIs(1));
  InboxOutcome outcome;
  outcome.inbox_id = (*claimed)[0].id;
  outcome.reply = "r";
  ASSERT_TRUE(store_->CompleteInbox(outcome, ctx_).ok());
  auto out = store_->ClaimOutbox(1, absl::Seconds(30), ctx_);
  ASSERT_THAT(*out, SizeIs(1));
  const std::string cut = std::string("HTTP 400: n\xc3\xa3o ") + std::string(1, '\0') + "x\xc3";
  auto st = store_->MarkSendFailed((*out)[0].id, std::nullopt, cut, false, ctx_);
  ASSERT_TRUE(st.ok()) << st;
  auto listed = store_->ListOutbox("wa", INT64_MAX, 10, ctx_);
  ASSERT_THAT(*listed, SizeIs(1));
  EXPECT_EQ((*listed)[0].state, "failed");
  EXPECT_EQ((*listed)[0].error, "HTTP 400: n\xc3\xa3o \xef\xbf\xbdx\xef\xbf\xbd");
}

TEST_F(BotPgStoreTest, ABatchOfWebhooksIsOneTransactionWithAnOutcomeEach) {
  std::vector<IngestItem> items = {{"wa", "whatsapp", Messages("5511", {"m1", "m2"})},
                                   {"nobody", "whatsapp", Messages("1", {"x"})},
                                   {"wa", "whatsapp", Messages("5522", {"m2", "m3"})},
                                   {"tg", "telegram", Messages("77", {"m1"})}};
  auto out = store_->IngestBatch(items, absl::Seconds(30), ctx_);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_THAT(*out, SizeIs(4));
  EXPECT_TRUE((*out)[0].status.ok());
  EXPECT_EQ((*out)[0].result.accepted, 2);
  EXPECT_EQ((*out)[1].status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT((*out)[1].status.message(), HasSubstr("nobody"));
  // m2 came twice in the batch: the first webhook has it, the second is told it is a duplicate.
  EXPECT_EQ((*out)[2].result.accepted, 1);
  EXPECT_EQ((*out)[2].result.duplicates, 1);
  EXPECT_EQ((*out)[3].result.accepted, 1);
  // The rows are handed back leased to the caller, with their contact and text.
  ASSERT_THAT((*out)[0].leased, SizeIs(2));
  EXPECT_EQ((*out)[0].leased[0].external_id, "m1");
  EXPECT_EQ((*out)[0].leased[1].external_id, "m2");
  EXPECT_EQ((*out)[0].leased[1].contact, "5511");
  EXPECT_EQ((*out)[0].leased[1].text, "texto m2");
  EXPECT_EQ((*out)[0].leased[0].attempts, 1);
  ASSERT_THAT((*out)[2].leased, SizeIs(1));
  EXPECT_EQ((*out)[2].leased[0].external_id, "m3");
  // Their contacts' conversations were opened with them: new, held by the bot.
  const InboxRow& m1 = (*out)[0].leased[0];
  EXPECT_GT(m1.conversation_id, 0);
  EXPECT_TRUE(m1.new_conversation);
  EXPECT_EQ(m1.conversation_state, kStateBot);
  EXPECT_EQ((*out)[0].leased[1].conversation_id, m1.conversation_id);
  EXPECT_NE((*out)[2].leased[0].conversation_id, m1.conversation_id);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.conversations"), 3);
  Exec("UPDATE bot_manager.conversations SET state = 'handoff_active' WHERE contact = '5511'");
  auto later =
      store_->IngestBatch({{"wa", "whatsapp", Messages("5511", {"m4"})}}, absl::Seconds(30), ctx_);
  ASSERT_TRUE(later.ok()) << later.status();
  ASSERT_THAT((*later)[0].leased, SizeIs(1));
  EXPECT_EQ((*later)[0].leased[0].conversation_id, m1.conversation_id);
  EXPECT_FALSE((*later)[0].leased[0].new_conversation);
  EXPECT_EQ((*later)[0].leased[0].conversation_state, kStateHandoffActive);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.inbox"), 5);
  // Leased rows are nobody else's to claim until the lease ends or is given back.
  EXPECT_THAT(*store_->ClaimInbox(10, absl::Seconds(30), ctx_), IsEmpty());
  ASSERT_TRUE(store_->ReleaseLeases({(*out)[0].leased[0].id}, {}, ctx_).ok());
  auto claimed = store_->ClaimInbox(10, absl::Seconds(30), ctx_);
  ASSERT_THAT(*claimed, SizeIs(1));
  EXPECT_EQ((*claimed)[0].external_id, "m1");
  EXPECT_EQ((*claimed)[0].attempts, 1);  // the given-back lease did not count
  // Without a lease the rows wait for a claim.
  auto plain = store_->IngestBatch({{"wa", "whatsapp", Messages("5533", {"m9"})}},
                                   absl::ZeroDuration(), ctx_);
  ASSERT_TRUE(plain.ok());
  EXPECT_THAT((*plain)[0].leased, IsEmpty());
  EXPECT_THAT(*store_->ClaimInbox(10, absl::Seconds(30), ctx_), SizeIs(1));
}

TEST_F(BotPgStoreTest, ABatchOfCompletionsAppliesEachInOrderToItsConversation) {
  auto in = store_->IngestBatch({{"wa", "whatsapp", Messages("5511", {"a", "b", "c"})},
                                 {"wa", "whatsapp", Messages("5522", {"d"})}},
                                absl::Seconds(30), ctx_);
  ASSERT_TRUE(in.ok()) << in.status();
  const auto& rows = (*in)[0].leased;
  ASSERT_THAT(rows, SizeIs(3));
  std::vector<InboxOutcome> outcomes(4);
  outcomes[0].inbox_id = rows[0].id;
  outcomes[0].reply = "r-a";
  // b hands the conversation to a person: its own notice still goes, c's answer must not.
  outcomes[1].inbox_id = rows[1].id;
  outcomes[1].reply = "chamando";
  outcomes[1].handoff_reason = "asked for a person";
  outcomes[2].inbox_id = rows[2].id;
  outcomes[2].reply = "r-c";
  outcomes[3].inbox_id = (*in)[1].leased[0].id;
  outcomes[3].reply = "r-d";
  outcomes[3].sandboxed = true;
  auto done = store_->CompleteInboxBatch(outcomes, absl::Seconds(15), ctx_);
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_THAT(*done, SizeIs(4));
  for (const auto& d : *done) EXPECT_TRUE(d.status.ok()) << d.status;
  ASSERT_TRUE((*done)[0].leased.has_value());
  EXPECT_EQ((*done)[0].leased->text, "r-a");
  EXPECT_EQ((*done)[0].leased->attempts, 1);
  EXPECT_TRUE((*done)[1].leased.has_value());
  EXPECT_FALSE((*done)[2].leased.has_value());  // held by a person: no reply
  EXPECT_FALSE((*done)[3].leased.has_value());  // sandboxed: recorded, never sent
  ASSERT_TRUE((*done)[2].conversation.has_value());
  EXPECT_EQ((*done)[2].conversation->state, kStateHandoffWaiting);
  EXPECT_EQ((*done)[2].conversation->handoff_reason, "asked for a person");
  EXPECT_EQ((*done)[3].conversation->state, kStateBot);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.outbox"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.outbox WHERE state = 'sandboxed'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.conversations"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.inbox WHERE state = 'done'"), 4);
  // The history keeps the order: a, r-a, b, chamando, c (no answer).
  auto conv = store_->GetConversation("wa", (*done)[0].conversation->id, 10, ctx_);
  ASSERT_TRUE(conv.ok()) << conv.status();
  std::vector<std::string> texts;
  for (const auto& m : conv->messages) texts.push_back(m.text);
  EXPECT_THAT(texts, ::testing::ElementsAre("texto a", "r-a", "texto b", "chamando", "texto c"));
  // The leased replies are not claimable; a second completion of the same rows is refused.
  EXPECT_THAT(*store_->ClaimOutbox(10, absl::Seconds(30), ctx_), IsEmpty());
  auto again = store_->CompleteInboxBatch({outcomes[0]}, absl::Seconds(15), ctx_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.outbox"), 3);
  // Sent marks in one batch.
  ASSERT_TRUE(
      store_
          ->MarkSentBatch({{(*done)[0].leased->id, "wamid.A"}, {(*done)[1].leased->id, "wamid.B"}},
                          ctx_)
          .ok());
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.outbox WHERE state = 'sent' AND "
                  "external_id LIKE 'wamid.%' AND lease_until IS NULL"),
            2);
}

TEST_F(BotPgStoreTest, ABatchWithNulOrInvalidUtf8TextsStoresEveryMessage) {
  using namespace std::string_literals;
  // Straight to the store (no edge replacement): the array literal stays whole.
  WebhookEvents poisoned;
  poisoned.messages.push_back({"p1", "5599", "5599", "antes\0depois"s});
  poisoned.messages.push_back({"p2", "5599", "5599", "caf\xC3"});
  std::vector<IngestItem> items = {{"wa", "whatsapp", Messages("5511", {"m1"})},
                                   {"tg", "telegram", poisoned},
                                   {"wa", "whatsapp", Messages("5522", {"m2"})}};
  auto out = store_->IngestBatch(items, absl::Seconds(30), ctx_);
  ASSERT_TRUE(out.ok()) << out.status();
  for (const auto& o : *out) {
    EXPECT_TRUE(o.status.ok()) << o.status;
    EXPECT_EQ(o.result.accepted, static_cast<int>(o.leased.size()));
  }
  pqxx::connection c(db_->dsn());
  pqxx::nontransaction tx(c);
  std::map<std::string, std::string> stored;
  for (const auto& r : tx.exec("SELECT external_id, text FROM bot_manager.inbox")) {
    stored[r[0].as<std::string>()] = r[1].as<std::string>();
  }
  EXPECT_EQ(stored, (std::map<std::string, std::string>{{"m1", "texto m1"},
                                                        {"m2", "texto m2"},
                                                        {"p1",
                                                         "antes\xEF\xBF\xBD"
                                                         "depois"},
                                                        {"p2", "caf\xEF\xBF\xBD"}}));
}

TEST_F(BotPgStoreTest, OnePoisonedWebhookAmongConcurrentOnesFailsNobodyAndLeaksNothing) {
  BotConfig mm;
  mm.id = "mm";
  mm.channel = Channel::kMattermost;
  mm.webhook_secret_env = "S";
  mm.access_token_env = "T";
  ASSERT_TRUE(store_->CreateBot(mm, ctx_).ok());
  struct Delivery {
    Channel channel;
    WebhookRequest req;
    std::string id;        // the inbox external id
    std::string expected;  // the text that must be stored
  };
  std::vector<Delivery> deliveries;
  auto telegram = [&](int n, const std::string& json_text, const std::string& expected) {
    WebhookRequest r{
        "tg",
        absl::StrCat(R"({"update_id": )", n, R"(, "message": {"from": {"id": )", 500 + n,
                     R"(}, "chat": {"id": )", 500 + n, R"(}, "text": ")", json_text, R"("}})"),
        "application/json",
        {{"x-telegram-bot-api-secret-token", "secret"}}};
    deliveries.push_back({Channel::kTelegram, r, std::to_string(n), expected});
  };
  auto mattermost = [&](int n, const std::string& form_text, const std::string& expected) {
    WebhookRequest r{"mm",
                     absl::StrCat("token=secret&channel_id=c", n, "&user_id=u", n, "&post_id=p", n,
                                  "&text=", form_text),
                     "application/x-www-form-urlencoded",
                     {}};
    deliveries.push_back({Channel::kMattermost, r, absl::StrCat("p", n), expected});
  };
  auto whatsapp = [&](int n, const std::string& raw_text, const std::string& expected) {
    std::string body = absl::StrCat(
        R"({"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[)",
        R"({"id":"w)", n, R"(","from":"55119000)", n, R"(","type":"text","text":{"body":")",
        raw_text, R"("}}]}}]}]})");
    WebhookRequest r{"wa",
                     body,
                     "application/json",
                     {{"x-hub-signature-256", "sha256=" + HmacSha256Hex("secret", body)}}};
    deliveries.push_back({Channel::kWhatsApp, r, absl::StrCat("w", n), expected});
  };
  const std::string fffd = kReplacementCharacter;
  auto cpf = [](const char* who, int n) {
    return absl::StrCat("cliente ", who, " ", n, ": meu CPF é 123.456.78", n, "-00");
  };
  // The first one goes alone and is held at the inbox (a lock) while the rest queue
  // behind it, so that they are committed together, poisoned ones among them.
  telegram(1, cpf("tg", 1), cpf("tg", 1));
  for (int n = 2; n <= 6; ++n) telegram(n, cpf("tg", n), cpf("tg", n));
  telegram(7, "antes\\u0000depois", "antes" + fffd + "depois");  // NUL in Telegram JSON
  for (int n = 1; n <= 4; ++n)
    mattermost(n, absl::StrReplaceAll(cpf("mm", n), {{" ", "+"}}), cpf("mm", n));
  mattermost(5, "oi%00tchau%FF", "oi" + fffd + "tchau" + fffd);  // %00 and invalid UTF-8
  for (int n = 1; n <= 3; ++n) whatsapp(n, cpf("wa", n), cpf("wa", n));
  whatsapp(4, "ol\xE1 mundo", "ol" + fffd + " mundo");  // Latin-1, not UTF-8
  ASSERT_EQ(deliveries.size(), 16u);

  pqxx::connection locker(db_->dsn());
  pqxx::work lock(locker);
  lock.exec("LOCK TABLE bot_manager.inbox IN SHARE ROW EXCLUSIVE MODE");
  std::vector<absl::StatusOr<WebhookResult>> results(deliveries.size(),
                                                     absl::UnknownError("not answered"));
  std::vector<std::thread> senders;
  auto send = [&](size_t i) {
    senders.emplace_back([&, i] {
      CallContext ctx = CallContext::Background();
      results[i] = logic_->ReceiveWebhook(deliveries[i].channel, deliveries[i].req, ctx);
    });
  };
  auto poll = [](const std::function<bool()>& done) {
    const absl::Time until = absl::Now() + absl::Seconds(20);
    while (!done() && absl::Now() < until) absl::SleepFor(absl::Milliseconds(5));
    return done();
  };
  send(0);
  ASSERT_TRUE(poll([&] {
    return Count(
               "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
               "query LIKE '%INSERT INTO bot_manager.inbox%'") == 1;
  })) << "the first webhook never reached the inbox";
  for (size_t i = 1; i < deliveries.size(); ++i) send(i);
  ASSERT_TRUE(poll([&] { return logic_->webhooks_waiting() == deliveries.size() - 1; }));
  lock.commit();
  for (auto& t : senders) t.join();

  std::map<std::string, std::string> stored;
  {
    pqxx::connection c(db_->dsn());
    pqxx::nontransaction tx(c);
    for (const auto& r : tx.exec("SELECT external_id, text FROM bot_manager.inbox")) {
      stored[r[0].as<std::string>()] = r[1].as<std::string>();
    }
  }
  for (size_t i = 0; i < deliveries.size(); ++i) {
    const Delivery& d = deliveries[i];
    ASSERT_TRUE(results[i].ok()) << d.id << ": " << results[i].status();
    EXPECT_EQ(results[i]->accepted, 1) << d.id;
    EXPECT_EQ(stored[d.id], d.expected) << d.id;
    // Nothing of another delivery nor of the database in any answer.
    for (absl::string_view leak : {"CPF", "malformed", "literal", "ERROR", "invalid byte"}) {
      EXPECT_FALSE(absl::StrContains(results[i].status().message(), leak)) << d.id;
    }
  }
  EXPECT_EQ(stored.size(), deliveries.size());
}

}  // namespace
}  // namespace genesis::bot
