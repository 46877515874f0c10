// What the channels' webhooks share: constant-time secret comparison, HMAC,
// form decoding, JSON field reading and making parsed events storable text.
// Pure functions, no I/O.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/bot_manager/model.h"

namespace genesis::bot {

// Equal strings, in time that depends on neither their contents nor which differ
// (SHA-256 digests are compared with CRYPTO_memcmp).
[[nodiscard]] bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// Lower-case hex of HMAC-SHA256(key, data).
[[nodiscard]] std::string HmacSha256Hex(absl::string_view key, absl::string_view data);

// Telegram and Mattermost: the sent token must equal the configured secret.
[[nodiscard]] absl::Status VerifyToken(absl::string_view secret, absl::string_view sent,
                                       absl::string_view what);

// A JSON string or number as text ("" when absent or another type).
[[nodiscard]] std::string JsonText(const nlohmann::json& obj, const char* key);

// The body as a JSON object, or INVALID_ARGUMENT naming `what` (the channel).
// Invalid UTF-8 bytes are read as U+FFFD (the signature, over the raw bytes,
// was checked before).
[[nodiscard]] absl::StatusOr<nlohmann::json> ParseJsonObject(absl::string_view body,
                                                             absl::string_view what);

// Makes parsed events storable (common/base/text.h); every channel's Parse ends with it.
// A message's text and a status's error get U+FFFD in place of each NUL and
// invalid UTF-8 sequence (a customer's message is kept, not refused: "%00" in a
// form or "\u0000" in JSON is not something the customer typed on purpose);
// an id, contact or reply address that is not storable text refuses this
// delivery alone (INVALID_ARGUMENT naming it): it would identify nothing. Texts
// stay within the 16 KiB limit after replacement.
[[nodiscard]] absl::Status MakeStorable(WebhookEvents* events, absl::string_view channel);

// Decodes application/x-www-form-urlencoded `key=value&...` (exposed for tests).
[[nodiscard]] std::vector<std::pair<std::string, std::string>> ParseForm(absl::string_view body);

}  // namespace genesis::bot
