// Every counter the LLM router exports besides the per-RPC ones
// (common/rpc/rpc.h, common/rpc/stream_rpc.h) and the pool gauges (common/storage/pg_pool.h).
// Unregistered (null) counters are skipped, so tests need no registry.
#pragma once

#include "common/base/metrics.h"

namespace genesis::llmrouter {

struct RouterMetrics {
  Counter* cache_hits = nullptr;             // answered from the response cache
  Counter* cache_misses = nullptr;           // looked up, not there: executed
  Counter* cache_skipped = nullptr;          // not looked up: no_cache, sensitive or no cache
  Counter* cache_errors = nullptr;           // Redis failed; the call went on without it
  Counter* budget_rejections = nullptr;      // RESOURCE_EXHAUSTED before execution
  Counter* budget_alerts = nullptr;          // a day passed 120 % of its budget
  Counter* budget_check_errors = nullptr;    // budgets unreadable: the call failed UNAVAILABLE
  Counter* sandbox_unknown = nullptr;        // sandbox mode unreadable: the call failed UNAVAILABLE
  Counter* settings_cache_hits = nullptr;    // sandbox flag / "no budget" from memory
  Counter* settings_cache_misses = nullptr;  // not held or expired: read from the store
  Counter* feedback_created = nullptr;       // first feedback of a subject on an execution
  Counter* feedback_updated = nullptr;       // a subject replaced its feedback
  Counter* experiment_enrolled = nullptr;    // calls routed by an experiment arm
  Counter* rate_limit_skipped = nullptr;     // a model passed over at its RPM/TPM limit
  Counter* rate_limit_waited = nullptr;      // calls that waited for the next minute window
  Counter* rate_limit_rejected = nullptr;    // every model at its limit past the deadline
  Counter* rate_limit_redis_errors = nullptr;  // Redis failed: counted locally
  // Batched accounting (accounting/batched_accounting_store.h).
  Counter* accounting_queued = nullptr;         // rows queued for the writer
  Counter* accounting_written = nullptr;        // rows the writer inserted
  Counter* accounting_sync_fallback = nullptr;  // queue full (or closed): written in the call
  Counter* accounting_write_errors = nullptr;   // failed batch writes (retried)
  Counter* accounting_lost = nullptr;           // rows given up on (logged with their count)
  Gauge* accounting_queue_rows = nullptr;       // rows queued or being written

  static void Inc(Counter* c, double v = 1) {
    if (c) c->Inc(v);
  }
  static void Set(Gauge* g, double v) {
    if (g) g->Set(v);
  }

  static RouterMetrics Register(MetricsRegistry* registry) {
    RouterMetrics m;
    auto& cache = registry->AddCounter("genesis_llm_router_response_cache_total",
                                       "Response cache lookups by result (hit, miss, skipped, "
                                       "error).",
                                       {"result"});
    m.cache_hits = &cache.WithLabels({"hit"});
    m.cache_misses = &cache.WithLabels({"miss"});
    m.cache_skipped = &cache.WithLabels({"skipped"});
    m.cache_errors = &cache.WithLabels({"error"});
    auto& budget = registry->AddCounter("genesis_llm_router_budget_events_total",
                                        "Budget events (rejected, alert, check_error).", {"event"});
    m.budget_rejections = &budget.WithLabels({"rejected"});
    m.budget_alerts = &budget.WithLabels({"alert"});
    m.budget_check_errors = &budget.WithLabels({"check_error"});
    m.sandbox_unknown = &registry
                             ->AddCounter("genesis_llm_router_sandbox_unknown_total",
                                          "Calls failed UNAVAILABLE because the subject's "
                                          "sandbox mode could not be read.")
                             .WithLabels({});
    auto& settings = registry->AddCounter(
        "genesis_llm_router_settings_cache_total",
        "Lookups of a subject's sandbox flag and of 'no budget applies' before a call, by "
        "result (hit: no database read; miss). Both stay 0 with --settings_cache_ms=0.",
        {"result"});
    m.settings_cache_hits = &settings.WithLabels({"hit"});
    m.settings_cache_misses = &settings.WithLabels({"miss"});
    auto& feedback = registry->AddCounter("genesis_llm_router_feedback_total",
                                          "Feedback recorded (created, updated).", {"kind"});
    m.feedback_created = &feedback.WithLabels({"created"});
    m.feedback_updated = &feedback.WithLabels({"updated"});
    m.experiment_enrolled = &registry
                                 ->AddCounter("genesis_llm_router_experiment_enrolled_total",
                                              "Calls routed by an experiment's arm.")
                                 .WithLabels({});
    auto& rate = registry->AddCounter("genesis_llm_router_rate_limit_total",
                                      "Provider RPM/TPM limit events (skipped, waited, rejected, "
                                      "redis_error).",
                                      {"event"});
    m.rate_limit_skipped = &rate.WithLabels({"skipped"});
    m.rate_limit_waited = &rate.WithLabels({"waited"});
    m.rate_limit_rejected = &rate.WithLabels({"rejected"});
    m.rate_limit_redis_errors = &rate.WithLabels({"redis_error"});
    auto& acc = registry->AddCounter("genesis_llm_router_accounting_rows_total",
                                     "Accounting rows by what happened to them (queued, written, "
                                     "sync_fallback, lost) and failed batch writes (write_error).",
                                     {"event"});
    m.accounting_queued = &acc.WithLabels({"queued"});
    m.accounting_written = &acc.WithLabels({"written"});
    m.accounting_sync_fallback = &acc.WithLabels({"sync_fallback"});
    m.accounting_write_errors = &acc.WithLabels({"write_error"});
    m.accounting_lost = &acc.WithLabels({"lost"});
    m.accounting_queue_rows = &registry
                                   ->AddGauge("genesis_llm_router_accounting_queue_rows",
                                              "Accounting rows queued or being written.")
                                   .WithLabels({});
    return m;
  }
};

}  // namespace genesis::llmrouter
