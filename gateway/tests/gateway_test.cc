#include "gateway/gateway.h"

#include <optional>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/base/status.h"
#include "gateway/tests/test_util.h"

namespace genesis::gateway {
namespace {

using nlohmann::json;

// Answers calls from a table keyed by gRPC path and records what it got.
class FakeBackend : public Backend {
 public:
  struct Reply {
    grpc::Status status;
    std::string response;
  };
  void Call(const std::string& grpc_path, std::string request, absl::Time deadline,
            const Metadata& metadata,
            std::function<void(grpc::Status, std::string)> done) override {
    last_path = grpc_path;
    last_request = std::move(request);
    last_deadline = deadline;
    last_metadata = metadata;
    ++calls;
    auto it = replies.find(grpc_path);
    if (it == replies.end()) return done(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "?"), "");
    done(it->second.status, it->second.response);
  }
  void CallIdempotent(const std::string& grpc_path, std::string request, absl::Time deadline,
                      const Metadata& metadata, bool idempotent,
                      std::function<void(grpc::Status, std::string)> done) override {
    last_idempotent = idempotent;
    Call(grpc_path, std::move(request), deadline, metadata, std::move(done));
  }
  void CheckHealth(const std::string& service, absl::Time,
                   std::function<void(bool)> done) override {
    checked.push_back(service);
    done(serving);
  }
  std::map<std::string, Reply> replies;
  std::string last_path, last_request;
  absl::Time last_deadline;
  Metadata last_metadata;
  int calls = 0;
  std::optional<bool> last_idempotent;
  bool serving = true;
  std::vector<std::string> checked;
};

constexpr char kService[] = "genesis.gwtest.v1.LibraryService";
constexpr char kGetShelf[] = "/genesis.gwtest.v1.LibraryService/GetShelf";

class GatewayTest : public ::testing::Test {
 protected:
  GatewayTest() { Reset({{kService, &backend_}}); }

  void Reset(std::map<std::string, Backend*> backends) {
    auto transcoder = testing::LoadTestTranscoder();
    auto routes = testing::LoadTestRoutes(*transcoder);
    GatewayOptions options;
    options.default_timeout = absl::Seconds(30);
    options.max_timeout = absl::Seconds(60);
    metrics_registry_ = std::make_unique<MetricsRegistry>();
    gateway_ = std::make_unique<Gateway>(options, std::move(transcoder), std::move(routes),
                                         std::move(backends), metrics_registry_.get(),
                                         GatewayMetrics::Register(metrics_registry_.get()));
  }

  HttpResponse Serve(std::string method, std::string target, std::string body = "",
                     std::map<std::string, std::string> headers = {}) {
    HttpResponse out;
    bool called = false;
    gateway_->Handle({std::move(method), std::move(target), std::move(body), std::move(headers)},
                     [&](HttpResponse r) {
                       out = std::move(r);
                       called = true;
                     });
    EXPECT_TRUE(called);  // the fake answers synchronously
    return out;
  }

  static std::string Header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  // A serialized message of `type` from JSON.
  std::string Proto(const std::string& type, const std::string& text) {
    auto t = testing::LoadTestTranscoder();
    google::protobuf::DynamicMessageFactory factory(&t->pool());
    std::unique_ptr<google::protobuf::Message> m(
        factory.GetPrototype(t->pool().FindMessageTypeByName(type))->New());
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, m.get()).ok());
    return m->SerializeAsString();
  }

  FakeBackend backend_;
  std::unique_ptr<MetricsRegistry> metrics_registry_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(GatewayTest, ForwardsAndRendersTheResponse) {
  backend_.replies[kGetShelf] = {grpc::Status::OK,
                                 Proto("genesis.gwtest.v1.Shelf", R"({"name": "shelves/7"})")};
  const absl::Time before = absl::Now();
  HttpResponse r = Serve("GET", "/v1/shelves/7", "", {{"x-request-id", "req-1"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"name": "shelves/7"})"));
  EXPECT_EQ(Header(r, "x-request-id"), "req-1");
  EXPECT_EQ(backend_.last_path, kGetShelf);
  EXPECT_EQ(backend_.last_request,
            Proto("genesis.gwtest.v1.GetShelfRequest", R"({"name": "shelves/7"})"));
  EXPECT_EQ(backend_.last_metadata, (Metadata{{"x-request-id", "req-1"}}));
  EXPECT_GE(backend_.last_deadline, before + absl::Seconds(30));
  EXPECT_LE(backend_.last_deadline, absl::Now() + absl::Seconds(30));
}

TEST_F(GatewayTest, GeneratesARequestIdAndHonoursTheTimeoutHeader) {
  backend_.replies[kGetShelf] = {grpc::Status::OK, ""};
  HttpResponse r = Serve("GET", "/v1/shelves/7", "", {{"x-request-timeout", "2s"}});
  EXPECT_EQ(r.status, 200);
  std::string id = Header(r, "x-request-id");
  EXPECT_EQ(id.size(), 16u) << id;
  EXPECT_EQ(backend_.last_metadata, (Metadata{{"x-request-id", id}}));
  EXPECT_LE(backend_.last_deadline, absl::Now() + absl::Seconds(2));
  HttpResponse bad_id = Serve("GET", "/v1/shelves/7", "", {{"x-request-id", "has space"}});
  EXPECT_NE(Header(bad_id, "x-request-id"), "has space");
}

TEST_F(GatewayTest, BadTimeoutHeaderIs400) {
  HttpResponse r = Serve("GET", "/v1/shelves/7", "", {{"grpc-timeout", "forever"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(backend_.calls, 0);
}

TEST_F(GatewayTest, BackendErrorsKeepTheirDetails) {
  backend_.replies[kGetShelf] = {ToGrpcStatus(InvalidField("name", "malformed")), ""};
  HttpResponse r = Serve("GET", "/v1/shelves/7");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"code": 3,
    "message": "invalid request: name: malformed",
    "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                 "fieldViolations": [{"field": "name", "description": "malformed"}]},
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                 "reason": "INVALID_ARGUMENT", "domain": "genesis.dev"}]})"));

  backend_.replies[kGetShelf] = {grpc::Status(grpc::StatusCode::NOT_FOUND, "no shelf"), ""};
  r = Serve("GET", "/v1/shelves/7");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"code": 5, "message": "no shelf"})"));

  backend_.replies[kGetShelf] = {grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"), ""};
  EXPECT_EQ(Serve("GET", "/v1/shelves/7").status, 503);
  backend_.replies[kGetShelf] = {grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "slow"), ""};
  EXPECT_EQ(Serve("GET", "/v1/shelves/7").status, 504);
}

TEST_F(GatewayTest, InvalidRequestNeverReachesTheBackend) {
  HttpResponse r = Serve("POST", "/v1/shelves/1/books", R"({"nope": 1})");
  EXPECT_EQ(r.status, 400);
  json body = json::parse(r.body);
  EXPECT_EQ(body["details"][0]["fieldViolations"][0]["field"], "book.nope");
  EXPECT_EQ(backend_.calls, 0);
}

TEST_F(GatewayTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  HttpResponse missing = Serve("GET", "/v2/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["code"], 5);
  HttpResponse wrong = Serve("DELETE", "/v1/books:search");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(Header(wrong, "allow"), "GET, POST");
  EXPECT_EQ(backend_.calls, 0);
}

TEST_F(GatewayTest, StreamingRouteOnABackendWithoutStreamsIs501) {
  EXPECT_EQ(Serve("GET", "/v1/books:watch").status, 501);  // Backend::CallStream's default
  EXPECT_EQ(backend_.calls, 0);
}

TEST_F(GatewayTest, OnlyGetRoutesAreIdempotentForRetries) {
  Serve("GET", "/v1/shelves/s1");
  EXPECT_EQ(backend_.last_idempotent, true);
  Serve("POST", "/v1/shelves/s1/books", R"({"title": "Dune"})");
  EXPECT_EQ(backend_.last_idempotent, false);
}

TEST_F(GatewayTest, ServiceWithoutBackendIs503) {
  Reset({});
  HttpResponse r = Serve("GET", "/v1/shelves/7");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body)["code"], 14);
}

TEST_F(GatewayTest, HealthReadinessAndMetrics) {
  EXPECT_EQ(Serve("GET", "/healthz").status, 200);
  EXPECT_EQ(Serve("GET", "/readyz").status, 200);
  Serve("GET", "/v2/nothing");
  HttpResponse metrics = Serve("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("genesis_gateway_requests_total{route=\"unmatched\",code=\"404\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("genesis_gateway_request_duration_seconds"), std::string::npos);
  EXPECT_NE(metrics.body.find("genesis_gateway_in_flight_requests"), std::string::npos);
}

TEST_F(GatewayTest, ReadyWithoutBackendsToCheck) {
  Reset({});
  EXPECT_EQ(Serve("GET", "/readyz").status, 200);
}

// Readiness is the gateway's own: a backend that is down (or not SERVING)
// fails the calls routed to it, not /readyz; draining does.
TEST_F(GatewayTest, ReadinessDoesNotFollowBackendsButDraining) {
  backend_.serving = false;
  backend_.replies[kGetShelf] = {grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"), ""};
  EXPECT_EQ(Serve("GET", "/readyz").status, 200);
  EXPECT_TRUE(backend_.checked.empty());
  EXPECT_EQ(Serve("GET", "/v1/shelves/7").status, 503);
  EXPECT_EQ(Serve("GET", "/healthz").status, 200);
  gateway_->StartDraining();
  HttpResponse r = Serve("GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "not ready: draining\n");
  EXPECT_EQ(Serve("GET", "/healthz").status, 200);
}

// The security review's edge checks: what a backend must never receive.
TEST_F(GatewayTest, InvalidUtf8InTheUrlIs400BeforeAuthAndBackends) {
  for (const std::string target :
       {"/v1/shelves/%C3%28", "/v1/shelves/%FF", "/v1/shelves/%ED%A0%80", "/v1/shelves/a%00b",
        "/v1/books:search?query=%C0%AF", "/v1/shelves/7?x=%E2%82"}) {
    HttpResponse r = Serve("GET", target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(json::parse(r.body)["code"], 3) << target;
  }
  EXPECT_EQ(backend_.last_path, "");
  backend_.replies[kGetShelf] = {grpc::Status::OK, ""};
  EXPECT_EQ(Serve("GET", "/v1/shelves/S%C3%A3o%20Jo%C3%A3o").status, 200);
}

TEST_F(GatewayTest, AnOverlongPathVariableIs400NamingTheField) {
  HttpResponse r = Serve("GET", "/v1/shelves/" + std::string(3000, 'x'));
  EXPECT_EQ(r.status, 400);
  json body = json::parse(r.body);
  EXPECT_EQ(body["details"][0]["fieldViolations"][0]["field"], "name");
  EXPECT_EQ(backend_.last_path, "");
  r = Serve("GET", "/v1/books:search?query=" + std::string(3000, 'q'));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["details"][0]["fieldViolations"][0]["field"], "query");
}

TEST_F(GatewayTest, Every429CarriesRetryAfter) {
  backend_.replies[kGetShelf] = {grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                              "received initial metadata size exceeds limit"),
                                 ""};
  HttpResponse r = Serve("GET", "/v1/shelves/7");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Header(r, "retry-after"), "1");
}

// A backend's RetryInfo decides Retry-After (503 and 429 alike); its ErrorInfo
// and RetryInfo reach the JSON body as details.
TEST_F(GatewayTest, RetryAfterFollowsTheBackendsRetryInfo) {
  backend_.replies[kGetShelf] = {
      ToGrpcStatus(WithRetryDelay(WithReason(absl::UnavailableError("provider down"),
                                             "PROVIDER_UNAVAILABLE", {{"model", "m1"}}),
                                  absl::Milliseconds(6200)),
                   "llmrouter.genesis.dev"),
      ""};
  HttpResponse r = Serve("GET", "/v1/shelves/7");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Header(r, "retry-after"), "7");
  json body = json::parse(r.body);
  ASSERT_EQ(body["details"].size(), 2u) << r.body;
  json error_info, retry_info;  // the order of details is not part of the contract
  for (const json& d : body["details"]) {
    if (d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo") error_info = d;
    if (d["@type"] == "type.googleapis.com/google.rpc.RetryInfo") retry_info = d;
  }
  EXPECT_EQ(error_info["reason"], "PROVIDER_UNAVAILABLE") << r.body;
  EXPECT_EQ(error_info["domain"], "llmrouter.genesis.dev");
  EXPECT_EQ(error_info["metadata"]["model"], "m1");
  EXPECT_EQ(retry_info["retryDelay"], "6.200s") << r.body;

  backend_.replies[kGetShelf] = {
      ToGrpcStatus(WithRetryDelay(absl::ResourceExhaustedError("budget"), absl::Seconds(42))), ""};
  r = Serve("GET", "/v1/shelves/7");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Header(r, "retry-after"), "42");
}

TEST_F(GatewayTest, TheGatewaysOwnErrorsCarryErrorInfoInItsDomain) {
  HttpResponse r = Serve("GET", "/v1/nowhere");
  EXPECT_EQ(r.status, 404);
  json body = json::parse(r.body);
  ASSERT_FALSE(body["details"].empty()) << r.body;
  EXPECT_EQ(body["details"][0]["reason"], "NOT_FOUND");
  EXPECT_EQ(body["details"][0]["domain"], "gateway.genesis.dev");
}

TEST_F(GatewayTest, DuplicateKeysAndTrailingCommasAre400) {
  backend_.replies["/genesis.gwtest.v1.LibraryService/SearchBooks"] = {grpc::Status::OK, ""};
  EXPECT_EQ(Serve("POST", "/v1/books:search", R"({"query": "a"})").status, 200);
  backend_.last_path.clear();
  HttpResponse r = Serve("POST", "/v1/books:search", R"({"query": "a", "query": "b"})");
  EXPECT_EQ(r.status, 400);
  json body = json::parse(r.body);
  EXPECT_EQ(body["details"][0]["fieldViolations"][0]["field"], "query");
  EXPECT_NE(body["message"].get<std::string>().find("duplicate key"), std::string::npos);
  EXPECT_EQ(Serve("POST", "/v1/books:search", R"({"query": "a",})").status, 400);
  r = Serve("POST", "/v1/shelves/1/books",
            R"({"title": "t", "author": {"displayName": "a", "displayName": "b"}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["details"][0]["fieldViolations"][0]["field"],
            "book.author.displayName");
  EXPECT_EQ(backend_.last_path, "");
}

TEST_F(GatewayTest, CountsBackendErrors) {
  backend_.replies[kGetShelf] = {grpc::Status(grpc::StatusCode::NOT_FOUND, "no"), ""};
  Serve("GET", "/v1/shelves/7");
  std::string text = metrics_registry_->Render();
  EXPECT_NE(text.find("genesis_gateway_backend_errors_total{service=\"" + std::string(kService) +
                      "\",grpc_code=\"NOT_FOUND\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("route=\"GET /v1/{name=shelves/*}\",code=\"404\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace genesis::gateway
