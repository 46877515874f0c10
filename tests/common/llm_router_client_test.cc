// The LLM router client (common/rpc/llm_router_client.h) against an in-process
// fake LlmRouterService on 127.0.0.1: what it adds to a request (deadline,
// request id, subject), the error mapping, and messages that never name the
// router's address when it cannot be reached.
#include "common/rpc/llm_router_client.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/testing/fake_llm_router.h"

namespace genesis {
namespace {

namespace llm = llmrouter::v1;
using ::testing::HasSubstr;
using ::testing::Not;

using FakeRouter = genesis::testing::FakeLlmRouter;

llm::CompleteRequest Ask(std::string text) {
  llm::CompleteRequest req;
  auto* m = req.add_messages();
  m->set_role(llm::ROLE_USER);
  m->set_content(std::move(text));
  req.set_task(llm::TASK_CHAT);
  req.set_agent("genesis-test");
  return req;
}

class LlmRouterClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.text = "It is noon.";
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&router_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    client_ = MakeLlmRouterClient(Address(), grpc::InsecureChannelCredentials());
    ctx_.request_id = "req-42";
    ctx_.subject = "alice";
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  }
  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }

  FakeRouter router_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<LlmRouterClient> client_;
  CallContext ctx_ = CallContext::Background(absl::Seconds(20));
};

TEST_F(LlmRouterClientTest, ForwardsDeadlineRequestIdAndSubject) {
  auto r = client_->Complete(Ask("what time is it"), ctx_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text(), "It is noon.");
  EXPECT_EQ(r->model(), "models/sim-local");
  EXPECT_EQ(router_.last_request.messages(0).content(), "what time is it");
  EXPECT_EQ(router_.last_request.agent(), "genesis-test");
  EXPECT_EQ(router_.last_request.subject(), "alice");
  EXPECT_EQ(router_.last_request_id, "req-42");
  // gRPC may round the deadline a little.
  EXPECT_LE(router_.last_deadline, ctx_.deadline + absl::Milliseconds(50));
  EXPECT_GT(router_.last_deadline, ctx_.deadline - absl::Seconds(1));
}

TEST_F(LlmRouterClientTest, ASubjectTheCallerSetIsKept) {
  llm::CompleteRequest req = Ask("hi");
  req.set_subject("bots/suporte");
  ASSERT_TRUE(client_->Complete(req, ctx_).ok());
  EXPECT_EQ(router_.last_request.subject(), "bots/suporte");
}

TEST_F(LlmRouterClientTest, MaxTimeoutCapsALongDeadline) {
  router_.hang = true;
  auto client = MakeLlmRouterClient(Address(), grpc::InsecureChannelCredentials(),
                                    {.max_timeout = absl::Milliseconds(300)});
  const absl::Time start = absl::Now();
  auto r = client->Complete(Ask("hi"), ctx_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(LlmRouterClientTest, ExpiredDeadlineDoesNotCall) {
  CallContext ctx = ctx_;
  ctx.deadline = absl::Now() - absl::Seconds(1);
  auto r = client_->Complete(Ask("hi"), ctx);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(router_.calls, 0);
}

TEST_F(LlmRouterClientTest, RouterErrorsAreMappedWithTheRoutersText) {
  struct Case {
    grpc::StatusCode router;
    absl::StatusCode want;
  };
  for (auto [router, want] : std::vector<Case>{
           {grpc::StatusCode::UNAVAILABLE, absl::StatusCode::kUnavailable},
           {grpc::StatusCode::FAILED_PRECONDITION, absl::StatusCode::kFailedPrecondition},
           {grpc::StatusCode::RESOURCE_EXHAUSTED, absl::StatusCode::kResourceExhausted},
           {grpc::StatusCode::INVALID_ARGUMENT, absl::StatusCode::kInternal},
           {grpc::StatusCode::INTERNAL, absl::StatusCode::kUnavailable},
       }) {
    router_.status = grpc::Status(router, "P0: no local model can take a sensitive request");
    auto r = client_->Complete(Ask("hi"), ctx_);
    EXPECT_EQ(r.status().code(), want) << static_cast<int>(router);
    EXPECT_THAT(r.status().message(), HasSubstr("P0: no local model can take a sensitive request"));
  }
}

TEST_F(LlmRouterClientTest, AnUnreachableRouterIsUnavailableWithoutItsAddress) {
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  server_->Wait();
  auto client = MakeLlmRouterClient(Address(), grpc::InsecureChannelCredentials());
  auto r = client->Complete(Ask("hi"), CallContext::Background(absl::Seconds(5)));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("LLM router unavailable"));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("127.0.0.1")));
  EXPECT_THAT(r.status().message(), Not(HasSubstr(std::to_string(port_))));
  server_.reset();
}

TEST_F(LlmRouterClientTest, ARefusedHandshakeIsUnavailableWithoutTheAddress) {
  // TLS to a plaintext port: the handshake fails before any call.
  auto client = MakeLlmRouterClient(Address(), grpc::SslCredentials({}));
  auto r = client->Complete(Ask("hi"), CallContext::Background(absl::Seconds(5)));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_THAT(r.status().message(), Not(HasSubstr("127.0.0.1")));
  EXPECT_THAT(r.status().message(), Not(HasSubstr(std::to_string(port_))));
  EXPECT_EQ(router_.calls, 0);
}

TEST_F(LlmRouterClientTest, AnUnresolvableNameIsNotInTheMessage) {
  auto client = MakeLlmRouterClient("genesis-no-such-router.invalid:50051",
                                    grpc::InsecureChannelCredentials());
  auto r = client->Complete(Ask("hi"), CallContext::Background(absl::Seconds(3)));
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), Not(HasSubstr("no-such-router"))) << r.status();
  EXPECT_THAT(r.status().message(), Not(HasSubstr("50051"))) << r.status();
}

}  // namespace
}  // namespace genesis
