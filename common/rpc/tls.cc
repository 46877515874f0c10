#include "common/rpc/tls.h"

#include <gflags/gflags.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

DEFINE_string(tls_cert, "",
              "PEM certificate (chain) of this process; with --tls_key and --tls_ca turns TLS "
              "on for its gRPC port and its clients of other services. Empty: plaintext.");
DEFINE_string(tls_key, "", "PEM private key matching --tls_cert.");
DEFINE_string(tls_ca, "",
              "PEM CA certificate(s) peers' certificates must be signed by (clients and, with "
              "--tls_client_auth=require, servers verify against it).");
DEFINE_string(tls_client_auth, "require",
              "With TLS on: require (a client must present a certificate signed by --tls_ca) "
              "or none (any client may connect over TLS).");

DEFINE_string(tls_trusted_peers, "gateway",
              "With TLS and --tls_client_auth=require: comma-separated names (certificate "
              "subjectAltName or common name) of the peers whose forwarded caller identity "
              "(x-genesis-subject/-roles) is accepted, without --gateway_secret; from any "
              "other peer it is ignored.");
DEFINE_string(tls_admin_peers, "admin",
              "With TLS and --tls_client_auth=require: comma-separated certificate names "
              "(subjectAltName or common name) whose holder calls as an administrator (subject "
              "= the name, role admin) when no identity is forwarded: operators' tools such as "
              "buf curl with the dev 'admin' certificate.");
DEFINE_int32(tls_reload_interval_s, 60,
             "With TLS: seconds between re-reads of --tls_cert, --tls_key and --tls_ca; a "
             "renewed certificate is used for new handshakes without a restart.");

namespace genesis {
namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) return false;
  *out = ss.str();
  return true;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioFree> MemBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::unique_ptr<X509, X509Free> FirstCert(const std::string& pem) {
  auto bio = MemBio(pem);
  return std::unique_ptr<X509, X509Free>(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

absl::Status Problem(const char* flag, const std::string& file, const std::string& what) {
  ERR_clear_error();
  return absl::FailedPreconditionError(absl::StrCat("--", flag, ": '", file, "' ", what));
}

}  // namespace

absl::StatusOr<CertKeyPem> LoadCertAndKey(const std::string& cert_file, const std::string& key_file,
                                          const char* cert_flag, const char* key_flag) {
  CertKeyPem out;
  if (!ReadFile(cert_file, &out.cert_pem)) return Problem(cert_flag, cert_file, "cannot be read");
  if (!ReadFile(key_file, &out.key_pem)) return Problem(key_flag, key_file, "cannot be read");
  auto cert = FirstCert(out.cert_pem);
  if (!cert) return Problem(cert_flag, cert_file, "holds no PEM certificate");
  auto key_bio = MemBio(out.key_pem);
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return Problem(key_flag, key_file, "holds no (unencrypted) PEM private key");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return Problem(
        key_flag, key_file,
        absl::StrCat("does not match the certificate of --", cert_flag, " '", cert_file, "'"));
  }
  return out;
}

absl::StatusOr<TlsConfig> LoadTlsConfig(const std::string& cert_file, const std::string& key_file,
                                        const std::string& ca_file, bool require_client_cert) {
  TlsConfig c;
  c.require_client_cert = require_client_cert;
  if (cert_file.empty() && key_file.empty() && ca_file.empty()) return c;
  if (cert_file.empty() || key_file.empty() || ca_file.empty()) {
    const char* missing = cert_file.empty() ? "tls_cert" : key_file.empty() ? "tls_key" : "tls_ca";
    return absl::FailedPreconditionError(
        absl::StrCat("--", missing,
                     ": missing; --tls_cert, --tls_key and --tls_ca are given together (TLS) "
                     "or not at all (plaintext)"));
  }
  c.cert_file = cert_file;
  c.key_file = key_file;
  c.ca_file = ca_file;
  auto pair = LoadCertAndKey(cert_file, key_file, "tls_cert", "tls_key");
  if (!pair.ok()) return pair.status();
  c.cert_pem = std::move(pair->cert_pem);
  c.key_pem = std::move(pair->key_pem);
  if (!ReadFile(ca_file, &c.ca_pem)) return Problem("tls_ca", ca_file, "cannot be read");
  if (!FirstCert(c.ca_pem)) return Problem("tls_ca", ca_file, "holds no PEM certificate");
  return c;
}

TlsConfig TlsConfigFromFlags(ConfigErrors* errors) {
  errors->RequireOneOf("tls_client_auth", FLAGS_tls_client_auth, {"require", "none"});
  auto tls =
      LoadTlsConfig(FLAGS_tls_cert, FLAGS_tls_key, FLAGS_tls_ca, FLAGS_tls_client_auth != "none");
  if (!tls.ok()) {
    errors->AddStatus("tls_cert", tls.status());  // under the flag LoadTlsConfig names
    return TlsConfig{};
  }
  errors->RequireRange("tls_reload_interval_s", FLAGS_tls_reload_interval_s, 1, 86400);
  tls->trusted_peers = absl::StrSplit(FLAGS_tls_trusted_peers, ',', absl::SkipWhitespace());
  tls->admin_peers = absl::StrSplit(FLAGS_tls_admin_peers, ',', absl::SkipWhitespace());
  tls->reload_interval_s = static_cast<unsigned>(std::max(1, FLAGS_tls_reload_interval_s));
  return *std::move(tls);
}

namespace {

// Certificate, key and CA, re-read from their files every reload_interval_s
// (grpc's file watcher: a half-written pair or a key that does not match its
// certificate is skipped, the last good one stays in use).
std::shared_ptr<grpc::experimental::CertificateProviderInterface> WatchFiles(const TlsConfig& tls) {
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file, tls.cert_file, tls.ca_file, tls.reload_interval_s);
}

}  // namespace

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(const TlsConfig& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  grpc::experimental::TlsServerCredentialsOptions options(WatchFiles(tls));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(tls.require_client_cert
                                    ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                    : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> MeshChannelCredentials(const TlsConfig& tls) {
  if (!tls.enabled()) return grpc::InsecureChannelCredentials();
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(WatchFiles(tls));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace genesis
