#include "services/bot_manager/webhooks.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "common/text.h"

namespace genesis::bot {
namespace {

using nlohmann::json;

constexpr size_t kMaxTextBytes = 16 * 1024;

std::string Cut(std::string s) {
  if (s.size() <= kMaxTextBytes) return s;
  size_t n = kMaxTextBytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

// A JSON string or number as text ("" when absent or another type).
std::string Text(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return "";
}

absl::StatusOr<json> ParseObject(absl::string_view body, absl::string_view what) {
  // nlohmann refuses a whole body for one invalid UTF-8 byte in a string; a
  // customer's message is worth more than that byte.
  std::string replaced;
  if (!IsStorableText(body)) {
    replaced = ToStorableText(body);
    body = replaced;
  }
  json v = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat("the ", what, " body is not valid JSON"));
  }
  if (!v.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("the ", what, " body is not a JSON object"));
  }
  return v;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UrlDecode(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  // Digests of equal size are compared, so not even the secret's length shows
  // in the time taken.
  unsigned char da[SHA256_DIGEST_LENGTH];
  unsigned char db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return (CRYPTO_memcmp(da, db, sizeof da) == 0) & (a.size() == b.size());
}

std::string HmacSha256Hex(absl::string_view key, absl::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[mac[i] >> 4];
    out[2 * i + 1] = kHex[mac[i] & 0xF];
  }
  return out;
}

absl::Status VerifyWhatsAppSignature(absl::string_view app_secret, absl::string_view body,
                                     absl::string_view header) {
  if (header.empty()) {
    return absl::UnauthenticatedError("missing X-Hub-Signature-256 header");
  }
  if (!absl::StartsWith(header, "sha256=")) {
    return absl::UnauthenticatedError("X-Hub-Signature-256 must be 'sha256=<hex HMAC>'");
  }
  std::string sent = absl::AsciiStrToLower(header.substr(7));
  if (!ConstantTimeEquals(sent, HmacSha256Hex(app_secret, body))) {
    return absl::UnauthenticatedError(
        "X-Hub-Signature-256 does not match the body signed with the app secret");
  }
  return absl::OkStatus();
}

absl::Status VerifyToken(absl::string_view secret, absl::string_view sent, absl::string_view what) {
  if (sent.empty()) return absl::UnauthenticatedError(absl::StrCat("missing ", what));
  if (!ConstantTimeEquals(sent, secret)) {
    return absl::UnauthenticatedError(absl::StrCat(what, " does not match"));
  }
  return absl::OkStatus();
}

absl::StatusOr<WebhookEvents> ParseWhatsApp(absl::string_view body) {
  auto root = ParseObject(body, "WhatsApp");
  if (!root.ok()) return root.status();
  auto entries = root->find("entry");
  if (entries == root->end() || !entries->is_array()) {
    return absl::InvalidArgumentError("the WhatsApp body has no \"entry\" array");
  }
  WebhookEvents events;
  for (const auto& entry : *entries) {
    auto changes = entry.is_object() ? entry.find("changes") : entry.end();
    if (!entry.is_object() || changes == entry.end() || !changes->is_array()) {
      return absl::InvalidArgumentError("a WhatsApp entry has no \"changes\" array");
    }
    for (const auto& change : *changes) {
      if (!change.is_object() || !change.contains("value") || !change["value"].is_object()) {
        return absl::InvalidArgumentError("a WhatsApp change has no \"value\" object");
      }
      const json& value = change["value"];
      if (auto msgs = value.find("messages"); msgs != value.end()) {
        if (!msgs->is_array()) {
          return absl::InvalidArgumentError("WhatsApp \"messages\" is not an array");
        }
        for (const auto& m : *msgs) {
          InboundMessage in;
          in.external_id = Text(m, "id");
          in.contact = Text(m, "from");
          if (in.external_id.empty() || in.contact.empty()) {
            return absl::InvalidArgumentError(
                "a WhatsApp message lacks its \"id\" (wamid) or \"from\"");
          }
          in.reply_to = in.contact;
          const std::string type = Text(m, "type");
          if (type == "text" && m.contains("text")) {
            in.text = Text(m["text"], "body");
          } else if (type == "button" && m.contains("button")) {
            in.text = Text(m["button"], "text");
          } else if (type == "interactive" && m.contains("interactive")) {
            const json& i = m["interactive"];
            in.text = Text(i.value("button_reply", json::object()), "title");
            if (in.text.empty()) in.text = Text(i.value("list_reply", json::object()), "title");
          }
          if (in.text.empty()) in.text = absl::StrCat("[", type.empty() ? "unknown" : type, "]");
          events.messages.push_back(std::move(in));
        }
      }
      if (auto sts = value.find("statuses"); sts != value.end()) {
        if (!sts->is_array()) {
          return absl::InvalidArgumentError("WhatsApp \"statuses\" is not an array");
        }
        for (const auto& s : *sts) {
          DeliveryStatus st{Text(s, "id"), Text(s, "status"), ""};
          if (st.external_id.empty() || st.status.empty()) {
            return absl::InvalidArgumentError("a WhatsApp status lacks its \"id\" or \"status\"");
          }
          if (st.status != "sent" && st.status != "delivered" && st.status != "read" &&
              st.status != "failed") {
            return absl::InvalidArgumentError(absl::StrCat("unknown WhatsApp status '",
                                                           ToStorableText(st.status),
                                                           "' (sent, delivered, read, failed)"));
          }
          if (s.contains("errors") && s["errors"].is_array() && !s["errors"].empty()) {
            st.error = Text(s["errors"][0], "title");
          }
          events.statuses.push_back(std::move(st));
        }
      }
    }
  }
  GENESIS_RETURN_IF_ERROR(MakeStorable(&events, "WhatsApp"));
  return events;
}

absl::StatusOr<WebhookEvents> ParseTelegram(absl::string_view body) {
  auto root = ParseObject(body, "Telegram");
  if (!root.ok()) return root.status();
  auto update_id = root->find("update_id");
  if (update_id == root->end() || !update_id->is_number_integer()) {
    return absl::InvalidArgumentError("the Telegram update has no integer \"update_id\"");
  }
  WebhookEvents events;
  const json* message = nullptr;
  for (const char* key : {"message", "edited_message"}) {
    if (root->contains(key) && (*root)[key].is_object()) {
      message = &(*root)[key];
      break;
    }
  }
  if (message == nullptr || !message->contains("text")) return events;
  InboundMessage in;
  in.external_id = std::to_string(update_id->get<int64_t>());
  in.reply_to = Text(message->value("chat", json::object()), "id");
  in.contact = Text(message->value("from", json::object()), "id");
  if (in.contact.empty()) in.contact = in.reply_to;
  if (in.reply_to.empty()) {
    return absl::InvalidArgumentError("the Telegram message has no \"chat.id\"");
  }
  in.text = Text(*message, "text");
  events.messages.push_back(std::move(in));
  GENESIS_RETURN_IF_ERROR(MakeStorable(&events, "Telegram"));
  return events;
}

std::vector<std::pair<std::string, std::string>> ParseForm(absl::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  for (absl::string_view pair : absl::StrSplit(body, '&', absl::SkipEmpty())) {
    size_t eq = pair.find('=');
    absl::string_view k = pair.substr(0, eq);
    absl::string_view v = eq == absl::string_view::npos ? absl::string_view() : pair.substr(eq + 1);
    out.emplace_back(UrlDecode(k), UrlDecode(v));
  }
  return out;
}

absl::StatusOr<WebhookEvents> ParseMattermost(absl::string_view body,
                                              absl::string_view content_type, std::string* token) {
  json fields = json::object();
  if (absl::StartsWithIgnoreCase(content_type, "application/x-www-form-urlencoded")) {
    for (auto& [k, v] : ParseForm(body)) fields[k] = v;
  } else {
    auto root = ParseObject(body, "Mattermost");
    if (!root.ok()) return root.status();
    fields = std::move(*root);
  }
  *token = Text(fields, "token");
  InboundMessage in;
  in.external_id = Text(fields, "post_id");
  if (in.external_id.empty()) in.external_id = Text(fields, "trigger_id");
  in.contact = Text(fields, "user_id");
  in.reply_to = Text(fields, "channel_id");
  std::string text = Text(fields, "text");
  if (in.external_id.empty()) {
    return absl::InvalidArgumentError(
        "the Mattermost payload has neither \"post_id\" (outgoing webhook) nor \"trigger_id\" "
        "(slash command)");
  }
  if (in.contact.empty() || in.reply_to.empty()) {
    return absl::InvalidArgumentError("the Mattermost payload lacks \"user_id\" or \"channel_id\"");
  }
  const std::string trigger = Text(fields, "trigger_word");
  absl::string_view t(text);
  if (!trigger.empty() && absl::StartsWith(t, trigger)) t.remove_prefix(trigger.size());
  in.text = std::string(absl::StripAsciiWhitespace(t));
  if (in.text.empty()) {
    return absl::InvalidArgumentError("the Mattermost message has no text after the trigger word");
  }
  WebhookEvents events;
  events.messages.push_back(std::move(in));
  GENESIS_RETURN_IF_ERROR(MakeStorable(&events, "Mattermost"));
  return events;
}

absl::Status MakeStorable(WebhookEvents* events, absl::string_view channel) {
  auto check = [&](const std::string& value, const char* what) -> absl::Status {
    if (std::string problem = StorableTextProblem(value); !problem.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("the ", channel, " ", what, " ", problem));
    }
    return absl::OkStatus();
  };
  for (auto& m : events->messages) {
    GENESIS_RETURN_IF_ERROR(check(m.external_id, "message id"));
    GENESIS_RETURN_IF_ERROR(check(m.contact, "sender id"));
    GENESIS_RETURN_IF_ERROR(check(m.reply_to, "chat or channel id"));
    if (!IsStorableText(m.text)) m.text = ToStorableText(m.text);
    m.text = Cut(std::move(m.text));
  }
  for (auto& s : events->statuses) {
    GENESIS_RETURN_IF_ERROR(check(s.external_id, "status id"));
    if (!IsStorableText(s.error)) s.error = ToStorableText(s.error);
    s.error = Cut(std::move(s.error));
  }
  return absl::OkStatus();
}

}  // namespace genesis::bot
