// The conversations' and the registry's storage on real PostgreSQL, and the
// Redis context cache (label `pg`): the proactive rules (daily cap per
// recipient, approval before the first message to a new contact), erasure
// counts, retention, a bot field PostgreSQL cannot hold, the cache's TTL and
// erasure. Each test gets a fresh database and its own Redis key prefix.
#include "services/bot_manager/tests/pg_store_fixture.h"

namespace genesis::bot {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST_F(BotPgStoreTest, ProactiveMessagesNeedApprovalForANewContactAndRespectTheDailyCap) {
  auto first = logic_->CreateProactiveMessage("bots/tg", "777", "Novidade", "", ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state, kProactiveAwaitingApproval);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.outbox"), 0);  // nothing goes out
  auto approved = logic_->ApproveProactiveMessage("bots/tg/proactiveMessages/" + first->id, ctx_);
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->state, kProactiveQueued);
  EXPECT_EQ(logic_->ApproveProactiveMessage("bots/tg/proactiveMessages/" + first->id, ctx_)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  // Approved once, the contact's next message is queued at once; a retry is the same message.
  auto second = logic_->CreateProactiveMessage("bots/tg", "777", "Lembrete", "req-2", ctx_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->state, kProactiveQueued);
  auto retry = logic_->CreateProactiveMessage("bots/tg", "777", "Lembrete", "req-2", ctx_);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->id, second->id);
  // The cap (2 for this bot) counts per recipient and day.
  auto third = logic_->CreateProactiveMessage("bots/tg", "777", "Mais um", "", ctx_);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(third.status().message(), HasSubstr("daily maximum"));
  clock_.Advance(absl::Hours(24));
  EXPECT_TRUE(logic_->CreateProactiveMessage("bots/tg", "777", "Bom dia", "", ctx_).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.outbox WHERE proactive_id IS NOT NULL"), 3);
}

TEST_F(BotPgStoreTest, AContactWhoWroteFirstNeedsNoApproval) {
  ASSERT_TRUE(store_->Ingest("wa", "whatsapp", Messages("5511", {"a"}), ctx_).ok());
  ASSERT_TRUE(logic_->ProcessInbox(ctx_).ok());
  auto m = logic_->CreateProactiveMessage("bots/wa", "5511", "Oferta", "", ctx_);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->state, kProactiveQueued);
}

TEST_F(BotPgStoreTest, ErasureRemovesOneContactAndCountsWhatItRemoved) {
  ASSERT_TRUE(store_->Ingest("wa", "whatsapp", Messages("5511", {"a", "b"}), ctx_).ok());
  ASSERT_TRUE(store_->Ingest("wa", "whatsapp", Messages("5522", {"c"}), ctx_).ok());
  ProcessAll();
  ASSERT_TRUE(logic_->CreateProactiveMessage("bots/wa", "5511", "Oferta", "", ctx_).ok());
  auto counts = logic_->EraseContact("bots/wa/contacts/5511", ctx_);
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->messages, 4);  // two from the contact, two replies
  EXPECT_EQ(counts->conversations, 1);
  EXPECT_EQ(counts->inbox, 2);
  EXPECT_EQ(counts->outbox, 3);  // two replies and the proactive message
  EXPECT_EQ(counts->proactive, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.inbox WHERE contact = '5511'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.contacts WHERE contact = '5511'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.conversations"), 1);  // 5522's is kept
  auto none = logic_->EraseContact("bots/wa/contacts/5511", ctx_);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->messages + none->conversations + none->inbox + none->outbox, 0);
}

TEST_F(BotPgStoreTest, RetentionPurgesOnlyFinishedRowsOlderThanTheCutoff) {
  ASSERT_TRUE(store_->Ingest("wa", "whatsapp", Messages("5511", {"old", "new"}), ctx_).ok());
  ProcessAll();  // both answered: 2 inbox, 2 outbox, 4 messages, and sent
  ASSERT_TRUE(store_->Ingest("wa", "whatsapp", Messages("5522", {"waiting"}), ctx_).ok());
  // "old" and everything about it happened three years ago; 5522's row is still pending.
  Exec(
      "UPDATE bot_manager.inbox SET create_time = now() - interval '3 years' "
      "WHERE external_id IN ('old', 'waiting')");
  Exec(
      "UPDATE bot_manager.outbox SET create_time = now() - interval '3 years' "
      "WHERE text LIKE '%texto old'");
  Exec(
      "UPDATE bot_manager.messages SET create_time = now() - interval '3 years' "
      "WHERE text LIKE '%texto old'");
  auto purged = store_->PurgeBefore(absl::Now() - absl::Hours(24 * 730), 1000, ctx_);
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(*purged, 4);  // one inbox row, its reply, two messages
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.inbox WHERE external_id = 'waiting'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.messages"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.conversations"), 1);  // 5511 still talks
  EXPECT_EQ(*store_->PurgeBefore(absl::Now() - absl::Hours(24 * 730), 1000, ctx_), 0);
}

TEST_F(BotPgStoreTest, ABotFieldWithNulIsAFieldViolationNotADatabaseError) {
  using namespace std::string_literals;
  BotConfig b;
  b.channel = Channel::kTelegram;
  b.display_name = "Suporte\0oculto"s;
  b.webhook_secret_env = "S";
  b.access_token_env = "T";
  auto created = logic_->CreateBot("nul", b, ctx_);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldViolationsOf(created.status()),
              ElementsAre(std::make_pair(std::string("bot.display_name"),
                                         std::string("must not contain NUL characters (U+0000)"))));
  b.display_name = "Suporte";
  ASSERT_TRUE(logic_->CreateBot("ok", b, ctx_).ok());
  BotConfig patch;
  patch.system_prompt = "Voc\xEA";  // Latin-1
  auto updated = logic_->UpdateBot("bots/ok", patch, {"system_prompt"}, "", ctx_);
  EXPECT_EQ(updated.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolationsOf(updated.status()).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(updated.status())[0].first, "bot.system_prompt");
  EXPECT_THAT(FieldViolationsOf(updated.status())[0].second, HasSubstr("must be valid UTF-8"));
  EXPECT_EQ(Count("SELECT count(*) FROM bot_manager.bots WHERE id = 'nul'"), 0);
}

TEST(RedisContextCacheTest, KeepsContextForItsTtlAndErasesIt) {
  auto url = genesis::testing::TestRedisUrl();
  if (!url) GTEST_SKIP() << "GENESIS_TEST_REDIS_URL not set (scripts/test.sh sets it)";
  RedisOptions options;
  options.url = *url;
  options.command_timeout = absl::Seconds(1);
  auto redis = RedisClient::Create(options, nullptr);
  ASSERT_TRUE(redis.ok()) << redis.status();
  const std::string prefix = absl::StrCat("bottest:", absl::ToUnixNanos(absl::Now()), ":");
  RedisContextCache cache(redis->get(), prefix, absl::Minutes(30));
  const CallContext ctx = CallContext::Background();
  EXPECT_FALSE(cache.Get(7, ctx).has_value());  // a miss: rebuilt from PostgreSQL
  const absl::Time t = absl::FromUnixMicros(1700000000123456);
  cache.Put(7, {{"contact", "", "olá", t}, {"human", "ana", "oi", t}}, ctx);
  auto got = cache.Get(7, ctx);
  ASSERT_TRUE(got.has_value());
  ASSERT_THAT(*got, SizeIs(2));
  EXPECT_EQ((*got)[0].text, "olá");
  EXPECT_EQ((*got)[1].agent, "ana");
  EXPECT_EQ((*got)[1].create_time, t);
  auto generation = (*redis)->Get(prefix + "ctx:gen", absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(generation.ok() && generation->has_value());
  auto ttl = (*redis)->Command({"PTTL", cache.Key(std::stoll(**generation), 7)},
                               absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, absl::ToInt64Milliseconds(absl::Minutes(29)));
  EXPECT_LE(ttl->integer, absl::ToInt64Milliseconds(absl::Minutes(30)));
  EXPECT_EQ(cache.Erase({7, 8}, ctx), 1);
  EXPECT_FALSE(cache.Get(7, ctx).has_value());
}

TEST(RedisContextCacheTest, AWriteThatFailedNeverLetsTheOlderContextBeReadBack) {
  auto url = genesis::testing::TestRedisUrl();
  if (!url) GTEST_SKIP() << "GENESIS_TEST_REDIS_URL not set (scripts/test.sh sets it)";
  RedisOptions options;
  options.url = *url;
  options.command_timeout = absl::Seconds(1);
  auto redis = RedisClient::Create(options, nullptr);
  ASSERT_TRUE(redis.ok()) << redis.status();
  const std::string prefix = absl::StrCat("bottest:", absl::ToUnixNanos(absl::Now()), ":");
  const CallContext ctx = CallContext::Background();
  const absl::Time t = absl::FromUnixMicros(1700000000123456);
  // Two replicas sharing the keys; the first one's writes are refused by Redis
  // (a zero expiry), standing for a write that could not be delivered.
  RedisContextCache failing(redis->get(), prefix, absl::ZeroDuration());
  RedisContextCache other(redis->get(), prefix, absl::Minutes(30));
  EXPECT_FALSE(failing.Get(99, ctx).has_value());  // its start-up bump
  other.Put(7, {{"contact", "", "first turn", t}}, ctx);
  ASSERT_TRUE(other.Get(7, ctx).has_value());
  failing.Put(7, {{"contact", "", "first turn", t}, {"bot", "", "second turn", t}}, ctx);
  EXPECT_FALSE(failing.Get(7, ctx).has_value()) << "the older context was read back";
  EXPECT_FALSE(other.Get(7, ctx).has_value()) << "the other replica read the older context";
}

}  // namespace
}  // namespace genesis::bot
