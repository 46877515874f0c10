// Unit tests of the reply pipeline through the facade, on in-memory fakes
// (fake_store.h): handoff triggers, silence while a human holds a
// conversation, context trimming and rebuilding, rows handed over in memory,
// sandbox replies. The clock is injected; nothing sleeps.
#include "services/bot_manager/tests/bot_manager_fixture.h"

namespace genesis::bot {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

// --- handoff

TEST(HandoffRequest, RecognisesPortugueseAndEnglishRequests) {
  EXPECT_TRUE(IsHandoffRequest("Quero falar com um atendente"));
  EXPECT_TRUE(IsHandoffRequest("ATENDENTE!!"));
  EXPECT_TRUE(IsHandoffRequest("posso falar com alguém?"));
  EXPECT_TRUE(IsHandoffRequest("quero falar com uma pessoa"));
  EXPECT_TRUE(IsHandoffRequest("prefiro um humano"));
  EXPECT_TRUE(IsHandoffRequest("human please"));
  EXPECT_TRUE(IsHandoffRequest("Can I talk to a person?"));
  EXPECT_FALSE(IsHandoffRequest("@genesis qual o status da sprint?"));
  EXPECT_FALSE(IsHandoffRequest("a humanidade agradece"));
  EXPECT_FALSE(IsHandoffRequest("humanitarian aid"));
  EXPECT_FALSE(IsHandoffRequest(""));
}

TEST_F(BotManagerTest, AskingForAPersonHandsOffAndTellsTheContact) {
  CreateWa();
  ASSERT_TRUE(Receive("5511988887777", "quero falar com um atendente", 1).ok());
  Drain();
  Conversation c = ConvOf("5511988887777");
  EXPECT_EQ(c.state, kStateHandoffWaiting);
  EXPECT_THAT(c.handoff_reason, HasSubstr("asked for a person"));
  EXPECT_THAT(SentTexts(), ElementsAre(logic_->options().handoff_reply));
  EXPECT_THAT(model_.calls, IsEmpty());  // no model call for an explicit request
  auto queue = logic_->ListHandoffQueue(0, "", ctx_);
  ASSERT_TRUE(queue.ok());
  ASSERT_THAT(queue->values, SizeIs(1));
  EXPECT_EQ(queue->values[0].contact, "5511988887777");
}

// The issue: a router down for 10 s handed every conversation to a person.
// An unavailable router is infrastructure: the message waits and is retried
// (seed 001: 2 s, 4 s, 8 s, ... at most 30 s), the conversation stays with the bot.
TEST_F(BotManagerTest, AnUnavailableRouterIsRetriedWithTheSeedsBackoffNotHandedOff) {
  CreateWa();
  model_.script = {absl::UnavailableError("router down"), absl::UnavailableError("router down"),
                   absl::DeadlineExceededError("router hung"),
                   absl::ResourceExhaustedError("router over capacity"),
                   ModelReply{"Olá! Como posso ajudar?", false}};
  ASSERT_TRUE(Receive("5511988887777", "oi", 1).ok());
  const absl::Time arrived = clock_.Now();
  ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);
  std::vector<absl::Duration> waits;
  for (int attempt = 2; attempt <= 5; ++attempt) {
    const absl::Time due = store_->Inbox()[0].lease_until;
    waits.push_back(due - clock_.Now());
    clock_.Set(due - absl::Milliseconds(1));
    EXPECT_EQ(*logic_->ProcessInbox(ctx_), 0) << "retried before its backoff, attempt " << attempt;
    EXPECT_EQ(ConvOf("5511988887777").state, kStateBot);
    clock_.Set(due + absl::Milliseconds(1));
    ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1) << "attempt " << attempt;
  }
  EXPECT_THAT(waits,
              ElementsAre(absl::Seconds(2), absl::Seconds(4), absl::Seconds(8), absl::Seconds(16)));
  EXPECT_LT(clock_.Now() - arrived, absl::Minutes(1));
  Drain();
  EXPECT_THAT(model_.calls, SizeIs(5));
  EXPECT_EQ(ConvOf("5511988887777").state, kStateBot);
  EXPECT_THAT(SentTexts(), ElementsAre("Olá! Como posso ajudar?"));
  EXPECT_EQ(Count(metrics_.inbox_outcomes, {"replied"}), 1);
  EXPECT_EQ(Count(metrics_.inbox_outcomes, {"handoff"}), 0);
}

TEST_F(BotManagerTest, TheBackoffIsCappedAt30SecondsAndEndsInAHandoffAfterTheWindow) {
  CreateWa();
  model_.script = {absl::UnavailableError("router down")};
  ASSERT_TRUE(Receive("5511988887777", "oi", 1).ok());
  const absl::Time arrived = clock_.Now();
  ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);
  absl::Duration longest;
  for (int i = 0; i < 100 && store_->Inbox()[0].row.state == "pending"; ++i) {
    const absl::Time due = store_->Inbox()[0].lease_until;
    longest = std::max(longest, due - clock_.Now());
    EXPECT_EQ(ConvOf("5511988887777").state, kStateBot)
        << "handed off after " << clock_.Now() - arrived;
    clock_.Set(due + absl::Milliseconds(1));
    ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);
  }
  EXPECT_EQ(longest, absl::Seconds(30));
  // The window (5 min) ran out: a person takes it, with a reason that says why.
  EXPECT_GE(clock_.Now() - arrived, absl::Minutes(4));
  EXPECT_LE(clock_.Now() - arrived, absl::Minutes(5) + absl::Seconds(1));
  Conversation c = ConvOf("5511988887777");
  EXPECT_EQ(c.state, kStateHandoffWaiting);
  EXPECT_THAT(c.handoff_reason, HasSubstr("assistant unavailable"));
  EXPECT_THAT(c.handoff_reason, HasSubstr("UNAVAILABLE"));
  Drain();
  EXPECT_THAT(SentTexts(), ElementsAre(logic_->options().handoff_reply));
  EXPECT_EQ(store_->Inbox()[0].row.state, "done");
  EXPECT_EQ(Count(metrics_.inbox_outcomes, {"handoff"}), 1);
}

// Messages that arrive while the router is down are answered, once it is
// back, in the order they arrived, each with the previous ones in its context.
TEST_F(BotManagerTest, ABacklogIsAnsweredInArrivalOrderPerConversation) {
  CreateWa();
  model_.script = {absl::UnavailableError("router down")};
  ASSERT_TRUE(Receive("5511911111111", "a1", 1).ok());
  ASSERT_TRUE(Receive("5511922222222", "b1", 2).ok());
  ASSERT_TRUE(Receive("5511911111111", "a2", 3).ok());
  ASSERT_TRUE(Receive("5511911111111", "a3", 4).ok());
  ASSERT_TRUE(Receive("5511922222222", "b2", 5).ok());
  Drain();
  // Only the first message of each conversation asked the router; the others wait behind it.
  EXPECT_THAT(model_.calls, SizeIs(2));
  EXPECT_THAT(SentTexts(), IsEmpty());
  for (const auto& c : store_->Conversations()) EXPECT_EQ(c.state, kStateBot);
  // Still down at the first retry; later messages keep waiting.
  clock_.Advance(absl::Seconds(3));
  Drain();
  EXPECT_THAT(model_.calls, SizeIs(4));
  {
    std::lock_guard<std::mutex> l(model_.mu);
    model_.script.clear();  // back: echo
  }
  clock_.Advance(absl::Seconds(5));
  Drain();
  std::vector<std::string> to_a, to_b;
  {
    std::lock_guard<std::mutex> l(sender_.mu);
    for (const auto& r : sender_.sent)
      (r.recipient == "5511911111111" ? to_a : to_b).push_back(r.text);
  }
  EXPECT_THAT(to_a, ElementsAre("echo: a1", "echo: a2", "echo: a3"));
  EXPECT_THAT(to_b, ElementsAre("echo: b1", "echo: b2"));
  // a3 was asked with a1, its answer, a2 and its answer before it.
  for (const auto& call : model_.calls) {
    if (call.back().text != "a3") continue;
    std::vector<std::string> texts;
    for (const auto& m : call) texts.push_back(m.text);
    EXPECT_THAT(texts, ElementsAre("a1", "echo: a1", "a2", "echo: a2", "a3"));
  }
  for (const auto& in : store_->Inbox()) EXPECT_EQ(in.row.state, "done") << in.row.text;
  EXPECT_EQ(Count(metrics_.inbox_outcomes, {"replied"}), 5);
}

// Two workers take two messages of one conversation from memory: the second
// leaves its message to the first, which answers both in order.
TEST_F(BotManagerTest, TwoWorkersTakingTwoMessagesOfOneConversationAnswerThemInOrder) {
  CreateWa();
  std::mutex mu;
  std::condition_variable cv;
  bool first_in = false;
  bool release = false;
  model_.on_call = [&](const std::vector<Message>& context) {
    if (context.back().text != "primeira") return;
    std::unique_lock<std::mutex> l(mu);
    first_in = true;
    cv.notify_all();
    cv.wait(l, [&] { return release; });
  };
  ASSERT_TRUE(Receive("5511988887777", "primeira", 1).ok());
  ASSERT_TRUE(Receive("5511988887777", "segunda", 2).ok());
  std::thread first([&] { ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1); });
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return first_in; }));
  }
  ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);  // took "segunda", left it to the first worker
  {
    std::lock_guard<std::mutex> l(model_.mu);
    EXPECT_THAT(model_.calls, IsEmpty());
  }
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  first.join();
  Drain();
  EXPECT_THAT(SentTexts(), ElementsAre("echo: primeira", "echo: segunda"));
  ASSERT_THAT(model_.calls, SizeIs(2));
  std::vector<std::string> texts;
  for (const auto& m : model_.calls[1]) texts.push_back(m.text);
  EXPECT_THAT(texts, ElementsAre("primeira", "echo: primeira", "segunda"));
}

TEST_F(BotManagerTest, APermanentRouterErrorHandsOffAtOnce) {
  CreateWa();
  model_.script = {absl::InternalError("the LLM router refused the request")};
  ASSERT_TRUE(Receive("5511988887777", "oi", 1).ok());
  ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);
  EXPECT_THAT(model_.calls, SizeIs(1));
  EXPECT_EQ(ConvOf("5511988887777").state, kStateHandoffWaiting);
  EXPECT_THAT(ConvOf("5511988887777").handoff_reason, HasSubstr("refused"));
}

TEST_F(BotManagerTest, ALowConfidenceAnswerHandsOffInsteadOfBeingSent) {
  CreateWa();
  model_.script = {ModelReply{"[HANDOFF] não tenho certeza", false}};
  ASSERT_TRUE(Receive("5511988887777", "qual a multa do contrato?", 1).ok());
  Drain();
  EXPECT_EQ(ConvOf("5511988887777").state, kStateHandoffWaiting);
  EXPECT_THAT(ConvOf("5511988887777").handoff_reason, HasSubstr("not confident"));
  EXPECT_THAT(SentTexts(), ElementsAre(logic_->options().handoff_reply));
}

TEST_F(BotManagerTest, TheBotStaysSilentWhileAHumanHoldsTheConversation) {
  CreateWa();
  ASSERT_TRUE(Receive("5511988887777", "human", 1).ok());
  Drain();
  const std::string name = absl::StrCat("bots/wa/conversations/", ConvOf("5511988887777").id);
  ASSERT_TRUE(logic_->ClaimConversation(name, "ana", ctx_).ok());
  ASSERT_TRUE(Receive("5511988887777", "alô?", 2).ok());
  ASSERT_TRUE(Receive("5511988887777", "tem alguém aí?", 3).ok());
  Drain();
  EXPECT_THAT(model_.calls, IsEmpty());
  EXPECT_THAT(SentTexts(), SizeIs(1));  // only the handoff notice
  // Bruno cannot speak in Ana's conversation; Ana can, once per request id.
  EXPECT_EQ(logic_->ReplyToConversation(name, "bruno", "oi", "", ctx_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(logic_->ReplyToConversation(name, "ana", "Oi, é a Ana", "r1", ctx_).ok());
  ASSERT_TRUE(logic_->ReplyToConversation(name, "ana", "Oi, é a Ana", "r1", ctx_).ok());
  Drain();
  EXPECT_THAT(SentTexts(), ElementsAre(logic_->options().handoff_reply, "Oi, é a Ana"));
  // Released, the bot answers again.
  ASSERT_TRUE(logic_->ReleaseConversation(name, "ana", ctx_).ok());
  ASSERT_TRUE(Receive("5511988887777", "obrigado", 4).ok());
  Drain();
  EXPECT_EQ(SentTexts().back(), "echo: obrigado");
  auto conv = logic_->GetConversation(name, 0, ctx_);
  ASSERT_TRUE(conv.ok());
  std::vector<std::string> authors;
  for (const auto& m : conv->messages) authors.push_back(m.author);
  EXPECT_THAT(authors,
              ElementsAre("contact", "bot", "contact", "contact", "human", "contact", "bot"));
}

TEST_F(BotManagerTest, ClaimingNeedsAnAgent) {
  CreateWa();
  ASSERT_TRUE(Receive("5511988887777", "atendente", 1).ok());
  Drain();
  const std::string name = absl::StrCat("bots/wa/conversations/", ConvOf("5511988887777").id);
  auto st = logic_->ClaimConversation(name, "", ctx_).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(st), ElementsAre("agent"));
  CallContext as_carla = ctx_;
  as_carla.subject = "carla";
  auto claimed = logic_->ClaimConversation(name, "", as_carla);
  ASSERT_TRUE(claimed.ok());
  EXPECT_EQ(claimed->agent, "carla");
}

// --- context

TEST(TrimContext, KeepsTheNewestThatFitBothLimits) {
  std::vector<Message> m;
  for (int i = 0; i < 6; ++i) m.push_back({"contact", "", std::string(10, 'a' + i), {}});
  auto by_count = TrimContext(m, 3, 1000);
  ASSERT_THAT(by_count, SizeIs(3));
  EXPECT_EQ(by_count.front().text, std::string(10, 'd'));
  EXPECT_EQ(by_count.back().text, std::string(10, 'f'));
  auto by_bytes = TrimContext(m, 100, 25);
  ASSERT_THAT(by_bytes, SizeIs(2));
  EXPECT_EQ(by_bytes.back().text, std::string(10, 'f'));
  // The newest message is kept even when it alone is too long.
  auto huge = TrimContext({{"contact", "", std::string(500, 'x'), {}}}, 5, 10);
  EXPECT_THAT(huge, SizeIs(1));
  EXPECT_THAT(TrimContext({}, 5, 10), IsEmpty());
}

TEST_F(BotManagerTest, TheModelSeesTheConversationTrimmedToTheBotsLimit) {
  BotConfig b = WhatsAppBot();
  b.max_context_messages = 3;
  CreateWa(b);
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(Receive("5511988887777", absl::StrCat("mensagem ", i), i).ok());
    Drain();
  }
  ASSERT_THAT(model_.calls, SizeIs(4));
  std::vector<std::string> last;
  for (const auto& m : model_.calls.back()) last.push_back(m.author + ":" + m.text);
  EXPECT_THAT(last,
              ElementsAre("contact:mensagem 3", "bot:echo: mensagem 3", "contact:mensagem 4"));
}

// --- hand-off in memory

TEST(HandoffQueueTest, RowsAreLeasedOnlyWhenTheyFitAndDroppedWhenTheirLeaseRunsOut) {
  HandoffQueue<InboxRow> q(2, absl::Hours(1));
  EXPECT_EQ(q.LeaseFor(2, absl::Seconds(30)), absl::Seconds(30));
  EXPECT_EQ(q.LeaseFor(3, absl::Seconds(30)), absl::ZeroDuration());  // over capacity
  InboxRow fresh, stale;
  fresh.id = 1;
  stale.id = 2;
  q.Push({stale}, absl::Now() - absl::Seconds(30), absl::Seconds(10));  // lease long gone
  q.Push({fresh}, absl::Now(), absl::Seconds(30));
  EXPECT_TRUE(q.ClaimDue());   // the first claim is due at once
  EXPECT_FALSE(q.ClaimDue());  // the next one a claim interval later
  auto taken = q.Take();
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->id, 1);    // the stale row was dropped on the way...
  EXPECT_TRUE(q.ClaimDue());  // ...and a claim made due, which takes it once its lease ends
  EXPECT_FALSE(q.Take().has_value());
  q.Push({fresh, stale}, absl::Now(), absl::Seconds(30));
  EXPECT_THAT(q.DrainIds(), ElementsAre(1, 2));
  EXPECT_EQ(q.size(), 0u);
  HandoffQueue<InboxRow> off(0, absl::Hours(1));
  EXPECT_EQ(off.LeaseFor(1, absl::Seconds(30)), absl::ZeroDuration());
}

TEST_F(BotManagerTest, ACommittedWebhookGoesStraightToAWorkerWithoutAClaim) {
  CreateWa();
  ASSERT_TRUE(Receive("5511988887777", "oi", 1).ok());
  EXPECT_EQ(logic_->handed_waiting().first, 1u);
  // Leased when written, so no other worker or process claims it meanwhile.
  auto [lease_until, attempts, state] = store_->inbox_lease(store_->Inbox()[0].row.id);
  EXPECT_GT(lease_until, clock_.Now());
  EXPECT_EQ(attempts, 1);
  ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);
  EXPECT_EQ(store_->claim_inbox_calls(), 0);
  EXPECT_EQ(store_->open_conversation_calls(), 0);  // opened with the row
  // The reply, likewise, goes straight to a sender.
  EXPECT_EQ(logic_->handed_waiting().second, 1u);
  ASSERT_EQ(*logic_->SendOutbox(ctx_), 1);
  EXPECT_THAT(SentTexts(), ElementsAre("echo: oi"));
  EXPECT_EQ(store_->Outbox()[0].row.state, "sent");
}

TEST_F(BotManagerTest, WithoutRoomInMemoryRowsWaitForAClaim) {
  BotManagerOptions options;
  options.handoff_capacity = 0;
  Build(options);
  CreateWa();
  ASSERT_TRUE(Receive("5511988887777", "oi", 1).ok());
  EXPECT_EQ(logic_->handed_waiting().first, 0u);
  EXPECT_EQ(std::get<1>(store_->inbox_lease(store_->Inbox()[0].row.id)), 0);  // not leased
  Drain();
  EXPECT_GE(store_->claim_inbox_calls(), 1);
  EXPECT_THAT(SentTexts(), ElementsAre("echo: oi"));
}

TEST_F(BotManagerTest, AGracefulStopGivesBackTheLeasesOfRowsWaitingInMemory) {
  CreateWa();
  ASSERT_TRUE(Receive("5511988887777", "um", 1).ok());
  ASSERT_TRUE(Receive("5511988887777", "dois", 2).ok());
  ASSERT_EQ(logic_->handed_waiting().first, 2u);
  ASSERT_TRUE(logic_->Drain(ctx_).ok());
  EXPECT_EQ(logic_->handed_waiting().first, 0u);
  for (const auto& in : store_->Inbox()) {
    auto [lease_until, attempts, state] = store_->inbox_lease(in.row.id);
    EXPECT_LE(lease_until, clock_.Now()) << in.row.external_id;  // claimable at once
    EXPECT_EQ(attempts, 0) << in.row.external_id;  // the unused lease is not an attempt
    EXPECT_EQ(state, "pending");
  }
  // Another process (or this one restarted) takes them with a claim.
  Drain();
  EXPECT_THAT(SentTexts(), UnorderedElementsAre("echo: um", "echo: dois"));
}

TEST_F(BotManagerTest, AMissingCacheEntryIsRebuiltFromTheStore) {
  CreateWa();
  ASSERT_TRUE(Receive("5511988887777", "primeira", 1).ok());
  Drain();
  // A conversation opened by this very message has no history to read.
  EXPECT_EQ(store_->recent_messages_calls(), 0);
  ASSERT_TRUE(Receive("5511988887777", "segunda", 2).ok());
  Drain();
  EXPECT_EQ(store_->recent_messages_calls(), 0);  // warm: from the cache
  {
    std::lock_guard<std::mutex> l(cache_.mu);
    cache_.entries.clear();  // expired (TTL) or Redis restarted
  }
  ASSERT_TRUE(Receive("5511988887777", "terceira", 3).ok());
  Drain();
  EXPECT_EQ(store_->recent_messages_calls(), 1);  // cold: rebuilt from the store
  std::vector<std::string> seen;
  for (const auto& m : model_.calls.back()) seen.push_back(m.text);
  EXPECT_THAT(seen,
              ElementsAre("primeira", "echo: primeira", "segunda", "echo: segunda", "terceira"));
}

// --- sandbox

// The issue: the router marked answers `sandbox` when it could not read its
// settings and ten acknowledged messages got nothing anyone could see. A
// sandbox answer ends in a visible terminal state: the inbox row done, the
// reply in the history and in the outbox as `sandboxed` (ListOutboxEntries),
// the outcome counted (and a warning logged with the row's id).
TEST_F(BotManagerTest, SandboxRepliesAreRecordedVisiblyAndCountedButNeverSent) {
  CreateWa();
  model_.script = {ModelReply{"resposta de teste", true}};
  ASSERT_TRUE(Receive("5511988887777", "oi", 1).ok());
  Drain();
  EXPECT_THAT(SentTexts(), IsEmpty());
  auto outbox = store_->Outbox();
  ASSERT_THAT(outbox, SizeIs(1));
  EXPECT_EQ(outbox[0].row.state, "sandboxed");
  EXPECT_EQ(outbox[0].row.text, "resposta de teste");
  EXPECT_EQ(store_->Inbox()[0].row.state, "done");
  EXPECT_EQ(Count(metrics_.inbox_outcomes, {"sandboxed"}), 1);
  EXPECT_EQ(Count(metrics_.inbox_outcomes, {"replied"}), 0);
}

TEST_F(BotManagerTest, ASandboxBotNeverSendsEvenWhenTheRouterIsLive) {
  BotConfig b = WhatsAppBot();
  b.sandbox = true;
  CreateWa(b);
  ASSERT_TRUE(Receive("5511988887777", "oi", 1).ok());
  Drain();
  EXPECT_THAT(SentTexts(), IsEmpty());
  EXPECT_EQ(store_->Outbox()[0].row.state, "sandboxed");
}

}  // namespace
}  // namespace genesis::bot
