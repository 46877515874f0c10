#include "gateway/auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace genesis::gateway {
namespace {

using nlohmann::json;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);
const std::string kSecret = "0123456789abcdef0123456789abcdef";

std::string BigEndian(const EVP_PKEY* key, const char* param, int width = 0) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, param, &bn), 1);
  std::string out(width > 0 ? width : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

// A key pair, its JWK and a signer producing JWS signatures as RFC 7518 wants.
struct TestKey {
  std::string alg, kid;
  EVP_PKEY* pkey = nullptr;
  json jwk;
  TestKey(std::string a, std::string k) : alg(std::move(a)), kid(std::move(k)) {
    if (alg == "RS256") {
      pkey = EVP_RSA_gen(2048);
      jwk = {{"kty", "RSA"},
             {"kid", kid},
             {"use", "sig"},
             {"n", Base64UrlEncode(BigEndian(pkey, OSSL_PKEY_PARAM_RSA_N))},
             {"e", Base64UrlEncode(BigEndian(pkey, OSSL_PKEY_PARAM_RSA_E))}};
    } else {
      pkey = EVP_EC_gen("P-256");
      jwk = {{"kty", "EC"},
             {"kid", kid},
             {"crv", "P-256"},
             {"x", Base64UrlEncode(BigEndian(pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32))},
             {"y", Base64UrlEncode(BigEndian(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
    }
  }
  ~TestKey() { EVP_PKEY_free(pkey); }

  std::string Sign(const std::string& data) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                   data.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(data.data()), data.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    if (alg != "ES256") return sig;
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(es);
    return raw;
  }

  std::string Token(const json& payload, std::string header_alg = "") const {
    json header = {{"alg", header_alg.empty() ? alg : header_alg}, {"kid", kid}};
    std::string part =
        absl::StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(payload.dump()));
    return absl::StrCat(part, ".", Base64UrlEncode(Sign(part)));
  }
};

json Claims(absl::Duration ttl = absl::Minutes(5)) {
  return DevTokenPayload("alice", {"operator"}, ttl, kNow, "genesis", "genesis-api");
}

std::string Unsigned(const json& header, const json& payload, const std::string& sig = "") {
  return absl::StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(payload.dump()), ".",
                      sig);
}

class JwtTest : public ::testing::Test {
 protected:
  JwtTest() : rsa_("RS256", "rsa-1"), ec_("ES256", "ec-1") {
    options_.hs256_secret = kSecret;
    options_.issuer = "genesis";
    options_.audience = "genesis-api";
    options_.skew = absl::Seconds(30);
  }
  JwtVerifier Verifier() {
    auto jwks = Jwks::Parse(json{{"keys", {rsa_.jwk, ec_.jwk}}}.dump());
    EXPECT_TRUE(jwks.ok()) << jwks.status();
    return JwtVerifier(options_, std::move(*jwks));
  }
  static std::string Error(const absl::StatusOr<JwtClaims>& r) {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
    return std::string(r.status().message());
  }
  TestKey rsa_, ec_;
  JwtOptions options_;
};

TEST(Base64UrlTest, RoundTripsWithoutPadding) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"}) {
    std::string enc = Base64UrlEncode(s);
    EXPECT_EQ(enc.find('='), std::string::npos);
    EXPECT_EQ(Base64UrlDecode(enc), s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlDecode("Zm9v"), "foo");
  EXPECT_EQ(Base64UrlDecode("Zg=="), "f");
  EXPECT_FALSE(Base64UrlDecode("Zm9v+").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());
}

TEST_F(JwtTest, ValidHs256Rs256Es256) {
  auto v = Verifier();
  for (const std::string& token :
       {SignHs256(Claims(), kSecret), rsa_.Token(Claims()), ec_.Token(Claims())}) {
    auto claims = v.Verify(token, kNow);
    ASSERT_TRUE(claims.ok()) << claims.status();
    EXPECT_EQ(claims->subject, "alice");
    EXPECT_EQ(claims->roles, std::vector<std::string>{"operator"});
    EXPECT_EQ(claims->expires, kNow + absl::Minutes(5));
  }
}

TEST_F(JwtTest, ExpiryAndNotBeforeWithSkew) {
  auto v = Verifier();
  std::string token = SignHs256(Claims(absl::Minutes(1)), kSecret);
  EXPECT_TRUE(v.Verify(token, kNow + absl::Seconds(80)).ok());  // within the 30 s skew
  EXPECT_EQ(Error(v.Verify(token, kNow + absl::Seconds(91))), "invalid token: expired");
  json nbf = Claims();
  nbf["nbf"] = absl::ToUnixSeconds(kNow + absl::Minutes(2));
  EXPECT_EQ(Error(v.Verify(ec_.Token(nbf), kNow)), "invalid token: not valid yet (nbf)");
  EXPECT_TRUE(v.Verify(ec_.Token(nbf), kNow + absl::Seconds(95)).ok());
  json no_exp = Claims();
  no_exp.erase("exp");
  EXPECT_EQ(Error(v.Verify(SignHs256(no_exp, kSecret), kNow)), "invalid token: no exp");
}

TEST_F(JwtTest, IssuedInTheFutureIsRefusedBeyondTheSkew) {
  auto v = Verifier();
  json p = Claims();
  p["iat"] = absl::ToUnixSeconds(kNow + absl::Hours(24 * 365));
  EXPECT_EQ(Error(v.Verify(SignHs256(p, kSecret), kNow)),
            "invalid token: issued in the future (iat)");
  p["iat"] = absl::ToUnixSeconds(kNow + absl::Seconds(20));  // within the 30 s skew
  EXPECT_TRUE(v.Verify(SignHs256(p, kSecret), kNow).ok());
  p["iat"] = "yesterday";
  EXPECT_EQ(Error(v.Verify(SignHs256(p, kSecret), kNow)), "invalid token: iat is not a number");
}

// One token, one spelling: base64url padding (RFC 7515 §2) is refused in every part.
TEST_F(JwtTest, Base64UrlPaddingIsRefused) {
  auto v = Verifier();
  std::string token = SignHs256(Claims(), kSecret);
  ASSERT_TRUE(v.Verify(token, kNow).ok());
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  auto padded = [](absl::string_view part) {
    std::string s(part);
    while (s.size() % 4 != 0) s.push_back('=');
    return s;
  };
  for (int i = 0; i < 3; ++i) {
    std::string parts_out[3] = {std::string(parts[0]), std::string(parts[1]),
                                std::string(parts[2])};
    parts_out[i] = padded(parts[i]);
    if (parts_out[i] == parts[i]) parts_out[i] += "====";
    std::string t = absl::StrCat(parts_out[0], ".", parts_out[1], ".", parts_out[2]);
    EXPECT_EQ(Error(v.Verify(t, kNow)), "invalid token: base64url padding") << i;
  }
}

TEST_F(JwtTest, IssuerAndAudience) {
  auto v = Verifier();
  json p = Claims();
  p["iss"] = "someone-else";
  EXPECT_EQ(Error(v.Verify(rsa_.Token(p), kNow)), "invalid token: wrong issuer");
  p = Claims();
  p["aud"] = "other-api";
  EXPECT_EQ(Error(v.Verify(rsa_.Token(p), kNow)), "invalid token: wrong audience");
  p["aud"] = json::array({"other-api", "genesis-api"});
  EXPECT_TRUE(v.Verify(rsa_.Token(p), kNow).ok());
  p["aud"] = 7;  // wrong type
  EXPECT_EQ(Error(v.Verify(rsa_.Token(p), kNow)), "invalid token: wrong audience");
  p = Claims();
  p["iss"] = 5;
  EXPECT_EQ(Error(v.Verify(rsa_.Token(p), kNow)),
            "invalid token: a header or claim has the wrong type");
}

TEST_F(JwtTest, AlgNoneIsRefused) {
  auto v = Verifier();
  for (std::string alg : {"none", "None", "NONE"}) {
    EXPECT_EQ(Error(v.Verify(Unsigned({{"alg", alg}, {"typ", "JWT"}}, Claims()), kNow)),
              absl::StrCat("invalid token: alg '", alg, "' is not accepted"));
  }
  EXPECT_EQ(Error(v.Verify(Unsigned({{"typ", "JWT"}}, Claims()), kNow)), "invalid token: no alg");
}

TEST_F(JwtTest, AlgorithmConfusionIsRefused) {
  // RS256 -> HS256 with the RSA public key (its JWK, as an attacker would
  // have it) as the HMAC secret: the HS256 path only ever uses the configured secret.
  options_.hs256_secret = "";
  auto v = Verifier();
  std::string forged = SignHs256(Claims(), rsa_.jwk.dump(), "rsa-1");
  EXPECT_EQ(Error(v.Verify(forged, kNow)), "invalid token: HS256 is not accepted");
  // With HS256 on, the forged MAC is simply wrong.
  options_.hs256_secret = kSecret;
  EXPECT_EQ(Error(Verifier().Verify(forged, kNow)), "invalid token: bad signature");
  // A token naming the RSA key with ES256 (or the EC key with RS256) is refused before any check.
  EXPECT_EQ(Error(v.Verify(rsa_.Token(Claims(), "ES256"), kNow)),
            "invalid token: alg does not match the key");
  EXPECT_EQ(Error(v.Verify(ec_.Token(Claims(), "RS256"), kNow)),
            "invalid token: alg does not match the key");
  EXPECT_EQ(Error(v.Verify(rsa_.Token(Claims(), "PS256"), kNow)),
            "invalid token: alg 'PS256' is not accepted");
}

TEST_F(JwtTest, BadSignaturesAndUnknownKid) {
  auto v = Verifier();
  EXPECT_EQ(Error(v.Verify(SignHs256(Claims(), std::string(32, 'x')), kNow)),
            "invalid token: bad signature");
  // The payload changed after signing.
  for (std::string token : {rsa_.Token(Claims()), ec_.Token(Claims())}) {
    auto dot1 = token.find('.'), dot2 = token.rfind('.');
    json p = Claims();
    p["roles"] = {"admin"};
    std::string tampered =
        absl::StrCat(token.substr(0, dot1), ".", Base64UrlEncode(p.dump()), token.substr(dot2));
    EXPECT_EQ(Error(v.Verify(tampered, kNow)), "invalid token: bad signature");
  }
  TestKey stranger("RS256", "rsa-1");  // same kid, other key
  EXPECT_EQ(Error(v.Verify(stranger.Token(Claims()), kNow)), "invalid token: bad signature");
  TestKey unknown("ES256", "ec-9");
  EXPECT_EQ(Error(v.Verify(unknown.Token(Claims()), kNow)), "invalid token: unknown kid 'ec-9'");
  EXPECT_EQ(Error(v.Verify("a.b", kNow)),
            "invalid token: not a compact JWS (header.payload.signature)");
  EXPECT_EQ(Error(v.Verify("!!.??.**", kNow)), "invalid token: bad base64url");
}

TEST_F(JwtTest, KeyRotationByKid) {
  auto v = Verifier();
  TestKey next("ES256", "ec-2");
  EXPECT_FALSE(v.Verify(next.Token(Claims()), kNow).ok());
  auto rotated = Jwks::Parse(json{{"keys", {next.jwk}}}.dump());
  ASSERT_TRUE(rotated.ok());
  v.SetJwks(std::move(*rotated));
  EXPECT_TRUE(v.Verify(next.Token(Claims()), kNow).ok());
  EXPECT_FALSE(v.Verify(ec_.Token(Claims()), kNow).ok());  // retired
}

TEST(JwksTest, RejectsMalformedKeys) {
  EXPECT_FALSE(Jwks::Parse("[]").ok());
  EXPECT_FALSE(Jwks::Parse(R"({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]})").ok());
  EXPECT_FALSE(
      Jwks::Parse(R"({"keys": [{"kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB"}]})").ok());
  EXPECT_FALSE(
      Jwks::Parse(R"({"keys": [{"kty": "EC", "kid": "a", "crv": "P-256", "x": "AA", "y": "AA"}]})")
          .ok());
  EXPECT_FALSE(Jwks::Parse(R"({"keys": [{"kty": "oct", "kid": "a", "k": "AA"}]})").ok());
  // Members of another type are malformed keys, not an exception out of Parse.
  for (const char* wrong : {R"({"keys": [{"kty": "EC", "kid": 9999999999}]})",
                            R"({"keys": [{"kty": ["RSA"], "kid": "a"}]})",
                            R"({"keys": [{"kty": "RSA", "kid": "a", "n": 1, "e": "AQAB"}]})",
                            R"({"keys": [{"kty": "EC", "kid": "a", "crv": {}, "x": "AA"}]})"}) {
    auto parsed = Jwks::Parse(wrong);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << wrong;
  }
  auto skipped = Jwks::Parse(R"({"keys": [{"kty": "RSA", "kid": "enc", "use": "enc"}]})");
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->size(), 0u);
}

}  // namespace
}  // namespace genesis::gateway
