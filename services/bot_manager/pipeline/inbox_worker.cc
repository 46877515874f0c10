// The inbox workers' step: a message taken from memory or claimed, admitted
// to its conversation's gate, answered through the router (or handed to a
// person), and the outcome committed with the other workers' (group commit).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"
#include "services/bot_manager/pipeline/reply_pipeline.h"
#include "services/bot_manager/pipeline/reply_rules.h"

namespace genesis::bot {
namespace {

// The router could not answer for reasons of its own (down, hung, out of
// budget or capacity): worth retrying later, not a reason to hand off.
bool RouterUnavailable(const absl::Status& st) {
  return st.code() == absl::StatusCode::kUnavailable ||
         st.code() == absl::StatusCode::kDeadlineExceeded ||
         st.code() == absl::StatusCode::kResourceExhausted;
}

}  // namespace

absl::StatusOr<int> ReplyPipeline::ProcessInbox(const CallContext& ctx) {
  // One row at a time from memory, so that every worker gets a share; it
  // enters its conversation's gate as it leaves the queue, so that two
  // workers taking two messages of one conversation answer them in order.
  std::optional<InboxRow> run;
  int64_t behind = 0;
  auto admit = [&](InboxRow row) {
    switch (AdmitToGate(&row)) {
      case Admission::kRun:
        run = std::move(row);
        break;
      case Admission::kBehind:
        behind = row.id;
        break;
      case Admission::kQueued:
        break;
    }
  };
  bool took = handed_inbox_.TakeAnd(admit);
  if (!took && handed_inbox_.ClaimDue()) {
    const absl::Time claimed_at = absl::Now();
    GENESIS_ASSIGN_OR_RETURN(std::vector<InboxRow> rows,
                             store_->ClaimInbox(options_.inbox_batch, options_.inbox_lease, ctx));
    if (rows.empty()) return 0;
    for (auto& r : rows) r.claimed = true;
    // A claim takes one message per conversation (its oldest waiting one): while
    // claims find rows (a backlog after an outage), claim again at once. This
    // worker answers the first; the others go to the other workers.
    handed_inbox_.ClaimNow();
    InboxRow first = std::move(rows.front());
    rows.erase(rows.begin());
    const size_t n = rows.size();
    if (n > 0) {
      handed_inbox_.PushFront(std::move(rows), claimed_at, options_.inbox_lease);
      WakeInbox(n);
    }
    admit(std::move(first));
    took = true;
  }
  if (behind != 0) GiveBackInbox({behind}, ctx);
  if (run) AnswerInOrder(*std::move(run), ctx);
  return took ? 1 : 0;
}

ReplyPipeline::Admission ReplyPipeline::AdmitToGate(InboxRow* row) {
  std::lock_guard<std::mutex> lock(gates_mu_);
  if (gates_.size() > 100000) {
    for (auto it = gates_.begin(); it != gates_.end();) {
      it = it->second.busy ? std::next(it) : gates_.erase(it);
    }
  }
  Gate& gate = gates_[{row->bot_id, row->contact}];
  if (gate.backlog_to != 0 && gate.backlog_expiry <= options_.clock->Now()) gate.backlog_to = 0;
  // A claim hands over the oldest waiting message of a conversation; one from
  // memory is newer than any the conversation has waiting in PostgreSQL.
  if (!row->claimed && gate.backlog_to != 0) {
    gate.backlog_to = std::max(gate.backlog_to, row->id);
    return Admission::kBehind;
  }
  if (gate.busy) {
    // Another worker is answering this conversation: it answers this one next, in id order.
    auto at = std::find_if(gate.waiting.begin(), gate.waiting.end(),
                           [&](const auto& w) { return w.first.id > row->id; });
    gate.waiting.insert(at, {std::move(*row), absl::Now() + options_.inbox_lease / 2});
    return Admission::kQueued;
  }
  gate.busy = true;
  return Admission::kRun;
}

void ReplyPipeline::GiveBackInbox(const std::vector<int64_t>& ids, const CallContext& ctx) {
  if (ids.empty()) return;
  if (auto st = store_->ReleaseLeases(ids, {}, ctx); !st.ok()) {
    Logger("bot.worker")
        ->warn(
            "could not give back {} inbox row(s) waiting behind an earlier message (taken "
            "again when their leases run out): {}",
            ids.size(), st.message());
  }
}

void ReplyPipeline::AnswerInOrder(InboxRow row, const CallContext& ctx) {
  const std::pair<std::string, std::string> key{row.bot_id, row.contact};
  auto log = Logger("bot.worker");
  while (true) {
    auto done = ProcessOne(row, ctx);
    if (!done.ok()) {
      log->warn("inbox row {} (bot {}, contact {}): {}", row.id, row.bot_id,
                MaskForLog(row.contact), done.status().message());
    }
    // ABORTED: another worker finished the row; nothing waits on it.
    const bool waits =
        done.ok() ? done->has_value() : done.status().code() != absl::StatusCode::kAborted;
    std::vector<int64_t> later;
    std::optional<InboxRow> next;
    bool claim_next = false;
    {
      std::lock_guard<std::mutex> lock(gates_mu_);
      Gate& gate = gates_[key];
      if (waits) {
        // Retried later (or taken again after its lease): the later messages wait
        // behind it in PostgreSQL, and so do those that arrive meanwhile.
        gate.backlog_to = std::max(gate.backlog_to, row.id);
        gate.backlog_expiry = (done.ok() ? **done : options_.clock->Now()) + options_.inbox_lease;
        for (const auto& [w, until] : gate.waiting) {
          later.push_back(w.id);
          gate.backlog_to = std::max(gate.backlog_to, w.id);
        }
        gate.waiting.clear();
      } else if (gate.backlog_to != 0) {
        // Answered one of the backlog: the next is claimed at once; the last ends it.
        claim_next = true;
        if (row.id >= gate.backlog_to) {
          gate.backlog_to = 0;
        } else {
          gate.backlog_expiry = options_.clock->Now() + options_.inbox_lease;
        }
      }
      if (!gate.waiting.empty()) {
        if (gate.waiting.front().second > absl::Now()) {
          next = std::move(gate.waiting.front().first);
          gate.waiting.pop_front();
        } else {
          // Their leases are running out: back to PostgreSQL, claimed in order.
          for (const auto& [w, until] : gate.waiting) {
            later.push_back(w.id);
            gate.backlog_to = std::max(gate.backlog_to, w.id);
          }
          gate.backlog_expiry = options_.clock->Now() + options_.inbox_lease;
          gate.waiting.clear();
        }
      }
      if (!next) {
        gate.busy = false;
        if (gate.backlog_to == 0) gates_.erase(key);
      }
    }
    GiveBackInbox(later, ctx);
    if (claim_next || !later.empty()) {
      handed_inbox_.ClaimNow();
      WakeInbox(1);
    }
    if (!next) return;
    row = std::move(*next);
  }
}

absl::StatusOr<std::optional<absl::Time>> ReplyPipeline::ProcessOne(const InboxRow& row,
                                                                    const CallContext& ctx) {
  auto outcome_metric = [&](const char* outcome) { Inc(metrics_.inbox_outcomes, {outcome}); };
  if (row.channel == ChannelName(Channel::kAlexa)) {
    // Answered by the request that brought it (ReceiveAlexa); a row that
    // request left behind is recorded without an answer once it is late.
    if (options_.clock->Now() - row.create_time < options_.alexa_answer_grace) {
      GENESIS_RETURN_IF_ERROR(store_->RetryInbox(row.id,
                                                 row.create_time + options_.alexa_answer_grace,
                                                 "being answered in its Alexa request", ctx));
      return std::nullopt;  // nothing waits on it: later requests answer themselves
    }
    InboxOutcome late;
    late.inbox_id = row.id;
    GENESIS_RETURN_IF_ERROR(store_->CompleteInbox(late, ctx));
    outcome_metric("unanswered");
    return std::nullopt;
  }
  GENESIS_ASSIGN_OR_RETURN(BotConfig bot, bots_->Cached(row.bot_id, ctx));
  // The conversation: opened at ingestion for rows handed over, else from the cache or the store.
  Conversation conv;
  if (row.conversation_id != 0) {
    conv.id = row.conversation_id;
    conv.bot_id = bot.id;
    conv.contact = row.contact;
    conv.state = row.conversation_state;
  } else {
    GENESIS_ASSIGN_OR_RETURN(conv, conversations_->Get(bot.id, row.contact, ctx));
  }
  InboxOutcome outcome;
  outcome.inbox_id = row.id;
  // Written together with other workers' completions (group commit).
  auto complete = [&]() -> absl::Status {
    GENESIS_ASSIGN_OR_RETURN(CompletionResult done, completions_->Submit(outcome, ctx.deadline));
    if (done.conversation) conversations_->Remember(*done.conversation);
    return absl::OkStatus();
  };
  if (conv.state == kStateHandoffWaiting || conv.state == kStateHandoffActive) {
    // A human holds it: record the message, stay silent.
    GENESIS_RETURN_IF_ERROR(complete());
    Inc(metrics_.inbox_processed);
    outcome_metric("held");
    return std::nullopt;
  }
  std::vector<Message> context;
  if (auto cached = context_->Get(conv.id, ctx)) {
    context = std::move(*cached);
  } else if (!row.new_conversation) {
    GENESIS_ASSIGN_OR_RETURN(context,
                             store_->RecentMessages(conv.id, bot.max_context_messages, ctx));
  }
  context.push_back({"contact", "", row.text, options_.clock->Now()});
  if (IsHandoffRequest(row.text)) {
    outcome.reply = options_.handoff_reply;
    outcome.handoff_reason = "the contact asked for a person";
  } else {
    auto reply = model_->Reply(
        bot, TrimContext(context, bot.max_context_messages, options_.max_context_bytes), ctx);
    if (!reply.ok()) {
      const absl::Status& st = reply.status();
      const std::string why = absl::StrCat(absl::StatusCodeToString(st.code()), ": ", st.message());
      const absl::Time now = options_.clock->Now();
      if (RouterUnavailable(st)) {
        // Infrastructure, not the conversation: retried with backoff within the window.
        const absl::Time retry_at = now + Backoff(row.attempts);
        if (retry_at <= row.create_time + options_.reply_retry_window) {
          Inc(metrics_.inbox_retried);
          GENESIS_RETURN_IF_ERROR(store_->RetryInbox(row.id, retry_at, why, ctx));
          return retry_at;
        }
        outcome.handoff_reason =
            absl::StrCat("assistant unavailable: no answer in ",
                         absl::FormatDuration(absl::Trunc(now - row.create_time, absl::Seconds(1))),
                         " (", row.attempts, " attempt(s); last: ", why, ")");
      } else {
        outcome.handoff_reason = absl::StrCat("the assistant refused the message (", why, ")");
      }
      outcome.reply = options_.handoff_reply;
      outcome.reset_failures = false;
    } else if (IsLowConfidence(reply->text)) {
      outcome.reply = options_.handoff_reply;
      outcome.handoff_reason = "the assistant was not confident of its answer";
    } else {
      outcome.reply = reply->text;
      outcome.sandboxed = reply->sandbox;
      if (reply->sandbox && !bot.sandbox) {
        Logger("bot.worker")
            ->warn(
                "the router answered inbox row {} of bot {} in sandbox mode: the reply is "
                "recorded (outbox state sandboxed), not sent",
                row.id, bot.id);
      }
    }
  }
  outcome.sandboxed = outcome.sandboxed || bot.sandbox;
  if (outcome.handoff_reason) {
    Inc(metrics_.handoffs);
    Logger("bot.worker")
        ->info("conversation {} of bot {} handed to a person: {}", conv.id, bot.id,
               *outcome.handoff_reason);
  }
  GENESIS_RETURN_IF_ERROR(complete());
  Inc(metrics_.inbox_processed);
  outcome_metric(outcome.handoff_reason ? "handoff" : outcome.sandboxed ? "sandboxed" : "replied");
  if (outcome.reply) context.push_back({"bot", "", *outcome.reply, options_.clock->Now()});
  context_->Put(conv.id, TrimContext(context, bot.max_context_messages, options_.max_context_bytes),
                ctx);
  return std::nullopt;
}

}  // namespace genesis::bot
