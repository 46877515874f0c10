// The outbox senders' step: a reply taken from memory or claimed, admitted
// to its recipient's gate, paced by the rate limits, marked send-started,
// sent through the channel and marked sent (group commit), or retried.
#include "common/base/status.h"
#include "common/runtime/logging.h"
#include "services/bot_manager/pipeline/reply_pipeline.h"

namespace genesis::bot {
namespace {

bool Retryable(const absl::Status& st) {
  return st.code() == absl::StatusCode::kUnavailable ||
         st.code() == absl::StatusCode::kDeadlineExceeded ||
         st.code() == absl::StatusCode::kResourceExhausted ||
         st.code() == absl::StatusCode::kAborted;
}

}  // namespace

absl::StatusOr<int> ReplyPipeline::SendOutbox(const CallContext& ctx) {
  // A row from memory enters its recipient's gate as it leaves the queue, so
  // that two senders taking two replies to one chat send them in order.
  std::optional<OutboxRow> handed;
  if (handed_outbox_.TakeAnd([&](OutboxRow row) {
        if (AdmitToSendGate(&row)) handed = std::move(row);
      })) {
    if (handed) SendInOrder(*std::move(handed), ctx);
    return 1;
  }
  if (!handed_outbox_.ClaimDue()) return 0;
  GENESIS_ASSIGN_OR_RETURN(std::vector<OutboxRow> rows,
                           store_->ClaimOutbox(options_.outbox_batch, options_.outbox_lease, ctx));
  if (static_cast<int>(rows.size()) == options_.outbox_batch) handed_outbox_.ClaimNow();
  for (auto& row : rows) {
    if (AdmitToSendGate(&row)) SendInOrder(std::move(row), ctx);
  }
  return static_cast<int>(rows.size());
}

bool ReplyPipeline::AdmitToSendGate(OutboxRow* row) {
  std::lock_guard<std::mutex> lock(send_gates_mu_);
  SendGate& gate = send_gates_[{row->bot_id, row->recipient}];
  if (gate.busy) {
    // Another sender is sending to this recipient: it sends this one next, in id order.
    auto at = std::find_if(gate.waiting.begin(), gate.waiting.end(),
                           [&](const auto& w) { return w.first.id > row->id; });
    gate.waiting.insert(at, {std::move(*row), absl::Now() + options_.outbox_lease / 2});
    return false;
  }
  gate.busy = true;
  return true;
}

void ReplyPipeline::SendInOrder(OutboxRow row, const CallContext& ctx) {
  const std::pair<std::string, std::string> key{row.bot_id, row.recipient};
  while (true) {
    if (auto st = SendOne(row, ctx); !st.ok()) {
      Logger("bot.sender")
          ->warn("outbox row {} (bot {}, to {}): {}", row.id, row.bot_id, MaskForLog(row.recipient),
                 st.message());
    }
    std::optional<OutboxRow> next;
    std::vector<int64_t> stale;
    {
      std::lock_guard<std::mutex> lock(send_gates_mu_);
      SendGate& gate = send_gates_[key];
      while (!gate.waiting.empty() && !next) {
        auto [w, until] = std::move(gate.waiting.front());
        gate.waiting.pop_front();
        if (until > absl::Now()) {
          next = std::move(w);
        } else {
          stale.push_back(w.id);  // its lease is running out: back for a claim
        }
      }
      if (!next) send_gates_.erase(key);
    }
    if (!stale.empty()) {
      if (auto st = store_->ReleaseLeases({}, stale, ctx); !st.ok()) {
        Logger("bot.sender")
            ->warn(
                "could not give back {} outbox row(s) (taken again when their leases run "
                "out): {}",
                stale.size(), st.message());
      }
      handed_outbox_.ClaimNow();
    }
    if (!next) return;
    row = std::move(*next);
  }
}

absl::Status ReplyPipeline::SendOne(const OutboxRow& row, const CallContext& ctx) {
  auto bot = bots_->Cached(row.bot_id, ctx);
  if (!bot.ok()) {
    if (bot.status().code() != absl::StatusCode::kNotFound) return bot.status();
    return store_->MarkSendFailed(row.id, std::nullopt, "the bot was deleted", false, ctx);
  }
  // An Alexa answer was spoken in the response to its request: record it as sent.
  if (bot->channel == Channel::kAlexa) return marks_->Submit({row.id, ""}, ctx.deadline).status();
  absl::Duration wait = rate_limits_.Delay(row, options_.max_send_pacing);
  if (wait > absl::ZeroDuration() && wait <= options_.max_send_pacing) {
    // A short wait (its tokens taken ahead) is spent here: the chat's next
    // replies stay behind this one.
    absl::SleepFor(wait);
    wait = absl::ZeroDuration();
  }
  if (wait > absl::ZeroDuration()) {
    Inc(metrics_.outbox_rate_limited);
    return store_->DeferOutbox(row.id, options_.clock->Now() + wait, ctx);
  }
  if (row.send_started) {
    // An earlier send started and was never marked sent (a crash or a timeout):
    // it may have reached the channel. Neither the Graph API nor the Bot API can
    // say whether a message with our key was delivered, so it is sent again and
    // counted; Mattermost drops the repeat by its pending_post_id.
    const bool dedup =
        sender_->DeduplicatesResend(bot->channel, options_.clock->Now() - *row.send_started);
    Inc(metrics_.outbox_resends, {row.channel, dedup ? "yes" : "no"});
    Logger("bot.sender")
        ->warn(
            "outbox row {} (bot {}, to {}): an earlier send may have reached {}; sending "
            "again with the same key ({})",
            row.id, row.bot_id, MaskForLog(row.recipient), row.channel,
            dedup ? "the channel drops the repeat" : "the contact may get it twice");
  } else {
    // Recorded before the channel is called: a row found pending after a crash
    // without this mark was never sent, and is sent again without doubt.
    GENESIS_RETURN_IF_ERROR(starts_->Submit(row.id, ctx.deadline).status());
  }
  auto sent = sender_->Send(*bot, row, ctx);
  if (sent.ok()) {
    // Marked together with other senders' sends (group commit).
    if (options_.wait_for_sent_marks) {
      GENESIS_RETURN_IF_ERROR(marks_->Submit({row.id, sent->external_id}, ctx.deadline).status());
    } else {
      marks_->Add({row.id, sent->external_id}, ctx.deadline,
                  [id = row.id](absl::StatusOr<bool> marked) {
                    if (!marked.ok()) {
                      Logger("bot.sender")
                          ->warn(
                              "outbox row {} was sent but could not be marked (sent again "
                              "when its lease runs out): {}",
                              id, marked.status().message());
                    }
                  });
    }
    Inc(metrics_.outbox_sent);
    if (metrics_.reply_seconds != nullptr) {
      metrics_.reply_seconds->Observe(absl::ToDoubleSeconds(absl::Now() - row.create_time));
    }
    return absl::OkStatus();
  }
  const std::string error(sent.status().message());
  const bool maybe_delivered = MayHaveReachedChannel(sent.status());
  if (Retryable(sent.status()) && row.attempts < options_.max_send_attempts) {
    Inc(metrics_.outbox_retried);
    GENESIS_RETURN_IF_ERROR(store_->MarkSendFailed(
        row.id, options_.clock->Now() + Backoff(row.attempts), error, maybe_delivered, ctx));
    return sent.status();
  }
  Inc(metrics_.outbox_failed);
  GENESIS_RETURN_IF_ERROR(
      store_->MarkSendFailed(row.id, std::nullopt, error, maybe_delivered, ctx));
  return sent.status();
}

}  // namespace genesis::bot
