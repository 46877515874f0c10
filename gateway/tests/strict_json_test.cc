#include "gateway/http/strict_json.h"

#include <gtest/gtest.h>

namespace genesis::gateway {
namespace {

std::string FieldOf(const std::string& text) {
  std::string field = "unset";
  absl::Status st = CheckStrictJson(text, &field);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << text;
  return field;
}

TEST(StrictJsonTest, AcceptsPlainJson) {
  for (const char* text : {R"({})", R"([])", R"({"a": 1, "b": [1, {"a": 2}], "c": {"a": null}})",
                           R"("x")", R"({"a": {"b": 1}, "b": {"b": 1}})"}) {
    EXPECT_TRUE(CheckStrictJson(text).ok()) << text;
  }
}

TEST(StrictJsonTest, RefusesDuplicateKeysNamingTheMember) {
  EXPECT_EQ(FieldOf(R"({"a": 1, "a": 2})"), "a");
  EXPECT_EQ(FieldOf(R"({"item": {"title": "x", "title": "y"}})"), "item.title");
  EXPECT_EQ(FieldOf(R"({"l": [{"k": 1}, {"k": 1, "k": 2}]})"), "l[1].k");
  EXPECT_NE(CheckStrictJson(R"({"a": 1, "a": 1})").message().find("duplicate key \"a\""),
            std::string::npos);
}

TEST(StrictJsonTest, RefusesWhatRfc8259DoesNotAllow) {
  for (const char* text : {R"({"a": 1,})", R"([1, 2,])", R"({"a": 1} // c)", R"({"a": NaN})",
                           "{\"a\": \"\xC3\x28\"}", R"({"a": 1} {"b": 2})", R"({'a': 1})", ""}) {
    EXPECT_EQ(CheckStrictJson(text).code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(StrictJsonTest, RefusesDeepNesting) {
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  EXPECT_EQ(CheckStrictJson(deep).code(), absl::StatusCode::kInvalidArgument);
  std::string ok(kMaxJsonDepth, '[');
  ok += std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(CheckStrictJson(ok).ok());
}

}  // namespace
}  // namespace genesis::gateway
