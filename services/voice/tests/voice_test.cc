// The Voice logic on fake engines, a fake reply client and the fake store:
// engine choice and fallback, Converse stages and events, recording, paging.
#include "services/voice/voice.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/base/status.h"
#include "services/voice/engines/wyoming.h"
#include "services/voice/simulator/wyoming_simulator.h"
#include "services/voice/tests/fake_store.h"

namespace genesis::voice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FakeTts final : public TtsEngine {
 public:
  std::string name() const override { return "fake-tts"; }
  bool embedded() const override { return true; }
  std::vector<VoiceInfo> Voices() override {
    return {{"en-us", {"en-US"}, "fake-tts", ""}, {"pt-br", {"pt-BR"}, "fake-tts", ""}};
  }
  EngineHealth Health() override { return {}; }
  absl::StatusOr<Speech> Synthesize(const SpeechRequest& r, const CallContext&) override {
    ++calls;
    Speech s;
    s.audio.sample_rate_hz = 22050;
    s.audio.samples.assign(r.text.size() * 100, 1);
    s.voice = r.voice.empty() ? "en-us" : r.voice;
    s.language = DisplayLanguage(r.language);
    return s;
  }
  int calls = 0;
};

class FakeStt final : public SttEngine {
 public:
  std::string name() const override { return "fake-stt"; }
  bool embedded() const override { return true; }
  std::vector<std::string> Languages() override { return {"en-US"}; }
  bool SupportsCommandMode() const override { return true; }
  EngineHealth Health() override { return {}; }
  absl::StatusOr<Recognition> Transcribe(const PcmAudio& audio, const RecognitionConfig& c,
                                         const CallContext&) override {
    last_rate = audio.sample_rate_hz;
    Recognition r;
    r.text = text;
    r.confidence = 0.9f;
    r.command_mode = c.command_mode();
    return r;
  }
  std::string text = "what time is it";
  int last_rate = 0;
};

class FakeReply final : public ReplyClient {
 public:
  absl::StatusOr<Reply> Complete(const ReplyRequest& r, const CallContext&) override {
    last = r;
    if (!fail.ok()) return fail;
    return Reply{"It is noon.", "models/sim-local"};
  }
  ReplyRequest last;
  absl::Status fail;
};

PcmAudio Tone(int rate, double seconds) {
  PcmAudio a;
  a.sample_rate_hz = rate;
  a.samples.assign(static_cast<size_t>(rate * seconds), 100);
  return a;
}

AudioBlob Wav(double seconds = 1.0) { return {EncodeWav(Tone(16000, seconds)), Encoding::kWav, 0}; }

struct Built {
  std::unique_ptr<Voice> voice;
  FakeTts* tts;
  FakeStt* stt;
  FakeReply* reply;
  FakeInteractionStore* store;
};

Built Build(VoiceOptions options = {}, bool with_reply = true,
            std::unique_ptr<SttEngine> remote_stt = nullptr,
            std::unique_ptr<TtsEngine> remote_tts = nullptr) {
  Built b;
  std::vector<std::unique_ptr<TtsEngine>> tts;
  if (remote_tts) tts.push_back(std::move(remote_tts));
  auto t = std::make_unique<FakeTts>();
  b.tts = t.get();
  tts.push_back(std::move(t));
  std::vector<std::unique_ptr<SttEngine>> stt;
  if (remote_stt) stt.push_back(std::move(remote_stt));
  auto s = std::make_unique<FakeStt>();
  b.stt = s.get();
  stt.push_back(std::move(s));
  auto store = std::make_unique<FakeInteractionStore>();
  b.store = store.get();
  std::unique_ptr<ReplyClient> reply;
  if (with_reply) {
    auto r = std::make_unique<FakeReply>();
    b.reply = r.get();
    reply = std::move(r);
  }
  b.voice = std::make_unique<Voice>(std::move(tts), std::move(stt), std::move(store),
                                    std::move(reply), options, VoiceMetrics{});
  return b;
}

TEST(Synthesize, ValidatesEveryFieldAtOnce) {
  auto b = Build();
  SpeakParams p{"   ", "", "pt BR!", {Encoding::kWav, 5}};
  auto out = b.voice->Synthesize(p, CallContext::Background());
  ASSERT_TRUE(absl::IsInvalidArgument(out.status()));
  auto v = FieldViolationsOf(out.status());
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].first, "text");
  EXPECT_EQ(v[1].first, "language");
  EXPECT_EQ(v[2].first, "format.sample_rate_hz");
}

TEST(Synthesize, ResamplesToTheRequestedRateAndRecords) {
  auto b = Build();
  auto out = b.voice->Synthesize({"hello", "", "en-US", {Encoding::kPcm16, 16000}},
                                 CallContext::Background());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->audio.sample_rate_hz, 16000);
  EXPECT_EQ(out->engine, "fake-tts");
  auto records = b.store->All();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, InteractionKind::kSynthesize);
  EXPECT_EQ(records[0].stored_audio_bytes, 0);  // audio not kept by default
}

TEST(Synthesize, UnknownLanguageListsTheAvailableOnes) {
  auto b = Build();
  auto out = b.voice->Synthesize({"hallo", "", "de-DE", {}}, CallContext::Background());
  ASSERT_TRUE(absl::IsFailedPrecondition(out.status())) << out.status();
  EXPECT_THAT(
      std::string(out.status().message()),
      HasSubstr("no text-to-speech engine speaks 'de-DE'; available languages: en-US, pt-BR"));
  EXPECT_EQ(ReasonOf(out.status()), "LANGUAGE_NOT_SUPPORTED");
  EXPECT_EQ(ErrorInfoOf(out.status())->metadata().at("language"), "de-DE");
}

TEST(StreamSynthesize, OneMessagePerSentenceAndStopsWhenTheClientLeaves) {
  auto b = Build();
  std::vector<std::string> got;
  auto st =
      b.voice->StreamSynthesize({"One. Two! Three?", "", "en", {}}, CallContext::Background(),
                                [&](int i, const std::string& s, const SpeakResult& r, bool last) {
                                  got.push_back(absl::StrCat(i, ":", s, last ? ":last" : ""));
                                  EXPECT_GT(r.audio.samples.size(), 0u);
                                  return true;
                                });
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_THAT(got, ElementsAre("0:One.", "1:Two!", "2:Three?:last"));
  auto cancelled = b.voice->StreamSynthesize(
      {"One. Two.", "", "en", {}}, CallContext::Background(),
      [](int, const std::string&, const SpeakResult&, bool) { return false; });
  EXPECT_TRUE(absl::IsCancelled(cancelled));
}

TEST(Transcribe, PortugueseWithoutWhisperIsFailedPrecondition) {
  auto b = Build();
  ListenParams p;
  p.audio = Wav();
  p.language = "pt-BR";
  auto out = b.voice->Transcribe(p, CallContext::Background());
  ASSERT_TRUE(absl::IsFailedPrecondition(out.status())) << out.status();
  EXPECT_THAT(
      std::string(out.status().message()),
      HasSubstr("no speech-to-text engine understands 'pt-BR'; available languages: en-US"));
}

TEST(Transcribe, PhrasesAndGrammarTogetherAreRefused) {
  auto b = Build();
  ListenParams p;
  p.audio = Wav();
  p.phrases = {"a", ""};
  p.grammar = "public <a> = a;";
  auto out = b.voice->Transcribe(p, CallContext::Background());
  ASSERT_TRUE(absl::IsInvalidArgument(out.status()));
  auto v = FieldViolationsOf(out.status());
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].first, "grammar");
  EXPECT_EQ(v[1].first, "phrases[1]");
}

TEST(Transcribe, FallsBackToTheEmbeddedEngineWhenWhisperIsDown) {
  // A backend that answered its probe, then went away: the call itself must
  // fail and fall back.
  WyomingSimulator live({});
  ASSERT_TRUE(live.Start().ok());
  auto probe_backend = std::make_unique<WyomingBackend>(
      std::make_unique<WyomingClient>(live.address(), absl::Seconds(1)));
  probe_backend->Probe(absl::Seconds(2));
  ASSERT_TRUE(probe_backend->Health().healthy);
  live.Stop();

  auto b = Build({}, true, std::make_unique<WyomingStt>(probe_backend.get()));
  ListenParams p;
  p.audio = Wav();
  p.language = "en";
  auto out = b.voice->Transcribe(p, CallContext::Background());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->engine, "fake-stt");
  EXPECT_TRUE(out->fallback);
  EXPECT_FALSE(probe_backend->Health().healthy);  // marked down by the failed call

  VoiceOptions strict;
  strict.fallback_to_embedded = false;
  auto s = Build(strict, true, std::make_unique<WyomingStt>(probe_backend.get()));
  auto failed = s.voice->Transcribe(p, CallContext::Background());
  EXPECT_TRUE(absl::IsUnavailable(failed.status())) << failed.status();
}

TEST(Transcribe, WhisperServesPortugueseWhenConfigured) {
  WyomingSimulatorOptions o;
  o.transcript = "acender a luz da cozinha";
  WyomingSimulator sim(o);
  ASSERT_TRUE(sim.Start().ok());
  WyomingBackend backend(std::make_unique<WyomingClient>(sim.address(), absl::Seconds(5)));
  backend.Probe(absl::Seconds(2));
  auto b = Build({}, true, std::make_unique<WyomingStt>(&backend));
  ListenParams p;
  p.audio = Wav();
  p.language = "pt-BR";
  auto out = b.voice->Transcribe(p, CallContext::Background());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->recognition.text, "acender a luz da cozinha");
  EXPECT_EQ(out->engine, "wyoming:" + sim.address());
  EXPECT_FALSE(out->fallback);
  EXPECT_EQ(sim.last_samples(), 16000u);
}

TEST(Converse, RunsTheThreeStagesAndEmitsEventsInOrder) {
  auto b = Build();
  ConverseParams p;
  p.listen.audio = Wav(2.0);
  p.sensitive = true;
  std::vector<ConverseEventType> events;
  auto out = b.voice->Converse(p, CallContext::Background(),
                               [&](ConverseEventType t, absl::Duration, const ConverseResult&) {
                                 events.push_back(t);
                                 return true;
                               });
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->transcript.recognition.text, "what time is it");
  EXPECT_EQ(out->reply.text, "It is noon.");
  EXPECT_EQ(out->reply.model, "models/sim-local");
  ASSERT_EQ(out->timings.size(), 3u);
  EXPECT_EQ(out->timings[0].stage, Stage::kStt);
  EXPECT_EQ(out->timings[1].stage, Stage::kLlm);
  EXPECT_EQ(out->timings[2].stage, Stage::kTts);
  EXPECT_GT(out->speech.audio.samples.size(), 0u);
  EXPECT_TRUE(b.reply->last.sensitive);
  EXPECT_EQ(b.reply->last.user_text, "what time is it");
  EXPECT_THAT(b.reply->last.system_prompt, HasSubstr("spoken aloud"));
  EXPECT_THAT(events, ElementsAre(ConverseEventType::kRunStart, ConverseEventType::kSttStart,
                                  ConverseEventType::kSttEnd, ConverseEventType::kLlmStart,
                                  ConverseEventType::kLlmEnd, ConverseEventType::kTtsStart,
                                  ConverseEventType::kTtsEnd, ConverseEventType::kRunEnd));
  auto records = b.store->All();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, InteractionKind::kConverse);
  EXPECT_EQ(records[0].id, out->interaction_id);
  EXPECT_EQ(records[0].audio_duration, absl::Seconds(2));
  EXPECT_EQ(records[0].stages.size(), 3u);
}

TEST(Converse, WithoutARouterIsFailedPrecondition) {
  auto b = Build({}, /*with_reply=*/false);
  ConverseParams p;
  p.listen.audio = Wav();
  auto out = b.voice->Converse(p, CallContext::Background());
  ASSERT_TRUE(absl::IsFailedPrecondition(out.status()));
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("--llm_router_address"));
  EXPECT_EQ(ReasonOf(out.status()), "LLM_ROUTER_NOT_CONFIGURED");
}

TEST(Converse, SilenceIsInvalidArgumentOnTheAudio) {
  auto b = Build();
  b.stt->text = "";
  ConverseParams p;
  p.listen.audio = Wav();
  auto out = b.voice->Converse(p, CallContext::Background());
  ASSERT_TRUE(absl::IsInvalidArgument(out.status()));
  auto v = FieldViolationsOf(out.status());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].first, "audio.data");
  EXPECT_THAT(v[0].second, HasSubstr("no speech was recognised"));
}

TEST(Converse, RouterErrorsPassThroughAndCorruptAudioIsNamed) {
  auto b = Build();
  b.reply->fail = absl::FailedPreconditionError("LLM router: no local model can take it");
  ConverseParams p;
  p.listen.audio = Wav();
  EXPECT_TRUE(absl::IsFailedPrecondition(b.voice->Converse(p, CallContext::Background()).status()));
  p.listen.audio.data.resize(100);
  auto bad = b.voice->Converse(p, CallContext::Background());
  ASSERT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("WAV file truncated"));
}

TEST(Recording, AStoreFailureDoesNotFailTheCallAndAudioIsKeptWhenAsked) {
  VoiceOptions keep;
  keep.store_audio = true;
  auto b = Build(keep);
  ListenParams p;
  p.audio = Wav(0.5);
  auto out = b.voice->Transcribe(p, CallContext::Background());
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(b.store->All().size(), 1u);
  EXPECT_EQ(b.store->All()[0].stored_audio_bytes, 44 + 16000);
  b.store->FailWith(absl::UnavailableError("database down"));
  EXPECT_TRUE(b.voice->Transcribe(p, CallContext::Background()).ok());
}

TEST(ListInteractions, PagesNewestFirstWithTokens) {
  auto b = Build();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(b.voice->Synthesize({"hi", "", "en", {}}, CallContext::Background()).ok());
  }
  auto first = b.voice->ListInteractions(2, "", CallContext::Background());
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->values.size(), 2u);
  EXPECT_FALSE(first->next_page_token.empty());
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = b.voice->ListInteractions(2, token, CallContext::Background());
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& r : page->values) seen.insert(r.id);
    token = page->next_page_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(pages, 3);
  auto bad = b.voice->ListInteractions(2, "garbage", CallContext::Background());
  ASSERT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_EQ(FieldViolationsOf(bad.status())[0].first, "page_token");
  // AIP-158: an oversized page is clamped to 100, a negative size refused.
  auto clamped = b.voice->ListInteractions(101, "", CallContext::Background());
  ASSERT_TRUE(clamped.ok()) << clamped.status();
  EXPECT_EQ(clamped->values.size(), 5u);
  EXPECT_TRUE(absl::IsInvalidArgument(
      b.voice->ListInteractions(-1, "", CallContext::Background()).status()));
}

}  // namespace
}  // namespace genesis::voice
