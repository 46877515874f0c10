// Every metric the Reasoning service exports besides the per-RPC ones
// (common/rpc/rpc.h) and the pool gauges (common/storage/pg_pool.h).
#pragma once

#include "common/base/metrics.h"

namespace genesis::reasoning {

struct ReasoningMetrics {
  Counter* events = nullptr;                // audit events appended
  Counter* decisions = nullptr;             // decisions recorded
  Counter* overridden_decisions = nullptr;  // ... of a hypothesis that was not leading
  Histogram* inference_seconds = nullptr;   // the mathematics of one inference (no loading)

  static ReasoningMetrics Register(MetricsRegistry* registry) {
    ReasoningMetrics m;
    m.events =
        &registry->AddCounter("genesis_reasoning_events_total", "Audit events appended to cases.")
             .WithLabels({});
    auto& decisions = registry->AddCounter(
        "genesis_reasoning_decisions_total",
        "Decisions recorded, by whether the leading hypothesis was overridden.", {"override"});
    m.decisions = &decisions.WithLabels({"false"});
    m.overridden_decisions = &decisions.WithLabels({"true"});
    m.inference_seconds =
        &registry
             ->AddHistogram("genesis_reasoning_inference_seconds",
                            "Time to compute one inference once the case is loaded.", {},
                            {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25})
             .WithLabels({});
    return m;
  }
};

}  // namespace genesis::reasoning
