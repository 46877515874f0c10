// Reloading what the gateway routes with: an atomic swap of descriptors,
// routes and backends while calls are in flight, RBAC replacement, and
// descriptors fetched from a real gRPC server's reflection on 127.0.0.1.
#include <set>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/docs/reflection.h"
#include "gateway/gateway.h"
#include "gateway/routing/routing.h"
#include "gateway/tests/test_util.h"
#include "genesis/catalog/v1/catalog.grpc.pb.h"

namespace genesis::gateway {
namespace {

namespace pb = google::protobuf;
using nlohmann::json;

constexpr char kLibrary[] = "genesis.gwtest.v1.LibraryService";
constexpr char kCatalog[] = "genesis.catalog.v1.CatalogService";

// Holds every unary call until the test answers it.
class HoldingBackend : public Backend {
 public:
  void Call(const std::string& grpc_path, std::string, absl::Time, const Metadata&,
            std::function<void(grpc::Status, std::string)> done) override {
    paths.push_back(grpc_path);
    held.push_back(std::move(done));
  }
  void CheckHealth(const std::string&, absl::Time, std::function<void(bool)> done) override {
    done(true);
  }
  std::vector<std::string> paths;
  std::vector<std::function<void(grpc::Status, std::string)>> held;
};

// The catalog's descriptors from the compiled-in pool, as another contract.
pb::FileDescriptorSet CatalogDescriptors() {
  pb::FileDescriptorSet set;
  std::set<std::string> seen;
  std::function<void(const pb::FileDescriptor*)> add = [&](const pb::FileDescriptor* f) {
    if (!seen.insert(f->name()).second) return;
    for (int i = 0; i < f->dependency_count(); ++i) add(f->dependency(i));
    f->CopyTo(set.add_file());
  };
  add(genesis::catalog::v1::Item::descriptor()->file());
  return set;
}

class SwapTest : public ::testing::Test {
 protected:
  SwapTest() {
    auto transcoder = testing::LoadTestTranscoder();
    auto routes = testing::LoadTestRoutes(*transcoder);
    gateway_ = std::make_unique<Gateway>(GatewayOptions{}, std::move(transcoder), std::move(routes),
                                         std::map<std::string, Backend*>{{kLibrary, &library_}},
                                         &registry_, GatewayMetrics::Register(&registry_));
  }

  // Serves a request; the response, once `done` ran (maybe later, for held calls).
  std::shared_ptr<std::optional<HttpResponse>> Start(std::string method, std::string target,
                                                     std::map<std::string, std::string> h = {}) {
    auto out = std::make_shared<std::optional<HttpResponse>>();
    gateway_->Handle({std::move(method), std::move(target), "", std::move(h)},
                     [out](HttpResponse r) { *out = std::move(r); });
    return out;
  }

  HoldingBackend library_, catalog_;
  MetricsRegistry registry_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(SwapTest, CallsInFlightFinishOnTheRoutesTheyStartedWith) {
  auto before = Start("GET", "/v1/shelves/7");
  ASSERT_EQ(library_.held.size(), 1u);
  EXPECT_FALSE(before->has_value());

  auto transcoder = Transcoder::Create(CatalogDescriptors());
  ASSERT_TRUE(transcoder.ok()) << transcoder.status();
  auto routes = RouteTable::Build((*transcoder)->Services());
  ASSERT_TRUE(routes.ok()) << routes.status();
  gateway_->Swap(std::move(*transcoder), std::move(*routes), {{kCatalog, &catalog_}});

  // The old snapshot (descriptors included) lives until the held call ends.
  auto old = testing::LoadTestTranscoder();
  pb::DynamicMessageFactory old_factory(&old->pool());
  std::unique_ptr<pb::Message> shelf(
      old_factory.GetPrototype(old->pool().FindMessageTypeByName("genesis.gwtest.v1.Shelf"))
          ->New());
  ASSERT_TRUE(
      pb::util::JsonStringToMessage(R"({"name": "shelves/7", "theme": "mar"})", shelf.get()).ok());
  library_.held[0](grpc::Status::OK, shelf->SerializeAsString());
  ASSERT_TRUE(before->has_value());
  EXPECT_EQ((*before)->status, 200);
  EXPECT_EQ(json::parse((*before)->body), json::parse(R"({"name": "shelves/7", "theme": "mar"})"));

  // New requests see the new routes only.
  auto gone = Start("GET", "/v1/shelves/7");
  ASSERT_TRUE(gone->has_value());
  EXPECT_EQ((*gone)->status, 404);
  auto item = Start("GET", "/v1/items/42");
  EXPECT_EQ(catalog_.paths,
            (std::vector<std::string>{"/genesis.catalog.v1.CatalogService/GetItem"}));
  genesis::catalog::v1::Item reply;
  reply.set_name("items/42");
  catalog_.held[0](grpc::Status::OK, reply.SerializeAsString());
  ASSERT_TRUE(item->has_value());
  EXPECT_EQ((*item)->status, 200);
  EXPECT_EQ(json::parse((*item)->body)["name"], "items/42");

  json doc = json::parse((*Start("GET", "/openapi.json"))->body);
  EXPECT_TRUE(doc["paths"].contains("/v1/items/{item}")) << doc["paths"].dump();
  EXPECT_FALSE(doc["paths"].contains("/v1/shelves/{shelf}"));
}

TEST_F(SwapTest, ConcurrentSwapsAndRequestsStayConsistent) {
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    while (!stop) {
      auto t = testing::LoadTestTranscoder();
      auto r = testing::LoadTestRoutes(*t);
      gateway_->Swap(std::move(t), std::move(r), {{kLibrary, &library_}});
    }
  });
  int not_found = 0;
  for (int i = 0; i < 300; ++i) {
    auto r = Start("GET", "/v1/nothing/here");
    ASSERT_TRUE(r->has_value());
    if ((*r)->status == 404) ++not_found;
    Start("GET", "/openapi.json");
  }
  stop = true;
  swapper.join();
  EXPECT_EQ(not_found, 300);
}

// A real gRPC server with reflection, serving the catalog's service (unimplemented).
class ReflectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = "127.0.0.1:" + std::to_string(port_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }
  int port_ = 0;
  std::string address_;
  genesis::catalog::v1::CatalogService::CallbackService service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(ReflectionTest, FetchesTheServicesAndTheirFilesWithImports) {
  GrpcBackend backend(address_, 4 << 20, 4 << 20, grpc::InsecureChannelCredentials());
  auto got = FetchDescriptors(backend.channel(), absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_NE(std::find(got->services.begin(), got->services.end(), kCatalog), got->services.end());
  std::set<std::string> files;
  for (const auto& f : got->files.file()) files.insert(f.name());
  EXPECT_TRUE(files.contains("genesis/catalog/v1/catalog.proto"));
  EXPECT_TRUE(files.contains("google/api/annotations.proto"));
  EXPECT_TRUE(files.contains("google/api/http.proto"));
  auto transcoder = Transcoder::Create(got->files);
  ASSERT_TRUE(transcoder.ok()) << transcoder.status();
  auto routes = RouteTable::Build((*transcoder)->Services());
  ASSERT_TRUE(routes.ok()) << routes.status();
  EXPECT_EQ(routes->Find("GET", "/v1/items/42").kind, RouteTable::Lookup::kFound);
}

TEST_F(ReflectionTest, RoutingBuilderUsesTheReflectingBackend) {
  RoutingOptions options;
  options.source = DescriptorSource::kReflection;
  options.reflection_addresses = {{"127.0.0.1:1", address_}};  // the first is refused
  options.reflection_timeout = absl::Seconds(5);
  RoutingBuilder builder(options);
  auto built = builder.Build();
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->routes.Find("GET", "/v1/items/42").kind, RouteTable::Lookup::kFound);
  ASSERT_TRUE(built->backends.contains(kCatalog));
  // A second build (SIGHUP) gives the same backend object: channels are kept.
  auto again = builder.Build();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->backends.at(kCatalog), built->backends.at(kCatalog));
}

TEST(ReflectionFailureTest, UnreachableServerIsUnavailableAndNamesNothingFound) {
  GrpcBackend backend("127.0.0.1:1", 4 << 20, 4 << 20, grpc::InsecureChannelCredentials());
  auto got = FetchDescriptors(backend.channel(), absl::Now() + absl::Seconds(2));
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().code() == absl::StatusCode::kUnavailable ||
              got.status().code() == absl::StatusCode::kDeadlineExceeded)
      << got.status();
  RoutingOptions options;
  options.source = DescriptorSource::kReflection;
  options.reflection_addresses = {{"127.0.0.1:1"}};
  options.reflection_timeout = absl::Seconds(2);
  auto built = RoutingBuilder(options).Build();
  EXPECT_EQ(built.status().code(), absl::StatusCode::kUnavailable) << built.status();
  EXPECT_EQ(ParseDescriptorSource("both").value(), DescriptorSource::kBoth);
  EXPECT_EQ(ParseDescriptorSource("dns").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace genesis::gateway
