// PostgreSQL array literals, to pass a whole column of values as one
// parameter ($1::text[], $2::bigint[], $3::boolean[]) — libpqxx 6.4 has no
// array parameters. With unnest(...) WITH ORDINALITY they make one
// statement out of what would be a statement per row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/text.h"

namespace genesis {

// Every element double-quoted, with '"' and '\' escaped: any text (including
// "", "NULL", commas and braces) comes back as itself. A value no PostgreSQL
// text can hold — with a NUL, which would end the whole literal early (libpq
// passes it as a C string), or invalid UTF-8, which the server refuses for the
// whole statement — goes with each NUL and invalid sequence replaced by U+FFFD
// (common/base/text.h), so one value can never break the array for the others.
// Callers still check or replace at their edge (what to do with such input is
// theirs to decide); this is the last guard.
inline std::string PgArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    std::string replaced;
    absl::string_view value = values[i];
    if (!IsStorableText(value)) {
      replaced = ToStorableText(value);
      value = replaced;
    }
    for (char c : value) {
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
