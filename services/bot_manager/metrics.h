// The bot manager's counters, registered once (Register) and bumped on the
// hot paths without lookups. A default-constructed BotMetrics counts nothing.
#pragma once

#include "common/metrics.h"

namespace genesis::bot {

struct BotMetrics {
  Family<Counter>* webhooks = nullptr;  // {channel, result}: accepted, duplicate, rejected
  Counter* inbox_processed = nullptr;
  Counter* inbox_retried = nullptr;
  Counter* handoffs = nullptr;
  Counter* outbox_sent = nullptr;
  Counter* outbox_retried = nullptr;
  Counter* outbox_failed = nullptr;
  Counter* outbox_rate_limited = nullptr;
  Counter* purged = nullptr;           // rows deleted by the retention purge
  Histogram* reply_seconds = nullptr;  // inbox row created -> reply sent
  // Group-commit writers {writer: inbox, completions, sent_marks}: time per flush, items per flush.
  Family<Histogram>* commit_seconds = nullptr;
  Family<Histogram>* commit_items = nullptr;

  static BotMetrics Register(MetricsRegistry* registry) {
    BotMetrics m;
    m.webhooks =
        &registry->AddCounter("genesis_bot_webhook_messages_total",
                              "Webhook messages by channel and result.", {"channel", "result"});
    m.inbox_processed =
        &registry->AddCounter("genesis_bot_inbox_processed_total", "Inbox rows completed.")
             .WithLabels({});
    m.inbox_retried = &registry
                           ->AddCounter("genesis_bot_inbox_retried_total",
                                        "Inbox rows given back after a failed reply.")
                           .WithLabels({});
    m.handoffs =
        &registry->AddCounter("genesis_bot_handoffs_total", "Conversations handed to humans.")
             .WithLabels({});
    m.outbox_sent =
        &registry->AddCounter("genesis_bot_outbox_sent_total", "Replies sent to channels.")
             .WithLabels({});
    m.outbox_retried =
        &registry->AddCounter("genesis_bot_outbox_retried_total", "Send attempts to retry.")
             .WithLabels({});
    m.outbox_failed =
        &registry->AddCounter("genesis_bot_outbox_failed_total", "Replies given up on.")
             .WithLabels({});
    m.outbox_rate_limited = &registry
                                 ->AddCounter("genesis_bot_outbox_rate_limited_total",
                                              "Sends put off by the outbound rate limits.")
                                 .WithLabels({});
    m.purged = &registry
                    ->AddCounter("genesis_bot_retention_purged_total",
                                 "Rows deleted for being older than --retention_days.")
                    .WithLabels({});
    m.reply_seconds = &registry
                           ->AddHistogram("genesis_bot_reply_seconds",
                                          "From webhook commit to the reply's send.", {})
                           .WithLabels({});
    m.commit_seconds = &registry->AddHistogram(
        "genesis_bot_commit_seconds",
        "Time one group-commit flush took (a database write of a batch), by writer.", {"writer"});
    m.commit_items = &registry->AddHistogram("genesis_bot_commit_items",
                                             "Items written by one group-commit flush, by writer.",
                                             {"writer"}, {1, 2, 4, 8, 16, 32, 64, 128, 256, 512});
    return m;
  }
};

inline void Inc(Counter* c, double v = 1) {
  if (c != nullptr) c->Inc(v);
}

}  // namespace genesis::bot
