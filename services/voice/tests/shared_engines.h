// The embedded engines for tests: espeak-ng may run once per process, and
// pocketsphinx models take a while to load, so each test binary shares one of
// each. Forwarding wrappers let a Voice own "its" engines while sharing them.
#pragma once

#include <memory>

#include "services/voice/engines/espeak_tts.h"
#include "services/voice/engines/pocketsphinx_stt.h"

namespace genesis::voice::testing {

inline EspeakTts* SharedEspeak() {
  static EspeakTts* tts = [] {
    auto t = EspeakTts::Create("");
    if (!t.ok()) std::abort();
    return t->release();
  }();
  return tts;
}

inline PocketsphinxStt* SharedSphinx() {
  static PocketsphinxStt* stt = [] {
    PocketsphinxOptions o;
    o.decoders = 1;
    auto s = PocketsphinxStt::Create(o);
    if (!s.ok()) std::abort();
    return s->release();
  }();
  return stt;
}

class ForwardTts final : public TtsEngine {
 public:
  explicit ForwardTts(TtsEngine* e) : e_(e) {}
  std::string name() const override { return e_->name(); }
  bool embedded() const override { return e_->embedded(); }
  std::vector<VoiceInfo> Voices() override { return e_->Voices(); }
  EngineHealth Health() override { return e_->Health(); }
  absl::StatusOr<Speech> Synthesize(const SpeechRequest& r, const CallContext& c) override {
    return e_->Synthesize(r, c);
  }

 private:
  TtsEngine* e_;
};

class ForwardStt final : public SttEngine {
 public:
  explicit ForwardStt(SttEngine* e) : e_(e) {}
  std::string name() const override { return e_->name(); }
  bool embedded() const override { return e_->embedded(); }
  std::vector<std::string> Languages() override { return e_->Languages(); }
  bool SupportsCommandMode() const override { return e_->SupportsCommandMode(); }
  EngineHealth Health() override { return e_->Health(); }
  absl::StatusOr<Recognition> Transcribe(const PcmAudio& a, const RecognitionConfig& c,
                                         const CallContext& ctx) override {
    return e_->Transcribe(a, c, ctx);
  }
  absl::StatusOr<std::unique_ptr<SttSession>> StartSession(const RecognitionConfig& c, int rate,
                                                           const CallContext& ctx) override {
    return e_->StartSession(c, rate, ctx);
  }

 private:
  SttEngine* e_;
};

}  // namespace genesis::voice::testing
