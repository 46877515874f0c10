// The embedded text-to-speech engine: the espeak-ng library, synthesising
// 22050 Hz mono PCM16 in memory (AUDIO_OUTPUT_SYNCHRONOUS). espeak-ng keeps
// global state and is not thread-safe, so every call runs under one mutex and
// only one EspeakTts may exist per process (Create fails for a second one).
// Every espeak-ng voice is offered (pt-BR and English among them); a bare
// language picks a sensible default ("en" -> en-US, "pt" -> pt-BR).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/voice/engines/engines.h"

namespace genesis::voice {

class EspeakTts final : public TtsEngine {
 public:
  // `data_path` is the espeak-ng-data directory (empty: the library default).
  // FAILED_PRECONDITION when the library cannot start or one already runs.
  static absl::StatusOr<std::unique_ptr<EspeakTts>> Create(const std::string& data_path);
  ~EspeakTts() override;

  [[nodiscard]] std::string name() const override { return "espeak-ng"; }
  [[nodiscard]] bool embedded() const override { return true; }
  [[nodiscard]] std::vector<VoiceInfo> Voices() override { return voices_; }
  [[nodiscard]] EngineHealth Health() override { return {true, "", absl::Now()}; }
  absl::StatusOr<Speech> Synthesize(const SpeechRequest& request, const CallContext& ctx) override;

  // The voice name for `language` (normalised), empty when none speaks it.
  [[nodiscard]] std::string VoiceFor(const std::string& language) const;
  [[nodiscard]] int sample_rate_hz() const { return sample_rate_; }

 private:
  EspeakTts() = default;
  std::mutex mu_;
  std::vector<VoiceInfo> voices_;
  int sample_rate_ = 22050;
};

}  // namespace genesis::voice
