// TLS and mTLS of a ServiceHost's gRPC port (common/rpc/tls.h), with certificates
// made by scripts/lib/certs.sh: with client certificates required, only a
// client presenting a valid certificate of the mesh's CA gets an answer.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/base/metrics.h"
#include "common/rpc/rpc.h"
#include "common/rpc/tls.h"
#include "common/runtime/server.h"
#include "common/runtime/worker_pool.h"
#include "genesis/llmrouter/v1/llm_router.grpc.pb.h"

#ifndef GENESIS_SOURCE_DIR
#error "GENESIS_SOURCE_DIR must name the checkout (scripts/lib/certs.sh)"
#endif

namespace genesis {
namespace {

namespace fs = std::filesystem;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(fs::temp_directory_path() /
                           ("genesis-tls-test-" + std::to_string(getpid())));
    const std::string cmd = std::string("bash -c '. \"") + GENESIS_SOURCE_DIR +
                            "/scripts/lib/certs.sh\" && genesis_certs \"" + *dir_ +
                            "\" server gateway && genesis_cert_expired \"" + *dir_ +
                            "\" expired && genesis_cert_other_ca \"" + *dir_ + "\" stranger'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }

  static std::string File(const std::string& name) { return *dir_ + "/" + name; }

  // A config for leaf `name` (its .crt/.key) trusting the dev CA.
  static TlsConfig Config(const std::string& name, bool require_client_cert = true) {
    auto tls = LoadTlsConfig(File(name + ".crt"), File(name + ".key"), File("ca.crt"),
                             require_client_cert);
    EXPECT_TRUE(tls.ok()) << tls.status();
    return tls.ok() ? *tls : TlsConfig{};
  }

  void StartServer(TlsConfig tls) {
    ServerOptions options;
    options.metrics_port = -1;
    options.tls = std::move(tls);
    host_ = std::make_unique<ServiceHost>(options, &registry_);
    ASSERT_TRUE(host_->Start().ok());
  }

  // One grpc.health.v1.Health/Check (empty request: the whole server) over
  // `creds` to the server at 127.0.0.1.
  grpc::Status Check(const std::shared_ptr<grpc::ChannelCredentials>& creds) {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()), creds);
    grpc::GenericStub stub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1), response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status st) { done.set_value(std::move(st)); });
    return done.get_future().get();
  }

  // Credentials trusting the dev CA, presenting leaf `name` (none when empty).
  static std::shared_ptr<grpc::ChannelCredentials> ClientWith(const std::string& name) {
    TlsConfig tls = Config("gateway");  // the CA; cert and key replaced below
    if (name.empty()) {
      grpc::SslCredentialsOptions options;
      options.pem_root_certs = tls.ca_pem;
      return grpc::SslCredentials(options);
    }
    std::ifstream cert(File(name + ".crt")), key(File(name + ".key"));
    tls.cert_pem.assign(std::istreambuf_iterator<char>(cert), {});
    tls.key_pem.assign(std::istreambuf_iterator<char>(key), {});
    return MeshChannelCredentials(tls);
  }

  static std::string* dir_;
  MetricsRegistry registry_;
  std::unique_ptr<ServiceHost> host_;
};

std::string* TlsTest::dir_ = nullptr;

TEST_F(TlsTest, MutualTlsAcceptsAClientWithACertificateOfTheCa) {
  StartServer(Config("server"));
  grpc::Status st = Check(MeshChannelCredentials(Config("gateway")));
  EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
}

TEST_F(TlsTest, MutualTlsRefusesAClientWithoutACertificate) {
  StartServer(Config("server"));
  EXPECT_EQ(Check(ClientWith("")).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsRefusesACertificateOfAnotherCa) {
  StartServer(Config("server"));
  EXPECT_EQ(Check(ClientWith("stranger")).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsRefusesAnExpiredCertificate) {
  StartServer(Config("server"));
  EXPECT_EQ(Check(ClientWith("expired")).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsRefusesAPlaintextClient) {
  StartServer(Config("server"));
  EXPECT_EQ(Check(grpc::InsecureChannelCredentials()).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, ClientRefusesAServerOfAnotherCa) {
  StartServer(Config("server"));
  // The client trusts only the other CA: the server's certificate does not verify.
  auto tls = LoadTlsConfig(File("stranger.crt"), File("stranger.key"), File("other-ca.crt"), true);
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ(Check(MeshChannelCredentials(*tls)).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, TlsWithoutClientAuthAcceptsAClientWithoutACertificate) {
  StartServer(Config("server", /*require_client_cert=*/false));
  grpc::Status st = Check(ClientWith(""));
  EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  EXPECT_EQ(Check(grpc::InsecureChannelCredentials()).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, PlaintextByDefault) {
  StartServer(TlsConfig{});
  EXPECT_TRUE(Check(grpc::InsecureChannelCredentials()).ok());
  EXPECT_TRUE(Check(MeshChannelCredentials(TlsConfig{})).ok());  // TLS off: plaintext
}

TEST_F(TlsTest, LoadNamesTheFlagOfABadFile) {
  auto none = LoadTlsConfig("", "", "", true);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->enabled());

  auto partial = LoadTlsConfig(File("server.crt"), "", File("ca.crt"), true);
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.status().message().find("--tls_key"), std::string::npos) << partial.status();

  auto missing = LoadTlsConfig(File("server.crt"), File("server.key"), File("nope.crt"), true);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--tls_ca"), std::string::npos) << missing.status();

  auto not_a_cert = LoadTlsConfig(File("server.key"), File("server.key"), File("ca.crt"), true);
  ASSERT_FALSE(not_a_cert.ok());
  EXPECT_NE(not_a_cert.status().message().find("--tls_cert"), std::string::npos)
      << not_a_cert.status();

  auto mismatch = LoadTlsConfig(File("server.crt"), File("gateway.key"), File("ca.crt"), true);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("--tls_key"), std::string::npos) << mismatch.status();
  EXPECT_NE(mismatch.status().message().find("does not match"), std::string::npos)
      << mismatch.status();
}

// Identity forwarded by the gateway: with mTLS, trusted only from a peer
// named in the trusted peers, whatever secret the metadata carries. A test
// implementation of the router's unary Complete answers with the subject it
// was given.
namespace v1 = ::genesis::llmrouter::v1;

class WhoAmIService final : public v1::LlmRouterService::CallbackService {
 public:
  explicit WhoAmIService(RpcDispatcher* d) : d_(d) {}
  grpc::ServerUnaryReactor* Complete(grpc::CallbackServerContext* ctx, const v1::CompleteRequest*,
                                     v1::CompleteResponse* resp) override {
    return d_->Unary(ctx, "Complete", [resp](const CallContext& call) {
      resp->set_text(call.subject);
      return absl::OkStatus();
    });
  }

 private:
  RpcDispatcher* d_;
};

class TrustedPeerTest : public TlsTest {
 protected:
  void SetUp() override {
    workers_ = std::make_unique<WorkerPool>("test", 1, 8);
    dispatcher_ = std::make_unique<RpcDispatcher>(
        "test.Svc", workers_.get(), &registry_, absl::Seconds(5),
        IdentityTrust{"s3cret", std::vector<std::string>{"gateway"}});
    service_ = std::make_unique<WhoAmIService>(dispatcher_.get());
    ServerOptions options;
    options.metrics_port = -1;
    options.tls = Config("server");
    host_ = std::make_unique<ServiceHost>(options, &registry_);
    host_->AddService(service_.get(), "genesis.llmrouter.v1.LlmRouterService");
    ASSERT_TRUE(host_->Start().ok());
  }
  void TearDown() override {
    host_->Shutdown();
    workers_->Shutdown();
  }

  // The subject the server saw when `client` forwarded "alice" with the secret.
  std::string SubjectSeenFrom(const std::string& client) {
    auto stub = v1::LlmRouterService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(host_->grpc_port()), MeshChannelCredentials(Config(client))));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.AddMetadata("x-genesis-gateway-auth", "s3cret");
    ctx.AddMetadata("x-genesis-subject", "alice");
    ctx.AddMetadata("x-genesis-roles", "admin");
    v1::CompleteRequest req;
    v1::CompleteResponse resp;
    grpc::Status st = stub->Complete(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
    return resp.text();
  }

  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<RpcDispatcher> dispatcher_;
  std::unique_ptr<WhoAmIService> service_;
};

TEST_F(TrustedPeerTest, IdentityFromTheGatewaysCertificateIsTrusted) {
  EXPECT_EQ(SubjectSeenFrom("gateway"), "alice");
}

TEST_F(TrustedPeerTest, IdentityFromAnotherPeerOfTheMeshIsIgnored) {
  // "server" has a valid certificate of the same CA (the call succeeds) and
  // the secret, but is not a trusted peer: the call runs with no caller.
  EXPECT_EQ(SubjectSeenFrom("server"), "");
}

}  // namespace
}  // namespace genesis
