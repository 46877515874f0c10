// voice_bench: figures for the embedded voice engines on this machine.
//   TTS real-time factor   espeak-ng synthesis time / audio produced
//   STT real-time factor   pocketsphinx time / audio heard (command mode, dictation)
//   Converse latency       a 3-second utterance through STT -> reply -> TTS, the
//                          reply answered instantly in process (no router hop)
//   memory                 VmRSS / VmHWM of this process with 2 decoders loaded
// Usage: voice_bench [iterations=30]
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "services/voice/engines/espeak_tts.h"
#include "services/voice/engines/pocketsphinx_stt.h"
#include "services/voice/tests/fake_store.h"
#include "services/voice/voice.h"

namespace {

using namespace genesis;
using namespace genesis::voice;

const std::vector<std::string> kCommands = {
    "turn on the kitchen light", "turn off the kitchen light",
    "open the garage door",      "close the garage door",
    "play some music",           "stop the music",
    "set an alarm for seven",    "lock the front door"};

class InstantReply final : public ReplyClient {
 public:
  absl::StatusOr<Reply> Complete(const ReplyRequest& r, const CallContext&) override {
    return Reply{"Done. " + r.user_text + " is taken care of.", "models/instant"};
  }
};

// Non-owning wrappers so the engines measured alone also serve the Voice.
class Tts final : public TtsEngine {
 public:
  explicit Tts(TtsEngine* e) : e_(e) {}
  std::string name() const override { return e_->name(); }
  bool embedded() const override { return true; }
  std::vector<VoiceInfo> Voices() override { return e_->Voices(); }
  EngineHealth Health() override { return e_->Health(); }
  absl::StatusOr<Speech> Synthesize(const SpeechRequest& r, const CallContext& c) override {
    return e_->Synthesize(r, c);
  }
  TtsEngine* e_;
};
class Stt final : public SttEngine {
 public:
  explicit Stt(SttEngine* e) : e_(e) {}
  std::string name() const override { return e_->name(); }
  bool embedded() const override { return true; }
  std::vector<std::string> Languages() override { return e_->Languages(); }
  bool SupportsCommandMode() const override { return true; }
  EngineHealth Health() override { return e_->Health(); }
  absl::StatusOr<Recognition> Transcribe(const PcmAudio& a, const RecognitionConfig& c,
                                         const CallContext& ctx) override {
    return e_->Transcribe(a, c, ctx);
  }
  SttEngine* e_;
};

std::string ProcStatus(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
  }
  return "?";
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 30;
  auto tts = EspeakTts::Create("");
  PocketsphinxOptions po;
  po.decoders = 2;
  po.preload = 2;
  const absl::Time load_start = absl::Now();
  auto stt = PocketsphinxStt::Create(po);
  if (!tts.ok() || !stt.ok()) {
    std::fprintf(stderr, "engines: %s %s\n", tts.status().ToString().c_str(),
                 stt.status().ToString().c_str());
    return 1;
  }
  std::printf("pocketsphinx: 2 decoders loaded in %.2f s\n",
              absl::ToDoubleSeconds(absl::Now() - load_start));

  // TTS real-time factor.
  absl::Duration tts_time, tts_audio;
  std::vector<PcmAudio> spoken;
  for (int i = 0; i < iterations; ++i) {
    for (const auto& c : kCommands) {
      const absl::Time t = absl::Now();
      auto s = (*tts)->Synthesize({c, "", "en-us"}, CallContext::Background());
      tts_time += absl::Now() - t;
      if (!s.ok()) return 1;
      tts_audio += s->audio.duration();
      if (i == 0) spoken.push_back(Resample(s->audio, 16000));
    }
  }
  const std::string pt_text =
      "Bom dia! A reunião de hoje foi remarcada para as quinze horas, na sala dois.";
  absl::Duration pt_time, pt_audio;
  for (int i = 0; i < iterations; ++i) {
    const absl::Time t = absl::Now();
    auto s = (*tts)->Synthesize({pt_text, "", "pt-br"}, CallContext::Background());
    pt_time += absl::Now() - t;
    if (s.ok()) pt_audio += s->audio.duration();
  }
  std::printf("TTS espeak-ng en-US: RTF %.4f (%.1f s of audio in %.3f s; target <= 0.05)\n",
              absl::FDivDuration(tts_time, tts_audio), absl::ToDoubleSeconds(tts_audio),
              absl::ToDoubleSeconds(tts_time));
  std::printf("TTS espeak-ng pt-BR: RTF %.4f (%.1f s of audio in %.3f s)\n",
              absl::FDivDuration(pt_time, pt_audio), absl::ToDoubleSeconds(pt_audio),
              absl::ToDoubleSeconds(pt_time));

  // STT real-time factors.
  for (bool command : {true, false}) {
    absl::Duration time, audio;
    int right = 0, total = 0;
    const int reps = command ? iterations : std::max(1, iterations / 5);
    for (int i = 0; i < reps; ++i) {
      for (size_t k = 0; k < kCommands.size(); ++k) {
        RecognitionConfig config{"en-us", command ? kCommands : std::vector<std::string>{}, ""};
        const absl::Time t = absl::Now();
        auto r = (*stt)->Transcribe(spoken[k], config, CallContext::Background());
        time += absl::Now() - t;
        audio += spoken[k].duration();
        ++total;
        if (r.ok() && r->text == kCommands[k]) ++right;
      }
    }
    std::printf("STT pocketsphinx %s: RTF %.4f (%.1f s of audio in %.3f s; %d/%d exact)%s\n",
                command ? "command mode" : "dictation", absl::FDivDuration(time, audio),
                absl::ToDoubleSeconds(audio), absl::ToDoubleSeconds(time), right, total,
                command ? "; target <= 0.3" : "");
  }

  // Converse latency, 3-second utterance.
  std::vector<std::unique_ptr<TtsEngine>> tts_engines;
  tts_engines.push_back(std::make_unique<Tts>(tts->get()));
  std::vector<std::unique_ptr<SttEngine>> stt_engines;
  stt_engines.push_back(std::make_unique<Stt>(stt->get()));
  // With a router address (argv[2]) the reply comes from a real genesis-llm-router over
  // gRPC (start its simulator with --instant to leave the model out of the figure).
  const std::string router = argc > 2 ? argv[2] : "";
  std::unique_ptr<ReplyClient> reply;
  if (router.empty()) {
    reply = std::make_unique<InstantReply>();
  } else {
    reply =
        MakeRouterReplyClient(router, grpc::InsecureChannelCredentials(), absl::Seconds(30), 256);
  }
  const std::string reply_label =
      router.empty() ? "instant in-process reply" : "reply from the LLM router at " + router;
  Voice voice(std::move(tts_engines), std::move(stt_engines),
              std::make_unique<FakeInteractionStore>(), std::move(reply), {}, {});
  auto utterance =
      (*tts)->Synthesize({"turn on the kitchen light", "", "en-us"}, CallContext::Background());
  PcmAudio three = Resample(utterance->audio, 16000);
  three.samples.resize(16000 * 3, 0);  // padded with silence to 3.0 s
  const std::string wav = EncodeWav(three);
  for (bool command : {true, false}) {
    std::vector<double> ms;
    for (int i = 0; i < iterations; ++i) {
      ConverseParams p;
      p.listen.audio = {wav, Encoding::kWav, 0};
      if (command) p.listen.phrases = kCommands;
      const absl::Time t = absl::Now();
      auto r = voice.Converse(p, CallContext::Background());
      if (!r.ok()) {
        std::fprintf(stderr, "converse: %s\n", r.status().ToString().c_str());
        return 1;
      }
      ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t));
    }
    std::printf(
        "Converse 3 s utterance (%s, %s): p50 %.0f ms, p95 %.0f ms, max %.0f ms "
        "(n=%d; target p95 <= 1500 ms)\n",
        command ? "command mode" : "dictation", reply_label.c_str(), Percentile(ms, 0.5),
        Percentile(ms, 0.95), Percentile(ms, 1.0), iterations);
  }
  std::printf("memory: VmRSS %s, VmHWM %s\n", ProcStatus("VmRSS").c_str(),
              ProcStatus("VmHWM").c_str());
  return 0;
}
