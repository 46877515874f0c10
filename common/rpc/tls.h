// TLS and mutual TLS between Genesis processes (preview; off unless configured).
//
// One immutable TlsConfig, read once at start from the shared flags
//   --tls_cert, --tls_key  this process's certificate chain and private key (PEM)
//   --tls_ca               the CA that signs the mesh's certificates (PEM)
//   --tls_client_auth      require (default) | none
//   --tls_trusted_peers    gateway (default): with client certificates required,
//                          caller identities forwarded in metadata are accepted
//                          only from these peers (certificate SAN or CN), and
//                          from them without --gateway_secret
//   --tls_admin_peers      admin (default): peers whose certificate alone makes
//                          a call an administrator's (operators' tools)
//   --tls_reload_interval_s  how often the three files are re-read (60 s): a
//                          renewed certificate, key or CA is used for the next
//                          handshakes, without a restart or a failed call
// All three files are given together or none is (plaintext, the default).
// With TLS on, a ServiceHost's gRPC port serves TLS and, with
// --tls_client_auth=require, refuses any client that does not present a
// certificate signed by --tls_ca (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
// every client channel to another Genesis service (MeshChannelCredentials(),
// given the TlsConfig by main) verifies the server against --tls_ca and
// presents this process's certificate.
// scripts/lib/certs.sh makes a dev CA and per-service certificates.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "absl/status/statusor.h"
#include "common/runtime/config.h"

namespace genesis {

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  bool require_client_cert = true;
  // Peers (certificate subjectAltName or CN) whose forwarded caller identity
  // is accepted when client certificates are required (--tls_trusted_peers).
  std::vector<std::string> trusted_peers;
  // Peers whose certificate makes a call an administrator's (--tls_admin_peers).
  std::vector<std::string> admin_peers;
  // How often the files are re-read for rotation (--tls_reload_interval_s).
  unsigned reload_interval_s = 60;
  // The files' PEM contents, read and checked by LoadTlsConfig().
  std::string cert_pem;
  std::string key_pem;
  std::string ca_pem;

  [[nodiscard]] bool enabled() const { return !cert_file.empty(); }
};

// Reads and checks the three files: each readable PEM, the key matching the
// certificate, the CA a certificate. Empty names: TLS off (OK). Errors read
// "--<flag>: <problem>" (--tls_cert, --tls_key or --tls_ca) and name the file.
absl::StatusOr<TlsConfig> LoadTlsConfig(const std::string& cert_file, const std::string& key_file,
                                        const std::string& ca_file, bool require_client_cert);

// A certificate chain and its private key as PEM text.
struct CertKeyPem {
  std::string cert_pem;
  std::string key_pem;
};

// Reads and checks a certificate chain and its key: both files readable PEM,
// the key unencrypted and matching the first certificate. Errors
// (FAILED_PRECONDITION) read "--<cert_flag>: '<file>' <problem>" or
// "--<key_flag>: ..." so every caller reports the flag it read the name from.
// LoadTlsConfig uses it for --tls_cert/--tls_key; the gateway for its HTTPS listener.
absl::StatusOr<CertKeyPem> LoadCertAndKey(const std::string& cert_file, const std::string& key_file,
                                          const char* cert_flag, const char* key_flag);

// LoadTlsConfig() from the --tls_* flags, every problem added to `errors`.
TlsConfig TlsConfigFromFlags(ConfigErrors* errors);

// What a server listens with: insecure when TLS is off; else TLS whose
// certificate, key and CA are re-read from the files every
// reload_interval_s (a file that cannot be read, or a key that does not match
// its certificate, keeps the previous ones).
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(const TlsConfig& tls);
// What a client of another Genesis service connects with: insecure when TLS
// is off; else verifies the server (its name and the CA) and presents the
// certificate, both re-read from the files as for the server.
std::shared_ptr<grpc::ChannelCredentials> MeshChannelCredentials(const TlsConfig& tls);

}  // namespace genesis
