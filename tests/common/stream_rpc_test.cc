// ServerStreamDispatcher over a real in-process gRPC server. No test proto:
// a test-only implementation of the router's server-streaming method
// (genesis.llmrouter.v1 StreamComplete) stands in for any streaming method.
// The router's own StreamComplete is tested in services/llm_router/tests.
#include "common/rpc/stream_rpc.h"

#include <atomic>

#include <gtest/gtest.h>

#include "common/rpc/rpc.h"
#include "common/runtime/server.h"
#include "genesis/llmrouter/v1/llm_router.grpc.pb.h"

namespace genesis {
namespace {

namespace v1 = ::genesis::llmrouter::v1;
using Resp = v1::StreamCompleteResponse;

// Polls `done` until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(5)) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return done();
}

// Streams `messages[0].content` as a count of messages "0", "1", ... and
// finishes with the status named by `model` ("" OK, "not_found"). With
// model "block", waits for the test to release it first; with "forever",
// writes until a write fails.
class TestService final : public v1::LlmRouterService::CallbackService {
 public:
  explicit TestService(ServerStreamDispatcher* d) : d_(d) {}

  grpc::ServerWriteReactor<Resp>* StreamComplete(grpc::CallbackServerContext* ctx,
                                                 const v1::StreamCompleteRequest* req) override {
    return d_->ServerStream<Resp>(
        ctx, "StreamComplete", req, [=, this](const CallContext& call, StreamWriter<Resp>& out) {
          {
            std::lock_guard lock(mu_);
            last_deadline_ = call.deadline;
            last_request_id_ = call.request_id;
            last_subject_ = call.subject;
          }
          if (req->model() == "block") {
            ++running_;
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return released_; });
          }
          Resp r;
          if (req->model() == "forever") {
            for (int i = 0;; ++i) {
              r.set_text(std::to_string(i));
              if (!out.Write(r)) {
                write_failed_ = true;
                return absl::CancelledError("client gone");
              }
            }
          }
          const int n = req->messages_size() > 0 ? std::stoi(req->messages(0).content()) : 0;
          for (int i = 0; i < n; ++i) {
            r.set_text(std::to_string(i));
            if (!out.Write(r)) return absl::CancelledError("client gone");
          }
          if (req->model() == "not_found") return absl::NotFoundError("no such thing");
          return absl::OkStatus();
        });
  }

  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  absl::Time last_deadline() {
    std::lock_guard lock(mu_);
    return last_deadline_;
  }
  std::string last_request_id() {
    std::lock_guard lock(mu_);
    return last_request_id_;
  }
  std::string last_subject() {
    std::lock_guard lock(mu_);
    return last_subject_;
  }

  std::atomic<int> running_{0};
  std::atomic<bool> write_failed_{false};

 private:
  ServerStreamDispatcher* d_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  absl::Time last_deadline_;
  std::string last_request_id_;
  std::string last_subject_;
};

class StreamRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workers_ = std::make_unique<WorkerPool>("test", 1, 1);
    // A unary dispatcher on the same registry: the metric families are shared.
    unary_ =
        std::make_unique<RpcDispatcher>("test.Svc", workers_.get(), &registry_, absl::Seconds(5),
                                        IdentityTrust::For("s3cret", TlsConfig{}));
    streams_ = std::make_unique<ServerStreamDispatcher>("test.Svc", workers_.get(), &registry_,
                                                        absl::Seconds(5),
                                                        IdentityTrust::For("s3cret", TlsConfig{}));
    service_ = std::make_unique<TestService>(streams_.get());
    ServerOptions options;
    options.metrics_port = -1;
    options.shutdown_grace = absl::Seconds(2);
    host_ = std::make_unique<ServiceHost>(options, &registry_);
    host_->AddService(service_.get(), "genesis.llmrouter.v1.LlmRouterService");
    ASSERT_TRUE(host_->Start().ok());
    stub_ = v1::LlmRouterService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(host_->grpc_port()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    service_->Release();
    host_->Shutdown();
    workers_->Shutdown();
  }

  static v1::StreamCompleteRequest Request(int count, const std::string& model = "") {
    v1::StreamCompleteRequest req;
    req.add_messages()->set_content(std::to_string(count));
    req.set_model(model);
    return req;
  }
  double Handled(const std::string& code) {
    return registry_
        .AddCounter("genesis_grpc_server_handled_total", "",
                    {"grpc_service", "grpc_method", "grpc_code"})
        .WithLabels({"test.Svc", "StreamComplete", code})
        .Value();
  }

  MetricsRegistry registry_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<RpcDispatcher> unary_;
  std::unique_ptr<ServerStreamDispatcher> streams_;
  std::unique_ptr<TestService> service_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<v1::LlmRouterService::Stub> stub_;
};

TEST_F(StreamRpcTest, StreamsEveryMessageThenTheStatus) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-request-id", "req-42");
  auto reader = stub_->StreamComplete(&ctx, Request(50, "not_found"));
  Resp r;
  std::vector<std::string> got;
  while (reader->Read(&r)) got.push_back(r.text());
  grpc::Status st = reader->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "no such thing");
  ASSERT_EQ(got.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(got[i], std::to_string(i));
  auto id = ctx.GetServerInitialMetadata().find("x-request-id");
  ASSERT_NE(id, ctx.GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(id->second.data(), id->second.size()), "req-42");
  EXPECT_EQ(service_->last_request_id(), "req-42");
  EXPECT_TRUE(Eventually([&] { return Handled("NOT_FOUND") == 1; }));
}

TEST_F(StreamRpcTest, SharesTheMetricFamiliesWithTheUnaryDispatcher) {
  grpc::ClientContext ctx;
  auto reader = stub_->StreamComplete(&ctx, Request(3));
  Resp r;
  while (reader->Read(&r)) {
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_TRUE(Eventually([&] { return Handled("OK") == 1; }));
  const std::string text = registry_.Render();
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count("# TYPE genesis_grpc_server_handled_total "), 1u);
  EXPECT_EQ(count("# TYPE genesis_grpc_server_handling_seconds "), 1u);
  EXPECT_EQ(count("genesis_grpc_server_handled_total{grpc_service=\"test.Svc\","
                  "grpc_method=\"StreamComplete\",grpc_code=\"OK\"} 1\n"),
            1u)
      << text;
}

TEST_F(StreamRpcTest, ForwardedIdentityOnlyWithTheGatewaySecret) {
  for (const std::string auth : {"s3cret", "wrong!"}) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-genesis-gateway-auth", auth);
    ctx.AddMetadata("x-genesis-subject", "user-9");
    auto reader = stub_->StreamComplete(&ctx, Request(1));
    Resp r;
    while (reader->Read(&r)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_EQ(service_->last_subject(), auth == "s3cret" ? "user-9" : "") << auth;
  }
}

TEST_F(StreamRpcTest, DeadlineIsTheCallersCappedByTheServer) {
  {
    grpc::ClientContext ctx;
    const absl::Time before = absl::Now();
    ctx.set_deadline(absl::ToChronoTime(before + absl::Seconds(2)));
    auto reader = stub_->StreamComplete(&ctx, Request(1));
    Resp r;
    while (reader->Read(&r)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_LE(service_->last_deadline(), before + absl::Seconds(2) + absl::Milliseconds(50));
    EXPECT_GT(service_->last_deadline(), before + absl::Seconds(1));
  }
  grpc::ClientContext ctx;  // no deadline: the server's 5 s
  const absl::Time before = absl::Now();
  auto reader = stub_->StreamComplete(&ctx, Request(1));
  Resp r;
  while (reader->Read(&r)) {
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_LE(service_->last_deadline(), absl::Now() + absl::Seconds(5));
  EXPECT_GE(service_->last_deadline(), before + absl::Seconds(5));
}

TEST_F(StreamRpcTest, ClientCancelMakesWriteFail) {
  grpc::ClientContext ctx;
  auto reader = stub_->StreamComplete(&ctx, Request(0, "forever"));
  Resp r;
  ASSERT_TRUE(reader->Read(&r));
  ctx.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(Eventually([&] { return service_->write_failed_.load(); }));
  EXPECT_TRUE(Eventually([&] { return Handled("CANCELLED") == 1; }));
}

TEST_F(StreamRpcTest, RefusesAtOnceWhenThePoolIsFull) {
  // One worker, one queue slot: the first call runs (blocked), the second
  // waits in the queue, the third is refused.
  grpc::ClientContext c1, c2, c3;
  auto r1 = stub_->StreamComplete(&c1, Request(1, "block"));
  ASSERT_TRUE(Eventually([&] { return service_->running_.load() == 1; }));
  auto r2 = stub_->StreamComplete(&c2, Request(1));
  ASSERT_TRUE(Eventually([&] { return workers_->queued() == 1; }));
  auto r3 = stub_->StreamComplete(&c3, Request(1));
  Resp r;
  EXPECT_FALSE(r3->Read(&r));
  EXPECT_EQ(r3->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  service_->Release();
  ASSERT_TRUE(r1->Read(&r));
  EXPECT_EQ(r.text(), "0");
  EXPECT_FALSE(r1->Read(&r));
  EXPECT_TRUE(r1->Finish().ok());
  ASSERT_TRUE(r2->Read(&r));
  EXPECT_FALSE(r2->Read(&r));
  EXPECT_TRUE(r2->Finish().ok());
  EXPECT_TRUE(Eventually([&] { return Handled("RESOURCE_EXHAUSTED") == 1; }));
}

}  // namespace
}  // namespace genesis
