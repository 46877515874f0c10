#include "services/catalog/search_query.h"

#include <vector>

#include "common/base/status.h"
#include "common/base/text.h"

namespace genesis::catalog {
namespace {

// Letters and digits of any script (every byte of a multi-byte UTF-8
// sequence counts as a word byte), and a few joiners inside words.
bool WordByte(unsigned char c) {
  return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '_';
}

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

std::vector<absl::string_view> Words(absl::string_view text) {
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

}  // namespace

absl::StatusOr<std::string> BuildTsQuery(absl::string_view query) {
  if (query.size() > 1000) return InvalidField("query", "longer than 1000 characters");
  // The tsquery goes to PostgreSQL as a text parameter, cut short at a NUL.
  if (std::string problem = StorableTextProblem(query); !problem.empty()) {
    return InvalidField("query", std::move(problem));
  }
  std::string out;
  bool pending_or = false;
  int terms = 0;
  size_t i = 0;
  auto append_term = [&](const std::string& term) {
    if (terms > 0) out += pending_or ? " | " : " & ";
    out += term;
    pending_or = false;
    ++terms;
  };
  while (i < query.size()) {
    unsigned char c = static_cast<unsigned char>(query[i]);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    bool negate = false;
    if (c == '-' && i + 1 < query.size()) {
      negate = true;
      ++i;
      c = static_cast<unsigned char>(query[i]);
    }
    if (c == '"') {
      size_t end = query.find('"', i + 1);
      absl::string_view phrase = query.substr(
          i + 1, end == absl::string_view::npos ? absl::string_view::npos : end - i - 1);
      i = end == absl::string_view::npos ? query.size() : end + 1;
      auto words = Words(phrase);
      if (words.empty()) continue;
      std::string term = negate ? "!( " : "( ";
      for (size_t w = 0; w < words.size(); ++w) {
        if (w > 0) term += " <-> ";
        term += Quote(words[w]);
      }
      term += " )";
      append_term(term);
      continue;
    }
    size_t start = i;
    while (i < query.size() && query[i] != ' ' && query[i] != '\t' && query[i] != '\n' &&
           query[i] != '"') {
      ++i;
    }
    absl::string_view token = query.substr(start, i - start);
    if (token == "OR" && !negate) {
      if (terms > 0) pending_or = true;
      continue;
    }
    bool prefix = token.size() > 1 && token.back() == '*';
    auto words = Words(token);
    for (size_t w = 0; w < words.size(); ++w) {
      std::string term = (negate ? "!" : "") + Quote(words[w]);
      if (prefix && w + 1 == words.size()) term += ":*";
      append_term(term);
    }
  }
  if (terms == 0) return InvalidField("query", "must contain at least one word");
  return out;
}

}  // namespace genesis::catalog
