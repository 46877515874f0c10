// GrpcBackend over a real channel: an address with two replicas (a static
// list, as a headless Service's DNS name gives) is balanced per call, since
// the backend's channel is a mesh channel (common/rpc/mesh_channel.h). With
// one replica answering UNAVAILABLE, an idempotent call (a GET route, a
// request_id) is retried onto the other, any other call reaches one replica
// exactly once.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <future>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/routing/backend.h"
#include "tests/testing/fake_llm_router.h"

namespace genesis::gateway {
namespace {

constexpr char kComplete[] = "/genesis.llmrouter.v1.LlmRouterService/Complete";

struct Replica {
  genesis::testing::FakeLlmRouter router;
  std::unique_ptr<grpc::Server> server;
  int port = 0;

  explicit Replica(const std::string& host, int want_port = 0) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat(host, ":", want_port), grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&router);
    server = builder.BuildAndStart();
  }
  ~Replica() {
    if (server) server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  }
  int calls() {
    std::lock_guard lock(router.mu);
    return router.calls;
  }
};

grpc::Status CallOnce(GrpcBackend& backend, bool idempotent = false) {
  llmrouter::v1::CompleteRequest req;
  req.add_messages()->set_content("hi");
  // Shared: the callback may still be inside set_value when get() returns.
  auto done = std::make_shared<std::promise<grpc::Status>>();
  auto result = done->get_future();
  backend.CallIdempotent(kComplete, req.SerializeAsString(), absl::Now() + absl::Seconds(5), {},
                         idempotent,
                         [done](grpc::Status st, std::string) { done->set_value(std::move(st)); });
  return result.get();
}

TEST(GrpcBackendTest, ATargetWithTwoAddressesIsBalancedPerCall) {
  Replica a("127.0.0.1");
  ASSERT_NE(a.server, nullptr);
  Replica b("127.0.0.2", a.port);
  ASSERT_NE(b.server, nullptr) << "127.0.0.2:" << a.port << " is taken";
  // Kept for the life of the program, as the gateway keeps its channels:
  // destroyed here, right before the servers, the channel's callback
  // completion queue sometimes aborts gRPC 1.51 ("prior > 0").
  static auto* backend_ptr =
      new GrpcBackend(absl::StrCat("ipv4:127.0.0.1:", a.port, ",127.0.0.2:", b.port), 4 << 20,
                      4 << 20, grpc::InsecureChannelCredentials());
  GrpcBackend& backend = *backend_ptr;
  // Until both answered once (a second connection may still be opening).
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (absl::Now() < give_up && (a.calls() == 0 || b.calls() == 0)) {
    if (!CallOnce(backend).ok()) absl::SleepFor(absl::Milliseconds(20));
  }
  const int a0 = a.calls(), b0 = b.calls();
  ASSERT_GT(a0, 0);
  ASSERT_GT(b0, 0);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(CallOnce(backend).ok()) << "call " << i;
  EXPECT_EQ(a.calls() - a0 + b.calls() - b0, 20);
  EXPECT_GT(a.calls() - a0, 0);
  EXPECT_GT(b.calls() - b0, 0);
}

TEST(GrpcBackendTest, OnlyAnIdempotentCallIsRetriedOntoTheLiveReplica) {
  Replica a("127.0.0.1");
  ASSERT_NE(a.server, nullptr);
  Replica b("127.0.0.2", a.port);
  ASSERT_NE(b.server, nullptr) << "127.0.0.2:" << a.port << " is taken";
  static auto* backend_ptr =
      new GrpcBackend(absl::StrCat("ipv4:127.0.0.1:", a.port, ",127.0.0.2:", b.port), 4 << 20,
                      4 << 20, grpc::InsecureChannelCredentials());
  GrpcBackend& backend = *backend_ptr;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (absl::Now() < give_up && (a.calls() == 0 || b.calls() == 0)) {
    if (!CallOnce(backend).ok()) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GT(a.calls(), 0);
  ASSERT_GT(b.calls(), 0);
  {
    std::lock_guard lock(a.router.mu);
    a.router.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining");
  }
  // Idempotent: every call OK, the failing replica tried on the way.
  int a0 = a.calls(), b0 = b.calls();
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(CallOnce(backend, true).ok()) << "call " << i;
  EXPECT_GT(a.calls() - a0, 0);
  EXPECT_EQ(b.calls() - b0, 20);
  // Not idempotent: the calls that reached the failing replica failed there, once each.
  a0 = a.calls(), b0 = b.calls();
  int failed = 0;
  for (int i = 0; i < 20; ++i) failed += CallOnce(backend, false).ok() ? 0 : 1;
  EXPECT_GT(failed, 0);
  EXPECT_EQ(a.calls() - a0, failed);
  EXPECT_EQ(b.calls() - b0, 20 - failed);
}

}  // namespace
}  // namespace genesis::gateway
