// What a person types into SearchItems, parsed once (ParseSearchQuery) and
// rendered for each engine: a PostgreSQL tsquery text (BuildTsQuery) or a
// search index query (search_index.h).
//
//   casa praia          both words (AND)           'casa' & 'praia'
//   "razão social"      the words in order         ( 'razão' <-> 'social' )
//   contrat*            a prefix                   'contrat':*
//   -alugado            must not contain           !'alugado'
//   casa OR apartamento either                     'casa' | 'apartamento'
//
// As in a tsquery, AND binds tighter than OR: `a b OR c` is (a AND b) OR c.
// Every word is data, never syntax: quotes, backslashes, `%`, `&`, `|` and the
// like only separate words. Stemming and accent folding are left to the engine.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace genesis::catalog {

// One term: a word, a phrase (words in order) or a prefix (one word, the last
// of `words`; a token like `a-b*` becomes the word `a` and the prefix `b`).
struct SearchTerm {
  std::vector<std::string> words;  // as typed (case and accents kept)
  bool phrase = false;
  bool prefix = false;  // the (only) word is a prefix
  bool negated = false;
  bool operator==(const SearchTerm&) const = default;
};

// OR of AND-groups: a document matches when it matches every term of one group.
struct ParsedSearch {
  std::vector<std::vector<SearchTerm>> any_of;
  bool operator==(const ParsedSearch&) const = default;
};

// INVALID_ARGUMENT on `query` when it holds no word, is too long or cannot be stored.
absl::StatusOr<ParsedSearch> ParseSearchQuery(absl::string_view query);

// The tsquery text of a parsed query (for to_tsquery()).
std::string ToTsQuery(const ParsedSearch& parsed);

// ParseSearchQuery, then ToTsQuery.
absl::StatusOr<std::string> BuildTsQuery(absl::string_view query);

// The words of `text`: runs of letters and digits of any script (every byte of
// a multi-byte UTF-8 sequence counts as a letter) and `_`.
std::vector<absl::string_view> SearchWords(absl::string_view text);

}  // namespace genesis::catalog
