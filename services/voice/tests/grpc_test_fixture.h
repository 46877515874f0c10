// The Voice transport end to end in-process, shared by grpc_service_test.cc
// and stream_transcribe_test.cc: a real gRPC server on a free port, the real
// logic with the embedded engines (espeak-ng, pocketsphinx), a fake reply
// client and the fake store, every method on the common call path.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/base/status.h"
#include "common/runtime/server.h"
#include "services/voice/engines/wyoming.h"
#include "services/voice/grpc_service.h"
#include "services/voice/tests/fake_store.h"
#include "services/voice/tests/shared_engines.h"

namespace genesis::voice::testing {

inline double Seconds(const google::protobuf::Duration& d) {
  return static_cast<double>(d.seconds()) + d.nanos() / 1e9;
}

inline constexpr char kService[] = "genesis.voice.v1.VoiceService";
inline constexpr char kSecret[] = "gateway-secret-for-tests";
inline const std::vector<std::string> kPhrases = {
    "turn on the kitchen light", "turn off the kitchen light", "open the garage door",
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
  absl::Duration max_call_deadline = absl::Seconds(30);
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
    const IdentityTrust trust = IdentityTrust::For(kSecret, TlsConfig{});
    dispatcher_ = std::make_unique<RpcDispatcher>(kService, workers_.get(), &registry_,
                                                  setup.max_call_deadline, trust);
    streams_ = std::make_unique<ServerStreamDispatcher>(kService, workers_.get(), &registry_,
                                                        setup.max_call_deadline, trust);
    bidi_ = std::make_unique<BidiDispatcher>(kService, workers_.get(), &registry_,
                                             setup.max_call_deadline, trust);
    service_ = std::make_unique<VoiceGrpcService>(voice_.get(), dispatcher_.get(), streams_.get(),
                                                  bidi_.get());
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
    bidi_.reset();
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

  // genesis_grpc_server_handled_total of `method` ending with `code`.
  double Handled(const std::string& method, const std::string& code) {
    return registry_
        .AddCounter("genesis_grpc_server_handled_total", "",
                    {"grpc_service", "grpc_method", "grpc_code"})
        .WithLabels({kService, method, code})
        .Value();
  }

  // The x-request-id the server answered `ctx` with.
  static std::string RequestIdOf(const grpc::ClientContext& ctx) {
    auto md = ctx.GetServerInitialMetadata();
    auto it = md.find("x-request-id");
    return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
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
  std::unique_ptr<BidiDispatcher> bidi_;
  std::unique_ptr<VoiceGrpcService> service_;
  std::unique_ptr<ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::VoiceService::Stub> stub_;
};

}  // namespace genesis::voice::testing
