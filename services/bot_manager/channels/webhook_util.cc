#include "services/bot_manager/channels/webhook_util.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "common/base/text.h"

namespace genesis::bot {
namespace {

constexpr size_t kMaxTextBytes = 16 * 1024;

std::string Cut(std::string s) {
  if (s.size() <= kMaxTextBytes) return s;
  size_t n = kMaxTextBytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
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

absl::Status VerifyToken(absl::string_view secret, absl::string_view sent, absl::string_view what) {
  if (sent.empty()) return absl::UnauthenticatedError(absl::StrCat("missing ", what));
  if (!ConstantTimeEquals(sent, secret)) {
    return absl::UnauthenticatedError(absl::StrCat(what, " does not match"));
  }
  return absl::OkStatus();
}

std::string JsonText(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return "";
}

absl::StatusOr<nlohmann::json> ParseJsonObject(absl::string_view body, absl::string_view what) {
  // nlohmann refuses a whole body for one invalid UTF-8 byte in a string; a
  // customer's message is worth more than that byte.
  std::string replaced;
  if (!IsStorableText(body)) {
    replaced = ToStorableText(body);
    body = replaced;
  }
  nlohmann::json v =
      nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat("the ", what, " body is not valid JSON"));
  }
  if (!v.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("the ", what, " body is not a JSON object"));
  }
  return v;
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