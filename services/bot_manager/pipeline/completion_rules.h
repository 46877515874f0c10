// The conversation rules applied when a worker's answer to an inbox row is
// committed, as one pure function: who holds the conversation, whether the
// reply is sent, the failure counter and the hand-off. The stores
// (pipeline/pg_inbox_store.cc and the tests' fake) only apply the planned
// writes, in one transaction with the other completions of a batch, each
// planned against the conversation as the previous ones left it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "services/bot_manager/model.h"
#include "services/bot_manager/pipeline/pipeline_store.h"

namespace genesis::bot {

struct CompletionPlan {
  struct NewMessage {
    std::string author;  // contact, bot
    std::string text;
  };
  struct NewOutbox {
    std::string text;
    std::string idempotency_key;  // <bot>-in-<inbox id>
    std::string state;            // pending, sandboxed
  };
  // Appended to the conversation's history, in order.
  std::vector<NewMessage> messages;
  // The reply's outbox row, when the reply goes out.
  std::optional<NewOutbox> outbox;
  // The conversation as the completion leaves it (state, handoff_reason,
  // agent, failures); the store stamps update_time, and handoff_time when
  // `handed_off`.
  Conversation conversation;
  bool handed_off = false;
};

// The writes that complete `row` with `outcome` while the conversation is
// `current`:
//   - the contact's message is always recorded;
//   - while the bot holds the conversation (state bot, or closed: a new
//     message reopens it), the reply is recorded and queued in the outbox
//     (sandboxed: recorded, never sent) and a hand-off reason moves the
//     conversation to handoff_waiting with no agent and the failures reset;
//   - while a person holds it (handoff_waiting, handoff_active) the reply
//     and the hand-off are dropped: the person answers;
//   - without a hand-off, the failure counter is reset, or counts one more
//     when the outcome says so (the model failed).
[[nodiscard]] CompletionPlan PlanCompletion(const Conversation& current, const InboxRow& row,
                                            const InboxOutcome& outcome);

}  // namespace genesis::bot
