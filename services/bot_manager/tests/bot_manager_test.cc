// Unit tests of the bot manager's logic on in-memory fakes (fake_store.h):
// handoff triggers, silence while a human holds a conversation, context
// trimming and rebuilding, sandbox replies, retries and rate limits of the
// outbox, quiet hours and the proactive day, masking in logs and input
// validation. The clock is injected; nothing sleeps.
#include "services/bot_manager/bot_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <condition_variable>
#include <sstream>
#include <thread>

#include "absl/time/civil_time.h"
#include "common/logging.h"
#include "common/status.h"
#include "services/bot_manager/channel_client.h"
#include "services/bot_manager/channels/mattermost/mattermost.h"
#include "services/bot_manager/channels/telegram/telegram.h"
#include "services/bot_manager/channels/webhook_util.h"
#include "services/bot_manager/channels/whatsapp/whatsapp.h"
#include "services/bot_manager/simulator/simulator.h"
#include "services/bot_manager/tests/fake_store.h"

namespace genesis::bot {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

std::vector<std::string> Fields(const absl::Status& st) {
  std::vector<std::string> out;
  for (const auto& [field, desc] : FieldViolationsOf(st)) out.push_back(field);
  return out;
}

class BotManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(BotManagerOptions{}); }

  void Build(BotManagerOptions options) {
    options.now = [this] { return now_; };
    options.max_send_pacing = absl::ZeroDuration();  // the injected clock does not move in a sleep
    registry_ = std::make_unique<MetricsRegistry>();
    auto store = std::make_unique<testing::FakeBotStore>([this] { return now_; });
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

  absl::Time now_ = absl::FromCivil(absl::CivilSecond(2026, 3, 10, 15, 0, 0), absl::UTCTimeZone());
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
  const absl::Time arrived = now_;
  ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);
  std::vector<absl::Duration> waits;
  for (int attempt = 2; attempt <= 5; ++attempt) {
    const absl::Time due = store_->Inbox()[0].lease_until;
    waits.push_back(due - now_);
    now_ = due - absl::Milliseconds(1);
    EXPECT_EQ(*logic_->ProcessInbox(ctx_), 0) << "retried before its backoff, attempt " << attempt;
    EXPECT_EQ(ConvOf("5511988887777").state, kStateBot);
    now_ = due + absl::Milliseconds(1);
    ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1) << "attempt " << attempt;
  }
  EXPECT_THAT(waits,
              ElementsAre(absl::Seconds(2), absl::Seconds(4), absl::Seconds(8), absl::Seconds(16)));
  EXPECT_LT(now_ - arrived, absl::Minutes(1));
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
  const absl::Time arrived = now_;
  ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);
  absl::Duration longest;
  for (int i = 0; i < 100 && store_->Inbox()[0].row.state == "pending"; ++i) {
    const absl::Time due = store_->Inbox()[0].lease_until;
    longest = std::max(longest, due - now_);
    EXPECT_EQ(ConvOf("5511988887777").state, kStateBot) << "handed off after " << now_ - arrived;
    now_ = due + absl::Milliseconds(1);
    ASSERT_EQ(*logic_->ProcessInbox(ctx_), 1);
  }
  EXPECT_EQ(longest, absl::Seconds(30));
  // The window (5 min) ran out: a person takes it, with a reason that says why.
  EXPECT_GE(now_ - arrived, absl::Minutes(4));
  EXPECT_LE(now_ - arrived, absl::Minutes(5) + absl::Seconds(1));
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
  now_ += absl::Seconds(3);
  Drain();
  EXPECT_THAT(model_.calls, SizeIs(4));
  {
    std::lock_guard<std::mutex> l(model_.mu);
    model_.script.clear();  // back: echo
  }
  now_ += absl::Seconds(5);
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
  EXPECT_GT(lease_until, now_);
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
    EXPECT_LE(lease_until, now_) << in.row.external_id;  // claimable at once
    EXPECT_EQ(attempts, 0) << in.row.external_id;        // the unused lease is not an attempt
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
  now_ += absl::Seconds(2);
  ASSERT_EQ(*logic_->SendOutbox(ctx_), 1);
  now_ += absl::Seconds(5);
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
  now_ += absl::Seconds(3);
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
  now_ += absl::Seconds(3);
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
  now_ += absl::Seconds(1);
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
  now_ = Utc(2026, 1, 1, 1, 30);  // 22:30 of Dec 31st in São Paulo
  (void)logic_->CreateProactiveMessage("bots/wa", "5511988887777", "Feliz ano novo", "", ctx_);
  auto calls = store_->proactive_calls();
  ASSERT_THAT(calls, SizeIs(1));
  EXPECT_EQ(calls[0].send_time, Utc(2026, 1, 1, 10));
  EXPECT_EQ(calls[0].day, "2025-12-31");  // the daily cap counts the bot's local day
  EXPECT_EQ(calls[0].daily_limit, 3);
  EXPECT_EQ(calls[0].recipient, "5511988887777");
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
