// Server-streaming RPCs: SSE / NDJSON framing, the relay on a scripted fake
// backend (messages, a failure mid-stream, a failure before any message,
// flow control and cancellation), and the chunked HTTP response on a socket.
#include "gateway/http/streaming.h"

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gateway/gateway.h"
#include "gateway/http/server.h"
#include "gateway/tests/test_util.h"
#include "google/rpc/status.pb.h"

namespace genesis::gateway {
namespace {

// A status as a Genesis service sends it: the code and message also in the
// grpc-status-details-bin trailer (gRPC's own failures have none).
grpc::Status ServiceStatus(grpc::StatusCode code, const std::string& message) {
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  return grpc::Status(code, message, details.SerializeAsString());
}

constexpr char kService[] = "genesis.gwtest.v1.LibraryService";

TEST(StreamFramingTest, SseAndNdjson) {
  EXPECT_EQ(StreamFormatFromAccept("text/event-stream"), StreamFormat::kSse);
  EXPECT_EQ(StreamFormatFromAccept("application/json, Text/Event-Stream;q=0.5"),
            StreamFormat::kSse);
  EXPECT_EQ(StreamFormatFromAccept(""), StreamFormat::kNdjson);
  EXPECT_EQ(StreamFormatFromAccept("application/x-ndjson"), StreamFormat::kNdjson);
  EXPECT_STREQ(StreamContentType(StreamFormat::kSse), "text/event-stream");
  EXPECT_STREQ(StreamContentType(StreamFormat::kNdjson), "application/x-ndjson");
  EXPECT_EQ(FrameMessage(StreamFormat::kSse, R"({"a":1})"), "data: {\"a\":1}\n\n");
  EXPECT_EQ(FrameMessage(StreamFormat::kNdjson, R"({"a":1})"), "{\"a\":1}\n");
  EXPECT_EQ(FrameError(StreamFormat::kSse, R"({"code":14})"),
            "event: error\ndata: {\"code\":14}\n\n");
  EXPECT_EQ(FrameError(StreamFormat::kNdjson, R"({"code":14})"), "{\"error\":{\"code\":14}}\n");
}

// Plays a script: the messages, one per `more()`, then the final status.
class ScriptedBackend : public Backend {
 public:
  class FakeCall : public StreamCall {
   public:
    void Cancel() override { cancelled = true; }
    bool cancelled = false;
    StreamHandlers handlers;  // with handlers_in_call, as a gRPC reactor holds them
  };
  void Call(const std::string&, std::string, absl::Time, const Metadata&,
            std::function<void(grpc::Status, std::string)> done) override {
    done(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unary"), "");
  }
  void CheckHealth(const std::string&, absl::Time, std::function<void(bool)> done) override {
    done(true);
  }
  std::shared_ptr<StreamCall> CallStream(const std::string& grpc_path, std::string, absl::Time,
                                         const Metadata&, StreamHandlers handlers) override {
    last_path = grpc_path;
    call = std::make_shared<FakeCall>();
    (handlers_in_call ? call->handlers : handlers_) = std::move(handlers);
    Next(0);
    return call;
  }
  void Next(size_t i) {
    StreamHandlers& h = handlers_in_call ? call->handlers : handlers_;
    if (i < messages.size() && !call->cancelled) {
      h.on_message(messages[i], [this, i] { Next(i + 1); });
      return;
    }
    h.on_done(call->cancelled ? grpc::Status(grpc::StatusCode::CANCELLED, "cancelled")
                              : final_status);
  }
  std::vector<std::string> messages;
  grpc::Status final_status;
  std::shared_ptr<FakeCall> call;
  std::string last_path;
  bool handlers_in_call = false;

 private:
  StreamHandlers handlers_;
};

// Collects chunks; writes succeed until `fail_after` chunks.
class CollectingWriter : public BodyWriter {
 public:
  void Write(std::string chunk, std::function<void(bool)> written) override {
    bool ok = chunks.size() < fail_after;
    if (ok) chunks.push_back(std::move(chunk));
    written(ok);
  }
  void Finish() override { ++finished; }
  std::string Body() const {
    std::string out;
    for (const auto& c : chunks) out += c;
    return out;
  }
  std::vector<std::string> chunks;
  size_t fail_after = 1000;
  int finished = 0;
};

class StreamingGatewayTest : public ::testing::Test {
 protected:
  StreamingGatewayTest() {
    auto transcoder = testing::LoadTestTranscoder();
    auto routes = testing::LoadTestRoutes(*transcoder);
    google::protobuf::DynamicMessageFactory factory(&transcoder->pool());
    const auto* book = transcoder->pool().FindMessageTypeByName("genesis.gwtest.v1.Book");
    for (const char* title : {"Dune", "Emma"}) {
      std::unique_ptr<google::protobuf::Message> m(factory.GetPrototype(book)->New());
      m->GetReflection()->SetString(m.get(), book->FindFieldByName("title"), title);
      backend_.messages.push_back(m->SerializeAsString());
    }
    gateway_ = std::make_unique<Gateway>(GatewayOptions{}, std::move(transcoder), std::move(routes),
                                         std::map<std::string, Backend*>{{kService, &backend_}},
                                         &registry_, GatewayMetrics::Register(&registry_));
  }

  HttpResponse Watch(std::string accept) {
    HttpResponse out;
    bool called = false;
    std::map<std::string, std::string> headers;
    if (!accept.empty()) headers["accept"] = accept;
    gateway_->Handle({"GET", "/v1/books:watch", "", headers}, [&](HttpResponse r) {
      out = std::move(r);
      called = true;
    });
    EXPECT_TRUE(called);
    return out;
  }

  ScriptedBackend backend_;
  MetricsRegistry registry_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(StreamingGatewayTest, SseMessagesThenAnErrorEvent) {
  backend_.final_status = ServiceStatus(grpc::StatusCode::UNAVAILABLE, "provider dropped");
  HttpResponse r = Watch("text/event-stream");
  ASSERT_NE(r.stream, nullptr);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/event-stream");
  EXPECT_EQ(backend_.last_path, "/genesis.gwtest.v1.LibraryService/WatchBooks");
  auto writer = std::make_shared<CollectingWriter>();
  r.stream->Start(writer);
  EXPECT_EQ(writer->Body(),
            "data: {\"title\":\"Dune\"}\n\n"
            "data: {\"title\":\"Emma\"}\n\n"
            "event: error\ndata: {\"code\":14,\"message\":\"provider dropped\"}\n\n");
  EXPECT_EQ(writer->finished, 1);
  EXPECT_NE(
      registry_.Render().find(
          R"(genesis_gateway_backend_errors_total{service="genesis.gwtest.v1.LibraryService",grpc_code="UNAVAILABLE"} 1)"),
      std::string::npos);
}

TEST_F(StreamingGatewayTest, AnEndedStreamKeepsNothingAlive) {
  backend_.handlers_in_call = true;
  HttpResponse r = Watch("text/event-stream");
  ASSERT_NE(r.stream, nullptr);
  auto writer = std::make_shared<CollectingWriter>();
  std::weak_ptr<CollectingWriter> alive = writer;
  r.stream->Start(writer);
  EXPECT_EQ(writer->finished, 1);
  // Once the call is over and the server let go of the stream, the call (which holds the
  // relay through its handlers) and the relay (which holds the writer and, through it, the
  // HTTP connection with its per-client count) are gone.
  writer.reset();
  r.stream.reset();
  backend_.call.reset();
  EXPECT_TRUE(alive.expired()) << "the writer, and so the connection, is kept alive";
}

TEST_F(StreamingGatewayTest, NdjsonLinesAndCleanEnd) {
  HttpResponse r = Watch("");
  ASSERT_NE(r.stream, nullptr);
  EXPECT_EQ(r.content_type, "application/x-ndjson");
  auto writer = std::make_shared<CollectingWriter>();
  r.stream->Start(writer);
  EXPECT_EQ(writer->Body(), "{\"title\":\"Dune\"}\n{\"title\":\"Emma\"}\n");
  EXPECT_EQ(writer->finished, 1);
}

TEST_F(StreamingGatewayTest, NdjsonErrorLine) {
  backend_.messages.resize(1);
  backend_.final_status = grpc::Status(grpc::StatusCode::INTERNAL, "boom");
  HttpResponse r = Watch("application/x-ndjson");
  auto writer = std::make_shared<CollectingWriter>();
  r.stream->Start(writer);
  EXPECT_EQ(writer->Body(),
            "{\"title\":\"Dune\"}\n{\"error\":{\"code\":13,\"message\":\"boom\"}}\n");
}

TEST_F(StreamingGatewayTest, ErrorBeforeAnyMessageIsAnOrdinaryErrorResponse) {
  backend_.messages.clear();
  backend_.final_status = grpc::Status(grpc::StatusCode::NOT_FOUND, "no such shelf");
  HttpResponse r = Watch("text/event-stream");
  EXPECT_EQ(r.stream, nullptr);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"code":5,"message":"no such shelf"})");
}

TEST_F(StreamingGatewayTest, EmptyStreamIs200WithNoFrames) {
  backend_.messages.clear();
  HttpResponse r = Watch("");
  ASSERT_NE(r.stream, nullptr);
  auto writer = std::make_shared<CollectingWriter>();
  r.stream->Start(writer);
  EXPECT_EQ(writer->Body(), "");
  EXPECT_EQ(writer->finished, 1);
}

TEST_F(StreamingGatewayTest, ClientGoneCancelsTheCallAndWritesNoErrorFrame) {
  HttpResponse r = Watch("text/event-stream");
  auto writer = std::make_shared<CollectingWriter>();
  writer->fail_after = 1;  // the second message finds the connection closed
  r.stream->Start(writer);
  EXPECT_TRUE(backend_.call->cancelled);
  EXPECT_EQ(writer->chunks.size(), 1u);
  EXPECT_EQ(writer->finished, 1);
}

TEST_F(StreamingGatewayTest, CancelFromTheServerReachesTheBackend) {
  HttpResponse r = Watch("");
  r.stream->Cancel();
  EXPECT_TRUE(backend_.call->cancelled);
}

// The HTTP side: a source that writes two chunks is read back as one body.
class TwoChunks : public StreamSource {
 public:
  void Start(std::shared_ptr<BodyWriter> writer) override {
    writer->Write("data: 1\n\n", [](bool) {});
    writer->Write("data: 2\n\n", [](bool) {});
    writer->Finish();
  }
  void Cancel() override {}
};

TEST(StreamingServerTest, ChunkedResponseThenClose) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  auto server = HttpServer::Start({}, [](HttpRequest, std::function<void(HttpResponse)> done) {
    HttpResponse r;
    r.content_type = "text/event-stream";
    r.stream = std::make_shared<TwoChunks>();
    done(std::move(r));
  });
  ASSERT_TRUE(server.ok()) << server.status();
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), (*server)->port()));
  stream.expires_after(std::chrono::seconds(10));
  http::request<http::string_body> req{http::verb::get, "/v1/books:watch", 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_TRUE(res.chunked());
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(res[http::field::content_type], "text/event-stream");
  EXPECT_EQ(res.body(), "data: 1\n\ndata: 2\n\n");
}

}  // namespace
}  // namespace genesis::gateway
