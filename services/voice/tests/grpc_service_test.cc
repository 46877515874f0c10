// The Voice transport end to end in-process (the fixture: grpc_test_fixture.h).
// Checks what a client sees of the unary and server-streaming methods: codes,
// google.rpc.BadRequest details, the proto conversion, and text to speech
// through a Wyoming backend (the project's simulator) with the fallback to
// espeak-ng when it goes down. StreamTranscribe: stream_transcribe_test.cc.
#include <cstdlib>

#include "services/voice/simulator/wyoming_simulator.h"
#include "services/voice/tests/grpc_test_fixture.h"
#include "tests/testing/required_fields.h"

namespace genesis::voice {
namespace {

using testing::kPhrases;
using testing::kSecret;
using testing::Seconds;
using testing::ServerSetup;
using testing::VoiceGrpcTest;

// Mean step between neighbouring PCM16 samples over their mean magnitude.
double Roughness(const std::string& pcm, bool big_endian) {
  double steps = 0, magnitude = 0;
  int prev = 0;
  for (size_t i = 0; i + 1 < pcm.size(); i += 2) {
    const auto hi = static_cast<uint8_t>(pcm[big_endian ? i : i + 1]);
    const auto lo = static_cast<uint8_t>(pcm[big_endian ? i + 1 : i]);
    const int sample = static_cast<int16_t>(static_cast<uint16_t>(hi << 8 | lo));
    if (i > 0) steps += std::abs(sample - prev);
    magnitude += std::abs(sample);
    prev = sample;
  }
  return magnitude > 0 ? steps / magnitude : 0;
}

// ---------------------------------------------------------------------------
// Unary and server-streaming methods: codes, details, conversion

// Every REQUIRED field of every method (from the descriptors) is refused when
// empty, naming its path (streaming methods too).
TEST_F(VoiceGrpcTest, FieldBehavioursAgreeWithWhatTheServiceRefuses) {
  auto seen =
      genesis::testing::ExpectRequiredFieldsRefused(channel_, "genesis.voice.v1.VoiceService");
  for (const char* want : {"SynthesizeRequest:text", "StreamSynthesizeRequest:text",
                           "StreamTranscribeRequest:config.sample_rate_hz"}) {
    EXPECT_TRUE(seen.count(want)) << want;
  }
}

TEST_F(VoiceGrpcTest, SynthesizeAnswersWavOrRawPcmAtTheAskedRate) {
  grpc::ClientContext ctx;
  v1::SynthesizeRequest req;
  req.set_text("hello there");
  v1::SynthesizeResponse resp;
  ASSERT_TRUE(stub_->Synthesize(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.audio().encoding(), v1::AUDIO_ENCODING_WAV);
  EXPECT_EQ(resp.audio().content_type(), "audio/wav");
  EXPECT_EQ(resp.audio().data().substr(0, 4), "RIFF");
  EXPECT_EQ(resp.audio().sample_rate_hz(), 22050);
  EXPECT_EQ(resp.engine(), "espeak-ng");
  EXPECT_EQ(resp.language(), "en-US");
  EXPECT_FALSE(resp.fallback());
  const double seconds = resp.audio().duration().seconds() + resp.audio().duration().nanos() / 1e9;
  EXPECT_GT(seconds, 0.3);
  EXPECT_LT(seconds, 3.0);

  grpc::ClientContext ctx2;
  req.mutable_format()->set_encoding(v1::AUDIO_ENCODING_PCM16);
  req.mutable_format()->set_sample_rate_hz(8000);
  ASSERT_TRUE(stub_->Synthesize(&ctx2, req, &resp).ok());
  EXPECT_EQ(resp.audio().encoding(), v1::AUDIO_ENCODING_PCM16);
  EXPECT_EQ(resp.audio().sample_rate_hz(), 8000);
  EXPECT_EQ(resp.audio().content_type(), "audio/x-raw;format=S16LE;rate=8000;channels=1");
  // Raw PCM: two bytes per sample, as long as the duration says.
  EXPECT_NEAR(static_cast<double>(resp.audio().data().size()) / 2 / 8000, seconds, 0.01);
}

// Ordinary prose of exactly `chars` characters (code points; some are not ASCII).
std::string Prose(size_t chars) {
  const std::string sentence = "The garage door is open, the kitchen light is on: ação. ";
  std::string out;
  size_t n = 0;
  while (n < chars) {
    for (size_t i = 0; i < sentence.size() && n < chars;) {
      const auto c = static_cast<unsigned char>(sentence[i]);
      const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : 3;
      out += sentence.substr(i, len);
      i += len;
      ++n;
    }
  }
  if (out.back() == ' ') out.back() = '.';
  return out;
}

TEST_F(VoiceGrpcTest, SynthesizeSpeaksTextOfExactlyTheDocumentedLimit) {
  // 5,000 characters speak for minutes: more audio than a default gRPC message
  // (it used to fail with RESOURCE_EXHAUSTED above ~3,000 characters).
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::SynthesizeRequest req;
  req.set_text(Prose(5000));
  v1::SynthesizeResponse resp;
  grpc::Status st = stub_->Synthesize(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  EXPECT_GT(resp.audio().data().size(), size_t{8} << 20) << "more than the shared 8 MiB limit";
  EXPECT_GT(Seconds(resp.audio().duration()), 120.0);
}

TEST_F(VoiceGrpcTest, SynthesizeRefusesOneCharacterOverTheLimitNamingTheField) {
  grpc::ClientContext ctx;
  v1::SynthesizeRequest req;
  req.set_text(Prose(5001));
  v1::SynthesizeResponse resp;
  grpc::Status st = stub_->Synthesize(&ctx, req, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_EQ(Fields(st), (std::vector<std::string>{"text"}));
  EXPECT_NE(st.error_message().find("5001"), std::string::npos) << st.error_message();
}

TEST_F(VoiceGrpcTest, SynthesizeReportsEveryBadFieldInBadRequest) {
  grpc::ClientContext ctx;
  v1::SynthesizeRequest req;
  req.set_text("  ");
  req.set_language("pt BR!");
  req.mutable_format()->set_sample_rate_hz(5);
  v1::SynthesizeResponse resp;
  grpc::Status st = stub_->Synthesize(&ctx, req, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(st), (std::vector<std::string>{"text", "language", "format.sample_rate_hz"}));
}

TEST_F(VoiceGrpcTest, SynthesizeInALanguageNoVoiceSpeaksIsFailedPrecondition) {
  grpc::ClientContext ctx;
  v1::SynthesizeRequest req;
  req.set_text("hello");
  req.set_language("xx-YY");
  v1::SynthesizeResponse resp;
  grpc::Status st = stub_->Synthesize(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
}

TEST_F(VoiceGrpcTest, SynthesizeAudioAnswersBigEndianL16) {
  grpc::ClientContext ctx;
  v1::SynthesizeRequest req;
  req.set_text("open the garage door");
  req.mutable_format()->set_encoding(v1::AUDIO_ENCODING_PCM16);
  req.mutable_format()->set_sample_rate_hz(16000);
  v1::SynthesizeResponse little;
  ASSERT_TRUE(stub_->Synthesize(&ctx, req, &little).ok());

  grpc::ClientContext ctx2;
  v1::SynthesizeAudioRequest areq;
  areq.set_text("open the garage door");
  *areq.mutable_format() = req.format();
  google::api::HttpBody body;
  ASSERT_TRUE(stub_->SynthesizeAudio(&ctx2, areq, &body).ok());
  EXPECT_EQ(body.content_type(), "audio/L16;rate=16000;channels=1");
  // espeak-ng does not produce the same samples twice, so the bytes are
  // judged by their shape: read with the right byte order, speech is smooth
  // (small steps between neighbouring samples); read the wrong way it is noise.
  ASSERT_GT(body.data().size(), 3200u);
  EXPECT_NEAR(static_cast<double>(body.data().size()),
              static_cast<double>(little.audio().data().size()),
              0.1 * static_cast<double>(little.audio().data().size()));
  EXPECT_LT(Roughness(body.data(), /*big_endian=*/true),
            0.5 * Roughness(body.data(), /*big_endian=*/false));
  EXPECT_LT(Roughness(little.audio().data(), /*big_endian=*/false),
            0.5 * Roughness(little.audio().data(), /*big_endian=*/true));

  grpc::ClientContext ctx3;
  areq.clear_format();
  ASSERT_TRUE(stub_->SynthesizeAudio(&ctx3, areq, &body).ok());
  EXPECT_EQ(body.content_type(), "audio/wav");
  EXPECT_EQ(body.data().substr(0, 4), "RIFF");
}

TEST_F(VoiceGrpcTest, StreamSynthesizeSpeaksOneMessagePerSentence) {
  grpc::ClientContext ctx;
  v1::StreamSynthesizeRequest req;
  req.set_text("Good morning. The door is open! Shall I close it?");
  auto reader = stub_->StreamSynthesize(&ctx, req);
  std::vector<v1::StreamSynthesizeResponse> msgs;
  v1::StreamSynthesizeResponse msg;
  while (reader->Read(&msg)) msgs.push_back(msg);
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(msgs.size(), 3u);
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i].index(), static_cast<int>(i));
    EXPECT_EQ(msgs[i].last(), i == 2);
    EXPECT_EQ(msgs[i].audio().data().substr(0, 4), "RIFF");
  }
  EXPECT_EQ(msgs[1].sentence(), "The door is open!");
}

TEST_F(VoiceGrpcTest, TranscribeTakesBase64AudioOrTheRawHttpBody) {
  const std::string pcm = Speak("open the garage door");
  grpc::ClientContext ctx;
  v1::TranscribeRequest req;
  req.mutable_audio()->set_data(pcm);
  req.mutable_audio()->set_encoding(v1::AUDIO_ENCODING_PCM16);
  req.mutable_audio()->set_sample_rate_hz(16000);
  for (const auto& p : kPhrases) req.add_phrases(p);
  v1::TranscribeResponse resp;
  ASSERT_TRUE(stub_->Transcribe(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.transcript().text(), "open the garage door");
  EXPECT_EQ(resp.transcript().words_size(), 4);
  EXPECT_NEAR(resp.audio_duration().seconds() + resp.audio_duration().nanos() / 1e9,
              static_cast<double>(pcm.size() / 2) / 16000, 0.001);

  // The REST binding /v1/voice:transcribeWav: audio/L16 is big-endian.
  grpc::ClientContext ctx2;
  std::string big = pcm;
  for (size_t i = 0; i + 1 < big.size(); i += 2) std::swap(big[i], big[i + 1]);
  req.clear_audio();
  req.mutable_http_body()->set_content_type("audio/L16;rate=16000");
  req.mutable_http_body()->set_data(big);
  ASSERT_TRUE(stub_->Transcribe(&ctx2, req, &resp).ok());
  EXPECT_EQ(resp.transcript().text(), "open the garage door");

  grpc::ClientContext ctx3;
  req.mutable_http_body()->set_content_type("text/plain");
  grpc::Status st = stub_->Transcribe(&ctx3, req, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(st), std::vector<std::string>{"http_body"});
}

TEST_F(VoiceGrpcTest, TranscribeNamesTheAudioFieldOfCorruptAudio) {
  grpc::ClientContext ctx;
  v1::TranscribeRequest req;
  req.mutable_audio()->set_data("RIFF0000WAVEnot really");
  v1::TranscribeResponse resp;
  grpc::Status st = stub_->Transcribe(&ctx, req, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(st), std::vector<std::string>{"audio.data"});
}

TEST_F(VoiceGrpcTest, ConverseAnswersWithTimingsAndIsListedWithTheCallerSubject) {
  const std::string pcm = Speak("open the garage door");
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-genesis-subject", "bob");
  ctx.AddMetadata("x-genesis-gateway-auth", kSecret);
  v1::ConverseRequest req;
  req.mutable_audio()->set_data(pcm);
  req.mutable_audio()->set_encoding(v1::AUDIO_ENCODING_PCM16);
  req.mutable_audio()->set_sample_rate_hz(16000);
  for (const auto& p : kPhrases) req.add_phrases(p);
  v1::ConverseResponse resp;
  grpc::Status st = stub_->Converse(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.transcript().text(), "open the garage door");
  EXPECT_EQ(reply_->last_user_text, "open the garage door");
  EXPECT_EQ(resp.reply_text(), "The garage door is open.");
  EXPECT_EQ(resp.model(), "models/sim-local");
  EXPECT_EQ(resp.reply_audio().data().substr(0, 4), "RIFF");
  ASSERT_EQ(resp.timings_size(), 3);
  EXPECT_EQ(resp.timings(0).stage(), v1::STAGE_STT);
  EXPECT_EQ(resp.timings(1).stage(), v1::STAGE_LLM);
  EXPECT_EQ(resp.timings(2).stage(), v1::STAGE_TTS);
  EXPECT_EQ(resp.timings(2).engine(), "espeak-ng");
  ASSERT_EQ(resp.interaction().rfind("interactions/", 0), 0u);

  grpc::ClientContext ctx2;
  v1::ListInteractionsRequest lreq;
  v1::ListInteractionsResponse list;
  ASSERT_TRUE(stub_->ListInteractions(&ctx2, lreq, &list).ok());
  ASSERT_EQ(list.interactions_size(), 2);  // the Synthesize of Speak() and the Converse
  EXPECT_EQ(list.interactions(0).name(), resp.interaction());
  EXPECT_EQ(list.interactions(0).kind(), v1::INTERACTION_KIND_CONVERSE);
  EXPECT_EQ(list.interactions(0).subject(), "bob");
  EXPECT_EQ(list.interactions(0).timings_size(), 3);
  EXPECT_EQ(list.interactions(1).subject(), "");
}

TEST_F(VoiceGrpcTest, ConverseWithNothingSaidIsInvalidArgument) {
  grpc::ClientContext ctx;
  v1::ConverseRequest req;
  req.mutable_audio()->set_data(std::string(32000, '\0'));  // 1 s of silence
  req.mutable_audio()->set_encoding(v1::AUDIO_ENCODING_PCM16);
  req.mutable_audio()->set_sample_rate_hz(16000);
  for (const auto& p : kPhrases) req.add_phrases(p);
  v1::ConverseResponse resp;
  grpc::Status st = stub_->Converse(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_TRUE(reply_->last_user_text.empty());
}

TEST_F(VoiceGrpcTest, ListInteractionsRejectsAForeignPageToken) {
  grpc::ClientContext ctx;
  v1::ListInteractionsRequest req;
  req.set_page_token("not-a-token");
  v1::ListInteractionsResponse resp;
  grpc::Status st = stub_->ListInteractions(&ctx, req, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(st), std::vector<std::string>{"page_token"});
}

TEST_F(VoiceGrpcTest, ListInteractionsClampsAnOversizedPageSizeLikeEveryOtherList) {
  grpc::ClientContext ctx;
  v1::ListInteractionsRequest req;
  req.set_page_size(1000);  // AIP-158: clamped to the maximum, not refused
  v1::ListInteractionsResponse resp;
  grpc::Status st = stub_->ListInteractions(&ctx, req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  grpc::ClientContext neg;
  req.set_page_size(-1);
  st = stub_->ListInteractions(&neg, req, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(st), std::vector<std::string>{"page_size"});
}

TEST_F(VoiceGrpcTest, ListVoicesAndEngines) {
  grpc::ClientContext ctx;
  v1::ListVoicesRequest req;
  req.set_language("pt");
  v1::ListVoicesResponse voices;
  ASSERT_TRUE(stub_->ListVoices(&ctx, req, &voices).ok());
  ASSERT_GT(voices.voices_size(), 0);
  for (const auto& v : voices.voices()) {
    EXPECT_EQ(v.engine(), "espeak-ng");
    bool portuguese = false;
    for (const auto& l : v.languages()) portuguese = portuguese || l.rfind("pt", 0) == 0;
    EXPECT_TRUE(portuguese) << v.name();
  }

  grpc::ClientContext ctx2;
  req.set_language(std::string(36, 'a'));
  grpc::Status st = stub_->ListVoices(&ctx2, req, &voices);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(st), std::vector<std::string>{"language"});

  grpc::ClientContext ctx3;
  v1::ListEnginesResponse engines;
  ASSERT_TRUE(stub_->ListEngines(&ctx3, v1::ListEnginesRequest(), &engines).ok());
  std::vector<std::pair<std::string, v1::EngineKind>> names;
  for (const auto& e : engines.engines()) {
    names.emplace_back(e.name(), e.kind());
    EXPECT_TRUE(e.healthy());
    EXPECT_TRUE(e.embedded());
  }
  EXPECT_EQ(names, (std::vector<std::pair<std::string, v1::EngineKind>>{
                       {"espeak-ng", v1::ENGINE_KIND_TTS}, {"pocketsphinx", v1::ENGINE_KIND_STT}}));
}

// ---------------------------------------------------------------------------
// Text to speech through a Wyoming backend

TEST_F(VoiceGrpcTest, WyomingTtsSpeaksUntilItGoesDownThenEspeakAnswers) {
  WyomingSimulator sim{WyomingSimulatorOptions{}};
  ASSERT_TRUE(sim.Start().ok());
  Stop();
  Start(ServerSetup{sim.address()});

  auto synthesize = [&](v1::SynthesizeResponse* resp) {
    grpc::ClientContext ctx;
    v1::SynthesizeRequest req;
    req.set_text("hello there");  // 11 characters: 0.66 s of tone from the simulator
    req.set_language("en-US");
    return stub_->Synthesize(&ctx, req, resp);
  };
  v1::SynthesizeResponse resp;
  ASSERT_TRUE(synthesize(&resp).ok());
  EXPECT_EQ(resp.engine(), "wyoming:" + sim.address());
  EXPECT_FALSE(resp.fallback());
  EXPECT_EQ(resp.audio().sample_rate_hz(), 22050);
  EXPECT_EQ(resp.audio().duration().seconds(), 0);
  EXPECT_EQ(resp.audio().duration().nanos(), 660'000'000);
  EXPECT_GT(sim.events(), 0);

  grpc::ClientContext ectx;
  v1::ListEnginesResponse engines;
  ASSERT_TRUE(stub_->ListEngines(&ectx, v1::ListEnginesRequest(), &engines).ok());
  ASSERT_GE(engines.engines_size(), 1);
  EXPECT_EQ(engines.engines(0).name(), "wyoming:" + sim.address());
  EXPECT_TRUE(engines.engines(0).healthy());
  EXPECT_FALSE(engines.engines(0).embedded());

  sim.Stop();
  v1::SynthesizeResponse after;
  ASSERT_TRUE(synthesize(&after).ok());
  EXPECT_EQ(after.engine(), "espeak-ng");
  EXPECT_TRUE(after.fallback());
  EXPECT_NE(after.audio().duration().nanos(), 660'000'000);  // speech, not the tone

  // The failed call marked the backend down: the next call goes straight to espeak-ng.
  grpc::ClientContext ectx2;
  ASSERT_TRUE(stub_->ListEngines(&ectx2, v1::ListEnginesRequest(), &engines).ok());
  EXPECT_FALSE(engines.engines(0).healthy());
  EXPECT_FALSE(engines.engines(0).health_detail().empty());
}

TEST_F(VoiceGrpcTest, WyomingTtsDownWithoutFallbackIsUnavailable) {
  WyomingSimulator sim{WyomingSimulatorOptions{}};
  ASSERT_TRUE(sim.Start().ok());
  Stop();
  Start(ServerSetup{sim.address(), /*fallback_to_embedded=*/false});
  sim.Stop();
  grpc::ClientContext ctx;
  v1::SynthesizeRequest req;
  req.set_text("hello there");
  req.set_language("en-US");
  v1::SynthesizeResponse resp;
  grpc::Status st = stub_->Synthesize(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  // The backend's address is internal: logged, never in what a caller sees.
  EXPECT_EQ(st.error_message().find(sim.address()), std::string::npos) << st.error_message();
}

}  // namespace
}  // namespace genesis::voice
