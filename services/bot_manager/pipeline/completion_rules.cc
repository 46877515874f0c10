#include "services/bot_manager/pipeline/completion_rules.h"

#include "absl/strings/str_cat.h"

namespace genesis::bot {

CompletionPlan PlanCompletion(const Conversation& current, const InboxRow& row,
                              const InboxOutcome& outcome) {
  CompletionPlan plan;
  plan.conversation = current;
  Conversation& c = plan.conversation;
  const bool bot_holds = c.state == kStateBot || c.state == kStateClosed;
  plan.messages.push_back({"contact", row.text});
  if (outcome.reply && bot_holds) {
    plan.messages.push_back({"bot", *outcome.reply});
    plan.outbox =
        CompletionPlan::NewOutbox{*outcome.reply, absl::StrCat(row.bot_id, "-in-", row.id),
                                  outcome.sandboxed ? "sandboxed" : "pending"};
  }
  if (outcome.handoff_reason && bot_holds) {
    c.state = kStateHandoffWaiting;
    c.handoff_reason = *outcome.handoff_reason;
    c.agent.clear();
    c.failures = 0;
    plan.handed_off = true;
  } else {
    if (c.state == kStateClosed) c.state = kStateBot;
    c.failures = outcome.reset_failures ? 0 : c.failures + 1;
  }
  return plan;
}

}  // namespace genesis::bot
