// The JSON the gateway accepts in request bodies: RFC 8259 exactly (no
// trailing commas, comments, NaN or invalid UTF-8) and no object with the
// same key twice. Parsers disagree on such documents (the first or the last
// duplicate wins; some accept a trailing comma), and a document the gateway
// reads one way and a backend another is a way around checks made on either
// side, so they are refused at the edge. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace genesis::gateway {

// Nesting deeper than this is refused (protobuf's own JSON limit is 100).
inline constexpr int kMaxJsonDepth = 64;

// OK, or INVALID_ARGUMENT saying what is wrong; for a duplicate key `*field`
// (when not null) gets the dotted path of the member ("item.title",
// "tags[2].name"), for anything else "" (the document as a whole).
absl::Status CheckStrictJson(std::string_view text, std::string* field = nullptr);

}  // namespace genesis::gateway
