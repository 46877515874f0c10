#include "services/catalog/search_query.h"

#include <gtest/gtest.h>

#include "common/base/status.h"

namespace genesis::catalog {
namespace {

std::string Q(const char* in) {
  auto r = BuildTsQuery(in);
  EXPECT_TRUE(r.ok()) << in << ": " << r.status();
  return r.ok() ? *r : "";
}

TEST(SearchQueryTest, WordsAreAnded) { EXPECT_EQ(Q("casa praia"), "'casa' & 'praia'"); }

TEST(SearchQueryTest, PhrasesKeepOrder) {
  EXPECT_EQ(Q("\"razão social\" recife"), "( 'razão' <-> 'social' ) & 'recife'");
}

TEST(SearchQueryTest, PrefixNegationAndOr) {
  EXPECT_EQ(Q("apart* -alugado"), "'apart':* & !'alugado'");
  EXPECT_EQ(Q("casa OR apartamento"), "'casa' | 'apartamento'");
  EXPECT_EQ(Q("-\"fora de linha\""), "!( 'fora' <-> 'de' <-> 'linha' )");
}

TEST(SearchQueryTest, OperatorCharactersAreData) {
  // Nothing the user types can inject tsquery syntax: punctuation splits words.
  EXPECT_EQ(Q("a&b|c!d (e) 'f' \\g 100%"), "'a' & 'b' & 'c' & 'd' & 'e' & 'f' & 'g' & '100'");
  EXPECT_EQ(Q("o'neil"), "'o' & 'neil'");
}

TEST(SearchQueryTest, NonAsciiLettersStayInWords) {
  EXPECT_EQ(Q("ação São-João"), "'ação' & 'São' & 'João'");
}

TEST(SearchQueryTest, QueriesWithoutWordsAreRejected) {
  for (const char* bad : {"", "   ", "\"\"", "!!! ---", "OR"}) {
    auto r = BuildTsQuery(bad);
    ASSERT_FALSE(r.ok()) << bad;
    auto v = FieldViolationsOf(r.status());
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].first, "query");
  }
  EXPECT_FALSE(BuildTsQuery(std::string(1001, 'a')).ok());
}

TEST(SearchQueryTest, NulIsRejectedNotCutShort) {
  // PostgreSQL would get the tsquery cut at the NUL ("'a" and a syntax error, or a shorter query).
  auto r = BuildTsQuery(std::string("casa\0praia", 10));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  auto v = FieldViolationsOf(r.status());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].first, "query");
}

}  // namespace
}  // namespace genesis::catalog
