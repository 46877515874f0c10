// The catalog's list filter and search query parsers
// (services/catalog/filter.h, search_query.h). The first byte picks: 'q' a
// search query for BuildTsQuery, anything else a filter for ParseFilter.
// Invariants: a refusal is INVALID_ARGUMENT; for input that is valid UTF-8
// (what a proto string holds, NUL included: JSON "\u0000"), a parsed
// filter's keys and string values, and a built tsquery, are valid UTF-8
// without NUL (they go to PostgreSQL as text parameters, which refuses NUL).
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "services/catalog/filter.h"
#include "services/catalog/search_query.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

bool Text(const std::string& s) {
  return genesis::fuzz::ReferenceUtf8(s) && s.find('\0') == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool utf8 = genesis::fuzz::ReferenceUtf8(std::string_view(in.data(), in.size()));
  if (data[0] == 'q') {
    auto query = genesis::catalog::BuildTsQuery(in);
    if (!query.ok()) {
      FUZZ_CHECK(query.status().code() == absl::StatusCode::kInvalidArgument);
    } else {
      if (utf8) FUZZ_CHECK(Text(*query));
    }
    return 0;
  }
  auto conditions = genesis::catalog::ParseFilter(in);
  if (!conditions.ok()) {
    FUZZ_CHECK(conditions.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  for (const auto& c : *conditions) {
    if (!utf8) continue;
    FUZZ_CHECK(Text(c.key));
    if (const auto* s = std::get_if<std::string>(&c.value)) FUZZ_CHECK(Text(*s));
  }
  return 0;
}
