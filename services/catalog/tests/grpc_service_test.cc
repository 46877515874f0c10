// The transport end to end in-process: a real gRPC server on a free port,
// the real logic on the fake store. Checks what a client sees: codes,
// google.rpc.BadRequest details, request ids, health, field-mask defaults.
#include "services/catalog/grpc_service.h"

#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/base/status.h"
#include "common/runtime/server.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/catalog/local_cache.h"
#include "services/catalog/tests/fake_store.h"
#include "tests/testing/operator_identity.h"
#include "tests/testing/required_fields.h"

namespace genesis::catalog {
namespace {

class CatalogGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = std::make_unique<testing::FakeCatalogStore>();
    store_ = store.get();
    catalog_ = std::make_unique<Catalog>(std::move(store), MakeCache(), CatalogOptions{});
    workers_ = std::make_unique<WorkerPool>("test", 4, 64);
    dispatcher_ = std::make_unique<RpcDispatcher>("genesis.catalog.v1.CatalogService",
                                                  workers_.get(), &registry_, absl::Seconds(5),
                                                  genesis::testing::TestGatewayTrust());
    service_ = std::make_unique<CatalogGrpcService>(catalog_.get(), dispatcher_.get());
    ServerOptions options;
    options.metrics_port = -1;
    options.readiness_period = absl::Milliseconds(20);
    options.drain_delay = drain_delay_;
    host_ = std::make_unique<ServiceHost>(options, &registry_);
    host_->AddService(service_.get(), "genesis.catalog.v1.CatalogService");
    host_->AddDependencyProbe("postgres",
                              [this] { return catalog_->Ready(CallContext::Background()); });
    ASSERT_TRUE(host_->Start().ok());
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::CatalogService::NewStub(channel_);
  }
  void TearDown() override {
    host_->Shutdown();
    workers_->Shutdown();
  }
  virtual std::unique_ptr<ItemCache> MakeCache() { return nullptr; }

  grpc::Status CreateLeadType() {
    grpc::ClientContext ctx;
    genesis::testing::AsOperator(&ctx);  // an administrative method
    v1::CreateItemTypeRequest req;
    req.set_item_type_id("lead");
    auto* a = req.mutable_item_type()->add_attributes();
    a->set_name("city");
    a->set_kind(v1::ATTRIBUTE_KIND_STRING);
    a->set_required(true);
    v1::ItemType resp;
    return stub_->CreateItemType(&ctx, req, &resp);
  }

  MetricsRegistry registry_;
  testing::FakeCatalogStore* store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<RpcDispatcher> dispatcher_;
  std::unique_ptr<CatalogGrpcService> service_;
  std::unique_ptr<ServiceHost> host_;
  absl::Duration drain_delay_ = absl::ZeroDuration();
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CatalogService::Stub> stub_;
};

TEST_F(CatalogGrpcTest, InvalidArgumentCarriesBadRequestDetails) {
  ASSERT_TRUE(CreateLeadType().ok());
  grpc::ClientContext ctx;
  v1::CreateItemRequest req;
  req.mutable_item()->set_type("types/lead");
  v1::Item resp;
  grpc::Status st = stub_->CreateItem(&ctx, req, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status details = RpcStatusOf(st);
  ASSERT_EQ(details.details_size(), 2);
  auto info = ErrorInfoOf(details);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "INVALID_ARGUMENT");
  EXPECT_EQ(info->domain(), "catalog.genesis.dev");
  google::rpc::BadRequest bad;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad));
  std::vector<std::string> fields;
  for (const auto& v : bad.field_violations()) fields.push_back(v.field());
  EXPECT_EQ(fields, (std::vector<std::string>{"item.title", "item.attributes.city"}));
}

// Every REQUIRED field of every method (from the descriptors) is refused when
// empty, naming its path; OUTPUT_ONLY fields in creates and updates are not.
TEST_F(CatalogGrpcTest, FieldBehavioursAgreeWithWhatTheServiceRefuses) {
  ASSERT_TRUE(CreateLeadType().ok());
  auto seen =
      genesis::testing::ExpectRequiredFieldsRefused(channel_, "genesis.catalog.v1.CatalogService");
  for (const char* want :
       {"CreateItemRequest:item.title", "CreateItemRequest:item.type", "SearchItemsRequest:query",
        "GetItemRequest:name", "CreateItemRequest:item.create_time (output only)"}) {
    EXPECT_TRUE(seen.count(want)) << want;
  }
}

TEST_F(CatalogGrpcTest, RequestIdIsEchoedOrGenerated) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-request-id", "abc-123");
  v1::ListItemTypesRequest req;
  v1::ListItemTypesResponse resp;
  ASSERT_TRUE(stub_->ListItemTypes(&ctx, req, &resp).ok());
  auto md = ctx.GetServerInitialMetadata();
  auto it = md.find("x-request-id");
  ASSERT_NE(it, md.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), "abc-123");

  grpc::ClientContext ctx2;
  ASSERT_TRUE(stub_->ListItemTypes(&ctx2, req, &resp).ok());
  auto md2 = ctx2.GetServerInitialMetadata();
  ASSERT_NE(md2.find("x-request-id"), md2.end());
  EXPECT_EQ(md2.find("x-request-id")->second.size(), 16u);
}

TEST_F(CatalogGrpcTest, UpdateWithoutMaskChangesOnlyPopulatedFields) {
  ASSERT_TRUE(CreateLeadType().ok());
  v1::Item created;
  {
    grpc::ClientContext ctx;
    v1::CreateItemRequest req;
    req.mutable_item()->set_type("lead");
    req.mutable_item()->set_title("title");
    req.mutable_item()->set_body("body");
    (*req.mutable_item()->mutable_attributes()->mutable_fields())["city"].set_string_value(
        "Recife");
    ASSERT_TRUE(stub_->CreateItem(&ctx, req, &created).ok());
  }
  grpc::ClientContext ctx;
  v1::UpdateItemRequest req;
  req.mutable_item()->set_name(created.name());
  req.mutable_item()->set_title("new title");
  v1::Item updated;
  ASSERT_TRUE(stub_->UpdateItem(&ctx, req, &updated).ok());
  EXPECT_EQ(updated.title(), "new title");
  EXPECT_EQ(updated.body(), "body");
  EXPECT_EQ(updated.attributes().fields().at("city").string_value(), "Recife");
  EXPECT_NE(updated.etag(), created.etag());
}

TEST_F(CatalogGrpcTest, HealthStaysServingWhileTheDatabaseIsDown) {
  // A database outage is shared by every replica: reporting NOT_SERVING would
  // pull them all. The service stays ready (its calls answer UNAVAILABLE
  // fast) and exports the dependency's state instead.
  auto health = grpc::health::v1::Health::NewStub(channel_);
  auto check = [&](const std::string& service) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    EXPECT_TRUE(health->Check(&ctx, req, &resp).ok());
    return resp.status();
  };
  EXPECT_EQ(check(""), grpc::health::v1::HealthCheckResponse::SERVING);
  store_->ping_status = absl::UnavailableError("database down");
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  const std::string down = "genesis_dependency_up{dependency=\"postgres\"} 0";
  while (registry_.Render().find(down) == std::string::npos && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_NE(registry_.Render().find(down), std::string::npos) << registry_.Render();
  EXPECT_EQ(check("genesis.catalog.v1.CatalogService"),
            grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(check(""), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_TRUE(host_->ready());
}

TEST_F(CatalogGrpcTest, ShutdownLetsACallInFlightFinish) {
  store_->list_types_delay = absl::Milliseconds(300);
  grpc::Status in_flight;
  std::thread caller([&] {
    grpc::ClientContext ctx;
    v1::ListItemTypesRequest req;
    v1::ListItemTypesResponse resp;
    in_flight = stub_->ListItemTypes(&ctx, req, &resp);
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (store_->list_types_started == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(store_->list_types_started, 1);
  host_->Shutdown();  // grace period 10 s: the call must complete, not be cut
  caller.join();
  EXPECT_TRUE(in_flight.ok()) << in_flight.error_message();

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  v1::ListItemTypesRequest req;
  v1::ListItemTypesResponse resp;
  EXPECT_EQ(stub_->ListItemTypes(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "no new calls after shutdown";
}

TEST_F(CatalogGrpcTest, CallsAreCountedByMethodAndCode) {
  grpc::ClientContext ctx;
  v1::GetItemRequest req;
  req.set_name("items/missing");
  v1::Item resp;
  EXPECT_EQ(stub_->GetItem(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  const std::string text = registry_.Render();
  EXPECT_NE(text.find("genesis_grpc_server_handled_total{grpc_service=\"genesis.catalog.v1."
                      "CatalogService\",grpc_method=\"GetItem\",grpc_code=\"NOT_FOUND\"} 1"),
            std::string::npos)
      << text;
}

// With a drain delay, SIGTERM first turns health NOT_SERVING while calls are
// still taken, so balancers move traffic away before anything is refused.
class CatalogGrpcDrainTest : public CatalogGrpcTest {
 protected:
  CatalogGrpcDrainTest() { drain_delay_ = absl::Seconds(3); }
};

TEST_F(CatalogGrpcDrainTest, ShutdownTurnsNotServingBeforeItRefusesCalls) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  auto check = [&] {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    grpc::Status st = health->Check(&ctx, req, &resp);
    return st.ok() ? resp.status() : grpc::health::v1::HealthCheckResponse::UNKNOWN;
  };
  ASSERT_EQ(check(), grpc::health::v1::HealthCheckResponse::SERVING);
  std::thread stopper([&] { host_->Shutdown(); });
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (check() == grpc::health::v1::HealthCheckResponse::SERVING && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(check(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(host_->ready());
  // Still taking calls during the drain delay.
  grpc::ClientContext ctx;
  v1::ListItemTypesRequest req;
  v1::ListItemTypesResponse resp;
  EXPECT_TRUE(stub_->ListItemTypes(&ctx, req, &resp).ok());
  stopper.join();
}

// GetItem of an item held in the process' memory is answered on the gRPC
// thread: with the worker pool shut down (every queued call refused), it is
// still served, while an item that must be read elsewhere is refused.
class CatalogGrpcMemoryTest : public CatalogGrpcTest {
 protected:
  std::unique_ptr<ItemCache> MakeCache() override {
    return std::make_unique<TieredItemCache>(std::make_unique<testing::FakeItemCache>(),
                                             LocalCacheOptions{}, [] { return true; });
  }
  std::string CreateItem(const std::string& title) {
    grpc::ClientContext ctx;
    v1::CreateItemRequest req;
    req.mutable_item()->set_type("types/lead");
    req.mutable_item()->set_title(title);
    (*req.mutable_item()->mutable_attributes()->mutable_fields())["city"].set_string_value(
        "Recife");
    v1::Item resp;
    EXPECT_TRUE(stub_->CreateItem(&ctx, req, &resp).ok());
    return resp.name();
  }
  grpc::Status Get(const std::string& name, v1::Item* resp) {
    grpc::ClientContext ctx;
    v1::GetItemRequest req;
    req.set_name(name);
    return stub_->GetItem(&ctx, req, resp);
  }
};

TEST_F(CatalogGrpcMemoryTest, AHeldItemIsAnsweredWithoutTheWorkerPool) {
  ASSERT_TRUE(CreateLeadType().ok());
  const std::string held = CreateItem("held in memory");
  const std::string elsewhere = CreateItem("only in the store");
  v1::Item resp;
  ASSERT_TRUE(Get(held, &resp).ok());  // read from the store, put in the shared tier
  ASSERT_TRUE(Get(held, &resp).ok());  // read from the shared tier, kept in memory
  ASSERT_NE(catalog_->PeekItem(held), nullptr);
  workers_->Shutdown();

  v1::Item got;
  grpc::Status st = Get(held, &got);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(got.name(), held);
  EXPECT_EQ(got.title(), "held in memory");
  EXPECT_EQ(got.attributes().fields().at("city").string_value(), "Recife");
  EXPECT_FALSE(got.etag().empty());

  st = Get(elsewhere, &got);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
}

}  // namespace
}  // namespace genesis::catalog
