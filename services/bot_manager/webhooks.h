// Webhook verification and parsing, per channel: pure functions, no I/O.
//
// Verification answers UNAUTHENTICATED for a missing or wrong signature or
// token (secrets compared in constant time); parsing answers INVALID_ARGUMENT
// with a message naming what is malformed. Neither stores anything. Invalid
// UTF-8 bytes in a JSON body are read as U+FFFD (after the signature, which is
// over the raw bytes, was checked), and parsed events are storable text
// (MakeStorable).
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/bot_manager/model.h"

namespace genesis::bot {

// Equal strings, in time that depends on neither their contents nor which differ
// (SHA-256 digests are compared with CRYPTO_memcmp).
[[nodiscard]] bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// Lower-case hex of HMAC-SHA256(key, data).
[[nodiscard]] std::string HmacSha256Hex(absl::string_view key, absl::string_view data);

// WhatsApp: `header` must be "sha256=" + HmacSha256Hex(app_secret, body).
[[nodiscard]] absl::Status VerifyWhatsAppSignature(absl::string_view app_secret,
                                                   absl::string_view body,
                                                   absl::string_view header);

// Telegram and Mattermost: the sent token must equal the configured secret.
[[nodiscard]] absl::Status VerifyToken(absl::string_view secret, absl::string_view sent,
                                       absl::string_view what);

// A WhatsApp Cloud API notification ({"object": "whatsapp_business_account",
// "entry": [{"changes": [{"value": {"messages": [...], "statuses": [...]}}]}]}).
// Text messages (and the text of button replies) become messages; other
// message types become a message with text "[<type>]". Statuses become
// DeliveryStatus.
[[nodiscard]] absl::StatusOr<WebhookEvents> ParseWhatsApp(absl::string_view body);

// A Telegram Update with "message" or "edited_message" text; the external id
// is the update_id, the contact the sender's id, the reply goes to the chat.
// Updates without text (stickers, joins) parse to no message.
[[nodiscard]] absl::StatusOr<WebhookEvents> ParseTelegram(absl::string_view body);

// A Mattermost outgoing webhook or slash command, JSON or
// application/x-www-form-urlencoded. The token is returned in `token`; the
// external id is the post_id (outgoing webhook) or trigger_id (slash command);
// the reply goes to the channel_id. A leading trigger word ("@genesis") is
// removed from the text.
[[nodiscard]] absl::StatusOr<WebhookEvents> ParseMattermost(absl::string_view body,
                                                            absl::string_view content_type,
                                                            std::string* token);

// Makes parsed events storable (common/text.h); every Parse* above ends with it.
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
