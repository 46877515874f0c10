// Text analysis shared by the search index and its highlighter: words are
// folded (lower case, Latin accents removed: "Razão" -> "razao") and stemmed
// with the Snowball Portuguese and English stemmers, as PostgreSQL's
// `catalog.genesis_pt` / `genesis_en` configurations do (unaccent, then the
// stemmer). Stopwords are kept: a phrase matches exactly what was typed.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace genesis::catalog {

// Lower case, Latin-1 and Latin Extended-A letters without their accents;
// other characters as they are.
std::string FoldWord(absl::string_view word);

// The Portuguese and English stems of a folded word (equal when both agree).
std::pair<std::string, std::string> StemsOf(const std::string& folded);

// Longest word indexed, in bytes (longer ones are skipped).
inline constexpr size_t kMaxIndexedWordBytes = 64;

}  // namespace genesis::catalog
