// RBAC, rate limits, API keys and the gateway's admission (auth -> RBAC ->
// rate limit -> identity metadata, CORS) on a fake backend.
#include <gtest/gtest.h>

#include "common/storage/redis.h"
#include "gateway/auth/api_keys.h"
#include "gateway/auth/auth.h"
#include "gateway/auth/rate_limit.h"
#include "gateway/auth/rbac.h"
#include "gateway/gateway.h"
#include "gateway/tests/test_util.h"

namespace genesis::gateway {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";
const absl::Time kNow = absl::FromUnixSeconds(1700000000);

constexpr char kRbac[] = R"({"roles": {
  "admin": {"*": "write"}, "viewer": {"*": "read"},
  "bot": {"gwtest": "write", "catalog": "read"},
  "agent": {"*": "read", "genesis.gwtest.v1.LibraryService": "none"}}})";

TEST(RbacTest, Matrix) {
  auto rbac = Rbac::Parse(kRbac);
  ASSERT_TRUE(rbac.ok()) << rbac.status();
  const std::string lib = "genesis.gwtest.v1.LibraryService", cat = "genesis.catalog.v1.Catalog";
  struct Case {
    std::vector<std::string> roles;
    std::string service, method;
    bool allowed;
  } cases[] = {
      {{"admin"}, lib, "DELETE", true},      {{"viewer"}, lib, "GET", true},
      {{"viewer"}, lib, "POST", false},      {{"bot"}, lib, "PATCH", true},
      {{"bot"}, cat, "GET", true},           {{"bot"}, cat, "POST", false},
      {{"agent"}, lib, "GET", false},        {{"agent"}, cat, "GET", true},
      {{"nobody"}, lib, "GET", false},       {{}, lib, "GET", false},
      {{"viewer", "bot"}, cat, "GET", true}, {{"viewer", "bot"}, lib, "POST", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(rbac->Allows(c.roles, c.service, c.method), c.allowed)
        << ::testing::PrintToString(c.roles) << " " << c.method << " " << c.service;
  }
  EXPECT_FALSE(Rbac::Parse(R"({"roles": {"x": {"*": "admin"}}})").ok());
  EXPECT_FALSE(Rbac::Parse(R"({"rules": {}})").ok());
}

TEST(RbacTest, DefaultConfigParses) {
  auto rbac = Rbac::Load(GENESIS_RBAC_CONFIG);
  ASSERT_TRUE(rbac.ok()) << rbac.status();
  EXPECT_EQ(rbac->Roles(),
            (std::vector<std::string>{"admin", "agent", "bot", "operator", "viewer"}));
  EXPECT_TRUE(rbac->Allows({"viewer"}, "genesis.catalog.v1.CatalogService", "GET"));
  EXPECT_FALSE(rbac->Allows({"viewer"}, "genesis.catalog.v1.CatalogService", "POST"));
  EXPECT_TRUE(rbac->Allows({"bot"}, "genesis.catalog.v1.CatalogService", "POST"));
  // Bot manager and voice (seed 001): agents write voice and read bots; bots write both.
  const std::string bot = "genesis.bot.v1.BotManagerService",
                    voice = "genesis.voice.v1.VoiceService";
  EXPECT_TRUE(rbac->Allows({"agent"}, voice, "POST"));
  EXPECT_TRUE(rbac->Allows({"agent"}, bot, "GET"));
  EXPECT_FALSE(rbac->Allows({"agent"}, bot, "POST"));
  EXPECT_TRUE(rbac->Allows({"bot"}, bot, "POST"));
  EXPECT_TRUE(rbac->Allows({"bot"}, voice, "POST"));
  EXPECT_TRUE(rbac->Allows({"operator"}, bot, "DELETE"));
  EXPECT_TRUE(rbac->Allows({"viewer"}, voice, "GET"));
  EXPECT_FALSE(rbac->Allows({"viewer"}, voice, "POST"));
}

TEST(RateLimitTest, PolicyParsing) {
  auto p = RateLimitPolicy::Parse("30/s");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->rate, 30);
  EXPECT_EQ(p->burst, 30);
  p = RateLimitPolicy::Parse("5/m");
  ASSERT_TRUE(p.ok());
  EXPECT_DOUBLE_EQ(p->rate, 5.0 / 60);
  EXPECT_FALSE(RateLimitPolicy::Parse("5").ok());
  EXPECT_FALSE(RateLimitPolicy::Parse("0/s").ok());
  EXPECT_FALSE(RateLimitPolicy::Parse("5/d").ok());
}

TEST(RateLimitTest, TokenBucketWithAnInjectedClock) {
  TokenBucket bucket({5.0 / 60, 5}, kNow);  // 5 per minute
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.Take(kNow).allowed) << i;
  auto refused = bucket.Take(kNow);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, absl::Seconds(12));
  EXPECT_FALSE(bucket.Take(kNow + absl::Seconds(11)).allowed);
  EXPECT_TRUE(bucket.Take(kNow + absl::Seconds(12)).allowed);
  // Refill never exceeds the burst.
  TokenBucket idle({1, 2}, kNow);
  EXPECT_TRUE(idle.Take(kNow + absl::Hours(1)).allowed);
  EXPECT_TRUE(idle.Take(kNow + absl::Hours(1)).allowed);
  EXPECT_FALSE(idle.Take(kNow + absl::Hours(1)).allowed);
}

TEST(RateLimitTest, RedisDownFallsBackToALocalLimiterAndCountsIt) {
  MetricsRegistry registry;
  RedisOptions options;
  options.url = "redis://127.0.0.1:1";  // nothing listens there
  auto redis = RedisClient::Create(options, &registry);
  ASSERT_TRUE(redis.ok());
  absl::Time now = kNow;
  RateLimiter limiter(redis->get(), &registry, [&] { return now; });
  RateLimitPolicy policy{1, 3};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("k", policy).allowed) << i;
  EXPECT_FALSE(limiter.Take("k", policy).allowed);     // still limited: never unlimited
  EXPECT_TRUE(limiter.Take("other", policy).allowed);  // per key
  now += absl::Seconds(1);
  EXPECT_TRUE(limiter.Take("k", policy).allowed);  // and still serving
  EXPECT_NE(registry.Render().find("genesis_gateway_rate_limit_fallback_total 6"),
            std::string::npos)
      << registry.Render();
}

class FakeKeyStore : public ApiKeyStore {
 public:
  absl::Status Create(const ApiKeyRecord& r, const std::string&, absl::Time) override {
    return keys.emplace(r.id, r).second ? absl::OkStatus() : absl::AlreadyExistsError(r.id);
  }
  absl::StatusOr<std::optional<ApiKeyRecord>> Get(const std::string& id, absl::Time) override {
    if (down) return absl::UnavailableError("down");
    auto it = keys.find(id);
    if (it == keys.end()) return std::optional<ApiKeyRecord>();
    return std::optional<ApiKeyRecord>(it->second);
  }
  absl::StatusOr<std::vector<ApiKeyRecord>> List(absl::Time) override {
    return std::vector<ApiKeyRecord>();
  }
  absl::Status Revoke(const std::string& id, const std::string&, absl::Time) override {
    if (!keys.count(id)) return absl::NotFoundError(id);
    keys[id].revoke_time = kNow;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<ApiKeyAuditEntry>> ListAudit(int, absl::Time) override {
    return std::vector<ApiKeyAuditEntry>();
  }
  std::map<std::string, ApiKeyRecord> keys;
  bool down = false;
};

TEST(ApiKeyTest, HashingAndChecks) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  FakeKeyStore store;
  auto key = GenerateApiKey("crm-bot", {"bot"}, kNow + absl::Hours(1), kNow);
  EXPECT_TRUE(LooksLikeApiKey(key.key));
  EXPECT_EQ(key.key.find(key.record.secret_sha256), std::string::npos);
  EXPECT_EQ(key.record.id.size(), 16u);
  ASSERT_TRUE(store.Create(key.record, "ops@test", kNow).ok());
  auto got = CheckApiKey(&store, key.key, kNow, kNow);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->roles, std::vector<std::string>{"bot"});
  std::string wrong = key.key;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(CheckApiKey(&store, wrong, kNow, kNow).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_FALSE(CheckApiKey(&store, key.key, kNow + absl::Hours(1), kNow).ok());  // expired
  EXPECT_FALSE(CheckApiKey(&store, "gk_nope", kNow, kNow).ok());
  store.down = true;
  EXPECT_EQ(CheckApiKey(&store, key.key, kNow, kNow).status().code(),
            absl::StatusCode::kUnavailable);
  store.down = false;
  ASSERT_TRUE(store.Revoke(key.record.id, "ops@test", kNow).ok());
  EXPECT_FALSE(CheckApiKey(&store, key.key, kNow, kNow).ok());
  EXPECT_NE(GenerateApiKey("x", {}, std::nullopt, kNow).key, key.key);
}

class Backend1 : public Backend {
 public:
  void Call(const std::string&, std::string, absl::Time, const Metadata& metadata,
            std::function<void(grpc::Status, std::string)> done) override {
    last_metadata = metadata;
    ++calls;
    done(grpc::Status::OK, "");
  }
  void CheckHealth(const std::string&, absl::Time, std::function<void(bool)> done) override {
    done(true);
  }
  Metadata last_metadata;
  int calls = 0;
};

class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionTest()
      : rbac_(*Rbac::Parse(kRbac)),
        jwt_(JwtOptions{kSecret, "", "", absl::Seconds(30), true}, Jwks()),
        auth_(&jwt_, &keys_, [this] { return now_; }),
        limiter_(nullptr, nullptr, [this] { return now_; }) {
    auto transcoder = testing::LoadTestTranscoder();
    auto routes = testing::LoadTestRoutes(*transcoder);
    GatewayOptions options;
    options.security.authenticator = &auth_;
    options.security.rbac = &rbac_;
    options.security.rate_limiter = &limiter_;
    options.security.general_limit = {1, 3};
    options.security.token_route_limit = {1.0 / 60, 1};
    options.security.token_route_prefixes = {"/v1/books:search"};
    options.security.gateway_secret = "gw-secret";
    options.security.cors_origins = {"https://app.example"};
    gateway_ = std::make_unique<Gateway>(
        options, std::move(transcoder), std::move(routes),
        std::map<std::string, Backend*>{{"genesis.gwtest.v1.LibraryService", &backend_}},
        &registry_, GatewayMetrics::Register(&registry_));
  }
  HttpResponse Serve(std::string method, std::string target,
                     std::map<std::string, std::string> headers = {}, std::string body = "") {
    HttpResponse out;
    gateway_->Handle({std::move(method), std::move(target), std::move(body), std::move(headers)},
                     [&](HttpResponse r) { out = std::move(r); });
    return out;
  }
  std::map<std::string, std::string> Bearer(const std::vector<std::string>& roles,
                                            absl::Duration ttl = absl::Minutes(5)) {
    return {{"authorization",
             "Bearer " + SignHs256(DevTokenPayload("alice", roles, ttl, now_), kSecret)}};
  }
  static std::string Header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }
  absl::Time now_ = kNow;
  Rbac rbac_;
  JwtVerifier jwt_;
  FakeKeyStore keys_;
  Authenticator auth_;
  RateLimiter limiter_;
  Backend1 backend_;
  MetricsRegistry registry_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(AdmissionTest, AuthMatrix) {
  EXPECT_EQ(Serve("GET", "/healthz").status, 200);
  EXPECT_EQ(Serve("GET", "/metrics").status, 200);
  auto r = Serve("GET", "/v1/shelves/1");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Header(r, "www-authenticate"), R"(Bearer realm="genesis")");
  EXPECT_NE(r.body.find("\"code\":16"), std::string::npos) << r.body;
  r = Serve("GET", "/v1/shelves/1", {{"authorization", "Bearer nonsense"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Header(r, "www-authenticate"), R"(Bearer error="invalid_token")");
  EXPECT_EQ(Serve("GET", "/v1/shelves/1", {{"authorization", "Basic abc"}}).status, 401);
  auto expired = Bearer({"admin"}, absl::Minutes(1));
  now_ += absl::Minutes(2);
  EXPECT_EQ(Serve("GET", "/v1/shelves/1", expired).status, 401);
  EXPECT_EQ(backend_.calls, 0);
  EXPECT_EQ(Serve("GET", "/v1/shelves/1", Bearer({"viewer"})).status, 200);
  r = Serve("POST", "/v1/shelves/1/books", Bearer({"viewer"}), "{}");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("\"code\":7"), std::string::npos) << r.body;
  EXPECT_EQ(Serve("POST", "/v1/shelves/2/books", Bearer({"bot"}), "{}").status, 200);
  EXPECT_EQ(backend_.last_metadata, (Metadata{backend_.last_metadata[0],
                                              {"x-genesis-gateway-auth", "gw-secret"},
                                              {"x-genesis-subject", "alice"},
                                              {"x-genesis-roles", "bot"}}));
  // An unknown path is 404 even without credentials; it reaches no backend.
  EXPECT_EQ(Serve("GET", "/v1/nothing").status, 404);
}

TEST_F(AdmissionTest, ApiKeys) {
  auto key = GenerateApiKey("crm-bot", {"bot"}, std::nullopt, kNow);
  ASSERT_TRUE(keys_.Create(key.record, "ops@test", kNow).ok());
  EXPECT_EQ(Serve("POST", "/v1/shelves/2/books", {{"x-api-key", key.key}}, "{}").status, 200);
  EXPECT_EQ(backend_.last_metadata[2].second, "apikey/" + key.record.id);
  EXPECT_EQ(Serve("GET", "/v1/shelves/2", {{"authorization", "Bearer " + key.key}}).status, 200);
  ASSERT_TRUE(keys_.Revoke(key.record.id, "ops@test", kNow).ok());
  EXPECT_EQ(Serve("GET", "/v1/shelves/2", {{"x-api-key", key.key}}).status, 401);
  keys_.down = true;
  EXPECT_EQ(Serve("GET", "/v1/shelves/2", {{"x-api-key", key.key}}).status, 503);
}

TEST_F(AdmissionTest, RateLimitsPerCredentialAndRouteClass) {
  auto alice = Bearer({"viewer"});
  for (int i = 0; i < 3; ++i) {
    auto r = Serve("GET", "/v1/shelves/1", alice);
    EXPECT_EQ(r.status, 200) << i;
    EXPECT_EQ(Header(r, "ratelimit-limit"), "3");
    EXPECT_EQ(Header(r, "ratelimit-remaining"), std::to_string(2 - i));
  }
  auto r = Serve("GET", "/v1/shelves/1", alice);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Header(r, "retry-after"), "1");
  EXPECT_NE(r.body.find("\"code\":8"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"reason\":\"RATE_LIMITED\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"domain\":\"gateway.genesis.dev\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"retryDelay\":"), std::string::npos) << r.body;
  EXPECT_EQ(Serve("GET", "/v1/books:search", alice).status, 200);  // its own class
  r = Serve("GET", "/v1/books:search", alice);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Header(r, "retry-after"), "60");
  now_ += absl::Seconds(1);
  EXPECT_EQ(Serve("GET", "/v1/shelves/1", alice).status, 200);
}

TEST_F(AdmissionTest, CorsPreflightAndHeaders) {
  auto r = Serve("OPTIONS", "/v1/shelves/1",
                 {{"origin", "https://app.example"}, {"access-control-request-method", "GET"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(Header(r, "access-control-allow-origin"), "https://app.example");
  EXPECT_NE(Header(r, "access-control-allow-headers").find("authorization"), std::string::npos);
  r = Serve("OPTIONS", "/v1/shelves/1",
            {{"origin", "https://evil.example"}, {"access-control-request-method", "GET"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Header(r, "access-control-allow-origin"), "");
  auto headers = Bearer({"viewer"});
  headers["origin"] = "https://app.example";
  r = Serve("GET", "/v1/shelves/1", headers);
  EXPECT_EQ(Header(r, "access-control-allow-origin"), "https://app.example");
  EXPECT_EQ(
      Header(Serve("GET", "/v1/shelves/1", Bearer({"viewer"})), "access-control-allow-origin"), "");
}

}  // namespace
}  // namespace genesis::gateway
