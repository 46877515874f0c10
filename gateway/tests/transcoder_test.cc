#include "gateway/routing/transcoder.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/base/status.h"
#include "gateway/gateway.h"
#include "gateway/http/errors.h"
#include "gateway/tests/test_util.h"
#include "google/rpc/error_details.pb.h"

namespace genesis::gateway {
namespace {

using nlohmann::json;

class TranscoderTest : public ::testing::Test {
 protected:
  // The request built for `method path`, as JSON with proto field names.
  absl::StatusOr<json> Request(const std::string& method, const std::string& target,
                               const std::string& body = "") {
    auto [path, query] = std::pair<std::string, std::string>(
        target.substr(0, target.find('?')),
        target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1));
    auto found = routes_.Find(method, path);
    EXPECT_EQ(found.kind, RouteTable::Lookup::kFound) << method << " " << path;
    if (found.kind != RouteTable::Lookup::kFound) return absl::NotFoundError(path);
    auto bytes = transcoder_->BuildRequest(*found.route, found.bindings, query, body);
    if (!bytes.ok()) return bytes.status();
    google::protobuf::DynamicMessageFactory factory(&transcoder_->pool());
    std::unique_ptr<google::protobuf::Message> msg(
        factory.GetPrototype(found.route->method->input_type())->New());
    EXPECT_TRUE(msg->ParseFromString(*bytes));
    std::string out;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(*msg, &out, print).ok());
    return json::parse(out);
  }

  // The single field violation of `st` as "field: description".
  static std::string Violation(const absl::Status& st) {
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
    auto v = FieldViolationsOf(st);
    EXPECT_EQ(v.size(), 1u) << st;
    return v.empty() ? "" : v[0].first + ": " + v[0].second;
  }

  std::unique_ptr<Transcoder> transcoder_ = testing::LoadTestTranscoder();
  RouteTable routes_ = testing::LoadTestRoutes(*transcoder_);
};

TEST_F(TranscoderTest, PathVariableAndSingleFieldBody) {
  auto r =
      Request("POST", "/v1/shelves/1/books?request_id=r1",
              R"({"title": "Dune", "page_count": "412", "inPrint": true, "genre": "GENRE_FICTION",
                       "author": {"displayName": "Frank"}, "labels": {"k": "v"}})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, json::parse(R"({"parent": "shelves/1", "request_id": "r1",
    "book": {"title": "Dune", "page_count": "412", "in_print": true, "genre": "GENRE_FICTION",
             "author": {"display_name": "Frank"}, "labels": {"k": "v"}}})"));
}

TEST_F(TranscoderTest, EmptyBodyIsAnEmptyMessage) {
  auto r = Request("POST", "/v1/shelves/1/books", "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, json::parse(R"({"parent": "shelves/1", "book": {}})"));
}

TEST_F(TranscoderTest, NestedPathVariableOverridesTheBody) {
  auto r = Request("PATCH", "/v1/shelves/1/books/2?update_mask=title,pageCount",
                   R"({"name": "shelves/9/books/9", "title": "New"})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, json::parse(R"({"book": {"name": "shelves/1/books/2", "title": "New"},
                               "update_mask": "title,pageCount"})"));
}

TEST_F(TranscoderTest, WholeBodyAndItsGetBinding) {
  auto post = Request("POST", "/v1/books:search", R"({"query": "dune", "pageSize": 5})");
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(*post, json::parse(R"({"query": "dune", "page_size": 5})"));
  auto get = Request("GET", "/v1/books:search?query=dune%20messiah&page_size=5");
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(*get, json::parse(R"({"query": "dune messiah", "page_size": 5})"));
}

TEST_F(TranscoderTest, QueryParametersOfEveryKind) {
  auto r = Request("GET",
                   "/v1/shelves/1/books?pageSize=10&genres=GENRE_FICTION&genres=2&ids=1&ids=-9"
                   "&author.address.city=Recife&author.displayName=Ana&show_deleted=true"
                   "&min_pages=18446744073709551615&min_rating=4.5&token=aGk&after="
                   "2026-01-31T12:00:00Z");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, json::parse(R"({"parent": "shelves/1", "page_size": 10,
    "genres": ["GENRE_FICTION", "GENRE_SCIENCE"], "ids": ["1", "-9"],
    "author": {"display_name": "Ana", "address": {"city": "Recife"}}, "show_deleted": true,
    "min_pages": "18446744073709551615", "min_rating": 4.5, "token": "aGk=",
    "after": "2026-01-31T12:00:00Z"})"));
}

TEST_F(TranscoderTest, UnknownQueryParameterIsNamed) {
  auto r = Request("GET", "/v1/shelves/1/books?page_size=1&bogus=1");
  EXPECT_EQ(Violation(r.status()), "bogus: unknown query parameter");
  EXPECT_EQ(Violation(Request("GET", "/v1/shelves/1/books?labels.k=v").status()),
            "labels.k: unknown query parameter");
}

TEST_F(TranscoderTest, UnknownQueryParameterCanBeIgnored) {
  TranscoderOptions options;
  options.ignore_unknown_query_parameters = true;
  transcoder_ = testing::LoadTestTranscoder(options);
  routes_ = testing::LoadTestRoutes(*transcoder_);
  auto r = Request("GET", "/v1/shelves/1/books?page_size=1&bogus=1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, json::parse(R"({"parent": "shelves/1", "page_size": 1})"));
}

TEST_F(TranscoderTest, BadQueryValuesAreNamed) {
  EXPECT_EQ(Violation(Request("GET", "/v1/shelves/1/books?page_size=ten").status()),
            "page_size: invalid int32 'ten'");
  EXPECT_EQ(Violation(Request("GET", "/v1/shelves/1/books?page_size=99999999999").status()),
            "page_size: invalid int32 '99999999999'");
  EXPECT_EQ(Violation(Request("GET", "/v1/shelves/1/books?genres=HORROR").status()),
            "genres: invalid Genre value 'HORROR'");
  EXPECT_EQ(Violation(Request("GET", "/v1/shelves/1/books?show_deleted=yes").status()),
            "show_deleted: invalid bool (true or false) 'yes'");
  EXPECT_EQ(Violation(Request("GET", "/v1/shelves/1/books?after=yesterday").status()),
            "after: invalid Timestamp 'yesterday'");
  EXPECT_EQ(Violation(Request("GET", "/v1/shelves/1/books?page_size=1&page_size=2").status()),
            "page_size: given more than once for a non-repeated field");
  EXPECT_EQ(Violation(Request("GET", "/v1/shelves/1/books?author=x").status()),
            "author: cannot be set from a path or query parameter");
  EXPECT_EQ(Request("GET", "/v1/shelves/1/books?a=%zz").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TranscoderTest, QueryMayNotSetPathOrBodyFields) {
  EXPECT_EQ(Violation(Request("GET", "/v1/shelves/1/books?parent=shelves/2").status()),
            "parent: set by the URL path, not a query parameter");
  EXPECT_EQ(Violation(Request("POST", "/v1/shelves/1/books?book.title=x", "{}").status()),
            "book.title: set by the request body, not a query parameter");
  EXPECT_EQ(Violation(Request("POST", "/v1/books:search?page_size=1", "{}").status()),
            "page_size: unknown query parameter (the body holds the whole request)");
}

TEST_F(TranscoderTest, BodyErrorsNameTheField) {
  EXPECT_EQ(Violation(Request("POST", "/v1/shelves/1/books", R"({"title": 5})").status()),
            "book.title: invalid value 5 for type TYPE_STRING");
  EXPECT_EQ(Violation(Request("POST", "/v1/shelves/1/books", R"({"nope": 5})").status()),
            "book.nope: unknown field");
  EXPECT_EQ(
      Violation(Request("POST", "/v1/shelves/1/books", R"({"author": {"nope": 1}})").status()),
      "book.author.nope: unknown field");
  EXPECT_EQ(
      Violation(Request("POST", "/v1/shelves/1/books", R"({"genre": "GENRE_NOPE"})").status()),
      "book.genre: invalid value \"GENRE_NOPE\" for type "
      "type.googleapis.com/genesis.gwtest.v1.Genre");
  std::string malformed =
      Violation(Request("POST", "/v1/shelves/1/books", R"({"title": )").status());
  EXPECT_EQ(malformed.rfind("book: malformed JSON: ", 0), 0u) << malformed;
}

TEST_F(TranscoderTest, WholeBodyErrors) {
  EXPECT_EQ(Violation(Request("POST", "/v1/books:search", R"({"pageSize": "x"})").status()),
            "page_size: invalid value \"x\" for type TYPE_INT32");
  EXPECT_EQ(Violation(Request("POST", "/v1/books:search", R"({"nope": 1})").status()),
            "nope: unknown field");
  auto malformed = Request("POST", "/v1/books:search", "{");
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(malformed.status().message().find("malformed JSON"), absl::string_view::npos);
  EXPECT_EQ(Request("POST", "/v1/books:search", "[1]").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TranscoderTest, RepeatedBodyField) {
  auto r = Request("PUT", "/v1/shelves/1/books/2/tags", R"(["a", "b"])");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, json::parse(R"({"name": "shelves/1/books/2", "tags": ["a", "b"]})"));
  // The body is one JSON value; it cannot smuggle in other fields.
  EXPECT_EQ(
      Violation(Request("PUT", "/v1/shelves/1/books/2/tags", R"(["a"], "name": "x")").status()),
      "tags: malformed JSON");
  EXPECT_EQ(Violation(Request("PUT", "/v1/shelves/1/books/2/tags", R"({"a": 1})").status())
                .rfind("tags", 0),
            0u);
}

TEST_F(TranscoderTest, ResponseUsesLowerCamelAndInt64Strings) {
  auto found = routes_.Find("GET", "/v1/shelves/1/books");
  ASSERT_EQ(found.kind, RouteTable::Lookup::kFound);
  google::protobuf::DynamicMessageFactory factory(&transcoder_->pool());
  std::unique_ptr<google::protobuf::Message> res(
      factory.GetPrototype(found.route->method->output_type())->New());
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  R"({"books": [{"name": "b1", "page_count": 300, "in_print": true}],
                      "next_page_token": "t"})",
                  res.get())
                  .ok());
  auto out = transcoder_->ResponseToJson(*found.route, res->SerializeAsString());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(json::parse(*out), json::parse(R"({"books": [{"name": "b1", "pageCount": "300",
                                  "inPrint": true}], "nextPageToken": "t"})"));

  auto titles = routes_.Find("GET", "/v1/shelves/1/titles");
  auto only_books = transcoder_->ResponseToJson(*titles.route, res->SerializeAsString());
  ASSERT_TRUE(only_books.ok()) << only_books.status();
  EXPECT_EQ(json::parse(*only_books),
            json::parse(R"([{"name": "b1", "pageCount": "300", "inPrint": true}])"));
  auto empty = transcoder_->ResponseToJson(*titles.route, "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "[]");
  EXPECT_EQ(transcoder_->ResponseToJson(*found.route, "\xff\xff").status().code(),
            absl::StatusCode::kInternal);
}

TEST_F(TranscoderTest, StatusRendersBadRequestDetailsAsJson) {
  FieldViolations v;
  v.Add("item.title", "is required");
  google::rpc::Status status = RpcStatusFromAbsl(v.ToStatus());
  auto* unknown = status.add_details();
  unknown->set_type_url("type.googleapis.com/no.such.Type");
  unknown->set_value("x");
  json out = json::parse(transcoder_->StatusToJson(status));
  EXPECT_EQ(out, json::parse(R"({"code": 3, "message": "invalid request: item.title: is required",
    "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                 "fieldViolations": [{"field": "item.title", "description": "is required"}]},
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                 "reason": "INVALID_ARGUMENT", "domain": "gateway.genesis.dev"}]})"));
}

TEST(ErrorsTest, CanonicalHttpStatusTable) {
  const std::vector<std::pair<grpc::StatusCode, int>> table = {
      {grpc::StatusCode::OK, 200},
      {grpc::StatusCode::CANCELLED, 499},
      {grpc::StatusCode::UNKNOWN, 500},
      {grpc::StatusCode::INVALID_ARGUMENT, 400},
      {grpc::StatusCode::DEADLINE_EXCEEDED, 504},
      {grpc::StatusCode::NOT_FOUND, 404},
      {grpc::StatusCode::ALREADY_EXISTS, 409},
      {grpc::StatusCode::PERMISSION_DENIED, 403},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, 429},
      {grpc::StatusCode::FAILED_PRECONDITION, 400},
      {grpc::StatusCode::ABORTED, 409},
      {grpc::StatusCode::OUT_OF_RANGE, 400},
      {grpc::StatusCode::UNIMPLEMENTED, 501},
      {grpc::StatusCode::INTERNAL, 500},
      {grpc::StatusCode::UNAVAILABLE, 503},
      {grpc::StatusCode::DATA_LOSS, 500},
      {grpc::StatusCode::UNAUTHENTICATED, 401}};
  for (const auto& [code, http] : table) EXPECT_EQ(HttpStatusFromCode(code), http) << code;
  EXPECT_EQ(HttpStatusFromCode(99), 500);
}

TEST(ErrorsTest, GrpcStatusWithAndWithoutDetails) {
  google::rpc::Status plain = RpcStatusFromGrpc(grpc::Status(grpc::StatusCode::NOT_FOUND, "gone"));
  EXPECT_EQ(plain.code(), 5);
  EXPECT_EQ(plain.message(), "gone");
  EXPECT_EQ(plain.details_size(), 0);
  google::rpc::Status detailed = RpcStatusFromGrpc(ToGrpcStatus(InvalidField("name", "bad")));
  EXPECT_EQ(detailed.code(), 3);
  ASSERT_EQ(detailed.details_size(), 2);
  EXPECT_EQ(detailed.details(0).type_url(), kBadRequestTypeUrl);
  EXPECT_EQ(detailed.details(1).type_url(), kErrorInfoTypeUrl);
}

// gRPC's own failures (no details) name internal addresses: the caller never
// reads them.
TEST(ErrorsTest, GrpcsOwnFailureTextNamesNoInternalAddress) {
  google::rpc::Status down = RpcStatusFromGrpc(
      grpc::Status(grpc::StatusCode::UNAVAILABLE,
                   "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.1.2.3:50051: "
                   "Failed to connect to remote host: Connection refused"));
  EXPECT_EQ(down.code(), 14);
  EXPECT_EQ(down.message(), kBackendUnavailableMessage);
  google::rpc::Status unhealthy = RpcStatusFromGrpc(
      grpc::Status(grpc::StatusCode::UNAVAILABLE,
                   "connections to all backends failing; last error: UNAVAILABLE: "
                   "ipv4:127.0.0.1:41234: backend unhealthy"));
  EXPECT_EQ(unhealthy.message(), kBackendUnavailableMessage);
  google::rpc::Status reset =
      RpcStatusFromGrpc(grpc::Status(grpc::StatusCode::INTERNAL, "stream reset by 10.1.2.3:50051"));
  EXPECT_EQ(reset.code(), 13);
  EXPECT_THAT(reset.message(), ::testing::Not(::testing::HasSubstr("10.1.2.3")));
}

TEST(RequestTimeoutTest, DefaultHeadersAndCap) {
  const absl::Duration def = absl::Seconds(30), max = absl::Seconds(60);
  EXPECT_EQ(*RequestTimeout({}, def, max), def);
  EXPECT_EQ(*RequestTimeout({{"x-request-timeout", "2.5"}}, def, max), absl::Milliseconds(2500));
  EXPECT_EQ(*RequestTimeout({{"x-request-timeout", "500ms"}}, def, max), absl::Milliseconds(500));
  EXPECT_EQ(*RequestTimeout({{"x-request-timeout", "1h"}}, def, max), max);
  EXPECT_EQ(*RequestTimeout({{"grpc-timeout", "100m"}}, def, max), absl::Milliseconds(100));
  EXPECT_EQ(*RequestTimeout({{"grpc-timeout", "2S"}}, def, max), absl::Seconds(2));
  EXPECT_EQ(*RequestTimeout({{"grpc-timeout", "5M"}}, def, max), max);
  for (const auto& [h, v] :
       std::vector<std::pair<std::string, std::string>>{{"x-request-timeout", "soon"},
                                                        {"x-request-timeout", "0"},
                                                        {"x-request-timeout", "-1s"},
                                                        {"grpc-timeout", "100"},
                                                        {"grpc-timeout", "1x"},
                                                        {"grpc-timeout", "123456789S"}}) {
    EXPECT_EQ(RequestTimeout({{h, v}}, def, max).status().code(),
              absl::StatusCode::kInvalidArgument)
        << h << ": " << v;
  }
}

}  // namespace
}  // namespace genesis::gateway
