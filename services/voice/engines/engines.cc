#include "services/voice/engines/engines.h"

namespace genesis::voice {
namespace {

class BufferedSession final : public SttSession {
 public:
  BufferedSession(SttEngine* engine, RecognitionConfig config, int rate)
      : engine_(engine), config_(std::move(config)) {
    audio_.sample_rate_hz = rate;
  }
  absl::Status Feed(const int16_t* samples, size_t count) override {
    audio_.samples.insert(audio_.samples.end(), samples, samples + count);
    return absl::OkStatus();
  }
  std::string Partial() override { return ""; }
  absl::StatusOr<Recognition> Finish(const CallContext& ctx) override {
    return engine_->Transcribe(audio_, config_, ctx);
  }

 private:
  SttEngine* engine_;
  RecognitionConfig config_;
  PcmAudio audio_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SttSession>> SttEngine::StartSession(const RecognitionConfig& config,
                                                                    int sample_rate_hz,
                                                                    const CallContext&) {
  return std::make_unique<BufferedSession>(this, config, sample_rate_hz);
}

}  // namespace genesis::voice
