#include "common/base/paging.h"

#include <gtest/gtest.h>

namespace genesis {
namespace {

TEST(PageToken, RoundTripsItsPosition) {
  const std::string token = EncodePageToken("items", "f1", "42");
  auto position = DecodePageToken(token, "items", "f1");
  ASSERT_TRUE(position.ok()) << position.status();
  EXPECT_EQ(*position, "42");
  // Opaque and URL-safe: usable as a query parameter as is.
  EXPECT_EQ(token.find_first_of("+/=|"), std::string::npos) << token;
}

TEST(PageToken, PositionsMayHoldTheSeparator) {
  auto position = DecodePageToken(EncodePageToken("k", "s", "a|b"), "k", "s");
  ASSERT_TRUE(position.ok());
  EXPECT_EQ(*position, "a|b");
}

TEST(PageToken, ForeignTokensNameThePageTokenField) {
  for (const std::string& token :
       {std::string("not base64!"), EncodePageToken("cases", "s", "1"), std::string("")}) {
    auto position = DecodePageToken(token, "items", "s");
    ASSERT_FALSE(position.ok()) << token;
    EXPECT_EQ(position.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(position.status().message().find("page_token"), std::string::npos);
    EXPECT_NE(position.status().message().find("not a token this service issued"),
              std::string::npos);
  }
}

TEST(PageToken, ATokenOfAnotherQuerySaysSoWhenAsked) {
  const std::string token = EncodePageToken("items", "filter-a", "9");
  auto plain = DecodePageToken(token, "items", "filter-b");
  EXPECT_NE(plain.status().message().find("not a token this service issued"), std::string::npos);
  auto told = DecodePageToken(token, "items", "filter-b", "belongs to a different query");
  EXPECT_NE(told.status().message().find("belongs to a different query"), std::string::npos);
}

TEST(PageSize, DefaultCapAndNegative) {
  EXPECT_EQ(*PageSize(0, 20, 100), 20);
  EXPECT_EQ(*PageSize(7, 20, 100), 7);
  EXPECT_EQ(*PageSize(1000, 20, 100), 100);
  auto negative = PageSize(-1, 20, 100, "page_size");
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(negative.status().message().find("page_size"), std::string::npos);
}

}  // namespace
}  // namespace genesis
