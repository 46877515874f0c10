#include "gateway/docs/openapi.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
  // Templates: {name=shelves/*} becomes the path parameter `name` with its pattern.
  const json& get = doc["paths"]["/v1/shelves/{name}"]["get"];
  EXPECT_EQ(get["operationId"], "genesis.gwtest.v1.LibraryService.GetShelf");
  ASSERT_EQ(get["parameters"].size(), 1u);
  EXPECT_EQ(get["parameters"][0]["in"], "path");
  EXPECT_EQ(get["parameters"][0]["name"], "name");
  EXPECT_TRUE(get["parameters"][0]["required"].get<bool>());
  EXPECT_NE(get["parameters"][0]["description"].get<std::string>().find("shelves/*"),
            std::string::npos);
  EXPECT_EQ(get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/genesis.gwtest.v1.Shelf");
  EXPECT_EQ(get["responses"]["default"]["$ref"], "#/components/responses/Error");
}

TEST_F(OpenApiTest, MultiSegmentPatternsGetOneParameterPerWildcard) {
  json doc = Build();
  const json& put = doc["paths"]["/v1/shelves/{name_1}/books/{name_2}/tags"]["put"];
  ASSERT_TRUE(put.is_object()) << doc["paths"].dump();
  EXPECT_EQ(put["parameters"][0]["name"], "name_1");
  EXPECT_EQ(put["parameters"][1]["name"], "name_2");
  const json& file = doc["paths"]["/v1/files/{path}"]["get"];
  EXPECT_NE(file["parameters"][0]["description"].get<std::string>().find("slashes"),
            std::string::npos);
}

TEST_F(OpenApiTest, SummaryAndDescriptionFromProtoComments) {
  json doc = Build();
  const json& get = doc["paths"]["/v1/shelves/{name}"]["get"];
  EXPECT_EQ(get["summary"], "Returns one shelf.");
  EXPECT_EQ(get["description"], "Returns one shelf.\nShelves are named shelves/{id}.");
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

}  // namespace
}  // namespace genesis::gateway
