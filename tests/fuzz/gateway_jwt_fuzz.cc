// JWT verification (gateway/jwt.h). The first byte picks what the rest is:
//   't' (or anything else) a token given to JwtVerifier::Verify, with an HS256
//       secret and a JWKS of one RS256 and one ES256 key;
//   'k' a JWKS document for Jwks::Parse;
//   'b' bytes for the base64url codec.
// Invariants: a failure is UNAUTHENTICATED (INVALID_ARGUMENT for a JWKS);
// an accepted HS256 token carries the HMAC of its signing input under the
// secret (nothing else verifies); base64url round-trips.
#include <cstdint>
#include <string>
#include <string_view>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/time/time.h"
#include "gateway/auth/jwt.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace genesis::gateway;

constexpr char kSecret[] = "fuzz-secret-0123456789abcdef0123456789";
// Public halves of throw-away keys; tests/fuzz/corpus/gateway_jwt holds tokens they signed.
constexpr char kJwks[] = R"({"keys": [
  {"kty": "RSA", "kid": "rsa1", "use": "sig", "alg": "RS256",
   "n": "pWJVujus6qsgT_KN-1jOOgsnZoqyz1XUQwOGkv4MRglVA6nmwPDTrYqFex_7R6r-WTc-yO0RF6uA2gUvsoTiImm5smQrZ71Jg8pH0paJ-yqIHZ_JhTbI8qnZSLjFVGIOtFYYjbqNyUQqWsB_Hz5CL-I7muaSfYCc3lLijYmv9MZ7vRVB01u7psJkzNDZ82YDmsb8t2w6f2G5RU_BNwOjW7z-fe2rGL_dtS4LFhcLRnVxuv4e7vcvInY_2GkU8BclHqs1PLtH-tzLVvQVs8K69E9Trx4SO1dbu1eG4u3r805u1lIN81lqJl7fEFn1WqlrQff5pVbqtPLdZhX4ezFPaQ",
   "e": "AQAB"},
  {"kty": "EC", "kid": "ec1", "crv": "P-256", "use": "sig",
   "x": "coZMrZO-1hDrOjaUr0HK323SO_V9UgwrBwAW7g1r5aw",
   "y": "ejMidhur_g5hn47ixpGSKGROSKHyEO3SV54wdI42IGk"}]})";

const JwtVerifier& Verifier() {
  static const JwtVerifier* verifier = [] {
    auto jwks = Jwks::Parse(kJwks);
    FUZZ_CHECK(jwks.ok() && jwks->size() == 2);
    JwtOptions options;
    options.hs256_secret = kSecret;
    options.issuer = "genesis";
    return new JwtVerifier(options, std::move(*jwks));
  }();
  return *verifier;
}

bool SignedWithSecret(std::string_view token) {
  const size_t last = token.rfind('.');
  if (last == std::string_view::npos) return false;
  auto sig = Base64UrlDecode(absl::string_view(token.data() + last + 1, token.size() - last - 1));
  if (!sig) return false;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret, sizeof(kSecret) - 1,
       reinterpret_cast<const unsigned char*>(token.data()), last, mac, &len);
  return sig->size() == len && CRYPTO_memcmp(sig->data(), mac, len) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char mode = static_cast<char>(data[0]);
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const absl::string_view ain(in.data(), in.size());
  if (mode == 'k') {
    auto jwks = Jwks::Parse(ain);
    if (!jwks.ok()) FUZZ_CHECK(jwks.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  if (mode == 'b') {
    FUZZ_CHECK(Base64UrlDecode(Base64UrlEncode(ain)) == std::string(in));
    if (auto decoded = Base64UrlDecode(ain); decoded) FUZZ_CHECK(decoded->size() <= in.size());
    return 0;
  }
  // A fixed "now" inside the validity of the committed tokens (2026-06-01).
  const absl::Time now = absl::FromUnixSeconds(1780272000);
  auto claims = Verifier().Verify(ain, now);
  if (!claims.ok()) {
    FUZZ_CHECK(claims.status().code() == absl::StatusCode::kUnauthenticated);
    return 0;
  }
  // Accepted: it must be signed. HS256 is checked here; RS256 / ES256 were
  // signed with private keys nobody but the corpus generator had.
  const size_t dot = in.find('.');
  FUZZ_CHECK(dot != std::string_view::npos);
  auto header = Base64UrlDecode(absl::string_view(in.data(), dot));
  FUZZ_CHECK(header.has_value());
  if (header->find("HS256") != std::string::npos) FUZZ_CHECK(SignedWithSecret(in));
  FUZZ_CHECK(claims->expires > now - absl::Minutes(1));
  return 0;
}
