#include "gateway/routing/http_rules.h"

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include "gateway/tests/test_util.h"
#include "google/api/annotations.pb.h"

namespace genesis::gateway {
namespace {

using Bindings = std::vector<std::pair<std::string, std::string>>;

// The bindings of `path` on `tmpl` as pairs, or {"NO MATCH", ""}.
Bindings MatchOf(const std::string& tmpl, const std::string& path) {
  auto t = PathTemplate::Parse(tmpl);
  EXPECT_TRUE(t.ok()) << t.status();
  if (!t.ok()) return {};
  auto m = t->Match(path);
  if (!m) return {{"NO MATCH", ""}};
  Bindings out;
  for (const auto& b : *m) out.emplace_back(b.field_path, b.value);
  return out;
}
const Bindings kNoMatch = {{"NO MATCH", ""}};

TEST(PathTemplateTest, LiteralsMatchExactly) {
  EXPECT_EQ(MatchOf("/v1/items", "/v1/items"), Bindings{});
  EXPECT_EQ(MatchOf("/v1/items", "/v1/items/"), kNoMatch);
  EXPECT_EQ(MatchOf("/v1/items", "/v1/item"), kNoMatch);
  EXPECT_EQ(MatchOf("/v1/items", "/v1"), kNoMatch);
  EXPECT_EQ(MatchOf("/v1/items", "v1/items"), kNoMatch);
  EXPECT_EQ(MatchOf("/v1/items", "/v1//items"), kNoMatch);
}

TEST(PathTemplateTest, WildcardsWithoutVariables) {
  EXPECT_EQ(MatchOf("/v1/*/x", "/v1/a/x"), Bindings{});
  EXPECT_EQ(MatchOf("/v1/*/x", "/v1/a/b/x"), kNoMatch);
  EXPECT_EQ(MatchOf("/v1/**", "/v1/a/b/c"), Bindings{});
  EXPECT_EQ(MatchOf("/a/**/c", "/a/b/b2/c"), Bindings{});
  EXPECT_EQ(MatchOf("/a/**/c", "/a/c"), Bindings{});
  EXPECT_EQ(MatchOf("/a/**/c", "/a/b/d"), kNoMatch);
}

TEST(PathTemplateTest, SimpleVariableIsOneDecodedSegment) {
  EXPECT_EQ(MatchOf("/v1/shelves/{shelf}", "/v1/shelves/42"), (Bindings{{"shelf", "42"}}));
  EXPECT_EQ(MatchOf("/v1/shelves/{shelf}", "/v1/shelves/a%20b%2Fc"),
            (Bindings{{"shelf", "a b/c"}}));
  EXPECT_EQ(MatchOf("/v1/shelves/{shelf}", "/v1/shelves/4/2"), kNoMatch);
  EXPECT_EQ(MatchOf("/v1/shelves/{shelf}", "/v1/shelves/"), kNoMatch);
  EXPECT_EQ(MatchOf("/v1/shelves/{shelf}", "/v1/shelves/%zz"), kNoMatch);
}

TEST(PathTemplateTest, VariableWithSegments) {
  EXPECT_EQ(MatchOf("/v1/{name=items/*}", "/v1/items/42"), (Bindings{{"name", "items/42"}}));
  EXPECT_EQ(MatchOf("/v1/{name=items/*}", "/v1/types/42"), kNoMatch);
  EXPECT_EQ(MatchOf("/v1/{book.name=shelves/*/books/*}", "/v1/shelves/1/books/2"),
            (Bindings{{"book.name", "shelves/1/books/2"}}));
  EXPECT_EQ(MatchOf("/v1/{parent=shelves/*}/books/{book}", "/v1/shelves/1/books/2"),
            (Bindings{{"parent", "shelves/1"}, {"book", "2"}}));
}

TEST(PathTemplateTest, MultiSegmentVariable) {
  EXPECT_EQ(MatchOf("/v1/files/{path=**}", "/v1/files/a/b/c.txt"),
            (Bindings{{"path", "a/b/c.txt"}}));
  EXPECT_EQ(MatchOf("/v1/files/{path=**}", "/v1/files/a%2Fb%20c"),
            (Bindings{{"path", "a%2Fb c"}}));  // reserved expansion keeps %2F
  EXPECT_EQ(MatchOf("/v1/files/{path=**}", "/v1/files"), (Bindings{{"path", ""}}));
  EXPECT_EQ(MatchOf("/v1/{name=files/**}:get", "/v1/files/a/b:get"),
            (Bindings{{"name", "files/a/b"}}));
  EXPECT_EQ(MatchOf("/v1/{name=**}/x", "/v1/a/b/x"), (Bindings{{"name", "a/b"}}));
}

TEST(PathTemplateTest, CustomVerb) {
  EXPECT_EQ(MatchOf("/v1/items:search", "/v1/items:search"), Bindings{});
  EXPECT_EQ(MatchOf("/v1/items:search", "/v1/items"), kNoMatch);
  EXPECT_EQ(MatchOf("/v1/items:search", "/v1/items:searchx"), kNoMatch);
  EXPECT_EQ(MatchOf("/v1/{name=items/*}:undelete", "/v1/items/42:undelete"),
            (Bindings{{"name", "items/42"}}));
  EXPECT_EQ(MatchOf("/v1/{name=items/*}:undelete", "/v1/items/42"), kNoMatch);
  EXPECT_EQ(MatchOf("/v1/{name=items/*}", "/v1/items:search"), kNoMatch);
  auto t = PathTemplate::Parse("/v1/{name=items/*}:undelete");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->verb(), "undelete");
  EXPECT_EQ(t->VariableFieldPaths(), std::vector<std::string>{"name"});
}

TEST(PathTemplateTest, RejectsMalformedTemplates) {
  for (const char* bad :
       {"", "v1/items", "/v1/{name", "/v1/{}", "/v1/**/x/**", "/v1/{a={b}}",
        "/v1/items:", "/v1//items", "/v1/{a}/{a}", "/v1/{a b}", "/v1/x}", "/v1/{a=}", "/v1/{.a}"}) {
    auto t = PathTemplate::Parse(bad);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << "'" << bad << "'";
  }
}

TEST(PathTemplateTest, SpecificityPrefersVerbsAndLiterals) {
  auto verb = PathTemplate::Parse("/v1/items:search");
  auto var = PathTemplate::Parse("/v1/{name=items/*}");
  auto lit = PathTemplate::Parse("/v1/items/special");
  ASSERT_TRUE(verb.ok() && var.ok() && lit.ok());
  EXPECT_GT(verb->Specificity(), var->Specificity());
  EXPECT_GT(lit->Specificity(), var->Specificity());
}

class RouteTableTest : public ::testing::Test {
 protected:
  std::unique_ptr<Transcoder> transcoder_ = testing::LoadTestTranscoder();
  RouteTable routes_ = testing::LoadTestRoutes(*transcoder_);
};

TEST_F(RouteTableTest, BuildsEveryBindingIncludingAdditionalOnes) {
  // 13 annotated methods (10 in LibraryService, 3 in HookWebhookService),
  // SearchBooks with an additional binding; Ping has no rule.
  EXPECT_EQ(routes_.routes().size(), 14u);
  for (const auto& r : routes_.routes()) EXPECT_NE(r->method->name(), "Ping");
}

TEST_F(RouteTableTest, FindsRoutesWithBindings) {
  auto get = routes_.Find("GET", "/v1/shelves/7");
  ASSERT_EQ(get.kind, RouteTable::Lookup::kFound);
  EXPECT_EQ(get.route->grpc_path, "/genesis.gwtest.v1.LibraryService/GetShelf");
  EXPECT_EQ(get.route->label, "GET /v1/{name=shelves/*}");
  ASSERT_EQ(get.bindings.size(), 1u);
  EXPECT_EQ(get.bindings[0].value, "shelves/7");

  auto update = routes_.Find("PATCH", "/v1/shelves/1/books/2");
  ASSERT_EQ(update.kind, RouteTable::Lookup::kFound);
  EXPECT_EQ(update.route->method->name(), "UpdateBook");
  EXPECT_EQ(update.route->body, "book");
  EXPECT_EQ(update.bindings[0].field_path, "book.name");

  auto titles = routes_.Find("GET", "/v1/shelves/1/titles");
  ASSERT_EQ(titles.kind, RouteTable::Lookup::kFound);
  EXPECT_EQ(titles.route->response_body, "books");
}

TEST_F(RouteTableTest, CustomVerbAndAdditionalBinding) {
  auto post = routes_.Find("POST", "/v1/books:search");
  ASSERT_EQ(post.kind, RouteTable::Lookup::kFound);
  EXPECT_EQ(post.route->method->name(), "SearchBooks");
  EXPECT_EQ(post.route->body, "*");
  auto get = routes_.Find("GET", "/v1/books:search");
  ASSERT_EQ(get.kind, RouteTable::Lookup::kFound);
  EXPECT_EQ(get.route->method->name(), "SearchBooks");
  EXPECT_EQ(get.route->body, "");
}

TEST_F(RouteTableTest, UnknownPathAndWrongMethod) {
  EXPECT_EQ(routes_.Find("GET", "/v2/shelves/7").kind, RouteTable::Lookup::kNotFound);
  EXPECT_EQ(routes_.Find("GET", "/").kind, RouteTable::Lookup::kNotFound);
  auto wrong = routes_.Find("DELETE", "/v1/books:search");
  ASSERT_EQ(wrong.kind, RouteTable::Lookup::kMethodNotAllowed);
  EXPECT_EQ(wrong.allow, (std::vector<std::string>{"GET", "POST"}));
  auto shelf = routes_.Find("POST", "/v1/shelves/7");
  ASSERT_EQ(shelf.kind, RouteTable::Lookup::kMethodNotAllowed);
  EXPECT_EQ(shelf.allow, std::vector<std::string>{"GET"});
}

TEST(ResolveFieldPathTest, AcceptsProtoAndJsonNames) {
  auto t = testing::LoadTestTranscoder();
  const auto* req = t->pool().FindMessageTypeByName("genesis.gwtest.v1.ListBooksRequest");
  ASSERT_NE(req, nullptr);
  auto a = ResolveFieldPath(req, "author.address.city");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->back()->full_name(), "genesis.gwtest.v1.Address.city");
  auto b = ResolveFieldPath(req, "author.displayName");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->back()->name(), "display_name");
  EXPECT_EQ(ResolveFieldPath(req, "author.nope").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveFieldPath(req, "page_size.x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveFieldPath(req, "labels.key").status().code(),
            absl::StatusCode::kInvalidArgument);  // a map is not a singular message
}

// A one-method pool whose google.api.http rule is `rule`.
class BadRuleTest : public ::testing::Test {
 protected:
  absl::Status BuildWith(const google::api::HttpRule& rule) {
    google::protobuf::FileDescriptorProto file;
    file.set_name("bad.proto");
    file.set_package("bad");
    file.set_syntax("proto3");
    auto* msg = file.add_message_type();
    msg->set_name("Req");
    auto* name = msg->add_field();
    name->set_name("name"), name->set_number(1), name->set_json_name("name");
    name->set_type(google::protobuf::FieldDescriptorProto::TYPE_STRING);
    name->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
    auto* tags = msg->add_field();
    tags->set_name("tags"), tags->set_number(2), tags->set_json_name("tags");
    tags->set_type(google::protobuf::FieldDescriptorProto::TYPE_STRING);
    tags->set_label(google::protobuf::FieldDescriptorProto::LABEL_REPEATED);
    auto* method = file.add_service()->add_method();
    file.mutable_service(0)->set_name("S");
    method->set_name("M");
    method->set_input_type(".bad.Req");
    method->set_output_type(".bad.Req");
    *method->mutable_options()->MutableExtension(google::api::http) = rule;
    const auto* fd = pool_.BuildFile(file);
    EXPECT_NE(fd, nullptr);
    return RouteTable::Build({fd->service(0)}).status();
  }
  google::protobuf::DescriptorPool pool_;
};

TEST_F(BadRuleTest, ValidRuleBuilds) {
  google::api::HttpRule rule;
  rule.set_get("/v1/{name=things/*}");
  EXPECT_TRUE(BuildWith(rule).ok());
}

TEST_F(BadRuleTest, RejectsRulesThatCannotWork) {
  google::api::HttpRule no_field;
  no_field.set_get("/v1/{nope=things/*}");
  EXPECT_EQ(BuildWith(no_field).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BadRuleTest, RejectsRepeatedPathVariable) {
  google::api::HttpRule rule;
  rule.set_get("/v1/{tags}");
  absl::Status st = BuildWith(rule);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("bad.S.M"), absl::string_view::npos) << st;
}

TEST_F(BadRuleTest, RejectsUnknownBodyAndResponseBody) {
  google::api::HttpRule body;
  body.set_post("/v1/things");
  body.set_body("nope");
  EXPECT_EQ(BuildWith(body).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BadRuleTest, RejectsUnknownResponseBody) {
  google::api::HttpRule rule;
  rule.set_get("/v1/things");
  rule.set_response_body("nope");
  EXPECT_EQ(BuildWith(rule).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BadRuleTest, RejectsTheSameBindingTwice) {
  google::api::HttpRule rule;
  rule.set_get("/v1/things");
  rule.add_additional_bindings()->set_get("/v1/things");
  EXPECT_EQ(BuildWith(rule).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BadRuleTest, RejectsMalformedTemplate) {
  google::api::HttpRule rule;
  rule.set_get("/v1/{name");
  EXPECT_EQ(BuildWith(rule).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BadRuleTest, CustomPatternKind) {
  google::api::HttpRule rule;
  rule.mutable_custom()->set_kind("OPTIONS");
  rule.mutable_custom()->set_path("/v1/things");
  EXPECT_TRUE(BuildWith(rule).ok());
}

}  // namespace
}  // namespace genesis::gateway
