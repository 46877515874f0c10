#include "common/base/text.h"

#include <cstdio>
#include <regex>

#include "absl/strings/str_cat.h"

namespace genesis {
namespace {

// The length of the UTF-8 sequence at s[i] when it is valid and not NUL;
// otherwise 0, with *bad the length of its maximal ill-formed part (>= 1).
size_t SequenceAt(absl::string_view s, size_t i, size_t* bad) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  *bad = 1;
  if (c == 0) return 0;
  if (c < 0x80) return 1;
  size_t need = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c == 0xE0) {
    need = 2, lo = 0xA0;
  } else if (c == 0xED) {
    need = 2, hi = 0x9F;  // no surrogates
  } else if (c >= 0xE1 && c <= 0xEF) {
    need = 2;
  } else if (c == 0xF0) {
    need = 3, lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    need = 3;
  } else if (c == 0xF4) {
    need = 3, hi = 0x8F;  // at most U+10FFFF
  } else {
    return 0;  // a continuation byte, C0, C1 or F5..FF
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return 0;
    const unsigned char b = byte(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
    *bad = k + 1;
  }
  return need + 1;
}

}  // namespace

bool IsStorableText(absl::string_view s) {
  size_t bad = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t n = SequenceAt(s, i, &bad);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string StorableTextProblem(absl::string_view s) {
  size_t bad = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t n = SequenceAt(s, i, &bad);
    if (n == 0) {
      if (s[i] == '\0') return "must not contain NUL characters (U+0000)";
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(s[i]));
      return absl::StrCat("must be valid UTF-8 (byte ", hex, " at offset ", i, " is not)");
    }
    i += n;
  }
  return "";
}

bool CheckStorableText(absl::string_view field, absl::string_view value, FieldViolations* v) {
  std::string problem = StorableTextProblem(value);
  if (problem.empty()) return true;
  v->Add(std::string(field), std::move(problem));
  return false;
}

bool CheckRequestId(absl::string_view field, absl::string_view request_id, FieldViolations* v) {
  if (request_id.size() > kMaxRequestIdBytes) {
    v->Add(std::string(field), absl::StrCat("must be at most ", kMaxRequestIdBytes,
                                            " bytes (it is ", request_id.size(), ")"));
    return false;
  }
  return CheckStorableText(field, request_id, v);
}

std::string ToStorableText(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t bad = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t n = SequenceAt(s, i, &bad);
    if (n == 0) {
      out += kReplacementCharacter;
      i += bad;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

std::string ForCaller(absl::string_view text, size_t max_bytes) {
  static const std::regex kUrl(R"([A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>)\]]+)");
  static const std::regex kAddress(R"(\b\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?\b)");
  static const std::regex kBearer(R"((Bearer|Basic)\s+[^\s"']+)", std::regex::icase);
  static const std::regex kKeyLike(
      R"(\b(sk|pk|rk|key|xai|AIza)[-_][A-Za-z0-9_-]{6,}|\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{24,})");
  std::string out = ToStorableText(text);
  out = std::regex_replace(out, kUrl, "<url>");
  out = std::regex_replace(out, kBearer, "$1 <redacted>");
  out = std::regex_replace(out, kKeyLike, "<redacted>");
  out = std::regex_replace(out, kAddress, "<address>");
  if (out.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

}  // namespace genesis
