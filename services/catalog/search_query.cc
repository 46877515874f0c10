#include "services/catalog/search_query.h"

#include "common/base/status.h"
#include "common/base/text.h"

namespace genesis::catalog {
namespace {

bool WordByte(unsigned char c) {
  return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '_';
}

bool Space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string Quote(absl::string_view word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'')
      out += "''";
    else if (c == '\\')
      out += "\\\\";
    else
      out += c;
  }
  out += "'";
  return out;
}

}  // namespace

std::vector<absl::string_view> SearchWords(absl::string_view text) {
  std::vector<absl::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !WordByte(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && WordByte(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

absl::StatusOr<ParsedSearch> ParseSearchQuery(absl::string_view query) {
  if (query.size() > 1000) return InvalidField("query", "longer than 1000 characters");
  // The query reaches PostgreSQL as a text parameter, cut short at a NUL.
  if (std::string problem = StorableTextProblem(query); !problem.empty()) {
    return InvalidField("query", std::move(problem));
  }
  ParsedSearch out;
  bool pending_or = false;
  int terms = 0;
  auto append_term = [&](SearchTerm term) {
    if (out.any_of.empty() || pending_or) out.any_of.emplace_back();
    out.any_of.back().push_back(std::move(term));
    pending_or = false;
    ++terms;
  };
  size_t i = 0;
  while (i < query.size()) {
    if (Space(query[i])) {
      ++i;
      continue;
    }
    bool negate = false;
    if (query[i] == '-' && i + 1 < query.size()) {
      negate = true;
      ++i;
    }
    if (query[i] == '"') {
      size_t end = query.find('"', i + 1);
      absl::string_view phrase = query.substr(
          i + 1, end == absl::string_view::npos ? absl::string_view::npos : end - i - 1);
      i = end == absl::string_view::npos ? query.size() : end + 1;
      auto words = SearchWords(phrase);
      if (words.empty()) continue;
      SearchTerm term;
      term.phrase = true;
      term.negated = negate;
      for (auto w : words) term.words.emplace_back(w);
      append_term(std::move(term));
      continue;
    }
    size_t start = i;
    while (i < query.size() && !Space(query[i]) && query[i] != '"') ++i;
    absl::string_view token = query.substr(start, i - start);
    if (token == "OR" && !negate) {
      if (terms > 0) pending_or = true;
      continue;
    }
    bool prefix = token.size() > 1 && token.back() == '*';
    auto words = SearchWords(token);
    for (size_t w = 0; w < words.size(); ++w) {
      SearchTerm term;
      term.words.emplace_back(words[w]);
      term.negated = negate;
      term.prefix = prefix && w + 1 == words.size();
      append_term(std::move(term));
    }
  }
  if (terms == 0) return InvalidField("query", "must contain at least one word");
  return out;
}

std::string ToTsQuery(const ParsedSearch& parsed) {
  std::string out;
  for (size_t g = 0; g < parsed.any_of.size(); ++g) {
    for (size_t t = 0; t < parsed.any_of[g].size(); ++t) {
      if (g > 0 || t > 0) out += t == 0 ? " | " : " & ";
      const SearchTerm& term = parsed.any_of[g][t];
      if (term.phrase) {
        out += term.negated ? "!( " : "( ";
        for (size_t w = 0; w < term.words.size(); ++w) {
          if (w > 0) out += " <-> ";
          out += Quote(term.words[w]);
        }
        out += " )";
      } else {
        out += (term.negated ? "!" : "") + Quote(term.words[0]);
        if (term.prefix) out += ":*";
      }
    }
  }
  return out;
}

absl::StatusOr<std::string> BuildTsQuery(absl::string_view query) {
  auto parsed = ParseSearchQuery(query);
  if (!parsed.ok()) return parsed.status();
  return ToTsQuery(*parsed);
}

}  // namespace genesis::catalog
