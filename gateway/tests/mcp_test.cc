// The MCP endpoint: tool names and JSON Schemas generated from the build's
// descriptors (with their proto comments), JSON-RPC parsing, sessions, and
// the endpoint on a fake catalog (initialize, tools/list pages, tools/call
// results and errors, the REST path's authentication and RBAC).
#include <regex>
#include <set>

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_join.h"
#include "common/base/status.h"
#include "gateway/gateway.h"
#include "gateway/mcp/protocol.h"
#include "gateway/mcp/sessions.h"
#include "gateway/mcp/tools.h"
#include "gateway/tests/fake_backend.h"
#include "genesis/catalog/v1/catalog.pb.h"

namespace genesis::gateway {
namespace {

namespace pb = google::protobuf;
using nlohmann::json;

constexpr char kCatalog[] = "genesis.catalog.v1.CatalogService";
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test";
constexpr char kAccept[] = "application/json, text/event-stream";

// The build's descriptors (with source info) and their routes.
struct Mesh {
  Mesh() {
    auto set = Transcoder::ReadDescriptorSet(GENESIS_DESCRIPTOR_SET);
    EXPECT_TRUE(set.ok()) << set.status();
    auto created = Transcoder::Create(*set);
    EXPECT_TRUE(created.ok()) << created.status();
    transcoder = std::move(*created);
    auto built = RouteTable::Build(transcoder->Services());
    EXPECT_TRUE(built.ok()) << built.status();
    routes = std::move(*built);
  }
  const pb::Descriptor* Message(const std::string& name) const {
    return transcoder->pool().FindMessageTypeByName(name);
  }
  std::unique_ptr<Transcoder> transcoder;
  RouteTable routes;
};

const Mesh& TheMesh() {
  static const Mesh* mesh = new Mesh();
  return *mesh;
}

bool Contains(const json& array, const std::string& value) {
  return array.is_array() && std::find(array.begin(), array.end(), value) != array.end();
}

TEST(McpSchemaTest, InputSchemaFollowsFieldBehaviourAndComments) {
  json s = mcp::InputSchema(TheMesh().Message("genesis.catalog.v1.CreateItemRequest"));
  EXPECT_EQ(s["type"], "object");
  EXPECT_EQ(s["additionalProperties"], false);
  EXPECT_TRUE(Contains(s["required"], "item")) << s.dump(2);
  EXPECT_FALSE(Contains(s["required"], "requestId"));
  const json& item = s["properties"]["item"];
  EXPECT_EQ(item["type"], "object");
  EXPECT_TRUE(Contains(item["required"], "title")) << item.dump(2);
  EXPECT_TRUE(Contains(item["required"], "type"));
  // OUTPUT_ONLY fields are not inputs.
  EXPECT_FALSE(item["properties"].contains("createTime")) << item.dump(2);
  // Descriptions and examples come from the proto comments.
  EXPECT_NE(item["properties"]["title"]["description"].get<std::string>().find("Weighted above"),
            std::string::npos);
  EXPECT_EQ(item["properties"]["title"]["examples"], json::array({"Apartamento na praia"}));
  EXPECT_NE(item["description"].get<std::string>().find("The item to create"), std::string::npos);
  // Well-known types in their JSON form; maps as objects.
  EXPECT_EQ(item["properties"]["attributes"]["type"], "object");
  EXPECT_EQ(item["properties"]["labels"]["additionalProperties"]["type"], "string");
}

TEST(McpSchemaTest, EnumsAreStringEnumsAndUpdatesRequireNothingInTheResource) {
  json create = mcp::InputSchema(TheMesh().Message("genesis.catalog.v1.CreateItemTypeRequest"));
  const json& kind =
      create["properties"]["itemType"]["properties"]["attributes"]["items"]["properties"]["kind"];
  EXPECT_EQ(kind["type"], "string");
  EXPECT_TRUE(Contains(kind["enum"], "ATTRIBUTE_KIND_STRING")) << kind.dump(2);

  json update = mcp::InputSchema(TheMesh().Message("genesis.catalog.v1.UpdateItemRequest"));
  EXPECT_TRUE(Contains(update["required"], "item"));
  EXPECT_FALSE(update["properties"]["item"].contains("required")) << update.dump(2);
  EXPECT_EQ(update["properties"]["updateMask"]["type"], "string");
}

TEST(McpSchemaTest, OutputSchemaListsEveryFieldAndRequiresNone) {
  json s = mcp::OutputSchema(TheMesh().Message("genesis.catalog.v1.Item"));
  EXPECT_FALSE(s.contains("required"));
  EXPECT_FALSE(s.contains("additionalProperties"));
  EXPECT_EQ(s["properties"]["createTime"]["type"], "string");
  EXPECT_EQ(s["properties"]["createTime"]["format"], "date-time");
  EXPECT_EQ(s["properties"]["createTime"]["readOnly"], true);
}

TEST(McpSchemaTest, SixtyFourBitIntegersAreStringsAndRecursionUsesDefs) {
  pb::DescriptorPool pool;
  pb::FileDescriptorProto file;
  file.set_name("node.proto");
  file.set_package("t.v1");
  file.set_syntax("proto3");
  auto* node = file.add_message_type();
  node->set_name("Node");
  auto* count = node->add_field();
  count->set_name("count");
  count->set_json_name("count");
  count->set_number(1);
  count->set_type(pb::FieldDescriptorProto::TYPE_INT64);
  count->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
  auto* children = node->add_field();
  children->set_name("children");
  children->set_json_name("children");
  children->set_number(2);
  children->set_type(pb::FieldDescriptorProto::TYPE_MESSAGE);
  children->set_type_name(".t.v1.Node");
  children->set_label(pb::FieldDescriptorProto::LABEL_REPEATED);
  ASSERT_NE(pool.BuildFile(file), nullptr);
  json s = mcp::InputSchema(pool.FindMessageTypeByName("t.v1.Node"));
  EXPECT_EQ(s["properties"]["count"]["type"], "string");
  EXPECT_EQ(s["properties"]["count"]["pattern"], "^-?[0-9]{1,19}$");
  EXPECT_EQ(s["properties"]["children"]["items"], json({{"$ref", "#/$defs/t.v1.Node"}}));
  EXPECT_EQ(s["$defs"]["t.v1.Node"]["properties"]["children"]["items"]["$ref"],
            "#/$defs/t.v1.Node");
}

TEST(McpToolsTest, EveryEligibleRpcIsOneToolWithAValidUniqueName) {
  mcp::ToolOptions options;
  options.exclude_services = {"genesis.bot.v1.BotWebhookService"};
  mcp::ToolSet set = mcp::ToolSet::Build(TheMesh().routes, options);
  ASSERT_GT(set.tools().size(), 20u);
  std::set<std::string> names;
  const std::regex valid("^[A-Za-z0-9_]{1,64}$");
  for (const mcp::Tool& t : set.tools()) {
    EXPECT_TRUE(std::regex_match(t.name, valid)) << t.name;
    EXPECT_TRUE(names.insert(t.name).second) << t.name;
    EXPECT_FALSE(t.description.empty()) << t.name;
    EXPECT_EQ(t.input_schema["type"], "object") << t.name;
    EXPECT_FALSE(t.route->method->server_streaming()) << t.name;
    EXPECT_NE(t.route->method->service()->full_name(), "genesis.bot.v1.BotWebhookService");
  }
  EXPECT_EQ(set.Find("llmrouter_StreamComplete"), nullptr);  // a server stream
  ASSERT_NE(set.Find("llmrouter_Complete"), nullptr);

  const mcp::Tool* search = set.Find("catalog_SearchItems");
  ASSERT_NE(search, nullptr);
  EXPECT_EQ(search->route->http_method, "GET");  // its GET binding: a read, as on REST
  EXPECT_EQ(search->annotations["readOnlyHint"], true);
  EXPECT_EQ(search->title, "Search items");
  EXPECT_NE(search->description.find("REST "), std::string::npos);
  const mcp::Tool* create = set.Find("catalog_CreateItem");
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(create->annotations["readOnlyHint"], false);
  EXPECT_EQ(create->annotations["destructiveHint"], false);
  EXPECT_EQ(create->annotations["idempotentHint"], true);  // request_id
  EXPECT_NE(create->description.find("Creates an item"), std::string::npos);
  EXPECT_EQ(create->output_schema["type"], "object");
  const mcp::Tool* remove = set.Find("catalog_DeleteItem");
  ASSERT_NE(remove, nullptr);
  EXPECT_EQ(remove->annotations["destructiveHint"], true);
}

TEST(McpToolsTest, TheAllowListNamesToolsMethodsServicesOrPackages) {
  mcp::ToolOptions options;
  options.allow = {"catalog_GetItem", "genesis.catalog.v1.CatalogService.SearchItems",
                   "genesis.llmrouter.v1"};
  mcp::ToolSet set = mcp::ToolSet::Build(TheMesh().routes, options);
  EXPECT_NE(set.Find("catalog_GetItem"), nullptr);
  EXPECT_NE(set.Find("catalog_SearchItems"), nullptr);
  EXPECT_NE(set.Find("llmrouter_Complete"), nullptr);
  EXPECT_EQ(set.Find("catalog_CreateItem"), nullptr);
  EXPECT_EQ(mcp::PackageShortName("genesis.catalog.v1"), "catalog");
  EXPECT_EQ(mcp::PackageShortName("acme.billing.v2"), "acme_billing");
}

TEST(McpProtocolTest, ParsesOneJsonRpcMessageAndRefusesTheRest) {
  auto request = mcp::ParseMessage(R"({"jsonrpc":"2.0","id":7,"method":"ping"})");
  ASSERT_TRUE(request.message);
  EXPECT_EQ(request.message->kind, mcp::Message::kRequest);
  EXPECT_EQ(request.message->id, 7);
  auto note = mcp::ParseMessage(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  ASSERT_TRUE(note.message);
  EXPECT_EQ(note.message->kind, mcp::Message::kNotification);
  auto response = mcp::ParseMessage(R"({"jsonrpc":"2.0","id":"a","result":{}})");
  ASSERT_TRUE(response.message);
  EXPECT_EQ(response.message->kind, mcp::Message::kResponse);

  EXPECT_EQ(mcp::ParseMessage("{").refusal.code, mcp::kParseError);
  EXPECT_EQ(mcp::ParseMessage(R"({"jsonrpc":"2.0","id":1,"id":2,"method":"ping"})").refusal.code,
            mcp::kParseError);  // a duplicate key
  EXPECT_EQ(mcp::ParseMessage(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])").refusal.code,
            mcp::kInvalidRequest);
  EXPECT_EQ(mcp::ParseMessage(R"({"jsonrpc":"1.0","id":1,"method":"ping"})").refusal.code,
            mcp::kInvalidRequest);
  EXPECT_EQ(mcp::ParseMessage(R"({"jsonrpc":"2.0","id":null,"method":"ping"})").refusal.code,
            mcp::kInvalidRequest);
  EXPECT_EQ(mcp::ParseMessage(R"({"jsonrpc":"2.0","id":1,"method":3})").refusal.code,
            mcp::kInvalidRequest);
  auto bad_params = mcp::ParseMessage(R"({"jsonrpc":"2.0","id":"x","method":"a","params":[1]})");
  EXPECT_EQ(bad_params.refusal.code, mcp::kInvalidRequest);
  EXPECT_EQ(bad_params.refusal.id, "x");
}

TEST(McpProtocolTest, HeadersAndVersions) {
  EXPECT_TRUE(mcp::AcceptsJsonAndEventStream("application/json, text/event-stream"));
  EXPECT_TRUE(mcp::AcceptsJsonAndEventStream("text/event-stream;q=0.9, application/json"));
  EXPECT_FALSE(mcp::AcceptsJsonAndEventStream("application/json"));
  EXPECT_FALSE(mcp::AcceptsJsonAndEventStream(""));
  EXPECT_TRUE(mcp::IsJsonContentType("application/json; charset=utf-8"));
  EXPECT_FALSE(mcp::IsJsonContentType("text/plain"));
  EXPECT_TRUE(mcp::IsLoopbackOrigin("http://localhost:3000"));
  EXPECT_TRUE(mcp::IsLoopbackOrigin("https://127.0.0.1"));
  EXPECT_TRUE(mcp::IsLoopbackOrigin("http://[::1]:8080"));
  EXPECT_FALSE(mcp::IsLoopbackOrigin("http://evil.example.com"));
  EXPECT_FALSE(mcp::IsLoopbackOrigin("http://localhost.evil.example.com"));
  EXPECT_FALSE(mcp::IsLoopbackOrigin("http://localhost:80@evil.example.com"));
  EXPECT_EQ(mcp::NegotiateProtocolVersion("2025-06-18"), "2025-06-18");
  EXPECT_EQ(mcp::NegotiateProtocolVersion("1999-01-01"), mcp::kLatestProtocolVersion);
}

TEST(McpSessionsTest, BoundToTheCredentialExpireAndAreBounded) {
  absl::Time now = absl::FromUnixSeconds(1000);
  mcp::SessionTable table(2, absl::Minutes(10), [&] { return now; });
  std::string a = table.Create("jwt:ana", "2025-11-25");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_TRUE(table.Touch(a, "jwt:ana"));
  EXPECT_FALSE(table.Touch(a, "jwt:bob"));  // another caller's session is unknown to it
  now += absl::Minutes(5);
  std::string b = table.Create("jwt:bob", "2025-11-25");
  now += absl::Minutes(1);
  EXPECT_TRUE(table.Touch(a, "jwt:ana"));
  std::string c = table.Create("jwt:cid", "2025-11-25");  // full: b, least recently used, goes
  EXPECT_EQ(table.size(), 2u);
  EXPECT_FALSE(table.Touch(b, "jwt:bob"));
  now += absl::Minutes(11);
  EXPECT_FALSE(table.Touch(a, "jwt:ana"));  // idle too long
  EXPECT_FALSE(table.Remove(c, "jwt:cid"));
}

class McpGatewayTest : public ::testing::Test {
 protected:
  McpGatewayTest()
      : jwt_(JwtOptions{kSecret, "", "", absl::Seconds(30), true}, Jwks()),
        auth_(&jwt_, nullptr),
        rbac_(*Rbac::Parse(R"({"roles": {"agent": {"catalog": "write"},
                                         "viewer": {"*": "read"}}})")) {}

  void Start(bool auth, size_t page_size = 50) {
    auto set = Transcoder::ReadDescriptorSet(GENESIS_DESCRIPTOR_SET);
    ASSERT_TRUE(set.ok()) << set.status();
    auto transcoder = Transcoder::Create(*set);
    ASSERT_TRUE(transcoder.ok()) << transcoder.status();
    auto routes = RouteTable::Build((*transcoder)->Services());
    ASSERT_TRUE(routes.ok()) << routes.status();
    GatewayOptions options;
    options.mcp.page_size = page_size;
    if (auth) {
      options.security.authenticator = &auth_;
      options.security.rbac = &rbac_;
    }
    gateway_ = std::make_unique<Gateway>(options, std::move(*transcoder), std::move(*routes),
                                         std::map<std::string, Backend*>{{kCatalog, &backend_}},
                                         &registry_, GatewayMetrics::Register(&registry_));
  }

  std::string Token(const std::vector<std::string>& roles) {
    return SignHs256(DevTokenPayload("bob", roles, absl::Minutes(5), absl::Now()), kSecret);
  }

  HttpResponse Post(const json& message, std::map<std::string, std::string> headers = {}) {
    headers.emplace("content-type", "application/json");
    headers.emplace("accept", kAccept);
    if (!session_.empty()) headers.emplace("mcp-session-id", session_);
    if (!token_.empty()) headers.emplace("authorization", "Bearer " + token_);
    return Serve("POST", message.dump(), std::move(headers));
  }
  HttpResponse Serve(std::string method, std::string body,
                     std::map<std::string, std::string> headers) {
    HttpResponse out;
    gateway_->Handle({std::move(method), "/mcp", std::move(body), std::move(headers)},
                     [&](HttpResponse r) { out = std::move(r); });
    return out;
  }
  static std::string HeaderOf(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }
  // initialize + notifications/initialized; keeps the session id.
  json Initialize() {
    HttpResponse r = Post({{"jsonrpc", "2.0"},
                           {"id", 1},
                           {"method", "initialize"},
                           {"params",
                            {{"protocolVersion", "2025-11-25"},
                             {"capabilities", json::object()},
                             {"clientInfo", {{"name", "test"}, {"version", "1"}}}}}});
    EXPECT_EQ(r.status, 200) << r.body;
    session_ = HeaderOf(r, "mcp-session-id");
    EXPECT_FALSE(session_.empty());
    HttpResponse n = Post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
    EXPECT_EQ(n.status, 202) << n.body;
    return json::parse(r.body);
  }
  json Call(const std::string& tool, const json& arguments) {
    HttpResponse r = Post({{"jsonrpc", "2.0"},
                           {"id", "c1"},
                           {"method", "tools/call"},
                           {"params", {{"name", tool}, {"arguments", arguments}}}});
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  JwtVerifier jwt_;
  Authenticator auth_;
  Rbac rbac_;
  testing::FakeBackend backend_;
  MetricsRegistry registry_;
  std::unique_ptr<Gateway> gateway_;
  std::string session_, token_;
};

TEST_F(McpGatewayTest, InitializeNegotiatesAndListsEveryToolPageByPage) {
  Start(/*auth=*/false, /*page_size=*/7);
  json init = Initialize();
  EXPECT_EQ(init["result"]["protocolVersion"], "2025-11-25");
  EXPECT_EQ(init["result"]["capabilities"]["tools"]["listChanged"], false);
  EXPECT_EQ(init["result"]["serverInfo"]["name"], "genesis-gateway");
  std::set<std::string> names;
  std::string cursor;
  int pages = 0;
  do {
    json params = json::object();
    if (!cursor.empty()) params["cursor"] = cursor;
    HttpResponse r =
        Post({{"jsonrpc", "2.0"}, {"id", pages}, {"method", "tools/list"}, {"params", params}});
    ASSERT_EQ(r.status, 200) << r.body;
    json page = json::parse(r.body)["result"];
    EXPECT_LE(page["tools"].size(), 7u);
    for (const auto& t : page["tools"]) {
      EXPECT_TRUE(names.insert(t["name"].get<std::string>()).second) << t["name"];
      EXPECT_TRUE(t.contains("inputSchema"));
    }
    cursor = page.value("nextCursor", "");
    ++pages;
  } while (!cursor.empty() && pages < 100);
  EXPECT_GT(pages, 2);
  EXPECT_TRUE(names.contains("catalog_CreateItem"));
  EXPECT_TRUE(names.contains("llmrouter_Complete"));

  HttpResponse ping = Post({{"jsonrpc", "2.0"}, {"id", 9}, {"method", "ping"}});
  EXPECT_EQ(json::parse(ping.body),
            json({{"jsonrpc", "2.0"}, {"id", 9}, {"result", json::object()}}));
  HttpResponse other = Post({{"jsonrpc", "2.0"}, {"id", 10}, {"method", "resources/list"}});
  EXPECT_EQ(json::parse(other.body)["error"]["code"], mcp::kMethodNotFound);
}

TEST_F(McpGatewayTest, ToolsCallReturnsTheResponseAsStructuredContent) {
  Start(false);
  Initialize();
  genesis::catalog::v1::Item item;
  item.set_name("items/42");
  item.set_title("Casa");
  backend_.replies["/genesis.catalog.v1.CatalogService/CreateItem"] = {grpc::Status::OK,
                                                                       item.SerializeAsString()};
  json r = Call("catalog_CreateItem",
                {{"item", {{"type", "lead"}, {"title", "Casa"}}}, {"requestId", "r-1"}});
  EXPECT_EQ(r["id"], "c1");
  EXPECT_EQ(r["result"]["isError"], false);
  EXPECT_EQ(r["result"]["structuredContent"]["name"], "items/42");
  EXPECT_EQ(json::parse(r["result"]["content"][0]["text"].get<std::string>()),
            r["result"]["structuredContent"]);
  genesis::catalog::v1::CreateItemRequest sent;
  ASSERT_TRUE(sent.ParseFromString(backend_.last_request));
  EXPECT_EQ(sent.item().title(), "Casa");
  EXPECT_EQ(sent.request_id(), "r-1");
  EXPECT_EQ(backend_.MetadataValue("x-request-id").empty(), false);
}

TEST_F(McpGatewayTest, ErrorsAreToolResultsAndProtocolErrorsAreJsonRpcErrors) {
  Start(false);
  Initialize();
  // A field the request does not have: refused before any backend call.
  json unknown = Call("catalog_CreateItem", {{"item", {{"colour", "red"}}}});
  EXPECT_EQ(unknown["result"]["isError"], true);
  EXPECT_NE(unknown["result"]["content"][0]["text"].get<std::string>().find("INVALID_ARGUMENT"),
            std::string::npos);
  EXPECT_NE(unknown["result"]["content"][0]["text"].get<std::string>().find("colour"),
            std::string::npos)
      << unknown.dump();
  EXPECT_EQ(backend_.calls, 0);
  // The backend's status message and field violations.
  backend_.replies["/genesis.catalog.v1.CatalogService/CreateItem"] = {
      ToGrpcStatus(InvalidField("item.title", "is required")), ""};
  json invalid = Call("catalog_CreateItem", {{"item", {{"type", "lead"}}}});
  EXPECT_EQ(invalid["result"]["isError"], true);
  const std::string text = invalid["result"]["content"][0]["text"];
  EXPECT_NE(text.find("INVALID_ARGUMENT"), std::string::npos) << text;
  EXPECT_NE(text.find("- item.title: is required"), std::string::npos) << text;

  json no_tool = Call("catalog_Nope", json::object());
  EXPECT_EQ(no_tool["error"]["code"], mcp::kInvalidParams);
  json bad_args = Call("catalog_GetItem", json::array({1}));
  EXPECT_EQ(bad_args["error"]["code"], mcp::kInvalidParams);

  HttpResponse parse = Serve(
      "POST", "{nope",
      {{"content-type", "application/json"}, {"accept", kAccept}, {"mcp-session-id", session_}});
  EXPECT_EQ(parse.status, 400);
  EXPECT_EQ(json::parse(parse.body)["error"]["code"], mcp::kParseError);
}

TEST_F(McpGatewayTest, TransportRules) {
  Start(false);
  // Everything but initialize needs a session; an unknown one is 404.
  HttpResponse no_session = Post({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/list"}});
  EXPECT_EQ(no_session.status, 400);
  session_ = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(Post({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}}).status, 404);
  session_.clear();
  Initialize();
  EXPECT_EQ(
      Post({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}}, {{"accept", "application/json"}})
          .status,
      406);
  EXPECT_EQ(Post({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}},
                 {{"mcp-protocol-version", "1999-01-01"}})
                .status,
            400);
  EXPECT_EQ(Post({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}},
                 {{"origin", "http://evil.example.com"}})
                .status,
            403);
  EXPECT_EQ(Post({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}},
                 {{"origin", "http://localhost:6274"}})
                .status,
            200);
  HttpResponse get = Serve("GET", "", {{"accept", "text/event-stream"}});
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(HeaderOf(get, "allow"), "POST, DELETE");
  EXPECT_EQ(Serve("DELETE", "", {{"mcp-session-id", session_}}).status, 204);
  EXPECT_EQ(Post({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}}).status, 404);
}

TEST_F(McpGatewayTest, SameAuthenticationAndRbacAsRest) {
  Start(/*auth=*/true, /*page_size=*/1000);
  // No credential: 401 with the Bearer challenge, as on REST.
  HttpResponse anonymous = Post({{"jsonrpc", "2.0"},
                                 {"id", 1},
                                 {"method", "initialize"},
                                 {"params", {{"protocolVersion", "2025-11-25"}}}});
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(HeaderOf(anonymous, "www-authenticate"), R"(Bearer realm="genesis")");

  token_ = Token({"viewer"});
  Initialize();
  HttpResponse list = Post({{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}});
  std::set<std::string> names;
  const json listed = json::parse(list.body);  // outlives the loop over its tools
  for (const auto& t : listed["result"]["tools"]) names.insert(t["name"].get<std::string>());
  EXPECT_TRUE(names.contains("catalog_GetItem")) << absl::StrJoin(names, " ");
  EXPECT_FALSE(names.contains("catalog_CreateItem"));  // a viewer only reads
  json denied = Call("catalog_CreateItem", {{"item", {{"type", "lead"}, {"title", "x"}}}});
  EXPECT_EQ(denied["result"]["isError"], true);
  EXPECT_NE(denied["result"]["content"][0]["text"].get<std::string>().find("PERMISSION_DENIED"),
            std::string::npos);
  EXPECT_EQ(backend_.calls, 0);

  // A session belongs to its credential.
  token_ = Token({"agent"});
  EXPECT_EQ(Post({{"jsonrpc", "2.0"}, {"id", 3}, {"method", "ping"}}).status, 200);  // same sub
  token_ = SignHs256(DevTokenPayload("eve", {"agent"}, absl::Minutes(5), absl::Now()), kSecret);
  EXPECT_EQ(Post({{"jsonrpc", "2.0"}, {"id", 4}, {"method", "ping"}}).status, 404);
}

}  // namespace
}  // namespace genesis::gateway
