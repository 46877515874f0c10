// The Wyoming client against the project's Wyoming simulator (real TCP on
// 127.0.0.1, real framing), and the Wyoming facade driven by that client.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "services/voice/engines/wyoming.h"
#include "services/voice/engines/wyoming_server.h"
#include "services/voice/simulator/wyoming_simulator.h"
#include "services/voice/tests/fake_store.h"
#include "services/voice/tests/shared_engines.h"

namespace genesis::voice {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

PcmAudio Silence(int rate, double seconds) {
  PcmAudio a;
  a.sample_rate_hz = rate;
  a.samples.assign(static_cast<size_t>(rate * seconds), 0);
  return a;
}

std::unique_ptr<WyomingSimulator> StartSim(WyomingSimulatorOptions o = {}) {
  auto sim = std::make_unique<WyomingSimulator>(o);
  EXPECT_TRUE(sim->Start().ok());
  return sim;
}

TEST(WyomingFraming, EncodesHeaderDataAndPayload) {
  std::string bytes =
      WyomingConnection::Encode({"audio-chunk", {{"rate", 16000}}, std::string("\x01\x02", 2)});
  const size_t nl = bytes.find('\n');
  auto header = nlohmann::json::parse(bytes.substr(0, nl));
  EXPECT_EQ(header["type"], "audio-chunk");
  EXPECT_EQ(header["data_length"], 14);  // {"rate":16000}
  EXPECT_EQ(header["payload_length"], 2);
  EXPECT_EQ(bytes.substr(nl + 1), std::string("{\"rate\":16000}\x01\x02", 16));
}

TEST(WyomingClient, DescribeListsLanguagesAndVoices) {
  auto sim = StartSim();
  WyomingClient client(sim->address(), absl::Seconds(5));
  auto info = client.Describe(CallContext::Background());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->asr_languages, Contains("pt"));
  ASSERT_EQ(info->tts_voices.size(), 2u);
  EXPECT_EQ(info->tts_voices[0].name, "en_US-lessac-medium");
  EXPECT_EQ(info->tts_voices[0].languages[0], "en-US");
  EXPECT_EQ(info->asr_program, "faster-whisper");
}

TEST(WyomingClient, TranscribeSendsEveryChunkAndReadsTheTranscript) {
  auto sim = StartSim();
  WyomingClient client(sim->address(), absl::Seconds(5));
  auto text = client.Transcribe(Silence(16000, 1.3), "pt-BR", CallContext::Background());
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "turn on the kitchen light");
  EXPECT_EQ(sim->last_samples(), 20800u);
  EXPECT_EQ(sim->last_rate(), 16000);
  EXPECT_EQ(sim->last_language(), "pt");
}

TEST(WyomingClient, SynthesizeCollectsTheAudio) {
  auto sim = StartSim();
  WyomingClient client(sim->address(), absl::Seconds(5));
  auto audio =
      client.Synthesize("hello", "en_US-lessac-medium", "en-US", CallContext::Background());
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->sample_rate_hz, 22050);
  EXPECT_EQ(audio->samples.size(), static_cast<size_t>(22050 * 0.06 * 5));
}

TEST(WyomingClient, SplitReadsStillMakeWholeEvents) {
  WyomingSimulatorOptions o;
  o.write_piece_bytes = 7;  // headers, data and payloads arrive in 7-byte pieces
  auto sim = StartSim(o);
  WyomingClient client(sim->address(), absl::Seconds(20));
  auto audio = client.Synthesize("hi", "", "", CallContext::Background(absl::Seconds(20)));
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->samples.size(), static_cast<size_t>(22050 * 0.06 * 2));
  auto info = client.Describe(CallContext::Background());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->tts_voices.size(), 2u);
}

TEST(WyomingClient, OversizedHeaderIsRefused) {
  WyomingSimulatorOptions o;
  o.header_padding = 200 << 10;  // past the 64 KiB header limit
  auto sim = StartSim(o);
  WyomingClient client(sim->address(), absl::Seconds(5));
  auto info = client.Describe(CallContext::Background());
  ASSERT_TRUE(absl::IsUnavailable(info.status())) << info.status();
  EXPECT_THAT(std::string(info.status().message()), HasSubstr("header line longer than 65536"));
}

TEST(WyomingClient, SilentServerHitsTheDeadlineAndDownServerIsUnavailable) {
  WyomingSimulatorOptions o;
  o.silent = true;
  auto sim = StartSim(o);
  WyomingClient client(sim->address(), absl::Milliseconds(300));
  auto text = client.Transcribe(Silence(16000, 0.1), "en", CallContext::Background());
  EXPECT_TRUE(absl::IsDeadlineExceeded(text.status())) << text.status();
  const std::string address = sim->address();
  sim->Stop();
  WyomingClient gone(address, absl::Seconds(1));
  auto again = gone.Describe(CallContext::Background());
  EXPECT_TRUE(absl::IsUnavailable(again.status())) << again.status();
  // The address is internal: never in what a caller of the voice service sees.
  EXPECT_THAT(std::string(again.status().message()), Not(HasSubstr(address)));
}

TEST(WyomingConnection, BadJsonAndOversizedPayloadsBreakTheConnection) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  WyomingLimits limits;
  limits.max_payload_bytes = 10;
  WyomingConnection reader(fds[0], limits);
  const std::string junk = "not json\n{\"type\":\"audio-chunk\",\"payload_length\":11}\n";
  ASSERT_EQ(::send(fds[1], junk.data(), junk.size(), 0), static_cast<ssize_t>(junk.size()));
  auto first = reader.Read(absl::Now() + absl::Seconds(1));
  EXPECT_THAT(std::string(first.status().message()), HasSubstr("not a JSON object"));
  auto second = reader.Read(absl::Now() + absl::Seconds(1));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("over the limit of 10 bytes"));
  ::close(fds[1]);
}

// A Wyoming server on 127.0.0.1 that answers the first event of one
// connection with `answer` and closes.
class OneAnswerServer {
 public:
  explicit OneAnswerServer(std::string answer) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), len), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, answer = std::move(answer)] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      WyomingConnection conn(c, WyomingLimits{});
      if (conn.Read(absl::Now() + absl::Seconds(10)).ok()) {
        (void)::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      }
    });
  }
  ~OneAnswerServer() {
    thread_.join();
    ::close(fd_);
  }
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(WyomingClient, FieldsOfAnotherTypeAreABrokenServerNotAnException) {
  // nlohmann's value() threw on these, out of the client (and the voice service).
  {
    OneAnswerServer server(
        R"({"type": "info", "data": {"asr": [{"name": 5}], "tts": [{"name": []}]}})"
        "\n");
    WyomingClient client(server.address(), absl::Seconds(10));
    auto info = client.Describe(CallContext::Background());
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->asr_program, "");
  }
  {
    OneAnswerServer server(R"({"type": "error", "data": {"text": 5}})"
                           "\n");
    WyomingClient client(server.address(), absl::Seconds(10));
    auto audio = client.Synthesize("oi", "", "", CallContext::Background());
    EXPECT_EQ(audio.status().code(), absl::StatusCode::kUnavailable);
  }
  {
    // A server's error is passed on in its own words, never with its (internal) address.
    OneAnswerServer server(R"({"type": "error", "data": {"text": "voice not installed"}})"
                           "\n");
    WyomingClient client(server.address(), absl::Seconds(10));
    auto audio = client.Synthesize("oi", "", "", CallContext::Background());
    EXPECT_EQ(audio.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(std::string(audio.status().message()), HasSubstr("voice not installed"));
    EXPECT_THAT(std::string(audio.status().message()), Not(HasSubstr(server.address())));
  }
  {
    OneAnswerServer server(
        R"({"type": "audio-start", "data": {"rate": "16000", "width": 2e300, "channels": 1}})"
        "\n");
    WyomingClient client(server.address(), absl::Seconds(10));
    auto audio = client.Synthesize("oi", "", "", CallContext::Background());
    EXPECT_EQ(audio.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(std::string(audio.status().message()), HasSubstr("rate 0, width 0"));
  }
}

// The facade: genesis-voice as a Wyoming server, driven by the Wyoming client.
class WyomingFacadeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::unique_ptr<TtsEngine>> tts;
    tts.push_back(std::make_unique<testing::ForwardTts>(testing::SharedEspeak()));
    std::vector<std::unique_ptr<SttEngine>> stt;
    stt.push_back(std::make_unique<testing::ForwardStt>(testing::SharedSphinx()));
    auto store = std::make_unique<FakeInteractionStore>();
    store_ = store.get();
    voice_ = std::make_unique<Voice>(std::move(tts), std::move(stt), std::move(store), nullptr,
                                     VoiceOptions{}, VoiceMetrics{});
    WyomingServerOptions o;
    o.port = 0;
    server_ = std::make_unique<WyomingServer>(voice_.get(), o, VoiceMetrics{});
    ASSERT_TRUE(server_->Start().ok());
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override { server_->Stop(); }

  FakeInteractionStore* store_ = nullptr;
  std::unique_ptr<Voice> voice_;
  std::unique_ptr<WyomingServer> server_;
  std::string address_;
};

TEST_F(WyomingFacadeTest, InfoOffersAsrAndTtsOnOnePort) {
  WyomingClient client(address_, absl::Seconds(5));
  auto info = client.Describe(CallContext::Background());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->asr_languages, Contains("en-US"));
  EXPECT_THAT(info->asr_languages, Contains("en"));
  bool pt_br = false;
  for (const auto& v : info->tts_voices) pt_br |= v.name == "pt-br";
  EXPECT_TRUE(pt_br);
}

TEST_F(WyomingFacadeTest, SynthesizeThenTranscribeRoundTrip) {
  WyomingClient client(address_, absl::Seconds(20));
  auto audio = client.Synthesize("open the garage door", "", "en-US",
                                 CallContext::Background(absl::Seconds(20)));
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->sample_rate_hz, 22050);
  EXPECT_GT(audio->duration(), absl::Milliseconds(700));
  auto text =
      client.Transcribe(Resample(*audio, 16000), "en", CallContext::Background(absl::Seconds(20)));
  ASSERT_TRUE(text.ok()) << text.status();
  // Free dictation (Wyoming carries no phrase list): the key word, not every word.
  EXPECT_THAT(*text, HasSubstr("garage"));
  EXPECT_EQ(store_->All().size(), 2u);  // both recorded
}

TEST_F(WyomingFacadeTest, UnsupportedLanguageAnswersAnErrorEvent) {
  WyomingClient client(address_, absl::Seconds(5));
  auto text = client.Transcribe(Silence(16000, 0.5), "pt-BR", CallContext::Background());
  ASSERT_TRUE(absl::IsUnavailable(text.status())) << text.status();
  EXPECT_THAT(std::string(text.status().message()),
              HasSubstr("no speech-to-text engine understands 'pt'; available languages: en-US"));
}

}  // namespace
}  // namespace genesis::voice
