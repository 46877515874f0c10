// google.api.HttpBody (raw request and response bodies), public webhook
// routes (--public_services), forwarded headers, and how OpenAPI documents them.
#include <set>

#include <google/api/httpbody.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "gateway/gateway.h"
#include "gateway/http/server.h"
#include "gateway/tests/fake_backend.h"
#include "gateway/tests/test_util.h"

namespace genesis::gateway {
namespace {

using nlohmann::json;
namespace pb = google::protobuf;

constexpr char kLibrary[] = "genesis.gwtest.v1.LibraryService";
constexpr char kHooks[] = "genesis.gwtest.v1.HookWebhookService";
constexpr char kDeliver[] = "/genesis.gwtest.v1.HookWebhookService/Deliver";
constexpr char kVerify[] = "/genesis.gwtest.v1.HookWebhookService/VerifyHook";
constexpr char kPostHook[] = "/genesis.gwtest.v1.HookWebhookService/PostHook";
constexpr char kUploadCover[] = "/genesis.gwtest.v1.LibraryService/UploadCover";
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test";

// Bytes that are not UTF-8 and contain NUL: must arrive untouched.
const std::string kBinary("\x00\xff\x01{not json\r\n", 14);

class HttpBodyTest : public ::testing::Test {
 protected:
  HttpBodyTest()
      : jwt_(JwtOptions{kSecret, "", "", absl::Seconds(30), true}, Jwks()),
        auth_(&jwt_, nullptr),
        limiter_(nullptr, nullptr) {
    transcoder_ = testing::LoadTestTranscoder();
  }

  void Start(bool auth, std::set<std::string> public_services = {kHooks}) {
    auto transcoder = testing::LoadTestTranscoder();
    auto routes = testing::LoadTestRoutes(*transcoder);
    GatewayOptions options;
    options.security.public_services = std::move(public_services);
    if (auth) {
      options.security.authenticator = &auth_;
      options.security.rate_limiter = &limiter_;
      options.security.general_limit = {1, 2};  // burst 2, 1/s
    }
    gateway_ = std::make_unique<Gateway>(
        options, std::move(transcoder), std::move(routes),
        std::map<std::string, Backend*>{{kLibrary, &backend_}, {kHooks, &backend_}}, &registry_,
        GatewayMetrics::Register(&registry_));
  }

  HttpResponse Serve(std::string method, std::string target, std::string body,
                     std::map<std::string, std::string> headers = {},
                     std::string remote = "10.0.0.1") {
    HttpResponse out;
    HttpRequest request{std::move(method), std::move(target), std::move(body), std::move(headers)};
    request.remote_address = std::move(remote);
    gateway_->Handle(std::move(request), [&](HttpResponse r) { out = std::move(r); });
    return out;
  }

  // A message of the gwtest pool parsed from serialized bytes, as JSON.
  std::string AsJson(const std::string& type, const std::string& bytes) {
    pb::DynamicMessageFactory factory(&transcoder_->pool());
    std::unique_ptr<pb::Message> m(
        factory.GetPrototype(transcoder_->pool().FindMessageTypeByName(type))->New());
    EXPECT_TRUE(m->ParseFromString(bytes));
    std::string out;
    EXPECT_TRUE(pb::util::MessageToJsonString(*m, &out).ok());
    return out;
  }

  static std::string RawBody(const std::string& content_type, const std::string& data) {
    google::api::HttpBody body;
    body.set_content_type(content_type);
    body.set_data(data);
    return body.SerializeAsString();
  }

  std::unique_ptr<Transcoder> transcoder_;
  JwtVerifier jwt_;
  Authenticator auth_;
  RateLimiter limiter_;
  testing::FakeBackend backend_;
  MetricsRegistry registry_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(HttpBodyTest, WholeRequestIsTheRawBodyAndTheResponseIsWrittenRaw) {
  Start(false);
  backend_.replies[kDeliver] = {grpc::Status::OK, RawBody("text/plain; charset=utf-8", "ok\n")};
  HttpResponse r = Serve("POST", "/v1/hooks:deliver", kBinary,
                         {{"content-type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.body, "ok\n");
  google::api::HttpBody got;
  ASSERT_TRUE(got.ParseFromString(backend_.last_request));
  EXPECT_EQ(got.data(), kBinary);
  EXPECT_EQ(got.content_type(), "application/x-www-form-urlencoded");
}

TEST_F(HttpBodyTest, RawResponseWithoutContentTypeIsOctetStream) {
  Start(false);
  backend_.replies[kDeliver] = {grpc::Status::OK, RawBody("", kBinary)};
  HttpResponse r = Serve("POST", "/v1/hooks:deliver", "x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/octet-stream");
  EXPECT_EQ(r.body, kBinary);
}

TEST_F(HttpBodyTest, BodyFieldIsRawWhilePathAndQueryFillTheRest) {
  Start(false);
  backend_.replies[kPostHook] = {grpc::Status::OK, ""};
  HttpResponse r = Serve("POST", "/v1/hooks/telegram?lang=pt", R"({"update_id": 1})",
                         {{"content-type", "application/json"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(AsJson("genesis.gwtest.v1.PostHookRequest", backend_.last_request)),
            json::parse(R"({"channel": "telegram", "lang": "pt",
              "payload": {"contentType": "application/json",
                          "data": "eyJ1cGRhdGVfaWQiOiAxfQ=="}})"));
  // A body that is not JSON is fine: it is not parsed.
  r = Serve("POST", "/v1/hooks/slack", "{{{", {{"content-type", "text/plain"}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(HttpBodyTest, DottedQueryNamesFillNestedFields) {
  Start(false);
  backend_.replies[kVerify] = {grpc::Status::OK, RawBody("text/plain", "challenge-42")};
  HttpResponse r =
      Serve("GET", "/v1/hooks/whatsapp?hub.mode=subscribe&hub.challenge=challenge-42", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "challenge-42");
  EXPECT_EQ(r.content_type, "text/plain");
  EXPECT_EQ(json::parse(AsJson("genesis.gwtest.v1.VerifyHookRequest", backend_.last_request)),
            json::parse(R"({"channel": "whatsapp",
                            "hub": {"mode": "subscribe", "challenge": "challenge-42"}})"));
  r = Serve("GET", "/v1/hooks/whatsapp?hub.nope=1", "");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("hub.nope"), std::string::npos) << r.body;
}

TEST_F(HttpBodyTest, ResponseBodyFieldOfTypeHttpBodyIsRaw) {
  Start(false);
  google::api::HttpBody thumb;
  thumb.set_content_type("image/png");
  thumb.set_data("\x89PNG");
  std::string response;  // UploadCoverResponse{thumbnail = thumb, size = 9}
  {
    pb::DynamicMessageFactory factory(&transcoder_->pool());
    std::unique_ptr<pb::Message> m(factory
                                       .GetPrototype(transcoder_->pool().FindMessageTypeByName(
                                           "genesis.gwtest.v1.UploadCoverResponse"))
                                       ->New());
    ASSERT_TRUE(m->GetReflection()
                    ->MutableMessage(m.get(), m->GetDescriptor()->FindFieldByName("thumbnail"))
                    ->ParseFromString(thumb.SerializeAsString()));
    m->GetReflection()->SetInt64(m.get(), m->GetDescriptor()->FindFieldByName("size"), 9);
    response = m->SerializeAsString();
  }
  backend_.replies[kUploadCover] = {grpc::Status::OK, response};
  HttpResponse r =
      Serve("PUT", "/v1/shelves/1/books/2/cover", kBinary, {{"content-type", "image/jpeg"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "image/png");
  EXPECT_EQ(r.body, "\x89PNG");
  EXPECT_EQ(json::parse(AsJson("genesis.gwtest.v1.UploadCoverRequest", backend_.last_request)),
            json::parse(R"({"name": "shelves/1/books/2",
                            "image": {"contentType": "image/jpeg", "data": "AP8Be25vdCBqc29uDQo="}})"));
}

TEST_F(HttpBodyTest, WebhookServicesArePublicButRateLimitedPerClientAddress) {
  Start(true);
  backend_.replies[kDeliver] = {grpc::Status::OK, RawBody("text/plain", "ok")};
  backend_.replies[kUploadCover] = {grpc::Status::OK, ""};
  // An HttpBody route of an ordinary service still needs credentials.
  EXPECT_EQ(Serve("PUT", "/v1/shelves/1/books/2/cover", "x").status, 401);
  // A webhook needs none; it is limited per client IP (burst 2).
  HttpResponse r = Serve("POST", "/v1/hooks:deliver", "a");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Serve("POST", "/v1/hooks:deliver", "b").status, 200);
  r = Serve("POST", "/v1/hooks:deliver", "c");
  EXPECT_EQ(r.status, 429);
  // Another client address has its own bucket.
  EXPECT_EQ(Serve("POST", "/v1/hooks:deliver", "d", {}, "10.0.0.2").status, 200);
  // No identity reaches the backend from a public route.
  EXPECT_EQ(backend_.MetadataValue("x-genesis-subject"), "");
}

TEST_F(HttpBodyTest, OnlyTheListedPublicServicesSkipAuthentication) {
  backend_.replies[kDeliver] = {grpc::Status::OK, RawBody("text/plain", "ok")};
  backend_.replies[kUploadCover] = {grpc::Status::OK, ""};
  // Not listed: a webhook-looking service name alone does not make it public.
  Start(true, {});
  EXPECT_EQ(Serve("POST", "/v1/hooks:deliver", "a").status, 401);
  EXPECT_EQ(
      json::parse(Serve("GET", "/openapi.json", "").body)["paths"]["/v1/hooks:deliver"]["post"]
          .contains("security"),
      false);
  // Listed: any service, whatever its name.
  Start(true, {kLibrary});
  EXPECT_EQ(Serve("PUT", "/v1/shelves/1/books/2/cover", "x").status, 200);
  EXPECT_EQ(Serve("POST", "/v1/hooks:deliver", "b").status, 401);
  // The default list is the bot manager's webhooks.
  EXPECT_EQ(DefaultPublicServices(), std::set<std::string>{"genesis.bot.v1.BotWebhookService"});
  EXPECT_EQ(GatewayOptions().security.public_services, DefaultPublicServices());
}

TEST(PublicServicesTest, ServiceNames) {
  EXPECT_TRUE(IsServiceName("genesis.bot.v1.BotWebhookService"));
  EXPECT_TRUE(IsServiceName("a.B_2"));
  for (const char* bad : {"", "BotWebhookService", "genesis..v1.S", "genesis.bot.", ".x.Y",
                          "genesis.1bot.S", "genesis/bot.S", "genesis.bot.S "}) {
    EXPECT_FALSE(IsServiceName(bad)) << bad;
  }
}

TEST_F(HttpBodyTest, SignatureHeadersAreForwardedAsMetadata) {
  Start(false);
  backend_.replies[kDeliver] = {grpc::Status::OK, RawBody("text/plain", "ok")};
  Serve("POST", "/v1/hooks:deliver", "{}",
        {{"x-hub-signature-256", "sha256=abc"},
         {"x-telegram-bot-api-secret-token", "tg-secret"},
         {"user-agent", "Bot/1.0"},
         {"x-unlisted", "no"},
         {"signature", "bad\x01value"}});
  EXPECT_EQ(backend_.MetadataValue("x-hub-signature-256"), "sha256=abc");
  EXPECT_EQ(backend_.MetadataValue("x-telegram-bot-api-secret-token"), "tg-secret");
  EXPECT_EQ(backend_.MetadataValue("user-agent"), "Bot/1.0");
  EXPECT_EQ(backend_.MetadataValue("x-unlisted"), "");
  EXPECT_EQ(backend_.MetadataValue("signature"), "");  // not valid as gRPC metadata
  EXPECT_EQ(backend_.MetadataValue("x-request-id").size(), 16u);
}

TEST(ForwardHeadersTest, IdentityCredentialsAndReservedNamesAreNeverForwarded) {
  for (const auto& name : DefaultForwardHeaders()) EXPECT_TRUE(IsForwardableHeader(name)) << name;
  for (const char* name : {"x-genesis-subject", "x-genesis-gateway-auth", "authorization",
                           "x-api-key", "cookie", "x-request-id", "grpc-timeout", ":path", "te",
                           "content-type", "host", "trace-bin", "Upper-Case", "", "bad header"}) {
    EXPECT_FALSE(IsForwardableHeader(name)) << name;
  }
}

TEST_F(HttpBodyTest, ForwardingNeverOverridesTheIdentity) {
  GatewayOptions options;
  options.forward_headers = {"x-genesis-subject", "x-hub-signature-256"};
  auto transcoder = testing::LoadTestTranscoder();
  auto routes = testing::LoadTestRoutes(*transcoder);
  gateway_ = std::make_unique<Gateway>(options, std::move(transcoder), std::move(routes),
                                       std::map<std::string, Backend*>{{kHooks, &backend_}},
                                       &registry_, GatewayMetrics::Register(&registry_));
  backend_.replies[kDeliver] = {grpc::Status::OK, RawBody("text/plain", "ok")};
  Serve("POST", "/v1/hooks:deliver", "{}",
        {{"x-genesis-subject", "admin"}, {"x-hub-signature-256", "sha256=1"}});
  EXPECT_EQ(backend_.MetadataValue("x-genesis-subject"), "");
  EXPECT_EQ(backend_.MetadataValue("x-hub-signature-256"), "sha256=1");
}

TEST_F(HttpBodyTest, OpenApiDocumentsRawBodiesAndPublicWebhooks) {
  Start(true);
  json doc = json::parse(Serve("GET", "/openapi.json", "").body);
  const json& deliver = doc["paths"]["/v1/hooks:deliver"]["post"];
  EXPECT_TRUE(deliver["requestBody"]["content"].contains("*/*")) << deliver.dump();
  EXPECT_EQ(deliver["requestBody"]["content"]["*/*"]["schema"]["format"], "binary");
  EXPECT_TRUE(deliver["responses"]["200"]["content"].contains("*/*"));
  EXPECT_EQ(deliver["security"], json::array());
  bool found = false;
  for (const auto& [path, item] : doc["paths"].items()) {
    if (path.find("/cover") == std::string::npos) continue;
    found = true;
    EXPECT_TRUE(item["put"]["requestBody"]["content"].contains("*/*")) << item.dump();
    EXPECT_TRUE(item["put"]["responses"]["200"]["content"].contains("*/*"));
    EXPECT_FALSE(item["put"].contains("security"));  // needs credentials
  }
  EXPECT_TRUE(found);
  const json& post_hook = doc["paths"]["/v1/hooks/{channel}"]["post"];
  EXPECT_TRUE(post_hook["requestBody"]["content"].contains("*/*"));
  EXPECT_EQ(post_hook["responses"]["200"]["content"].count("application/json"), 1u);
}

// The real HTTP server in front of the gateway: raw bytes in and out, and the
// peer address used for the public route's rate-limit key.
TEST_F(HttpBodyTest, RawBytesThroughTheHttpServer) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  Start(false);
  backend_.replies[kDeliver] = {grpc::Status::OK, RawBody("application/octet-stream", kBinary)};
  auto server = HttpServer::Start({}, [this](HttpRequest req, auto done) {
    EXPECT_EQ(req.remote_address, "127.0.0.1");
    gateway_->Handle(std::move(req), std::move(done));
  });
  ASSERT_TRUE(server.ok()) << server.status();
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), (*server)->port()));
  stream.expires_after(std::chrono::seconds(10));
  http::request<http::string_body> req{http::verb::post, "/v1/hooks:deliver", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/x-custom");
  req.set("X-Hub-Signature-256", "sha256=feed");
  req.body() = kBinary;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res[http::field::content_type], "application/octet-stream");
  EXPECT_EQ(res.body(), kBinary);
  google::api::HttpBody got;
  ASSERT_TRUE(got.ParseFromString(backend_.last_request));
  EXPECT_EQ(got.data(), kBinary);
  EXPECT_EQ(got.content_type(), "application/x-custom");
  EXPECT_EQ(backend_.MetadataValue("x-hub-signature-256"), "sha256=feed");
}

}  // namespace
}  // namespace genesis::gateway
