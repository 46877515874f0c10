// PostgreSQL array literals, to pass a whole column of values as one
// parameter ($1::text[], $2::bigint[], $3::boolean[]) — libpqxx 6.4 has no
// array parameters. With unnest(...) WITH ORDINALITY they make one
// statement out of what would be a statement per row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace genesis {

// Every element double-quoted, with '"' and '\' escaped: any text (including
// "", "NULL", commas and braces) comes back as itself.
inline std::string PgArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

inline std::string PgArray(const std::vector<int64_t>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) absl::StrAppend(&out, i > 0 ? "," : "", values[i]);
  out += '}';
  return out;
}

inline std::string PgArray(const std::vector<bool>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i)
    absl::StrAppend(&out, i > 0 ? "," : "", values[i] ? "t" : "f");
  out += '}';
  return out;
}

}  // namespace genesis
