// StreamTranscribe, the bidirectional stream, end to end in-process (the
// fixture: grpc_test_fixture.h): partial and final transcripts, bad chunks,
// cancellation, identity, and the call path every RPC shares (request id,
// deadline cap, metrics, request id on the log lines).
#include <spdlog/sinks/base_sink.h>

#include <algorithm>
#include <mutex>

#include "common/runtime/logging.h"
#include "services/voice/tests/grpc_test_fixture.h"

namespace genesis::voice {
namespace {

using testing::kPhrases;
using testing::kSecret;
using testing::kService;
using testing::Seconds;
using testing::ServerSetup;
using testing::VoiceGrpcTest;

// Keeps the request id each log line was written under (what every line
// prints) and the line's text.
class RequestIdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::pair<std::string, std::string>> Lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(std::string(CurrentRequestId()),
                        std::string(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  std::vector<std::pair<std::string, std::string>> lines_;
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

// StreamTranscribe goes through the call path every RPC shares
// (common/rpc/call_path.h), like the unary and server-streaming methods.

TEST_F(VoiceGrpcTest, StreamTranscribeReplacesAnUnsafeRequestIdLikeAUnaryCall) {
  const std::string unsafe = "not/a safe id";
  grpc::ClientContext unary;
  unary.AddMetadata("x-request-id", unsafe);
  v1::ListEnginesResponse engines;
  ASSERT_TRUE(stub_->ListEngines(&unary, v1::ListEnginesRequest(), &engines).ok());
  const std::string unary_id = RequestIdOf(unary);
  EXPECT_NE(unary_id, unsafe);
  EXPECT_EQ(unary_id.size(), 16u);

  auto out = Stream({}, {{"x-request-id", unsafe}});
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(out.request_id, unsafe);
  EXPECT_EQ(out.request_id.size(), 16u);
}

TEST_F(VoiceGrpcTest, StreamTranscribeEndsAtTheServersDeadlineCap) {
  Stop();
  ServerSetup setup;
  setup.max_call_deadline = absl::Seconds(1);
  Start(setup);
  // The client allows 20 s but sends only its config and waits: the server
  // ends the call at its own cap and gives the decoder back.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto stream = stub_->StreamTranscribe(&ctx);
  ASSERT_TRUE(stream->Write(Config(16000)));
  v1::StreamTranscribeResponse msg;
  while (stream->Read(&msg)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(Handled("StreamTranscribe", "DEADLINE_EXCEEDED"), 1);
  auto next = Stream(Chunked(Speak("what time is it"), 16000));
  EXPECT_TRUE(next.status.ok()) << next.status.error_message();
}

TEST_F(VoiceGrpcTest, StreamTranscribeIsCountedInTheServerMetrics) {
  auto ok = Stream(Chunked(Speak("open the garage door"), 16000));
  ASSERT_TRUE(ok.status.ok()) << ok.status.error_message();
  auto bad = Stream({});
  ASSERT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Handled("StreamTranscribe", "OK"), 1);
  EXPECT_EQ(Handled("StreamTranscribe", "INVALID_ARGUMENT"), 1);
  const std::string text = registry_.Render();
  EXPECT_NE(text.find("genesis_grpc_server_handling_seconds_count{grpc_service=\"" +
                      std::string(kService) +
                      "\",grpc_method=\"StreamTranscribe\",grpc_code=\"OK\"} 1\n"),
            std::string::npos)
      << text;
}

TEST_F(VoiceGrpcTest, StreamTranscribeLogLinesCarryTheRequestId) {
  auto sink = std::make_shared<RequestIdSink>();
  auto log = Logger("rpc");
  const auto level = log->level();
  log->set_level(spdlog::level::debug);
  log->sinks().push_back(sink);
  auto out = Stream({Config(16000, {}, "pt-BR")}, {{"x-request-id", "bidi-log-7"}});
  log->sinks().pop_back();
  log->set_level(level);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  std::vector<std::string> ids;
  for (const auto& [id, text] : sink->Lines()) {
    if (text.find("StreamTranscribe") != std::string::npos) ids.push_back(id);
  }
  EXPECT_EQ(ids, std::vector<std::string>{"bidi-log-7"});
}

}  // namespace
}  // namespace genesis::voice
