// Mesh channels (common/rpc/mesh_channel.h) against two fake LLM routers on
// loopback: calls are spread over every address of a static list and of a
// DNS name with two A records (answered by a small DNS server of the test,
// asked through the target's authority: gRPC's c-ares resolver), a replica
// that stops is skipped, and the LLM router client is built on such a channel.
// A replica that answers UNAVAILABLE: a GET-mapped call is retried onto the
// other one, any other call is not (the replica sees exactly one attempt).
#include "common/rpc/mesh_channel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/rpc/llm_router_client.h"
#include "common/runtime/server.h"
#include "genesis/catalog/v1/catalog.pb.h"
#include "tests/testing/fake_llm_router.h"

namespace genesis {
namespace {

namespace llm = llmrouter::v1;
using FakeRouter = genesis::testing::FakeLlmRouter;

constexpr char kTestName[] = "genesis-test.local";

// A DNS server on 127.0.0.1 (UDP, a free port) that answers A queries for
// `name` with `addresses`, other types of it with no records, and any other
// name with NXDOMAIN. Counts the A queries it answered.
class TinyDnsServer {
 public:
  TinyDnsServer(std::string name, std::vector<std::string> addresses)
      : name_(absl::AsciiStrToLower(name)), addresses_(std::move(addresses)) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TinyDnsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] int a_queries() const { return a_queries_.load(); }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      unsigned char buf[512];
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      const ssize_t n =
          recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 12) continue;
      std::string answer = Answer(buf, static_cast<size_t>(n));
      if (answer.empty()) continue;
      sendto(fd_, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
    }
  }

  // The response to one query (header, the question echoed, the answers).
  std::string Answer(const unsigned char* q, size_t n) {
    size_t i = 12;
    std::string qname;
    while (i < n && q[i] != 0) {
      const size_t label = q[i];
      if (i + 1 + label > n) return "";
      if (!qname.empty()) qname += '.';
      qname.append(reinterpret_cast<const char*>(q + i + 1), label);
      i += 1 + label;
    }
    if (i + 5 > n) return "";
    const size_t question_end = i + 5;  // the root label, type, class
    const int qtype = (q[i + 1] << 8) | q[i + 2];
    const bool ours = absl::AsciiStrToLower(qname) == name_;
    const bool a = ours && qtype == 1;
    if (a) ++a_queries_;
    std::string out(reinterpret_cast<const char*>(q), question_end);
    out[2] = static_cast<char>(0x84 | (q[2] & 0x01));  // QR, AA, the query's RD
    out[3] = static_cast<char>(ours ? 0x00 : 0x03);    // NOERROR or NXDOMAIN
    const size_t count = a ? addresses_.size() : 0;
    out[4] = 0, out[5] = 1;                         // QDCOUNT
    out[6] = 0, out[7] = static_cast<char>(count);  // ANCOUNT
    out[8] = out[9] = out[10] = out[11] = 0;        // NSCOUNT, ARCOUNT
    for (size_t k = 0; k < count; ++k) {
      in_addr ip{};
      inet_pton(AF_INET, addresses_[k].c_str(), &ip);
      // Name (a pointer to the question's), type A, class IN, TTL 1 s, 4 bytes.
      const unsigned char rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4};
      out.append(reinterpret_cast<const char*>(rr), sizeof rr);
      out.append(reinterpret_cast<const char*>(&ip.s_addr), 4);
    }
    return out;
  }

  const std::string name_;
  const std::vector<std::string> addresses_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> a_queries_{0};
  std::thread thread_;
};

// A fake router listening on `host`:`port` (0: a free one).
struct Replica {
  FakeRouter router;
  std::unique_ptr<grpc::Server> server;
  int port = 0;

  bool Start(const std::string& host, int want_port) {
    // gRPC's health service ("" SERVING until told otherwise), which mesh
    // channels watch.
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat(host, ":", want_port), grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&router);
    server = builder.BuildAndStart();
    return server != nullptr && port != 0;
  }
  void Stop() {
    if (server) server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    server.reset();
  }
  int calls() {
    std::lock_guard lock(router.mu);
    return router.calls;
  }
  int list_calls() {
    std::lock_guard lock(router.mu);
    return router.list_calls;
  }
  void SetServing(bool serving) { server->GetHealthCheckService()->SetServingStatus(serving); }
  void FailWith(grpc::Status status) {
    std::lock_guard lock(router.mu);
    router.status = std::move(status);
  }
  ~Replica() { Stop(); }
};

class MeshChannelTest : public ::testing::Test {
 protected:
  // Two replicas on the same port of 127.0.0.1 and 127.0.0.2 (both loopback).
  void StartReplicas() {
    ASSERT_TRUE(a_.Start("127.0.0.1", 0));
    ASSERT_TRUE(b_.Start("127.0.0.2", a_.port)) << "127.0.0.2:" << a_.port << " is taken";
  }
  std::string StaticTarget() const {
    return absl::StrCat("ipv4:127.0.0.1:", a_.port, ",127.0.0.2:", b_.port);
  }
  std::string Peer(const Replica& r, const std::string& host) const {
    return absl::StrCat("ipv4:", host, ":", r.port);
  }

  // One Complete call; its peer in *peer.
  grpc::Status Call(llm::LlmRouterService::Stub* stub, std::string* peer = nullptr) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    llm::CompleteRequest req;
    req.add_messages()->set_content("hi");
    llm::CompleteResponse resp;
    grpc::Status st = stub->Complete(&ctx, req, &resp);
    if (peer != nullptr) *peer = ctx.peer();
    return st;
  }

  // Calls until both replicas have answered one (a bound, not a timing
  // target: a replica's connection may still be opening at the first call).
  bool BothAnswer(llm::LlmRouterService::Stub* stub) {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (absl::Now() < give_up && (a_.calls() == 0 || b_.calls() == 0)) {
      if (!Call(stub).ok()) absl::SleepFor(absl::Milliseconds(20));
    }
    return a_.calls() > 0 && b_.calls() > 0;
  }

  // 20 calls, all OK; returns the calls each replica took.
  std::pair<int, int> Spread(llm::LlmRouterService::Stub* stub) {
    const int a0 = a_.calls(), b0 = b_.calls();
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(Call(stub).ok()) << "call " << i;
    return {a_.calls() - a0, b_.calls() - b0};
  }

  Replica a_, b_;
};

TEST_F(MeshChannelTest, AStaticListIsBalancedPerCall) {
  StartReplicas();
  auto stub = llm::LlmRouterService::NewStub(
      MakeMeshChannel(StaticTarget(), grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(BothAnswer(stub.get()));
  auto [to_a, to_b] = Spread(stub.get());
  EXPECT_EQ(to_a + to_b, 20);
  EXPECT_GT(to_a, 0);
  EXPECT_GT(to_b, 0);
}

TEST_F(MeshChannelTest, ADnsNameWithTwoAddressesIsBalancedPerCall) {
  StartReplicas();
  TinyDnsServer dns(kTestName, {"127.0.0.1", "127.0.0.2"});
  ASSERT_GT(dns.port(), 0);
  // The authority names the DNS server: gRPC's c-ares resolver asks it.
  const std::string target =
      absl::StrCat("dns://127.0.0.1:", dns.port(), "/", kTestName, ":", a_.port);
  auto stub =
      llm::LlmRouterService::NewStub(MakeMeshChannel(target, grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(BothAnswer(stub.get())) << "A queries answered: " << dns.a_queries();
  EXPECT_GT(dns.a_queries(), 0);
  auto [to_a, to_b] = Spread(stub.get());
  EXPECT_EQ(to_a + to_b, 20);
  EXPECT_GT(to_a, 0);
  EXPECT_GT(to_b, 0);
}

TEST_F(MeshChannelTest, AStoppedReplicaIsSkipped) {
  StartReplicas();
  TinyDnsServer dns(kTestName, {"127.0.0.1", "127.0.0.2"});
  const std::string target =
      absl::StrCat("dns://127.0.0.1:", dns.port(), "/", kTestName, ":", a_.port);
  auto stub =
      llm::LlmRouterService::NewStub(MakeMeshChannel(target, grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(BothAnswer(stub.get()));

  a_.Stop();
  // A call in flight when it stopped may fail; then 10 in a row succeed, each
  // on the replica that is left.
  const std::string live = Peer(b_, "127.0.0.2");
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  int in_a_row = 0, failed = 0;
  while (in_a_row < 10 && absl::Now() < give_up) {
    std::string peer;
    if (Call(stub.get(), &peer).ok()) {
      EXPECT_EQ(peer, live);
      ++in_a_row;
    } else {
      in_a_row = 0;
      ++failed;
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  EXPECT_EQ(in_a_row, 10) << failed << " call(s) failed";
  EXPECT_LE(failed, 2);
}

TEST_F(MeshChannelTest, TheLlmRouterClientBalancesOverEveryAddress) {
  StartReplicas();
  auto client = MakeLlmRouterClient(StaticTarget(), grpc::InsecureChannelCredentials());
  auto ctx = CallContext::Background(absl::Seconds(5));
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  int ok = 0;
  while (absl::Now() < give_up && (ok < 20 || a_.calls() == 0 || b_.calls() == 0)) {
    llm::CompleteRequest req;
    req.add_messages()->set_content("hi");
    if (client->Complete(req, ctx).ok()) ++ok;
  }
  EXPECT_GT(a_.calls(), 0);
  EXPECT_GT(b_.calls(), 0);
}

TEST_F(MeshChannelTest, AReplicaNotServingGetsNoCallsUntilItServesAgain) {
  StartReplicas();
  auto stub = llm::LlmRouterService::NewStub(
      MakeMeshChannel(StaticTarget(), grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(BothAnswer(stub.get()));

  a_.SetServing(false);
  // The channel learns it over its health watch: within a bound, 20 calls in
  // a row reach B only, every one OK (none is sent to A and refused).
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  int a_before = a_.calls();
  int failed = 0;
  while (absl::Now() < give_up) {
    a_before = a_.calls();
    const auto [to_a, to_b] = Spread(stub.get());
    if (to_a == 0 && to_b == 20) break;
  }
  for (int i = 0; i < 20; ++i) failed += Call(stub.get()).ok() ? 0 : 1;
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(a_.calls(), a_before) << "a NOT_SERVING replica still took calls";

  a_.SetServing(true);
  const absl::Time back = absl::Now() + absl::Seconds(10);
  while (absl::Now() < back && a_.calls() == a_before) ASSERT_TRUE(Call(stub.get()).ok());
  EXPECT_GT(a_.calls(), a_before) << "A serves again but gets no call";
}

// A replica run by a ServiceHost, as every service is: shutting it down (what
// SIGTERM does) while two callers keep calling a method that is never retried
// (Complete) loses no call, over three restarts: the channel stops picking it
// when health turns NOT_SERVING, before its server stops accepting.
TEST(MeshChannelShutdownTest, AReplicaShuttingDownLosesNoCall) {
  struct Host {
    FakeRouter router;
    MetricsRegistry registry;
    std::unique_ptr<ServiceHost> host;
    bool Start(const std::string& address, int port) {
      ServerOptions options;
      options.host = address;
      options.grpc_port = port;
      options.metrics_port = -1;
      options.drain_delay = absl::Milliseconds(500);
      options.shutdown_grace = absl::Seconds(5);
      host = std::make_unique<ServiceHost>(options, &registry);
      host->AddService(&router, llm::LlmRouterService::service_full_name());
      return host->Start().ok();
    }
    int calls() {
      std::lock_guard lock(router.mu);
      return router.calls;
    }
  };
  Host b;
  ASSERT_TRUE(b.Start("127.0.0.2", 0));
  const int port = b.host->grpc_port();
  auto a = std::make_unique<Host>();
  ASSERT_TRUE(a->Start("127.0.0.1", port)) << "127.0.0.1:" << port << " is taken";
  auto stub = llm::LlmRouterService::NewStub(
      MakeMeshChannel(absl::StrCat("ipv4:127.0.0.1:", port, ",127.0.0.2:", port),
                      grpc::InsecureChannelCredentials()));

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::mutex mu;
  std::vector<std::string> failures;
  auto caller = [&] {
    while (!stop) {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
      llm::CompleteRequest req;
      req.add_messages()->set_content("hi");
      llm::CompleteResponse resp;
      const grpc::Status st = stub->Complete(&ctx, req, &resp);
      if (st.ok()) {
        ++ok;
      } else {
        std::lock_guard lock(mu);
        failures.push_back(absl::StrCat(st.error_code(), ": ", st.error_message()));
      }
    }
  };
  std::thread c1(caller), c2(caller);

  for (int round = 0; round < 3; ++round) {
    // A takes calls before it goes (a bound, not a timing target).
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (absl::Now() < give_up && a->calls() < 20) absl::SleepFor(absl::Milliseconds(5));
    ASSERT_GE(a->calls(), 20) << "round " << round << ": replica A got no calls";
    a->host->Shutdown();
    a = std::make_unique<Host>();
    ASSERT_TRUE(a->Start("127.0.0.1", port)) << "round " << round;
  }
  stop = true;
  c1.join();
  c2.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(b.calls(), 0);
  EXPECT_THAT(failures, ::testing::IsEmpty());
  b.host->Shutdown();
}

// The LLM router client's channel: GET-mapped methods retried.
std::shared_ptr<grpc::Channel> RetryingChannel(const std::string& target) {
  MeshChannelOptions options;
  options.idempotent_services = {llm::LlmRouterService::service_full_name()};
  return MakeMeshChannel(target, grpc::InsecureChannelCredentials(), options);
}

grpc::Status ListModels(llm::LlmRouterService::Stub* stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  llm::ListModelsResponse resp;
  return stub->ListModels(&ctx, llm::ListModelsRequest(), &resp);
}

TEST_F(MeshChannelTest, AGetMappedCallIsRetriedOntoTheLiveReplica) {
  StartReplicas();
  auto stub = llm::LlmRouterService::NewStub(RetryingChannel(StaticTarget()));
  ASSERT_TRUE(BothAnswer(stub.get()));
  // A replica that is up but answers UNAVAILABLE (nothing done: draining,
  // no database): every call still succeeds, some of them after trying it.
  a_.FailWith(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining"));
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(ListModels(stub.get()).ok()) << "call " << i;
  EXPECT_GT(a_.list_calls(), 0) << "the failing replica was never tried";
  EXPECT_EQ(b_.list_calls(), 20);
}

TEST_F(MeshChannelTest, ANonIdempotentCallIsNeverRetried) {
  StartReplicas();
  auto stub = llm::LlmRouterService::NewStub(RetryingChannel(StaticTarget()));
  ASSERT_TRUE(BothAnswer(stub.get()));
  a_.FailWith(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining"));
  const int a0 = a_.calls(), b0 = b_.calls();
  int failed = 0;
  for (int i = 0; i < 20; ++i) {
    const grpc::Status st = Call(stub.get());
    if (!st.ok()) {
      EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
      ++failed;
    }
  }
  // Each call reached one replica once: the failed ones ended where they failed.
  EXPECT_GT(failed, 0);
  EXPECT_EQ(a_.calls() - a0, failed);
  EXPECT_EQ(b_.calls() - b0, 20 - failed);
}

TEST_F(MeshChannelTest, WithoutIdempotentServicesNothingIsRetried) {
  StartReplicas();
  auto stub = llm::LlmRouterService::NewStub(
      MakeMeshChannel(StaticTarget(), grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(BothAnswer(stub.get()));
  a_.FailWith(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining"));
  int failed = 0;
  for (int i = 0; i < 20; ++i) failed += ListModels(stub.get()).ok() ? 0 : 1;
  EXPECT_GT(failed, 0);
  EXPECT_EQ(a_.list_calls(), failed);
}

TEST_F(MeshChannelTest, TheLlmRouterClientsChannelRetriesOnlyGetMappedMethods) {
  StartReplicas();
  a_.FailWith(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining"));
  auto client = MakeLlmRouterClient(StaticTarget(), grpc::InsecureChannelCredentials());
  auto ctx = CallContext::Background(absl::Seconds(5));
  int failed = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  // Complete (POST) is never retried: once A took a call, that call failed.
  while (absl::Now() < give_up && a_.calls() < 3) {
    llm::CompleteRequest req;
    req.add_messages()->set_content("hi");
    if (!client->Complete(req, ctx).ok()) ++failed;
  }
  EXPECT_EQ(a_.calls(), failed);
}

TEST(MeshServiceConfigTest, RetriesTheGetMappedMethodsOnUnavailableOnly) {
  std::vector<std::string> names;
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      llm::LlmRouterService::service_full_name());
  ASSERT_NE(service, nullptr);
  for (const auto* m : GetMappedMethods(*service)) {
    names.push_back(m->name());
  }
  EXPECT_THAT(names, ::testing::Contains("ListModels"));
  EXPECT_THAT(names, ::testing::Contains("GetModel"));
  EXPECT_THAT(names, ::testing::Not(::testing::Contains("Complete")));
  EXPECT_THAT(names, ::testing::Not(::testing::Contains("StreamComplete")));
  EXPECT_THAT(names, ::testing::Not(::testing::Contains("UpdateModel")));

  const std::string config = MeshServiceConfig({llm::LlmRouterService::service_full_name()});
  EXPECT_THAT(config, ::testing::HasSubstr(R"("round_robin")"));
  EXPECT_THAT(config, ::testing::HasSubstr(R"("retryableStatusCodes":["UNAVAILABLE"])"));
  EXPECT_THAT(config, ::testing::HasSubstr(R"("method":"ListModels")"));
  EXPECT_THAT(config, ::testing::Not(::testing::HasSubstr(R"("method":"Complete")")));
  EXPECT_EQ(MeshServiceConfig({}), kMeshServiceConfig);
  EXPECT_EQ(MeshServiceConfig({"no.such.Service"}), kMeshServiceConfig);
}

TEST(RetryableWithRequestIdTest, OnlyANonEmptyRequestIdCounts) {
  llm::CompleteRequest no_field;  // has no request_id field at all
  EXPECT_FALSE(RetryableWithRequestId(*no_field.GetDescriptor(), no_field.SerializeAsString()));
  catalog::v1::CreateItemRequest create;
  create.mutable_item()->set_title("x");
  const auto& type = *create.GetDescriptor();
  EXPECT_FALSE(RetryableWithRequestId(type, create.SerializeAsString()));
  create.set_request_id("r-1");
  EXPECT_TRUE(RetryableWithRequestId(type, create.SerializeAsString()));
  EXPECT_FALSE(RetryableWithRequestId(type, "\xff\xff"));  // not a message
}

TEST(MeshChannelArgumentsTest, RoundRobinKeepaliveAndLimits) {
  MeshChannelOptions options;
  options.max_receive_message_bytes = 1234567;
  options.max_send_message_bytes = 7654321;
  const grpc::ChannelArguments channel_args = MeshChannelArguments(options);
  const grpc_channel_args raw = channel_args.c_channel_args();
  std::map<std::string, std::string> args;
  for (size_t i = 0; i < raw.num_args; ++i) {
    const grpc_arg& a = raw.args[i];
    args[a.key] = a.type == GRPC_ARG_INTEGER  ? std::to_string(a.value.integer)
                  : a.type == GRPC_ARG_STRING ? std::string(a.value.string)
                                              : "?";
  }
  EXPECT_EQ(args[GRPC_ARG_SERVICE_CONFIG], kMeshServiceConfig);
  EXPECT_EQ(args[GRPC_ARG_SERVICE_CONFIG_DISABLE_RESOLUTION], "1");
  EXPECT_EQ(args[GRPC_ARG_KEEPALIVE_TIME_MS], "20000");
  EXPECT_EQ(args[GRPC_ARG_KEEPALIVE_TIMEOUT_MS], "10000");
  // Never more often than the mesh's servers accept (else they answer GOAWAY).
  EXPECT_GE(options.keepalive_time, kMinClientPingInterval);
  EXPECT_EQ(args[GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS], "0");
  EXPECT_EQ(args[GRPC_ARG_MAX_RECONNECT_BACKOFF_MS], "5000");
  EXPECT_EQ(args[GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS], "2000");
  EXPECT_EQ(args[GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH], "1234567");
  EXPECT_EQ(args[GRPC_ARG_MAX_SEND_MESSAGE_LENGTH], "7654321");
}

}  // namespace
}  // namespace genesis
