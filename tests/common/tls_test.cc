// TLS and mTLS of a ServiceHost's gRPC port (common/rpc/tls.h), with certificates
// made by scripts/lib/certs.sh: with client certificates required, only a
// client presenting a valid certificate of the mesh's CA gets an answer.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/base/metrics.h"
#include "common/rpc/audit_log.h"
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
                            "\" server gateway admin && genesis_cert_expired \"" + *dir_ +
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
  // `creds` to the server at 127.0.0.1. With `new_connection` the call gets a
  // connection (a handshake) of its own; the server's certificate (PEM) goes
  // to `server_pem` when given.
  grpc::Status Check(const std::shared_ptr<grpc::ChannelCredentials>& creds,
                     bool new_connection = false, std::string* server_pem = nullptr) {
    grpc::ChannelArguments args;
    // No connection shared with other channels to the same address.
    if (new_connection) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel =
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(host_->grpc_port()), creds, args);
    grpc::GenericStub stub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1), response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status st) { done.set_value(std::move(st)); });
    grpc::Status st = done.get_future().get();
    if (server_pem != nullptr && ctx.auth_context() != nullptr) {
      for (const auto& v : ctx.auth_context()->FindPropertyValues("x509_pem_cert")) {
        server_pem->assign(v.data(), v.size());
      }
    }
    return st;
  }

  // Credentials trusting the dev CA, presenting leaf `name` (none when empty).
  static std::shared_ptr<grpc::ChannelCredentials> ClientWith(const std::string& name) {
    TlsConfig tls = Config("gateway");  // the CA; cert and key replaced below
    if (name.empty()) {
      grpc::SslCredentialsOptions options;
      options.pem_root_certs = tls.ca_pem;
      return grpc::SslCredentials(options);
    }
    // Not through LoadTlsConfig: it would refuse the expired certificate.
    tls.cert_file = File(name + ".crt");
    tls.key_file = File(name + ".key");
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

// Rotation: the server's and the client's certificates are replaced on disk
// while calls run on fresh connections (a handshake each); the next handshakes
// use the new certificates and no call fails. Each side's key and chain are in
// one PEM file given as both --tls_cert and --tls_key, replaced with one
// rename, so a half-replaced pair is never read.
class TlsRotationTest : public TlsTest {
 protected:
  // A new leaf `name` signed by the dev CA, as one PEM (key then chain).
  static std::string NewCombinedLeaf(const std::string& name) {
    const std::string cmd = std::string("bash -c '. \"") + GENESIS_SOURCE_DIR +
                            "/scripts/lib/certs.sh\" && _genesis_certs_leaf \"" + *dir_ + "\" " +
                            name + " ca 30'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return ReadAll(File(name + ".key")) + ReadAll(File(name + ".crt"));
  }
  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void ReplaceAtomically(const std::string& path, const std::string& content) {
    const std::string tmp = path + ".next";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << content;
    }
    fs::rename(tmp, path);
  }
  static TlsConfig CombinedConfig(const std::string& pem) {
    auto tls = LoadTlsConfig(pem, pem, File("ca.crt"), true);
    EXPECT_TRUE(tls.ok()) << tls.status();
    TlsConfig c = tls.ok() ? *tls : TlsConfig{};
    c.reload_interval_s = 1;
    return c;
  }
};

TEST_F(TlsRotationTest, CertificatesReplacedUnderLoadAreUsedWithoutAFailedCall) {
  const std::string server_pem = File("rotating-server.pem");
  const std::string client_pem = File("rotating-client.pem");
  ReplaceAtomically(server_pem, NewCombinedLeaf("rot-server-1"));
  ReplaceAtomically(client_pem, NewCombinedLeaf("rot-client-1"));
  const std::string first_server_cert = ReadAll(File("rot-server-1.crt"));
  StartServer(CombinedConfig(server_pem));
  auto client = MeshChannelCredentials(CombinedConfig(client_pem));

  std::atomic<bool> stop{false};
  std::atomic<int> calls{0}, failures{0};
  std::mutex mu;
  std::string first_failure;
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      while (!stop.load()) {
        grpc::Status st = Check(client, /*new_connection=*/true);
        calls.fetch_add(1);
        if (!st.ok()) {
          failures.fetch_add(1);
          std::lock_guard<std::mutex> lock(mu);
          if (first_failure.empty()) first_failure = st.error_message();
        }
      }
    });
  }
  std::string seen;
  ASSERT_TRUE(Check(client, /*new_connection=*/true, &seen).ok());
  EXPECT_EQ(seen, first_server_cert);

  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ReplaceAtomically(server_pem, NewCombinedLeaf("rot-server-2"));
  ReplaceAtomically(client_pem, NewCombinedLeaf("rot-client-2"));
  const std::string second_server_cert = ReadAll(File("rot-server-2.crt"));
  bool rotated = false;
  for (int i = 0; i < 100 && !rotated; ++i) {  // the watcher re-reads every second
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen.clear();
    if (Check(client, /*new_connection=*/true, &seen).ok()) rotated = seen == second_server_cert;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& t : callers) t.join();

  EXPECT_TRUE(rotated) << "new handshakes never presented the replaced certificate";
  EXPECT_GT(calls.load(), 20);
  EXPECT_EQ(failures.load(), 0) << "of " << calls.load() << " calls; first: " << first_failure;
}

// Identity with mTLS: forwarded by the gateway, trusted only from a peer named
// in the trusted peers (no shared secret); an administrator certificate's own;
// and administrative methods (access.proto) refused to callers without one,
// every call of them in the audit log. A test implementation of the router
// answers Complete and UpdateModel with the identity it was given.
namespace v1 = ::genesis::llmrouter::v1;

class WhoAmIService final : public v1::LlmRouterService::CallbackService {
 public:
  explicit WhoAmIService(RpcDispatcher* d) : d_(d) {}
  grpc::ServerUnaryReactor* Complete(grpc::CallbackServerContext* ctx,
                                     const v1::CompleteRequest* req,
                                     v1::CompleteResponse* resp) override {
    return d_->Unary(ctx, "Complete", req, [resp](const CallContext& call) {
      resp->set_text(call.subject);
      return absl::OkStatus();
    });
  }
  grpc::ServerUnaryReactor* UpdateModel(grpc::CallbackServerContext* ctx,
                                        const v1::UpdateModelRequest* req,
                                        v1::Model* resp) override {
    return d_->Unary(ctx, "UpdateModel", req, [req, resp](const CallContext& call) {
      resp->set_name(req->model().name());
      resp->set_provider(call.subject + "|" + call.peer);
      return absl::OkStatus();
    });
  }

 private:
  RpcDispatcher* d_;
};

constexpr char kRouter[] = "genesis.llmrouter.v1.LlmRouterService";

class TrustedPeerTest : public TlsTest {
 protected:
  void SetUp() override {
    audit_file_ = File("audit-" + std::to_string(++audit_files_) + ".jsonl");
    auto audit = AuditLog::OpenFile(audit_file_);
    ASSERT_TRUE(audit.ok()) << audit.status();
    TlsConfig tls = Config("server");
    tls.trusted_peers = {"gateway"};
    tls.admin_peers = {"admin"};
    workers_ = std::make_unique<WorkerPool>("test", 1, 8);
    dispatcher_ = std::make_unique<RpcDispatcher>(
        kRouter, workers_.get(), &registry_, absl::Seconds(5), IdentityTrust::For("", tls), *audit);
    service_ = std::make_unique<WhoAmIService>(dispatcher_.get());
    ServerOptions options;
    options.metrics_port = -1;
    options.tls = tls;
    host_ = std::make_unique<ServiceHost>(options, &registry_);
    host_->AddService(service_.get(), kRouter);
    ASSERT_TRUE(host_->Start().ok());
  }
  void TearDown() override {
    host_->Shutdown();
    workers_->Shutdown();
  }

  std::unique_ptr<v1::LlmRouterService::Stub> StubAs(const std::string& client) {
    return v1::LlmRouterService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(host_->grpc_port()), MeshChannelCredentials(Config(client))));
  }

  // The subject the server saw when `client` forwarded "alice" (role admin).
  std::string SubjectSeenFrom(const std::string& client) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.AddMetadata("x-genesis-subject", "alice");
    ctx.AddMetadata("x-genesis-roles", "admin");
    v1::CompleteRequest req;
    v1::CompleteResponse resp;
    grpc::Status st = StubAs(client)->Complete(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
    return resp.text();
  }

  // UpdateModel of models/m from `client`, forwarding `subject` unless empty.
  grpc::Status UpdateModelAs(const std::string& client, const std::string& subject,
                             v1::Model* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!subject.empty()) {
      ctx.AddMetadata("x-genesis-subject", subject);
      ctx.AddMetadata("x-genesis-roles", "operator");
    }
    v1::UpdateModelRequest req;
    req.mutable_model()->set_name("models/m");
    req.mutable_update_mask()->add_paths("enabled");
    return StubAs(client)->UpdateModel(&ctx, req, resp);
  }

  std::vector<std::string> AuditLines() {
    std::ifstream in(audit_file_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  static inline int audit_files_ = 0;
  std::string audit_file_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<RpcDispatcher> dispatcher_;
  std::unique_ptr<WhoAmIService> service_;
};

TEST_F(TrustedPeerTest, IdentityFromTheGatewaysCertificateIsTrustedWithoutASecret) {
  EXPECT_EQ(SubjectSeenFrom("gateway"), "alice");
}

TEST_F(TrustedPeerTest, IdentityFromAnotherPeerOfTheMeshIsIgnored) {
  // "server" has a valid certificate of the same CA (the call succeeds) but
  // is not a trusted peer: the call runs with no caller.
  EXPECT_EQ(SubjectSeenFrom("server"), "");
}

TEST_F(TrustedPeerTest, AnAdministrativeCallFromTheGatewayRunsAsTheForwardedCallerAndIsAudited) {
  v1::Model model;
  grpc::Status st = UpdateModelAs("gateway", "alice", &model);
  ASSERT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  EXPECT_EQ(model.provider(), "alice|gateway");
  auto lines = AuditLines();
  ASSERT_EQ(lines.size(), 1u);
  for (const char* want :
       {"\"method\":\"UpdateModel\"", "\"subject\":\"alice\"", "\"roles\":[\"operator\"]",
        "\"peer\":\"gateway\"", "\"code\":\"OK\"", "\"model.name\":\"models/m\"",
        "\"update_mask\":\"enabled\"", "\"service\":\"genesis.llmrouter.v1.LlmRouterService\""}) {
    EXPECT_NE(lines[0].find(want), std::string::npos) << want << " in " << lines[0];
  }
}

TEST_F(TrustedPeerTest, AnAdministratorCertificateCallsAsItsOwnIdentity) {
  v1::Model model;
  grpc::Status st = UpdateModelAs("admin", "", &model);
  ASSERT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  EXPECT_EQ(model.provider(), "admin|admin");
  auto lines = AuditLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"roles\":[\"admin\"]"), std::string::npos) << lines[0];
}

TEST_F(TrustedPeerTest, AServiceCertificateWithoutAnIdentityIsRefusedAnAdministrativeCall) {
  v1::Model model;
  grpc::Status st = UpdateModelAs("server", "", &model);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  EXPECT_NE(st.error_message().find("'server'"), std::string::npos) << st.error_message();
  // Forwarding an identity does not help a peer that is not trusted to.
  st = UpdateModelAs("server", "mallory", &model);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  // The gateway's own certificate, with no caller behind it, is no administrator either.
  st = UpdateModelAs("gateway", "", &model);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  auto lines = AuditLines();
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& line : lines) {
    EXPECT_NE(line.find("\"code\":\"PERMISSION_DENIED\""), std::string::npos) << line;
  }
  EXPECT_NE(lines[1].find("\"subject\":\"\""), std::string::npos) << lines[1];
}

// Without mTLS: the shared secret proves the gateway; an anonymous
// administrative call is refused as unauthenticated.
class PlaintextAdministrativeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workers_ = std::make_unique<WorkerPool>("test", 1, 8);
    dispatcher_ =
        std::make_unique<RpcDispatcher>(kRouter, workers_.get(), &registry_, absl::Seconds(5),
                                        IdentityTrust::For("s3cret", TlsConfig{}));
    service_ = std::make_unique<WhoAmIService>(dispatcher_.get());
    ServerOptions options;
    options.metrics_port = -1;
    host_ = std::make_unique<ServiceHost>(options, &registry_);
    host_->AddService(service_.get(), kRouter);
    ASSERT_TRUE(host_->Start().ok());
    stub_ = v1::LlmRouterService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(host_->grpc_port()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    host_->Shutdown();
    workers_->Shutdown();
  }

  grpc::Status UpdateModel(const std::string& secret, v1::Model* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!secret.empty()) ctx.AddMetadata("x-genesis-gateway-auth", secret);
    ctx.AddMetadata("x-genesis-subject", "alice");
    ctx.AddMetadata("x-genesis-roles", "admin");
    v1::UpdateModelRequest req;
    req.mutable_model()->set_name("models/m");
    return stub_->UpdateModel(&ctx, req, resp);
  }

  MetricsRegistry registry_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<RpcDispatcher> dispatcher_;
  std::unique_ptr<WhoAmIService> service_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<v1::LlmRouterService::Stub> stub_;
};

TEST_F(PlaintextAdministrativeTest, AnAnonymousAdministrativeCallIsUnauthenticated) {
  v1::Model model;
  grpc::Status st = UpdateModel("", &model);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
  EXPECT_NE(st.error_message().find("UpdateModel is administrative"), std::string::npos)
      << st.error_message();
  // Identity metadata with a wrong secret is no identity.
  st = UpdateModel("not-the-secret", &model);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
}

TEST_F(PlaintextAdministrativeTest, TheGatewaysSecretCarriesTheCallersIdentity) {
  v1::Model model;
  grpc::Status st = UpdateModel("s3cret", &model);
  ASSERT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  EXPECT_EQ(model.provider(), "alice|");
}

TEST_F(PlaintextAdministrativeTest, ANonAdministrativeCallNeedsNoIdentity) {
  grpc::ClientContext ctx;
  v1::CompleteRequest req;
  v1::CompleteResponse resp;
  grpc::Status st = stub_->Complete(&ctx, req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
}

}  // namespace
}  // namespace genesis
