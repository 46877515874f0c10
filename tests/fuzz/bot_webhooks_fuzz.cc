// Each channel's webhook verification and parsing (services/bot_manager/channels/).
// The first byte picks the parser: 'w' WhatsApp, 't' Telegram, 'm'
// Mattermost JSON, 'f' Mattermost form, 's' the WhatsApp signature check
// (a header line, a newline, the body).
// Invariants: a refusal is INVALID_ARGUMENT (UNAUTHENTICATED for a
// signature); parsed events are storable text (valid UTF-8, no NUL, within
// 16 KiB); only the HMAC of the body under the secret passes the check.
#include <cstdint>
#include <string>
#include <string_view>

#include "services/bot_manager/channels/mattermost/mattermost.h"
#include "services/bot_manager/channels/telegram/telegram.h"
#include "services/bot_manager/channels/webhook_util.h"
#include "services/bot_manager/channels/whatsapp/whatsapp.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace genesis::bot;

bool Storable(const std::string& s) {
  return genesis::fuzz::ReferenceUtf8(s) && s.find('\0') == std::string::npos;
}

void CheckEvents(const absl::StatusOr<WebhookEvents>& events) {
  if (!events.ok()) {
    FUZZ_CHECK(events.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  for (const auto& m : events->messages) {
    FUZZ_CHECK(Storable(m.external_id) && Storable(m.contact) && Storable(m.reply_to));
    FUZZ_CHECK(Storable(m.text));
    FUZZ_CHECK(m.text.size() <= 16 * 1024);
  }
  for (const auto& s : events->statuses) {
    FUZZ_CHECK(Storable(s.external_id) && Storable(s.status) && Storable(s.error));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char mode = static_cast<char>(data[0]);
  const absl::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (mode) {
    case 'w':
      CheckEvents(ParseWhatsApp(body));
      break;
    case 't':
      CheckEvents(ParseTelegram(body));
      break;
    case 'm':
    case 'f': {
      std::string token;
      auto events = ParseMattermost(
          body, mode == 'm' ? "application/json" : "application/x-www-form-urlencoded", &token);
      CheckEvents(events);
      if (events.ok()) (void)VerifyToken("mm-token", token, "Mattermost token");
      break;
    }
    case 's': {
      constexpr absl::string_view kSecret = "fuzz-app-secret";
      const size_t nl = body.find('\n');
      const absl::string_view header = body.substr(0, nl);
      const absl::string_view rest = nl == absl::string_view::npos ? "" : body.substr(nl + 1);
      const absl::Status status = VerifyWhatsAppSignature(kSecret, rest, header);
      const bool right = header == "sha256=" + HmacSha256Hex(kSecret, rest);
      FUZZ_CHECK(status.ok() == right);
      if (!status.ok()) FUZZ_CHECK(status.code() == absl::StatusCode::kUnauthenticated);
      break;
    }
    default:
      (void)ParseForm(body);
      break;
  }
  return 0;
}
