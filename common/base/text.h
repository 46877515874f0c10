// Text that PostgreSQL can store. A `text`/`jsonb` value is valid UTF-8 (the
// databases are UTF8) and never holds NUL (U+0000): libpq passes parameters as
// C strings, so a NUL silently cuts a value short, and the server refuses
// invalid UTF-8 and "\u0000" in jsonb for the whole statement. Every text that
// reaches a store is checked at the edge with these: refused with a field
// violation (names, ids, configuration) or replaced (a customer's message
// text, which must not be lost). Pure functions, thread-safe.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "common/base/status.h"

namespace genesis {

// The replacement character U+FFFD, in UTF-8.
inline constexpr char kReplacementCharacter[] = "\xEF\xBF\xBD";

// True when `s` is valid UTF-8 (no overlong forms, surrogates or code points
// past U+10FFFF, as PostgreSQL checks) without NUL.
[[nodiscard]] bool IsStorableText(absl::string_view s);

// Why `s` cannot be stored, as a field violation's description ("must not
// contain NUL characters (U+0000)", "must be valid UTF-8 (byte 0xff at offset
// 3 is not)"); empty when it can.
[[nodiscard]] std::string StorableTextProblem(absl::string_view s);

// Adds a violation for `field` to `v` when `value` cannot be stored; returns
// whether it could.
bool CheckStorableText(absl::string_view field, absl::string_view value, FieldViolations* v);

// The longest idempotency key (`request_id`) a create method accepts.
inline constexpr size_t kMaxRequestIdBytes = 128;

// Adds a violation for `field` when `request_id` (optional: empty is fine) is
// longer than kMaxRequestIdBytes or cannot be stored; returns whether it is
// usable. Every create method's `request_id` is checked with it.
bool CheckRequestId(absl::string_view field, absl::string_view request_id, FieldViolations* v);

// `s` with each NUL and each invalid UTF-8 sequence (its maximal ill-formed
// part, as Unicode recommends) replaced by U+FFFD; valid text comes back
// unchanged.
[[nodiscard]] std::string ToStorableText(absl::string_view s);

// Text from another system (a provider's error message, a library's error)
// made fit for a caller to read: URLs (scheme://...) become "<url>", IPv4
// addresses (with a port, if any) "<address>", words that look like
// credentials (sk-..., key-..., Bearer tokens, 24+ characters of letters,
// digits, '_' and '-' holding a digit) "<redacted>"; at most `max_bytes`
// bytes (cut on a UTF-8 boundary, "..." appended) and storable (ToStorableText).
// The original goes to the log only.
[[nodiscard]] std::string ForCaller(absl::string_view text, size_t max_bytes = 200);

}  // namespace genesis
