#include "services/llm_router/selection/pii.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace genesis::llmrouter {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSeparator(char c) {
  return c == '.' || c == '-' || c == '/' || c == ' ' || c == '(' || c == ')';
}
bool IsEmailLocal(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
         c == '%' || c == '+' || c == '-';
}
bool IsDomain(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
}
bool AllSame(std::string_view d) {
  return std::all_of(d.begin(), d.end(), [&](char c) { return c == d[0]; });
}

// Brazilian area codes (DDD): 11-99 without a zero digit.
bool ValidDdd(std::string_view d) { return d[0] != '0' && d[1] != '0'; }

bool LooksLikePhone(std::string_view digits, bool plus) {
  const size_t n = digits.size();
  if (plus) return n >= 10 && n <= 15;
  if (n == 12 || n == 13) {  // 55 + DDD + number
    return digits.substr(0, 2) == "55" && ValidDdd(digits.substr(2, 2)) &&
           (n == 12 || digits[4] == '9');
  }
  if (n == 11) return ValidDdd(digits.substr(0, 2)) && digits[2] == '9';  // mobile
  if (n == 10) return ValidDdd(digits.substr(0, 2)) && digits[2] >= '2' && digits[2] <= '5';
  return false;
}

void ScanNumbers(std::string_view text, std::vector<PiiMatch>* out) {
  size_t i = 0;
  while (i < text.size()) {
    const bool plus = text[i] == '+' && i + 1 < text.size() && IsDigit(text[i + 1]);
    if (!IsDigit(text[i]) && !plus && text[i] != '(') {
      ++i;
      continue;
    }
    // A word-internal digit (e.g. "abc123") is not the start of a number.
    if (i > 0 && (IsDigit(text[i - 1]) || std::isalpha(static_cast<unsigned char>(text[i - 1])))) {
      ++i;
      continue;
    }
    size_t j = i + (plus ? 1 : 0);
    size_t last_digit = std::string_view::npos;
    std::string digits;
    while (j < text.size() && (IsDigit(text[j]) || IsSeparator(text[j]))) {
      if (IsDigit(text[j])) {
        digits.push_back(text[j]);
        last_digit = j;
      } else if (text[j] == ' ') {
        const char next = j + 1 < text.size() ? text[j + 1] : '\0';
        if (!IsDigit(next) && next != '(') break;  // a space only joins digit groups
      }
      ++j;
      if (digits.size() > 19) break;
    }
    if (last_digit == std::string_view::npos) {
      ++i;
      continue;
    }
    const size_t end = last_digit + 1;
    const bool word_after =
        end < text.size() &&
        (IsDigit(text[end]) || std::isalpha(static_cast<unsigned char>(text[end])));
    std::optional<PiiKind> kind;
    if (!word_after) {
      if (!plus && digits.size() == 11 && ValidCpf(digits)) {
        kind = PiiKind::kCpf;
      } else if (!plus && digits.size() == 14 && ValidCnpj(digits)) {
        kind = PiiKind::kCnpj;
      } else if (!plus && digits.size() >= 13 && digits.size() <= 19 && ValidLuhn(digits)) {
        kind = PiiKind::kCard;
      } else if (LooksLikePhone(digits, plus)) {
        kind = PiiKind::kPhone;
      }
    }
    if (kind) out->push_back({*kind, i, end});
    i = std::max(end, i + 1);
  }
}

void ScanEmails(std::string_view text, std::vector<PiiMatch>* out) {
  for (size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
    size_t b = at;
    while (b > 0 && IsEmailLocal(text[b - 1])) --b;
    size_t e = at + 1;
    while (e < text.size() && IsDomain(text[e])) ++e;
    while (e > at + 1 && (text[e - 1] == '.' || text[e - 1] == '-')) --e;  // trailing punctuation
    std::string_view domain = text.substr(at + 1, e - at - 1);
    size_t dot = domain.rfind('.');
    if (b == at || dot == std::string_view::npos || dot == 0 || domain.size() - dot - 1 < 2) {
      continue;
    }
    out->push_back({PiiKind::kEmail, b, e});
  }
}

}  // namespace

const char* PiiKindName(PiiKind kind) {
  switch (kind) {
    case PiiKind::kCpf:
      return "cpf";
    case PiiKind::kCnpj:
      return "cnpj";
    case PiiKind::kCard:
      return "card";
    case PiiKind::kPhone:
      return "phone";
    case PiiKind::kEmail:
      return "email";
  }
  return "";
}

bool ValidCpf(std::string_view d) {
  if (d.size() != 11 || AllSame(d)) return false;
  for (int check = 9; check <= 10; ++check) {
    int sum = 0;
    for (int k = 0; k < check; ++k) sum += (d[k] - '0') * (check + 1 - k);
    int digit = (sum * 10) % 11 % 10;
    if (digit != d[check] - '0') return false;
  }
  return true;
}

bool ValidCnpj(std::string_view d) {
  if (d.size() != 14 || AllSame(d)) return false;
  static constexpr int kW1[] = {5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2};
  static constexpr int kW2[] = {6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2};
  auto digit = [&](const int* w, int n) {
    int sum = 0;
    for (int k = 0; k < n; ++k) sum += (d[k] - '0') * w[k];
    int r = sum % 11;
    return r < 2 ? 0 : 11 - r;
  };
  return digit(kW1, 12) == d[12] - '0' && digit(kW2, 13) == d[13] - '0';
}

bool ValidLuhn(std::string_view d) {
  if (d.empty() || AllSame(d)) return false;
  int sum = 0;
  bool dbl = false;
  for (size_t k = d.size(); k-- > 0;) {
    int v = d[k] - '0';
    if (dbl) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}

std::vector<PiiMatch> DetectPii(std::string_view text) {
  std::vector<PiiMatch> out;
  ScanNumbers(text, &out);
  ScanEmails(text, &out);
  std::sort(out.begin(), out.end(),
            [](const PiiMatch& a, const PiiMatch& b) { return a.begin < b.begin; });
  return out;
}

std::string MaskPii(std::string_view text) {
  std::string out;
  size_t pos = 0;
  for (const auto& m : DetectPii(text)) {
    if (m.begin < pos) continue;  // overlaps the previous match
    out.append(text.substr(pos, m.begin - pos));
    out.append("[").append(PiiKindName(m.kind)).append("]");
    pos = m.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace genesis::llmrouter
