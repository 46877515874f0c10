#include "gateway/docs/openapi.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <google/protobuf/dynamic_message.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gateway/gateway.h"
#include "gateway/tests/test_util.h"

namespace genesis::gateway {
namespace {

using nlohmann::json;

class OpenApiTest : public ::testing::Test {
 protected:
  OpenApiTest()
      : transcoder_(testing::LoadTestTranscoder()),
        routes_(testing::LoadTestRoutes(*transcoder_)) {}

  json Build(bool auth = true) {
    OpenApiOptions options;
    options.auth = auth;
    options.public_services = {"genesis.gwtest.v1.HookWebhookService"};
    std::string text = BuildOpenApi(routes_, options);
    json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(doc.is_discarded()) << text.substr(0, 300);
    return doc;
  }

  static const json& Schema(const json& doc, const std::string& name) {
    return doc["components"]["schemas"][name];
  }

  std::unique_ptr<Transcoder> transcoder_;
  RouteTable routes_;
};

TEST_F(OpenApiTest, ListsEveryRouteWithItsOperationId) {
  json doc = Build();
  EXPECT_EQ(doc["openapi"], "3.0.3");
  std::set<std::string> ids;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [verb, op] : ops.items()) ids.insert(op["operationId"].get<std::string>());
  }
  ASSERT_FALSE(routes_.routes().empty());
  for (const auto& r : routes_.routes()) {
    EXPECT_TRUE(ids.contains(r->method->full_name())) << r->label;
  }
  // Templates: {name=shelves/*} becomes the path parameter `shelf`, which sets `name`.
  const json& get = doc["paths"]["/v1/shelves/{shelf}"]["get"];
  EXPECT_EQ(get["operationId"], "genesis.gwtest.v1.LibraryService.GetShelf");
  ASSERT_EQ(get["parameters"].size(), 1u);
  EXPECT_EQ(get["parameters"][0]["in"], "path");
  EXPECT_EQ(get["parameters"][0]["name"], "shelf");
  EXPECT_TRUE(get["parameters"][0]["required"].get<bool>());
  EXPECT_EQ(get["parameters"][0]["description"],
            "Sets `name` to the resource name `shelves/{shelf}`.");
  EXPECT_EQ(get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/genesis.gwtest.v1.Shelf");
  EXPECT_EQ(get["responses"]["default"]["$ref"], "#/components/responses/Error");
  EXPECT_EQ(doc["servers"][0]["url"], "/");
}

TEST_F(OpenApiTest, DocumentsEveryErrorStatusTheRouteMayAnswer) {
  json doc = Build();
  const json& get = doc["paths"]["/v1/shelves/{shelf}"]["get"];
  for (const char* code : {"400", "401", "403", "404", "429", "503"}) {
    EXPECT_TRUE(get["responses"].contains(code)) << code;
  }
  EXPECT_FALSE(get["responses"].contains("413"));  // no body
  const json& create = doc["paths"]["/v1/shelves/{shelf}/books"]["post"];
  EXPECT_EQ(create["responses"]["413"]["$ref"], "#/components/responses/PayloadTooLarge");
  const json& responses = doc["components"]["responses"];
  EXPECT_EQ(responses["BadRequest"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/BadRequestStatus");
  EXPECT_TRUE(Schema(doc, "google.rpc.BadRequest")["properties"].contains("fieldViolations"));
  EXPECT_TRUE(responses["TooManyRequests"]["headers"].contains("Retry-After"));
  EXPECT_TRUE(responses["TooManyRequests"]["headers"].contains("RateLimit-Remaining"));
  EXPECT_TRUE(responses["Unauthorized"]["headers"].contains("WWW-Authenticate"));
  // Public routes (webhooks) need no credentials and so never answer 401/403.
  const json& hook = doc["paths"]["/v1/hooks/{channel}"]["get"];
  EXPECT_EQ(hook["security"], json::array()) << hook.dump();
  EXPECT_FALSE(hook["responses"].contains("401"));
  EXPECT_EQ(doc["paths"]["/healthz"]["get"]["security"], json::array());
}

TEST_F(OpenApiTest, OpenAiFrontDoorAndServerUrl) {
  OpenApiOptions options;
  options.server_url = "https://api.example.com";
  json doc = json::parse(BuildOpenApi(routes_, options));
  EXPECT_EQ(doc["servers"][0]["url"], "https://api.example.com");
  EXPECT_EQ(doc["paths"]["/v1/chat/completions"]["post"]["operationId"],
            "openai.CreateChatCompletion");
  EXPECT_EQ(doc["paths"]["/v1/models"]["get"]["operationId"], "openai.ListModels");
  options.openai = false;
  doc = json::parse(BuildOpenApi(routes_, options));
  EXPECT_FALSE(doc["paths"].contains("/v1/chat/completions"));
}

TEST_F(OpenApiTest, MultiSegmentPatternsNameEachWildcardAfterItsCollection) {
  json doc = Build();
  const json& put = doc["paths"]["/v1/shelves/{shelf}/books/{book}/tags"]["put"];
  ASSERT_TRUE(put.is_object()) << doc["paths"].dump();
  EXPECT_EQ(put["parameters"][0]["name"], "shelf");
  EXPECT_EQ(put["parameters"][1]["name"], "book");
  // A variable that is a whole segment keeps its field's name.
  const json& file = doc["paths"]["/v1/files/{path}"]["get"];
  EXPECT_EQ(file["parameters"][0]["name"], "path");
  EXPECT_NE(file["parameters"][0]["description"].get<std::string>().find("slashes"),
            std::string::npos);
  EXPECT_TRUE(doc["paths"]["/v1/hooks/{channel}"]["get"].is_object());
}

TEST(PathParameterNameTest, SingularOfTheCollectionElseTheField) {
  EXPECT_EQ(PathParameterName("bots", "name"), "bot");
  EXPECT_EQ(PathParameterName("conversations", "name"), "conversation");
  EXPECT_EQ(PathParameterName("inboxEntries", "parent"), "inboxEntry");
  EXPECT_EQ(PathParameterName("cases", "name"), "case");
  EXPECT_EQ(PathParameterName("shelves", "name"), "shelf");
  EXPECT_EQ(PathParameterName("addresses", "name"), "address");
  EXPECT_EQ(PathParameterName("", "item.name"), "name");
  EXPECT_EQ(PathParameterName("", "bot"), "bot");
}

// Two path items a client cannot tell apart (same URL shape, other parameter
// names) are one path item holding all its methods.
TEST_F(OpenApiTest, OnePathItemPerUrlShape) {
  json doc = Build();
  std::map<std::string, std::string> shapes;
  for (const auto& [path, ops] : doc["paths"].items()) {
    std::string shape;
    for (size_t i = 0; i < path.size(); ++i) {
      if (path[i] == '{') {
        shape += "{}";
        i = path.find('}', i);
      } else {
        shape += path[i];
      }
    }
    auto [it, fresh] = shapes.emplace(shape, path);
    EXPECT_TRUE(fresh) << path << " and " << it->second;
  }
}

// A client fills the document's path parameters; the gateway must bind each
// value into the field the parameter's description names.
TEST_F(OpenApiTest, NestedPathParametersLandInTheirFields) {
  json doc = Build();
  const json& put = doc["paths"]["/v1/shelves/{shelf}/books/{book}/tags"]["put"];
  ASSERT_TRUE(put.is_object());
  auto found = routes_.Find("PUT", "/v1/shelves/s1/books/b2/tags");
  ASSERT_EQ(found.kind, RouteTable::Lookup::kFound);
  EXPECT_EQ(found.route->method->full_name(), put["operationId"]);
  auto bytes = transcoder_->BuildRequest(*found.route, found.bindings, "", R"(["x"])");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  google::protobuf::DynamicMessageFactory factory(&transcoder_->pool());
  std::unique_ptr<google::protobuf::Message> msg(
      factory.GetPrototype(found.route->method->input_type())->New());
  ASSERT_TRUE(msg->ParseFromString(*bytes));
  const auto* name = msg->GetDescriptor()->FindFieldByName("name");
  EXPECT_EQ(msg->GetReflection()->GetString(*msg, name), "shelves/s1/books/b2");

  // Every documented operation is reached by its own path, parameters filled in.
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [verb, op] : ops.items()) {
      const std::string id = op["operationId"];
      if (!absl::StartsWith(id, "genesis.")) continue;  // the gateway's own, OpenAI
      std::string target;
      int k = 0;
      for (size_t i = 0; i < path.size(); ++i) {
        if (path[i] == '{') {
          target += "v" + std::to_string(++k);
          i = path.find('}', i);
        } else {
          target += path[i];
        }
      }
      auto hit = routes_.Find(absl::AsciiStrToUpper(verb), target);
      ASSERT_EQ(hit.kind, RouteTable::Lookup::kFound) << verb << " " << target;
      EXPECT_TRUE(absl::StartsWith(id, hit.route->method->full_name())) << id;
    }
  }
}

TEST_F(OpenApiTest, SummaryAndDescriptionFromProtoComments) {
  json doc = Build();
  const json& get = doc["paths"]["/v1/shelves/{shelf}"]["get"];
  EXPECT_EQ(get["summary"], "Returns one shelf.");
  EXPECT_EQ(get["description"],
            "Returns one shelf.\nShelves are named shelves/{id}.\n\n"
            "gRPC: `genesis.gwtest.v1.LibraryService.GetShelf`.");
  // One tag per service, described.
  ASSERT_TRUE(doc["tags"].is_array());
  EXPECT_EQ(doc["tags"][0]["name"], "genesis.gwtest.v1.LibraryService");
  EXPECT_FALSE(doc["tags"][0]["description"].get<std::string>().empty());
}

TEST_F(OpenApiTest, SchemasFollowTheProto3JsonMapping) {
  json doc = Build();
  const json& book = Schema(doc, "genesis.gwtest.v1.Book")["properties"];
  EXPECT_EQ(book["pageCount"]["type"], "string");  // int64
  EXPECT_EQ(book["genre"]["type"], "string");
  EXPECT_TRUE(book["genre"]["enum"].is_array());
  EXPECT_EQ(book["tags"]["type"], "array");
  EXPECT_EQ(book["publishTime"]["format"], "date-time");
  EXPECT_EQ(book["labels"]["additionalProperties"]["type"], "string");
  EXPECT_EQ(book["author"]["$ref"], "#/components/schemas/genesis.gwtest.v1.Author");
  EXPECT_TRUE(Schema(doc, "google.rpc.Status").contains("properties"));
  EXPECT_EQ(
      doc["components"]["responses"]["Error"]["content"]["application/json"]["schema"]["$ref"],
      "#/components/schemas/google.rpc.Status");
}

TEST_F(OpenApiTest, BodiesQueryParametersAndStreams) {
  json doc = Build();
  bool saw_body = false, saw_query = false, saw_stream = false;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [verb, op] : ops.items()) {
      saw_body |= op.contains("requestBody");
      for (const auto& p : op.value("parameters", json::array())) saw_query |= p["in"] == "query";
      saw_stream |= op["responses"]["200"]["content"].contains("text/event-stream");
    }
  }
  EXPECT_TRUE(saw_body);
  EXPECT_TRUE(saw_query);
  EXPECT_TRUE(saw_stream);
  // A message field's scalars are query parameters by their dotted paths.
  std::set<std::string> query;
  for (const auto& p : doc["paths"]["/v1/shelves/{shelf}/books"]["get"]["parameters"]) {
    if (p["in"] == "query") query.insert(p["name"].get<std::string>());
  }
  EXPECT_TRUE(query.contains("author.address.city")) << doc["paths"].dump().substr(0, 300);
  EXPECT_TRUE(query.contains("author.displayName"));
}

TEST_F(OpenApiTest, SecuritySchemesOnlyWithAuth) {
  json doc = Build(/*auth=*/true);
  EXPECT_EQ(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
  EXPECT_EQ(doc["components"]["securitySchemes"]["apiKey"]["name"], "X-Api-Key");
  EXPECT_EQ(doc["security"].size(), 2u);
  json open = Build(/*auth=*/false);
  EXPECT_FALSE(open["components"].contains("securitySchemes"));
  EXPECT_FALSE(open.contains("security"));
}

// The project's own contracts: nested resources get parameters named after
// their collections, and the values a client puts there reach the right field.
TEST(OpenApiProjectTest, BotConversationParametersLandInTheName) {
  auto set = Transcoder::ReadDescriptorSet(GENESIS_DESCRIPTOR_SET);
  ASSERT_TRUE(set.ok()) << set.status();
  auto transcoder = Transcoder::Create(*set, {});
  ASSERT_TRUE(transcoder.ok()) << transcoder.status();
  auto routes = RouteTable::Build((*transcoder)->Services());
  ASSERT_TRUE(routes.ok()) << routes.status();
  OpenApiOptions options;
  options.public_services = DefaultPublicServices();
  json doc = json::parse(BuildOpenApi(*routes, options));
  const json& claim = doc["paths"]["/v1/bots/{bot}/conversations/{conversation}:claim"]["post"];
  ASSERT_TRUE(claim.is_object()) << doc["paths"].dump().substr(0, 2000);
  EXPECT_EQ(claim["parameters"][0]["name"], "bot");
  EXPECT_EQ(claim["parameters"][1]["name"], "conversation");
  // GET and DELETE (`name`) and PATCH (`item.name`) share one path item.
  const json& item = doc["paths"]["/v1/items/{item}"];
  EXPECT_TRUE(item.contains("get") && item.contains("delete") && item.contains("patch"))
      << item.dump().substr(0, 500);
  EXPECT_TRUE(item["patch"]["responses"].contains("409"));  // the item carries an etag
  EXPECT_TRUE(doc["paths"].contains("/v1/subjects/{subject}/settings"));
  EXPECT_EQ(doc["paths"]["/v1/webhooks/telegram/{bot}"]["post"]["security"], json::array());

  auto found = routes->Find("POST", "/v1/bots/b1/conversations/c2:claim");
  ASSERT_EQ(found.kind, RouteTable::Lookup::kFound);
  EXPECT_EQ(found.route->method->full_name(), claim["operationId"]);
  auto bytes = (*transcoder)->BuildRequest(*found.route, found.bindings, "", "{}");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  google::protobuf::DynamicMessageFactory factory(&(*transcoder)->pool());
  std::unique_ptr<google::protobuf::Message> msg(
      factory.GetPrototype(found.route->method->input_type())->New());
  ASSERT_TRUE(msg->ParseFromString(*bytes));
  const auto* name = msg->GetDescriptor()->FindFieldByName("name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(msg->GetReflection()->GetString(*msg, name), "bots/b1/conversations/c2");
}

// The contracts' field behaviours (AIP-203) and `Example:` comment lines
// become `required`, `readOnly`, an "Immutable" note and `example`.
TEST(OpenApiProjectTest, FieldBehavioursAndExamplesFromTheContracts) {
  auto set = Transcoder::ReadDescriptorSet(GENESIS_DESCRIPTOR_SET);
  ASSERT_TRUE(set.ok()) << set.status();
  auto transcoder = Transcoder::Create(*set, {});
  ASSERT_TRUE(transcoder.ok()) << transcoder.status();
  auto routes = RouteTable::Build((*transcoder)->Services());
  ASSERT_TRUE(routes.ok()) << routes.status();
  OpenApiOptions options;
  options.public_services = DefaultPublicServices();
  json doc = json::parse(BuildOpenApi(*routes, options));
  const json& schemas = doc["components"]["schemas"];

  const json& item = schemas["genesis.catalog.v1.Item"];
  EXPECT_EQ(item["required"], json({"type", "title"}));
  EXPECT_EQ(item["properties"]["createTime"]["readOnly"], true);
  EXPECT_FALSE(item["properties"]["title"].contains("readOnly"));
  EXPECT_EQ(item["properties"]["title"]["example"], "Apartamento na praia");
  EXPECT_EQ(item["properties"]["attributes"]["example"]["city"], "Recife");
  EXPECT_FALSE(
      absl::StrContains(item["properties"]["title"]["description"].get<std::string>(), "Example"));
  EXPECT_TRUE(
      absl::StrContains(item["properties"]["type"]["description"].get<std::string>(), "Immutable"));
  // A message field that is output only: the $ref is wrapped to carry readOnly.
  const json& kase = schemas["genesis.reasoning.v1.Case"];
  EXPECT_EQ(kase["properties"]["hypotheses"]["readOnly"], true);
  // 64-bit integers are strings, their examples too.
  EXPECT_EQ(schemas["genesis.llmrouter.v1.Budget"]["properties"]["tokenLimit"]["example"],
            "2000000");

  // Create takes the resource with its required fields; update, a partial one.
  auto body_ref = [&](const std::string& path, const std::string& verb) {
    return doc["paths"][path][verb]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .get<std::string>();
  };
  EXPECT_EQ(body_ref("/v1/items", "post"), "#/components/schemas/genesis.catalog.v1.Item");
  EXPECT_EQ(body_ref("/v1/items/{item}", "patch"),
            "#/components/schemas/genesis.catalog.v1.Item.partial");
  EXPECT_FALSE(schemas["genesis.catalog.v1.Item.partial"].contains("required"));
  // A `body: "*"` route: the body is the request without what the path sets.
  EXPECT_EQ(body_ref("/v1/bots/{bot}/conversations/{conversation}:reply", "post"),
            "#/components/schemas/genesis.bot.v1.ReplyToConversationRequest.body");
  const json& reply = schemas["genesis.bot.v1.ReplyToConversationRequest.body"];
  EXPECT_FALSE(reply["properties"].contains("name"));
  EXPECT_EQ(reply["required"], json({"text"}));

  // A REQUIRED request field in the query is a required parameter.
  bool found = false;
  for (const json& p : doc["paths"]["/v1/items:search"]["get"]["parameters"]) {
    if (p["name"] != "query") continue;
    found = true;
    EXPECT_EQ(p["required"], true);
    EXPECT_EQ(p["example"], "praia varanda -aluguel");
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace genesis::gateway
