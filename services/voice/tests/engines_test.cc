// The embedded engines on this machine: espeak-ng speaks known English
// command phrases, pocketsphinx in command mode hears them back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/base/status.h"
#include "services/voice/tests/shared_engines.h"

namespace genesis::voice {
namespace {

using ::testing::HasSubstr;
using testing::SharedEspeak;
using testing::SharedSphinx;

const std::vector<std::string> kCommands = {
    "turn on the kitchen light", "turn off the kitchen light",
    "open the garage door",      "close the garage door",
    "play some music",           "stop the music",
    "set an alarm for seven",    "lock the front door"};

PcmAudio Speak(const std::string& text) {
  auto speech = SharedEspeak()->Synthesize({text, "", "en-us"}, CallContext::Background());
  EXPECT_TRUE(speech.ok()) << speech.status();
  return speech.ok() ? speech->audio : PcmAudio{};
}

TEST(EspeakTts, SpeaksEnglishAndBrazilianPortuguese) {
  auto en = SharedEspeak()->Synthesize({"good morning", "", "en"}, CallContext::Background());
  ASSERT_TRUE(en.ok()) << en.status();
  EXPECT_EQ(en->voice, "en-us");
  EXPECT_EQ(en->audio.sample_rate_hz, 22050);
  EXPECT_GT(en->audio.duration(), absl::Milliseconds(400));
  auto pt =
      SharedEspeak()->Synthesize({"bom dia, tudo bem?", "", "pt-br"}, CallContext::Background());
  ASSERT_TRUE(pt.ok()) << pt.status();
  EXPECT_EQ(pt->voice, "pt-br");
  EXPECT_GT(pt->audio.duration(), absl::Milliseconds(500));
  auto bad = SharedEspeak()->Synthesize({"x", "no-such-voice", ""}, CallContext::Background());
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
}

TEST(RoundTrip, CommandPhrasesComeBackInCommandMode) {
  RecognitionConfig config{"en-us", kCommands, ""};
  int right = 0;
  for (const auto& phrase : kCommands) {
    auto rec = SharedSphinx()->Transcribe(Speak(phrase), config, CallContext::Background());
    ASSERT_TRUE(rec.ok()) << rec.status();
    EXPECT_TRUE(rec->command_mode);
    EXPECT_EQ(rec->text, phrase);
    if (rec->text == phrase) ++right;
    if (!rec->words.empty()) {
      EXPECT_LT(rec->words.front().start, rec->words.back().end);
    }
  }
  EXPECT_EQ(right, static_cast<int>(kCommands.size()));
}

TEST(RoundTrip, JsgfGrammarWorksToo) {
  RecognitionConfig config{
      "en-us",
      {},
      "#JSGF V1.0;\ngrammar home;\npublic <cmd> = (open | close | lock) the (garage | front | "
      "back) door;\n"};
  for (const std::string phrase : {"close the front door", "open the back door"}) {
    auto rec = SharedSphinx()->Transcribe(Speak(phrase), config, CallContext::Background());
    ASSERT_TRUE(rec.ok()) << rec.status();
    EXPECT_EQ(rec->text, phrase);
  }
}

TEST(RoundTrip, StreamedChunksGiveTheSameAnswer) {
  PcmAudio audio = Speak("open the garage door");
  auto session = SharedSphinx()->StartSession({"en-us", kCommands, ""}, audio.sample_rate_hz,
                                              CallContext::Background());
  ASSERT_TRUE(session.ok()) << session.status();
  const size_t chunk = audio.sample_rate_hz / 10;  // 100 ms
  for (size_t off = 0; off < audio.samples.size(); off += chunk) {
    ASSERT_TRUE((*session)
                    ->Feed(audio.samples.data() + off, std::min(chunk, audio.samples.size() - off))
                    .ok());
  }
  auto rec = (*session)->Finish(CallContext::Background());
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rec->text, "open the garage door");
}

TEST(PocketsphinxStt, UnknownWordsAndBadGrammarsAreInvalidArguments) {
  auto rec = SharedSphinx()->Transcribe(
      Speak("hello"), {"en-us", {"hello", "frobnicate zzyzx"}, ""}, CallContext::Background());
  ASSERT_TRUE(absl::IsInvalidArgument(rec.status())) << rec.status();
  auto v = FieldViolationsOf(rec.status());
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v[0].first, "phrases[1]");
  EXPECT_THAT(v[0].second, HasSubstr("'frobnicate' is not in the pocketsphinx dictionary"));

  auto bad = SharedSphinx()->Transcribe(Speak("hello"), {"en-us", {}, "public <x> = = ;"},
                                        CallContext::Background());
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  // The decoder is still usable afterwards.
  auto ok = SharedSphinx()->Transcribe(Speak("play some music"), {"en-us", kCommands, ""},
                                       CallContext::Background());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->text, "play some music");
}

TEST(PocketsphinxStt, DictationGivesWordsWithTimings) {
  auto rec = SharedSphinx()->Transcribe(Speak("open the garage door"), {"en-us", {}, ""},
                                        CallContext::Background());
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_FALSE(rec->command_mode);
  EXPECT_THAT(rec->text, HasSubstr("garage"));
  EXPECT_GT(rec->confidence, 0.0f);
  EXPECT_LE(rec->confidence, 1.0f);
  ASSERT_FALSE(rec->words.empty());
}

TEST(PocketsphinxStt, BusyDecodersAnswerResourceExhaustedOrDeadline) {
  PocketsphinxOptions o;
  o.decoders = 1;
  o.acquire_timeout = absl::Milliseconds(50);
  auto engine = PocketsphinxStt::Create(o);
  ASSERT_TRUE(engine.ok()) << engine.status();
  auto held = (*engine)->StartSession({"en-us", {}, ""}, 16000, CallContext::Background());
  ASSERT_TRUE(held.ok());
  PcmAudio audio;
  audio.samples.assign(1600, 0);
  auto busy = (*engine)->Transcribe(audio, {"en-us", {}, ""}, CallContext::Background());
  EXPECT_TRUE(absl::IsResourceExhausted(busy.status())) << busy.status();
  auto late = (*engine)->Transcribe(audio, {"en-us", {}, ""},
                                    CallContext::Background(absl::Milliseconds(10)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(late.status())) << late.status();
}

TEST(PocketsphinxStt, DecodersLoadOnFirstUseUpToTheLimitAndStay) {
  PocketsphinxOptions o;
  o.decoders = 2;
  o.acquire_timeout = absl::Milliseconds(50);
  auto engine = PocketsphinxStt::Create(o);
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_EQ((*engine)->loaded(), 0);
  auto first = (*engine)->Transcribe(Speak("play some music"), {"en-us", kCommands, ""},
                                     CallContext::Background());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->text, "play some music");
  EXPECT_EQ((*engine)->loaded(), 1);
  // One held: the next call loads the second; both held: the pool is full.
  auto a = (*engine)->StartSession({"en-us", {}, ""}, 16000, CallContext::Background());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*engine)->loaded(), 1);
  auto b = (*engine)->StartSession({"en-us", {}, ""}, 16000, CallContext::Background());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*engine)->loaded(), 2);
  auto busy =
      (*engine)->Transcribe(Speak("stop"), {"en-us", kCommands, ""}, CallContext::Background());
  EXPECT_TRUE(absl::IsResourceExhausted(busy.status())) << busy.status();
  EXPECT_EQ((*engine)->loaded(), 2);
  a->reset();
  auto again =
      (*engine)->Transcribe(Speak("stop"), {"en-us", kCommands, ""}, CallContext::Background());
  EXPECT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*engine)->loaded(), 2);
}

TEST(PocketsphinxStt, PreloadedDecodersAreReadyAtCreate) {
  PocketsphinxOptions o;
  o.decoders = 2;
  o.preload = 1;
  auto engine = PocketsphinxStt::Create(o);
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_EQ((*engine)->loaded(), 1);
}

TEST(PocketsphinxStt, MissingModelNamesTheFlag) {
  PocketsphinxOptions o;
  o.dict_path = "/nonexistent/dict";
  auto engine = PocketsphinxStt::Create(o);
  ASSERT_TRUE(absl::IsFailedPrecondition(engine.status()));
  EXPECT_THAT(std::string(engine.status().message()), HasSubstr("--pocketsphinx_dict"));
}

}  // namespace
}  // namespace genesis::voice
