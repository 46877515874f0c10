// JSON Web Tokens (RFC 7519) as the gateway accepts them: compact JWS with
// HS256 (a shared secret) or RS256 / ES256 (public keys from a JWKS, chosen
// by `kid`). Checks: the header's alg must be one the verifier has a key of
// that exact kind for (alg "none" and any other alg are refused, and an
// HS256 token is never checked against a public key: no algorithm
// confusion), the signature (OpenSSL), exp / nbf / iat with a skew, and iss /
// aud when configured. Every failure is UNAUTHENTICATED with a short reason.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace genesis::gateway {

// base64url without padding (RFC 7515 §2). Decode also accepts padding.
std::string Base64UrlEncode(absl::string_view bytes);
std::optional<std::string> Base64UrlDecode(absl::string_view text);

// The claims of a verified token that the gateway uses.
struct JwtClaims {
  std::string subject;             // sub
  std::vector<std::string> roles;  // "roles": ["admin", ...]
  absl::Time expires = absl::InfiniteFuture();
  nlohmann::json all;  // the whole payload
};

// Public keys by kid, with the algorithm each is for (RS256 or ES256).
class Jwks {
 public:
  Jwks();
  ~Jwks();
  Jwks(Jwks&&) noexcept;
  Jwks& operator=(Jwks&&) noexcept;
  // A copy shares the (immutable) keys.
  Jwks(const Jwks&);
  Jwks& operator=(const Jwks&);
  // A JWKS document {"keys": [{"kty": "RSA", "kid", "n", "e"} |
  // {"kty": "EC", "crv": "P-256", "kid", "x", "y"}]}. Keys with "use" other
  // than "sig" are skipped; INVALID_ARGUMENT for malformed keys.
  static absl::StatusOr<Jwks> Parse(absl::string_view json);
  static absl::StatusOr<Jwks> Load(const std::string& path);
  [[nodiscard]] size_t size() const;

  struct Key;

 private:
  friend class JwtVerifier;
  std::map<std::string, std::shared_ptr<Key>> keys_;
};

struct JwtOptions {
  std::string hs256_secret;  // empty: HS256 tokens are refused
  std::string issuer;        // empty: iss not checked
  std::string audience;      // empty: aud not checked
  absl::Duration skew = absl::Seconds(30);
  bool require_exp = true;
};

// Thread-safe after construction. The JWKS can be swapped (key rotation).
class JwtVerifier {
 public:
  JwtVerifier(JwtOptions options, Jwks jwks);
  ~JwtVerifier();
  absl::StatusOr<JwtClaims> Verify(absl::string_view token, absl::Time now) const;
  void SetJwks(Jwks jwks);

 private:
  [[nodiscard]] std::shared_ptr<const Jwks> jwks() const;
  absl::StatusOr<JwtClaims> VerifyUnchecked(absl::string_view token, absl::Time now) const;

  const JwtOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const Jwks> jwks_;
};

// An HS256 token of `payload` (for the admin CLI and tests).
std::string SignHs256(const nlohmann::json& payload, const std::string& secret,
                      const std::string& kid = "");

// The payload of a dev token: sub, roles, iat, exp (+ iss / aud when set).
nlohmann::json DevTokenPayload(const std::string& subject, const std::vector<std::string>& roles,
                               absl::Duration ttl, absl::Time now, const std::string& issuer = "",
                               const std::string& audience = "");

}  // namespace genesis::gateway
