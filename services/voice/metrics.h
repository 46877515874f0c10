// Every metric the Voice service exports besides the per-RPC ones
// (common/rpc/rpc.h) and the pool gauges (common/storage/pg_pool.h).
#pragma once

#include "common/base/metrics.h"

namespace genesis::voice {

struct VoiceMetrics {
  Family<Histogram>* stage_seconds = nullptr;  // {stage, engine}
  Family<Counter>* fallbacks = nullptr;        // {kind}: a Wyoming backend was down
  Counter* record_errors = nullptr;            // an interaction could not be recorded
  Counter* audio_seconds_in = nullptr;
  Counter* audio_seconds_out = nullptr;
  Family<Counter>* wyoming_facade_events = nullptr;  // {type}

  static VoiceMetrics Register(MetricsRegistry* registry) {
    VoiceMetrics m;
    m.stage_seconds = &registry->AddHistogram("genesis_voice_stage_seconds",
                                              "Time per pipeline stage (stt, llm, tts) and engine.",
                                              {"stage", "engine"});
    m.fallbacks = &registry->AddCounter(
        "genesis_voice_fallback_total",
        "Calls served by the embedded engine because a Wyoming backend was down.", {"kind"});
    m.record_errors = &registry
                           ->AddCounter("genesis_voice_record_errors_total",
                                        "Interactions that could not be recorded.")
                           .WithLabels({});
    m.audio_seconds_in =
        &registry->AddCounter("genesis_voice_audio_in_seconds_total", "Seconds of audio received.")
             .WithLabels({});
    m.audio_seconds_out =
        &registry->AddCounter("genesis_voice_audio_out_seconds_total", "Seconds of audio produced.")
             .WithLabels({});
    m.wyoming_facade_events =
        &registry->AddCounter("genesis_voice_wyoming_events_total",
                              "Events received by the Wyoming facade, by type.", {"type"});
    return m;
  }
};

}  // namespace genesis::voice
