// A detector of Brazilian and general personal data in free text, for rule
// P0 (sensitive content only goes to local models) and for masking logs.
//
// Finds CPF (11 digits, mod-11 check digits), CNPJ (14 digits, mod-11),
// payment card numbers (13-19 digits, Luhn), phone numbers (+country code,
// or a Brazilian area code followed by 8 or 9 digits) and e-mail addresses.
// Digits may be separated by '.', '-', '/', ' ', '(' or ')'. It errs on the
// side of flagging: a false positive only keeps a request local. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace genesis::llmrouter {

enum class PiiKind { kCpf, kCnpj, kCard, kPhone, kEmail };

const char* PiiKindName(PiiKind kind);  // "cpf", "cnpj", "card", "phone", "email"

struct PiiMatch {
  PiiKind kind;
  size_t begin;  // byte offsets in the text
  size_t end;
};

// Every match, in text order.
std::vector<PiiMatch> DetectPii(std::string_view text);

// The text with every match replaced by "[cpf]", "[email]"... (for logs).
std::string MaskPii(std::string_view text);

// Check-digit validators on digit strings (exposed for tests).
bool ValidCpf(std::string_view digits);
bool ValidCnpj(std::string_view digits);
bool ValidLuhn(std::string_view digits);

}  // namespace genesis::llmrouter
