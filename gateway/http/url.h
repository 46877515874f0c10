// URL pieces the gateway needs: percent-decoding and query-string splitting.
// Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace genesis::gateway {

// Debian's abseil has its own string_view (STACK pitfall 5): bridge at absl calls.
inline absl::string_view Absl(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view Std(absl::string_view s) { return {s.data(), s.size()}; }

// Decodes %XX escapes (and '+' as a space when `plus_is_space`); with
// `keep_encoded_slash`, %2F stays encoded. nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space,
                                         bool keep_encoded_slash = false);

// "a=1&b=x%20y&a=2" -> {{"a","1"},{"b","x y"},{"a","2"}}; a key without '='
// has an empty value. nullopt on a malformed escape.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query);

// True for well-formed UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Why a request target cannot reach a backend, or "" when it can: its path
// and every query key and value must percent-decode to valid UTF-8 without
// control characters (NUL included; tab, CR and LF are allowed in query
// values). Backends read these as proto strings.
std::string TargetProblem(std::string_view target);

// Splits a request target into path and query (without the '?').
std::pair<std::string_view, std::string_view> SplitTarget(std::string_view target);

}  // namespace genesis::gateway
