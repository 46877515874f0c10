// The transport end to end in-process: a real gRPC server on a free port, the
// real logic with the embedded engines (espeak-ng, pocketsphinx), a fake reply
// client and the fake store. Checks what a client sees: codes,
// google.rpc.BadRequest details, the proto conversion, StreamTranscribe
// (partial and final transcripts, bad chunks, cancellation, identity), and
// text to speech through a Wyoming backend (the project's simulator) with the
// fallback to espeak-ng when it goes down.
#include "services/voice/grpc_service.h"

#include <cstdlib>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/server.h"
#include "common/status.h"
#include "services/voice/simulator/wyoming_simulator.h"
#include "services/voice/tests/fake_store.h"
#include "services/voice/tests/shared_engines.h"
#include "services/voice/wyoming.h"

namespace genesis::voice {
namespace {

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

double Seconds(const google::protobuf::Duration& d) {
  return static_cast<double>(d.seconds()) + d.nanos() / 1e9;
}

using testing::ForwardStt;
using testing::ForwardTts;
using testing::SharedEspeak;
using testing::SharedSphinx;

constexpr char kSecret[] = "gateway-secret-for-tests";
const std::vector<std::string> kPhrases = {"turn on the kitchen light",
                                           "turn off the kitchen light", "open the garage door",
                                           "close the garage door", "what time is it"};

class CannedReply final : public ReplyClient {
 public:
  absl::StatusOr<Reply> Complete(const ReplyRequest& r, const CallContext&) override {
    last_user_text = r.user_text;
    return Reply{"The garage door is open.", "models/sim-local"};
  }
  std::string last_user_text;
};

struct ServerSetup {
  std::string wyoming_tts_address;  // empty: espeak-ng only
  bool fallback_to_embedded = true;
};

class VoiceGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(ServerSetup{}); }
  void TearDown() override { Stop(); }

  void Start(const ServerSetup& setup) {
    std::vector<std::unique_ptr<TtsEngine>> tts;
    if (!setup.wyoming_tts_address.empty()) {
      backend_ = std::make_unique<WyomingBackend>(
          std::make_unique<WyomingClient>(setup.wyoming_tts_address, absl::Seconds(2)));
      backend_->Probe(absl::Seconds(2));
      tts.push_back(std::make_unique<WyomingTts>(backend_.get()));
    }
    tts.push_back(std::make_unique<ForwardTts>(SharedEspeak()));
    std::vector<std::unique_ptr<SttEngine>> stt;
    stt.push_back(std::make_unique<ForwardStt>(SharedSphinx()));
    auto store = std::make_unique<FakeInteractionStore>();
    store_ = store.get();
    auto reply = std::make_unique<CannedReply>();
    reply_ = reply.get();
    VoiceOptions options;
    options.fallback_to_embedded = setup.fallback_to_embedded;
    voice_ = std::make_unique<Voice>(std::move(tts), std::move(stt), std::move(store),
                                     std::move(reply), options, VoiceMetrics{});
    workers_ = std::make_unique<WorkerPool>("test", 4, 64);
    dispatcher_ = std::make_unique<RpcDispatcher>("genesis.voice.v1.VoiceService", workers_.get(),
                                                  &registry_, absl::Seconds(30));
    dispatcher_->set_gateway_secret(kSecret);
    streams_ = std::make_unique<ServerStreamDispatcher>(
        "genesis.voice.v1.VoiceService", workers_.get(), &registry_, absl::Seconds(30));
    streams_->set_gateway_secret(kSecret);
    service_ = std::make_unique<VoiceGrpcService>(voice_.get(), dispatcher_.get(), streams_.get(),
                                                  workers_.get());
    service_->set_gateway_secret(kSecret);
    ServerOptions server;
    server.metrics_port = -1;
    server.max_send_message_bytes = SendLimitBytes(options, server.max_message_bytes);
    host_ = std::make_unique<ServiceHost>(server, &registry_);
    host_->AddService(service_.get(), "genesis.voice.v1.VoiceService");
    ASSERT_TRUE(host_->Start().ok());
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);  // long speech is tens of MB
    channel_ = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                                         grpc::InsecureChannelCredentials(), args);
    stub_ = v1::VoiceService::NewStub(channel_);
  }

  void Stop() {
    if (host_) host_->Shutdown();
    if (workers_) workers_->Shutdown();
    stub_.reset();
    channel_.reset();
    host_.reset();
    service_.reset();
    streams_.reset();
    dispatcher_.reset();
    workers_.reset();
    voice_.reset();
    backend_.reset();
  }

  // Raw PCM 16-bit little-endian of `text` spoken by espeak-ng at `rate`.
  std::string Speak(const std::string& text, int rate = 16000) {
    grpc::ClientContext ctx;
    v1::SynthesizeRequest req;
    req.set_text(text);
    req.mutable_format()->set_encoding(v1::AUDIO_ENCODING_PCM16);
    req.mutable_format()->set_sample_rate_hz(rate);
    v1::SynthesizeResponse resp;
    grpc::Status st = stub_->Synthesize(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.audio().data();
  }

  struct StreamOutcome {
    grpc::Status status;
    std::vector<v1::StreamTranscribeResponse> messages;
    std::string request_id;
  };

  // Sends `requests` in order, half-closes, reads every answer.
  StreamOutcome Stream(const std::vector<v1::StreamTranscribeRequest>& requests,
                       const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
    StreamOutcome out;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
    auto stream = stub_->StreamTranscribe(&ctx);
    for (const auto& r : requests) {
      if (!stream->Write(r)) break;  // the server already ended the call
    }
    stream->WritesDone();
    v1::StreamTranscribeResponse msg;
    while (stream->Read(&msg)) out.messages.push_back(msg);
    out.status = stream->Finish();
    auto md = ctx.GetServerInitialMetadata();
    if (auto it = md.find("x-request-id"); it != md.end()) {
      out.request_id = std::string(it->second.data(), it->second.size());
    }
    return out;
  }

  static v1::StreamTranscribeRequest Config(int rate, std::vector<std::string> phrases = kPhrases,
                                            const std::string& language = "") {
    v1::StreamTranscribeRequest r;
    r.mutable_config()->set_sample_rate_hz(rate);
    r.mutable_config()->set_language(language);
    for (auto& p : phrases) r.mutable_config()->add_phrases(std::move(p));
    return r;
  }

  // The config message then the audio in chunks of `chunk_bytes`.
  static std::vector<v1::StreamTranscribeRequest> Chunked(const std::string& pcm, int rate,
                                                          size_t chunk_bytes = 3200) {
    std::vector<v1::StreamTranscribeRequest> out{Config(rate)};
    for (size_t off = 0; off < pcm.size(); off += chunk_bytes) {
      v1::StreamTranscribeRequest r;
      r.set_audio_chunk(pcm.substr(off, chunk_bytes));
      out.push_back(std::move(r));
    }
    return out;
  }

  static std::vector<std::string> Fields(const grpc::Status& st) {
    std::vector<std::string> fields;
    google::rpc::Status details = RpcStatusOf(st);
    for (const auto& any : details.details()) {
      google::rpc::BadRequest bad;
      if (!any.UnpackTo(&bad)) continue;
      for (const auto& v : bad.field_violations()) fields.push_back(v.field());
    }
    return fields;
  }

  std::vector<InteractionRecord> Records(InteractionKind kind) {
    std::vector<InteractionRecord> out;
    for (auto& r : store_->All()) {
      if (r.kind == kind) out.push_back(std::move(r));
    }
    return out;
  }

  MetricsRegistry registry_;
  std::unique_ptr<WyomingBackend> backend_;
  FakeInteractionStore* store_ = nullptr;
  CannedReply* reply_ = nullptr;
  std::unique_ptr<Voice> voice_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<RpcDispatcher> dispatcher_;
  std::unique_ptr<ServerStreamDispatcher> streams_;
  std::unique_ptr<VoiceGrpcService> service_;
  std::unique_ptr<ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::VoiceService::Stub> stub_;
};

// ---------------------------------------------------------------------------
// StreamTranscribe

TEST_F(VoiceGrpcTest, StreamTranscribeSendsPartialsThenTheFinalTranscript) {
  const std::string pcm = Speak("turn on the kitchen light");
  ASSERT_GT(pcm.size(), 16000u);  // more than half a second
  auto out = Stream(Chunked(pcm, 16000), {{"x-request-id", "stream-42"}});
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_EQ(out.request_id, "stream-42");
  ASSERT_GE(out.messages.size(), 2u) << "expected partial transcripts before the final one";
  for (size_t i = 0; i + 1 < out.messages.size(); ++i) {
    EXPECT_FALSE(out.messages[i].final());
    EXPECT_FALSE(out.messages[i].transcript().text().empty());
    EXPECT_EQ(out.messages[i].transcript().engine(), "pocketsphinx");
  }
  // Partials report the audio heard so far, which only grows.
  for (size_t i = 1; i + 1 < out.messages.size(); ++i) {
    EXPECT_GE(Seconds(out.messages[i].audio_duration()),
              Seconds(out.messages[i - 1].audio_duration()));
  }
  const auto& last = out.messages.back();
  EXPECT_TRUE(last.final());
  EXPECT_EQ(last.transcript().text(), "turn on the kitchen light");
  EXPECT_TRUE(last.transcript().command_mode());
  EXPECT_EQ(last.transcript().language(), "en-US");
  ASSERT_EQ(last.transcript().words_size(), 5);
  EXPECT_EQ(last.transcript().words(0).word(), "turn");
  const double heard = static_cast<double>(pcm.size() / 2) / 16000;
  const double reported = last.audio_duration().seconds() + last.audio_duration().nanos() / 1e9;
  EXPECT_NEAR(reported, heard, 0.001);
  auto records = Records(InteractionKind::kTranscribe);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NEAR(absl::ToDoubleSeconds(records[0].audio_duration), heard, 0.001);
}

TEST_F(VoiceGrpcTest, StreamTranscribeResamplesOtherRates) {
  const std::string pcm = Speak("open the garage door", 22050);
  auto out = Stream(Chunked(pcm, 22050, 4410));
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_FALSE(out.messages.empty());
  EXPECT_TRUE(out.messages.back().final());
  EXPECT_EQ(out.messages.back().transcript().text(), "open the garage door");
}

TEST_F(VoiceGrpcTest, StreamTranscribeNeedsConfigFirst) {
  v1::StreamTranscribeRequest chunk;
  chunk.set_audio_chunk(std::string(320, '\0'));
  auto out = Stream({chunk});
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(out.status), std::vector<std::string>{"config"});
  EXPECT_TRUE(out.messages.empty());

  auto empty = Stream({});
  EXPECT_EQ(empty.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(empty.status.error_message().find("ended before any config"), std::string::npos)
      << empty.status.error_message();
}

TEST_F(VoiceGrpcTest, StreamTranscribeRejectsABadConfigWithEveryViolation) {
  auto out = Stream({Config(1000, {"open the door", "  "}, "pt BR!")});
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(out.status),
            (std::vector<std::string>{"config.language", "phrases[1]", "config.sample_rate_hz"}));
}

TEST_F(VoiceGrpcTest, StreamTranscribeRejectsOddChunksAndASecondConfig) {
  auto odd = Chunked(std::string(3201, '\0'), 16000, 3201);
  auto out = Stream(odd);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(out.status), std::vector<std::string>{"audio_chunk"});
  EXPECT_NE(out.status.error_message().find("even byte count"), std::string::npos);

  auto twice = Stream({Config(16000), Config(16000)});
  EXPECT_EQ(twice.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(twice.status), std::vector<std::string>{"config"});
  EXPECT_NE(twice.status.error_message().find("only the first message"), std::string::npos);
  EXPECT_TRUE(Records(InteractionKind::kTranscribe).empty());
}

TEST_F(VoiceGrpcTest, StreamTranscribeStopsPastTheAudioLimit) {
  // 61 s of silence at 8 kHz in 1 s chunks: the limit is 60 s.
  std::vector<v1::StreamTranscribeRequest> requests{Config(8000)};
  for (int i = 0; i < 61; ++i) {
    v1::StreamTranscribeRequest r;
    r.set_audio_chunk(std::string(16000, '\0'));
    requests.push_back(std::move(r));
  }
  auto out = Stream(requests);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(out.status), std::vector<std::string>{"audio_chunk"});
  EXPECT_NE(out.status.error_message().find("limit of 1m"), std::string::npos)
      << out.status.error_message();
}

TEST_F(VoiceGrpcTest, StreamTranscribeInALanguageNoEngineServes) {
  auto out = Stream({Config(16000, {}, "pt-BR")});
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(out.status.error_message().find("available languages: en-US"), std::string::npos)
      << out.status.error_message();
}

TEST_F(VoiceGrpcTest, StreamTranscribeCancelledByTheClientRecordsNothingAndFreesTheDecoder) {
  const std::string pcm = Speak("close the garage door");
  {
    grpc::ClientContext ctx;
    auto stream = stub_->StreamTranscribe(&ctx);
    auto requests = Chunked(pcm, 16000);
    ASSERT_TRUE(stream->Write(requests[0]));
    ASSERT_TRUE(stream->Write(requests[1]));
    ctx.TryCancel();
    v1::StreamTranscribeResponse msg;
    while (stream->Read(&msg)) {
    }
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // The test engine has one decoder: a second stream gets it only if the
  // cancelled one gave it back (else RESOURCE_EXHAUSTED after 10 s).
  auto out = Stream(Chunked(pcm, 16000));
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_EQ(out.messages.back().transcript().text(), "close the garage door");
  // Only the second, finished stream is recorded (the server may see the
  // cancellation a moment after the client).
  const absl::Time limit = absl::Now() + absl::Seconds(2);
  while (absl::Now() < limit && Records(InteractionKind::kTranscribe).size() > 1) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(Records(InteractionKind::kTranscribe).size(), 1u);
}

TEST_F(VoiceGrpcTest, StreamTranscribeRecordsTheGatewaySubjectOnlyWithTheSecret) {
  const std::string pcm = Speak("what time is it");
  auto trusted = Stream(Chunked(pcm, 16000), {{"x-genesis-subject", "alice"},
                                              {"x-genesis-roles", "operator"},
                                              {"x-genesis-gateway-auth", kSecret}});
  ASSERT_TRUE(trusted.status.ok()) << trusted.status.error_message();
  auto forged = Stream(Chunked(pcm, 16000), {{"x-genesis-subject", "mallory"},
                                             {"x-genesis-gateway-auth", "not-the-secret"}});
  ASSERT_TRUE(forged.status.ok()) << forged.status.error_message();
  std::vector<std::string> subjects;
  for (const auto& r : Records(InteractionKind::kTranscribe)) subjects.push_back(r.subject);
  std::sort(subjects.begin(), subjects.end());
  EXPECT_EQ(subjects, (std::vector<std::string>{"", "alice"}));
}

// ---------------------------------------------------------------------------
// Unary and server-streaming methods: codes, details, conversion

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
