// The conversation rules of a completed reply (pipeline/completion_rules.h),
// without a store: who holds the conversation, whether the reply goes out,
// the failure counter and the hand-off.
#include "services/bot_manager/pipeline/completion_rules.h"

#include <gtest/gtest.h>

namespace genesis::bot {
namespace {

Conversation Conv(const std::string& state, int failures = 0, const std::string& agent = "") {
  Conversation c;
  c.id = 7;
  c.bot_id = "wa";
  c.contact = "5511999990000";
  c.state = state;
  c.failures = failures;
  c.agent = agent;
  return c;
}

InboxRow Row() {
  InboxRow r;
  r.id = 42;
  r.bot_id = "wa";
  r.contact = "5511999990000";
  r.text = "qual o horário?";
  return r;
}

InboxOutcome Reply(const std::string& text) {
  InboxOutcome o;
  o.inbox_id = 42;
  o.reply = text;
  return o;
}

TEST(CompletionRules, TheBotsReplyIsRecordedAndQueuedWithTheInboxKey) {
  const CompletionPlan plan = PlanCompletion(Conv(kStateBot, 2), Row(), Reply("das 8h às 18h"));
  ASSERT_EQ(plan.messages.size(), 2u);
  EXPECT_EQ(plan.messages[0].author, "contact");
  EXPECT_EQ(plan.messages[0].text, "qual o horário?");
  EXPECT_EQ(plan.messages[1].author, "bot");
  EXPECT_EQ(plan.messages[1].text, "das 8h às 18h");
  ASSERT_TRUE(plan.outbox.has_value());
  EXPECT_EQ(plan.outbox->text, "das 8h às 18h");
  EXPECT_EQ(plan.outbox->idempotency_key, "wa-in-42");
  EXPECT_EQ(plan.outbox->state, "pending");
  EXPECT_EQ(plan.conversation.state, kStateBot);
  EXPECT_EQ(plan.conversation.failures, 0);
  EXPECT_FALSE(plan.handed_off);
}

TEST(CompletionRules, ASandboxedReplyIsRecordedNotSent) {
  InboxOutcome o = Reply("resposta");
  o.sandboxed = true;
  const CompletionPlan plan = PlanCompletion(Conv(kStateBot), Row(), o);
  ASSERT_TRUE(plan.outbox.has_value());
  EXPECT_EQ(plan.outbox->state, "sandboxed");
}

TEST(CompletionRules, AClosedConversationReopensWithTheBot) {
  const CompletionPlan plan = PlanCompletion(Conv(kStateClosed), Row(), Reply("olá"));
  EXPECT_EQ(plan.conversation.state, kStateBot);
  EXPECT_TRUE(plan.outbox.has_value());
}

TEST(CompletionRules, AHandoffWaitsForAPersonWithNoAgentAndNoFailures) {
  InboxOutcome o = Reply("Vou chamar um atendente humano.");
  o.handoff_reason = "the contact asked for a person";
  o.reset_failures = false;
  const CompletionPlan plan = PlanCompletion(Conv(kStateBot, 3, "stale"), Row(), o);
  EXPECT_EQ(plan.conversation.state, kStateHandoffWaiting);
  EXPECT_EQ(plan.conversation.handoff_reason, "the contact asked for a person");
  EXPECT_EQ(plan.conversation.agent, "");
  EXPECT_EQ(plan.conversation.failures, 0);
  EXPECT_TRUE(plan.handed_off);
  EXPECT_TRUE(plan.outbox.has_value());  // the contact is told
}

TEST(CompletionRules, WhileAPersonHoldsItOnlyTheContactsMessageIsRecorded) {
  for (const char* state : {kStateHandoffWaiting, kStateHandoffActive}) {
    InboxOutcome o = Reply("resposta do modelo");
    o.handoff_reason = "the assistant was not confident of its answer";
    const CompletionPlan plan = PlanCompletion(Conv(state, 1, "ana"), Row(), o);
    ASSERT_EQ(plan.messages.size(), 1u) << state;
    EXPECT_EQ(plan.messages[0].author, "contact");
    EXPECT_FALSE(plan.outbox.has_value()) << state;
    EXPECT_FALSE(plan.handed_off) << state;
    EXPECT_EQ(plan.conversation.state, state);
    EXPECT_EQ(plan.conversation.agent, "ana");
    EXPECT_EQ(plan.conversation.failures, 0) << state;
  }
}

TEST(CompletionRules, AModelFailureCountsOneMoreFailure) {
  InboxOutcome o;
  o.inbox_id = 42;
  o.reset_failures = false;
  const CompletionPlan plan = PlanCompletion(Conv(kStateBot, 2), Row(), o);
  EXPECT_EQ(plan.conversation.failures, 3);
  EXPECT_EQ(plan.conversation.state, kStateBot);
  EXPECT_FALSE(plan.outbox.has_value());
  EXPECT_EQ(plan.messages.size(), 1u);
}

}  // namespace
}  // namespace genesis::bot
