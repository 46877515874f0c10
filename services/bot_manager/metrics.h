// The bot manager's counters, registered once (Register) and bumped on the
// hot paths without lookups. A default-constructed BotMetrics counts nothing.
#pragma once

#include "common/base/metrics.h"

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
  Counter* purged = nullptr;  // rows deleted by the retention purge
  // How each inbound message ended {outcome}: replied, handoff, sandboxed
  // (recorded, never sent), held (a person holds the conversation), unanswered
  // (an Alexa request that left its row behind).
  Family<Counter>* inbox_outcomes = nullptr;
  // Sends of a row whose earlier send may have reached the channel (started,
  // never marked sent: a crash or a timeout) {channel, deduplicated}: "yes"
  // when the channel drops the repeat by its idempotency key, else "no" (the
  // contact may get the reply twice).
  Family<Counter>* outbox_resends = nullptr;
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
    m.inbox_outcomes = &registry->AddCounter(
        "genesis_bot_inbox_outcomes_total",
        "Inbound messages by how they ended: replied, handoff, sandboxed, held, unanswered.",
        {"outcome"});
    m.outbox_resends = &registry->AddCounter(
        "genesis_bot_outbox_resends_total",
        "Sends of a reply whose earlier send may have reached the channel, by channel and "
        "whether the channel deduplicates it.",
        {"channel", "deduplicated"});
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
inline void Inc(Family<Counter>* f, const std::vector<std::string>& labels) {
  if (f != nullptr) f->WithLabels(labels).Inc();
}

}  // namespace genesis::bot
