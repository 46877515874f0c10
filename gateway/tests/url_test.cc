#include "gateway/http/url.h"

#include <gtest/gtest.h>

namespace genesis::gateway {
namespace {

TEST(PercentDecodeTest, DecodesEscapesAndPlus) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("a%2Fb%2fc%20", false, /*keep_encoded_slash=*/true), "a%2Fb%2fc ");
  EXPECT_EQ(PercentDecode("%C3%A7", false), "\xC3\xA7");
}

TEST(PercentDecodeTest, RejectsMalformedEscapes) {
  EXPECT_EQ(PercentDecode("%", false), std::nullopt);
  EXPECT_EQ(PercentDecode("%2", false), std::nullopt);
  EXPECT_EQ(PercentDecode("%zz", false), std::nullopt);
}

TEST(ParseQueryTest, SplitsKeepsOrderAndRepeats) {
  auto q = ParseQuery("a=1&b=x%20y&a=2&flag&&c=");
  ASSERT_TRUE(q.has_value());
  std::vector<std::pair<std::string, std::string>> want = {
      {"a", "1"}, {"b", "x y"}, {"a", "2"}, {"flag", ""}, {"c", ""}};
  EXPECT_EQ(*q, want);
  EXPECT_TRUE(ParseQuery("")->empty());
  EXPECT_EQ(ParseQuery("a=%"), std::nullopt);
}

TEST(SplitTargetTest, SeparatesPathAndQuery) {
  EXPECT_EQ(SplitTarget("/v1/items?x=1&y=2"),
            (std::pair<std::string_view, std::string_view>{"/v1/items", "x=1&y=2"}));
  EXPECT_EQ(SplitTarget("/v1/items").second, "");
}

}  // namespace
}  // namespace genesis::gateway

namespace genesis::gateway {
namespace {

TEST(Utf8Test, AcceptsWellFormedAndRefusesTheRest) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("São João 💬 €"));
  EXPECT_FALSE(IsValidUtf8("\xC3\x28"));          // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong, 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(TargetProblemTest, PathAndQueryMustDecodeToText) {
  EXPECT_EQ(TargetProblem("/v1/items/S%C3%A3o?q=a%20b&r=x%0Ay"), "");
  EXPECT_NE(TargetProblem("/v1/items/%C3%28"), "");
  EXPECT_NE(TargetProblem("/v1/items/a%00"), "");
  EXPECT_NE(TargetProblem("/v1/items/a%0A"), "");  // a line break is not part of an id
  EXPECT_NE(TargetProblem("/v1/items/%zz"), "");
  EXPECT_NE(TargetProblem("/v1/items?q=%FF"), "");
  EXPECT_NE(TargetProblem("/v1/items?q=a%00"), "");
  EXPECT_NE(TargetProblem("/v1/items?%FF=1"), "");
}

}  // namespace
}  // namespace genesis::gateway
