// Turns what a person types into a PostgreSQL tsquery text for to_tsquery():
//
//   casa praia          both words (AND)           'casa' & 'praia'
//   "razão social"      the words in order         ( 'razão' <-> 'social' )
//   contrat*            a prefix                   'contrat':*
//   -alugado            must not contain           !'alugado'
//   casa OR apartamento either                     'casa' | 'apartamento'
//
// Every word is quoted, so quotes, backslashes, `%`, `&`, `|` and the like in
// the input are data, never tsquery syntax. Stemming and accent folding are
// left to the text search configuration that reads the result.
#pragma once

#include <string>
#include <string_view>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace genesis::catalog {

// INVALID_ARGUMENT on `query` when it holds no word or is too long.
absl::StatusOr<std::string> BuildTsQuery(absl::string_view query);

}  // namespace genesis::catalog
