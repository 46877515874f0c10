#include "services/bot_manager/simulator/alexa_signer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace genesis::bot::sim {
namespace {

using nlohmann::json;

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;

bool AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key`'s public half named `cn`, signed by issuer_key
// (self-signed when issuer is null).
absl::StatusOr<CertPtr> MakeCert(EVP_PKEY* key, const std::string& cn, X509* issuer,
                                 EVP_PKEY* issuer_key, absl::Time not_before, absl::Time not_after,
                                 bool ca, const std::string& san) {
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  static std::atomic<long> serial{1};
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()),
                   serial++ + static_cast<long>(absl::ToUnixSeconds(absl::Now()) % 100000) * 1000);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(not_after));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Genesis channel simulator"),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));
  bool ok = true;
  if (ca) {
    ok = ok && AddExt(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    ok = ok && AddExt(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    ok = ok && AddExt(cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
  } else {
    ok = ok && AddExt(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    ok = ok && AddExt(cert.get(), issuer_cert, NID_key_usage, "critical,digitalSignature");
    ok = ok && AddExt(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid");
    if (!san.empty()) {
      ok = ok &&
           AddExt(cert.get(), issuer_cert, NID_subject_alt_name, absl::StrCat("DNS:", san).c_str());
    }
  }
  if (!ok) return absl::InternalError("cannot add a certificate extension");
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    return absl::InternalError("cannot sign the certificate");
  }
  return cert;
}

std::string Pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

}  // namespace

struct AlexaSigner::Keys {
  KeyPtr signing_key;
};

AlexaSigner::~AlexaSigner() = default;

absl::StatusOr<std::unique_ptr<AlexaSigner>> AlexaSigner::Create(AlexaSignerOptions options) {
  KeyPtr ca_key(EVP_RSA_gen(2048));
  KeyPtr leaf_key(EVP_RSA_gen(2048));
  if (!ca_key || !leaf_key) return absl::InternalError("cannot generate RSA keys");
  const absl::Time ca_from = std::min(options.not_before, absl::Now()) - absl::Hours(24);
  const absl::Time ca_to = std::max(options.not_after, absl::Now()) + absl::Hours(24 * 365);
  auto ca = MakeCert(ca_key.get(), "Genesis simulated Alexa root", nullptr, ca_key.get(), ca_from,
                     ca_to, /*ca=*/true, "");
  if (!ca.ok()) return ca.status();
  auto leaf =
      MakeCert(leaf_key.get(), options.san.empty() ? "signer" : options.san, ca->get(),
               ca_key.get(), options.not_before, options.not_after, /*ca=*/false, options.san);
  if (!leaf.ok()) return leaf.status();
  std::unique_ptr<AlexaSigner> s(new AlexaSigner());
  s->keys_ = std::make_unique<Keys>();
  s->keys_->signing_key = std::move(leaf_key);
  s->ca_pem_ = Pem(ca->get());
  s->chain_pem_ = Pem(leaf->get()) + s->ca_pem_;
  return s;
}

std::string AlexaSigner::Sign(absl::string_view body) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, keys_->signing_key.get()) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(body.data()),
                     body.size()) == 1) {
    sig.resize(len);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(body.data()), body.size()) == 1) {
      sig.resize(len);
    } else {
      sig.clear();
    }
  }
  EVP_MD_CTX_free(ctx);
  return absl::Base64Escape(sig);
}

std::string BuildAlexaRequest(const AlexaRequestSpec& spec) {
  std::string request_id = spec.request_id;
  if (request_id.empty()) {
    unsigned char rnd[12];
    RAND_bytes(rnd, sizeof(rnd));
    request_id = absl::StrCat(
        "amzn1.echo-api.request.",
        absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(rnd), sizeof(rnd))));
  }
  json request = {
      {"type", spec.type},
      {"requestId", request_id},
      {"timestamp", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", spec.timestamp, absl::UTCTimeZone())},
      {"locale", spec.locale}};
  if (spec.type == "IntentRequest") {
    json slots = json::object();
    if (!spec.slot.empty()) {
      slots[spec.slot] = {
          {"name", spec.slot}, {"value", spec.text}, {"confirmationStatus", "NONE"}};
    }
    request["dialogState"] = "COMPLETED";
    request["intent"] = {{"name", spec.intent}, {"confirmationStatus", "NONE"}, {"slots", slots}};
  } else if (spec.type == "SessionEndedRequest") {
    request["reason"] = "USER_INITIATED";
  }
  json app = {{"applicationId", spec.application_id}};
  json user = {{"userId", spec.user_id}};
  json body = {
      {"version", "1.0"},
      {"session",
       {{"new", spec.type == "LaunchRequest"},
        {"sessionId", absl::StrCat("amzn1.echo-api.session.", spec.user_id.size())},
        {"application", app},
        {"user", user}}},
      {"context",
       {{"System",
         {{"application", app},
          {"user", user},
          {"device",
           {{"deviceId", "amzn1.ask.device.SIM"}, {"supportedInterfaces", json::object()}}},
          {"apiEndpoint", "https://api.amazonalexa.com"}}}}},
      {"request", request}};
  return body.dump();
}

}  // namespace genesis::bot::sim
