#include "gateway/auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace genesis::gateway {

struct Jwks::Key {
  std::string alg;  // "RS256" or "ES256"
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("invalid token: ", why));
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

// RFC 7518 §3.4: ES256 signatures are r || s (32 bytes each); OpenSSL wants DER.
std::optional<std::string> EcdsaRawToDer(absl::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  ECDSA_SIG_set0(sig, r, s);
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool VerifySha256(EVP_PKEY* key, absl::string_view data, absl::string_view sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// An EVP_PKEY from OSSL params; nullptr on failure.
EVP_PKEY* FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    pkey = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pkey;
}

absl::StatusOr<EVP_PKEY*> RsaKey(const nlohmann::json& jwk) {
  auto n = Base64UrlDecode(jwk.value("n", ""));
  auto e = Base64UrlDecode(jwk.value("e", ""));
  if (!n || !e || n->size() < 256 || e->empty())
    return absl::InvalidArgumentError("RSA key needs n (>= 2048 bits) and e");
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                           static_cast<int>(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                           static_cast<int>(e->size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
  EVP_PKEY* pkey = FromParams("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  if (pkey == nullptr) return absl::InvalidArgumentError("RSA key rejected by OpenSSL");
  return pkey;
}

absl::StatusOr<EVP_PKEY*> EcKey(const nlohmann::json& jwk) {
  if (jwk.value("crv", "") != "P-256") return absl::InvalidArgumentError("EC key must be P-256");
  auto x = Base64UrlDecode(jwk.value("x", ""));
  auto y = Base64UrlDecode(jwk.value("y", ""));
  if (!x || !y || x->size() != 32 || y->size() != 32)
    return absl::InvalidArgumentError("EC key needs 32-byte x and y");
  std::string point = "\x04" + *x + *y;  // uncompressed SEC1 point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  EVP_PKEY* pkey = FromParams("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  if (pkey == nullptr) return absl::InvalidArgumentError("EC point is not on P-256");
  return pkey;
}

absl::StatusOr<absl::Time> NumericDate(const nlohmann::json& payload, const char* name) {
  const auto& v = payload.at(name);
  if (!v.is_number()) return Unauthenticated(absl::StrCat(name, " is not a number"));
  // A float out of int64's range would be undefined behaviour to convert.
  if (v.is_number_float() && !(std::abs(v.get<double>()) < 9.2e18)) {
    return Unauthenticated(absl::StrCat(name, " is out of range"));
  }
  return absl::FromUnixSeconds(v.get<int64_t>());
}

}  // namespace

std::string Base64UrlEncode(absl::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

std::optional<std::string> Base64UrlDecode(absl::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character
  return out;
}

Jwks::Jwks() = default;
Jwks::~Jwks() = default;
Jwks::Jwks(Jwks&&) noexcept = default;
Jwks& Jwks::operator=(Jwks&&) noexcept = default;
Jwks::Jwks(const Jwks&) = default;
Jwks& Jwks::operator=(const Jwks&) = default;
size_t Jwks::size() const { return keys_.size(); }

absl::StatusOr<Jwks> Jwks::Parse(absl::string_view json) {
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
    return absl::InvalidArgumentError("JWKS must be an object with a \"keys\" array");
  Jwks jwks;
  // nlohmann's value() throws for a member of another type ({"kid": 5}).
  try {
    for (const auto& jwk : doc["keys"]) {
      if (!jwk.is_object()) return absl::InvalidArgumentError("a JWKS key is not an object");
      const std::string kid = jwk.value("kid", "");
      if (kid.empty()) return absl::InvalidArgumentError("a JWKS key has no kid");
      if (jwk.value("use", "sig") != "sig") continue;
      const std::string kty = jwk.value("kty", "");
      auto key = std::make_shared<Key>();
      absl::StatusOr<EVP_PKEY*> pkey = absl::InvalidArgumentError("kty must be RSA or EC");
      if (kty == "RSA") {
        key->alg = "RS256";
        pkey = RsaKey(jwk);
      } else if (kty == "EC") {
        key->alg = "ES256";
        pkey = EcKey(jwk);
      }
      if (!pkey.ok())
        return absl::InvalidArgumentError(absl::StrCat("key ", kid, ": ", pkey.status().message()));
      key->pkey = *pkey;
      if (jwk.contains("alg") && jwk["alg"] != key->alg)
        return absl::InvalidArgumentError(absl::StrCat("key ", kid, ": alg must be ", key->alg));
      jwks.keys_[kid] = std::move(key);
    }
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("a JWKS key has a member of the wrong type");
  }
  return jwks;
}

absl::StatusOr<Jwks> Jwks::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str());
}

JwtVerifier::JwtVerifier(JwtOptions options, Jwks jwks)
    : options_(std::move(options)), jwks_(std::make_shared<const Jwks>(std::move(jwks))) {}
JwtVerifier::~JwtVerifier() = default;

void JwtVerifier::SetJwks(Jwks jwks) {
  auto next = std::make_shared<const Jwks>(std::move(jwks));
  std::lock_guard lock(mu_);
  jwks_ = std::move(next);
}

std::shared_ptr<const Jwks> JwtVerifier::jwks() const {
  std::lock_guard lock(mu_);
  return jwks_;
}

absl::StatusOr<JwtClaims> JwtVerifier::Verify(absl::string_view token, absl::Time now) const {
  try {
    return VerifyUnchecked(token, now);
  } catch (const nlohmann::json::exception&) {
    return Unauthenticated("a header or claim has the wrong type");
  }
}

absl::StatusOr<JwtClaims> JwtVerifier::VerifyUnchecked(absl::string_view token,
                                                       absl::Time now) const {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Unauthenticated("not a compact JWS (header.payload.signature)");
  // RFC 7515 §2: base64url without padding. Accepting '=' would let one token
  // have several spellings (and parsers disagree on them).
  if (token.find('=') != absl::string_view::npos) return Unauthenticated("base64url padding");
  auto header_json = Base64UrlDecode(parts[0]);
  auto payload_json = Base64UrlDecode(parts[1]);
  auto signature = Base64UrlDecode(parts[2]);
  if (!header_json || !payload_json || !signature) return Unauthenticated("bad base64url");
  auto header = nlohmann::json::parse(*header_json, nullptr, false);
  auto payload = nlohmann::json::parse(*payload_json, nullptr, false);
  if (!header.is_object() || !payload.is_object()) return Unauthenticated("bad JSON");
  if (!header.contains("alg") || !header["alg"].is_string()) return Unauthenticated("no alg");
  const std::string alg = header["alg"];
  const std::string kid = header.value("kid", "");
  if (header.contains("crit")) return Unauthenticated("crit headers are not supported");
  const std::string signed_part = absl::StrCat(parts[0], ".", parts[1]);

  if (alg == "HS256") {
    if (options_.hs256_secret.empty()) return Unauthenticated("HS256 is not accepted");
    std::string mac = HmacSha256(options_.hs256_secret, signed_part);
    if (signature->size() != mac.size() ||
        CRYPTO_memcmp(signature->data(), mac.data(), mac.size()) != 0) {
      return Unauthenticated("bad signature");
    }
  } else if (alg == "RS256" || alg == "ES256") {
    auto jwks = this->jwks();
    auto it = jwks->keys_.find(kid);
    if (it == jwks->keys_.end()) return Unauthenticated(absl::StrCat("unknown kid '", kid, "'"));
    // The key decides the algorithm: a token cannot pick another one for it.
    if (it->second->alg != alg) return Unauthenticated("alg does not match the key");
    std::string sig = *signature;
    if (alg == "ES256") {
      auto der = EcdsaRawToDer(*signature);
      if (!der) return Unauthenticated("bad signature");
      sig = std::move(*der);
    }
    if (!VerifySha256(it->second->pkey, signed_part, sig)) return Unauthenticated("bad signature");
  } else {
    return Unauthenticated(absl::StrCat("alg '", alg, "' is not accepted"));
  }

  JwtClaims claims;
  if (payload.contains("exp")) {
    auto exp = NumericDate(payload, "exp");
    if (!exp.ok()) return exp.status();
    if (now >= *exp + options_.skew) return Unauthenticated("expired");
    claims.expires = *exp;
  } else if (options_.require_exp) {
    return Unauthenticated("no exp");
  }
  // A token issued in the future (beyond the skew) is forged or from a broken clock.
  if (payload.contains("iat")) {
    auto iat = NumericDate(payload, "iat");
    if (!iat.ok()) return iat.status();
    if (now + options_.skew < *iat) return Unauthenticated("issued in the future (iat)");
  }
  if (payload.contains("nbf")) {
    auto nbf = NumericDate(payload, "nbf");
    if (!nbf.ok()) return nbf.status();
    if (now + options_.skew < *nbf) return Unauthenticated("not valid yet (nbf)");
  }
  if (!options_.issuer.empty() && payload.value("iss", "") != options_.issuer)
    return Unauthenticated("wrong issuer");
  if (!options_.audience.empty()) {
    bool match = false;
    if (payload.contains("aud") && payload["aud"].is_string()) {
      match = payload["aud"] == options_.audience;
    } else if (payload.contains("aud") && payload["aud"].is_array()) {
      for (const auto& a : payload["aud"]) match = match || (a == options_.audience);
    }
    if (!match) return Unauthenticated("wrong audience");
  }
  if (!payload.contains("sub") || !payload["sub"].is_string() || payload["sub"] == "")
    return Unauthenticated("no sub");
  claims.subject = payload["sub"];
  if (payload.contains("roles")) {
    if (!payload["roles"].is_array()) return Unauthenticated("roles is not an array");
    for (const auto& r : payload["roles"]) {
      if (!r.is_string()) return Unauthenticated("roles holds a non-string");
      claims.roles.push_back(r);
    }
  }
  claims.all = std::move(payload);
  return claims;
}

std::string SignHs256(const nlohmann::json& payload, const std::string& secret,
                      const std::string& kid) {
  nlohmann::json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  std::string signed_part =
      absl::StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(payload.dump()));
  return absl::StrCat(signed_part, ".", Base64UrlEncode(HmacSha256(secret, signed_part)));
}

nlohmann::json DevTokenPayload(const std::string& subject, const std::vector<std::string>& roles,
                               absl::Duration ttl, absl::Time now, const std::string& issuer,
                               const std::string& audience) {
  nlohmann::json p = {{"sub", subject},
                      {"roles", roles},
                      {"iat", absl::ToUnixSeconds(now)},
                      {"exp", absl::ToUnixSeconds(now + ttl)}};
  if (!issuer.empty()) p["iss"] = issuer;
  if (!audience.empty()) p["aud"] = audience;
  return p;
}

}  // namespace genesis::gateway
