#include "services/catalog/filter.h"

#include <gtest/gtest.h>

#include "common/base/status.h"

namespace genesis::catalog {
namespace {

TEST(FilterTest, EmptyFilterHasNoConditions) {
  auto r = ParseFilter("   ");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(FilterTest, ParsesConditionsJoinedByAnd) {
  auto r = ParseFilter(
      R"(attributes.city = "São Paulo" AND attributes.price <= 500000 AND labels.stage:* )"
      R"(AND attributes.tags:"vip" AND attributes.active != true)");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].target, Condition::Target::kAttribute);
  EXPECT_EQ((*r)[0].key, "city");
  EXPECT_EQ(std::get<std::string>((*r)[0].value), "São Paulo");
  EXPECT_EQ((*r)[1].op, Condition::Op::kLe);
  EXPECT_DOUBLE_EQ(std::get<double>((*r)[1].value), 500000);
  EXPECT_EQ((*r)[2].target, Condition::Target::kLabel);
  EXPECT_EQ((*r)[2].op, Condition::Op::kHas);
  EXPECT_TRUE(std::holds_alternative<std::monostate>((*r)[2].value));
  EXPECT_EQ(std::get<std::string>((*r)[3].value), "vip");
  EXPECT_EQ((*r)[4].op, Condition::Op::kNe);
  EXPECT_TRUE(std::get<bool>((*r)[4].value));
}

TEST(FilterTest, LabelsCompareAsTheLiteralText) {
  auto r = ParseFilter("labels.year = 2024 AND labels.flag = true");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<std::string>((*r)[0].value), "2024");
  EXPECT_EQ(std::get<std::string>((*r)[1].value), "true");
}

TEST(FilterTest, QuotedStringsKeepEscapedQuotes) {
  auto r = ParseFilter(R"(attributes.name = "a \"b\" c")");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<std::string>((*r)[0].value), R"(a "b" c)");
}

TEST(FilterTest, ErrorsNameTheFieldAndPosition) {
  for (const char* bad :
       {"city = x", "attributes.= 1", "attributes.a ~ 1", "attributes.a = \"open",
        "attributes.a = 1 OR attributes.b = 2", "attributes.a > true", "attributes.a ="}) {
    auto r = ParseFilter(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    auto v = FieldViolationsOf(r.status());
    ASSERT_EQ(v.size(), 1u) << bad;
    EXPECT_EQ(v[0].first, "filter");
    EXPECT_NE(v[0].second.find("position"), std::string::npos) << v[0].second;
  }
}

TEST(FilterTest, NulIsRejectedNotCutShort) {
  // As a text parameter, "a\0b" would reach PostgreSQL as "a" and match the label "a".
  auto r = ParseFilter(std::string("labels.k = \"a\0b\"", 16));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  auto v = FieldViolationsOf(r.status());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].first, "filter");
}

// The rules ItemMatchesFilter applies outside PostgreSQL are the SQL's
// (search_index_pg_test.cc runs the same filters through both engines).
TEST(FilterTest, ItemMatchesFilterFollowsTheSqlRules) {
  const nlohmann::json attributes = {
      {"city", "Recife"}, {"price", 100000}, {"tags", {"vip", "new"}}, {"active", true}};
  const std::map<std::string, std::string> labels = {{"stage", "hot"}};
  auto matches = [&](const std::string& filter) {
    auto parsed = ParseFilter(filter);
    EXPECT_TRUE(parsed.ok()) << filter;
    return parsed.ok() && ItemMatchesFilter(attributes, labels, *parsed);
  };
  EXPECT_TRUE(matches(""));
  EXPECT_TRUE(matches("attributes.city = \"Recife\" AND labels.stage = hot"));
  EXPECT_FALSE(matches("attributes.city = \"recife\""));
  EXPECT_TRUE(matches("attributes.price = 100000"));  // numbers by value
  EXPECT_TRUE(matches("attributes.price < 100000.5 AND attributes.price >= 100000"));
  EXPECT_FALSE(matches("attributes.price > \"1\""));  // a number is not a string
  EXPECT_TRUE(matches("attributes.city > \"P\""));
  EXPECT_FALSE(matches("attributes.missing < 5"));
  EXPECT_TRUE(matches("attributes.missing != 5"));
  EXPECT_FALSE(matches("labels.stage != hot"));
  EXPECT_TRUE(matches("attributes.tags:\"vip\" AND labels.stage:*"));
  EXPECT_FALSE(matches("attributes.tags:\"old\""));
  EXPECT_FALSE(matches("attributes.tags = \"vip\""));  // = is not "contains"
  EXPECT_TRUE(matches("attributes.active = true"));
  EXPECT_FALSE(matches("labels.owner:*"));
}

}  // namespace
}  // namespace genesis::catalog
