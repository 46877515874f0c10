// The TLS settings of the gateway's HTTPS listener: one OpenSSL context per
// certificate, built from the --https_cert/--https_key files and replaced as
// a whole on reload (a connection keeps the context it was accepted with).
//
// Protocols TLS 1.2 and 1.3 only; for TLS 1.2 ECDHE key exchange with
// AES-GCM or ChaCha20-Poly1305 (Mozilla's "intermediate" list without the
// DHE suites), for 1.3 OpenSSL's three AEAD suites; no compression, no
// renegotiation, no session resumption (every connection a full handshake,
// so no ticket key outlives a reload); ALPN answers "http/1.1".
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "absl/status/statusor.h"

namespace genesis::gateway {

// The TLS 1.2 cipher list (TLS 1.3 suites are set apart).
inline constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr char kTls13Suites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

struct ServerTlsContext {
  std::shared_ptr<boost::asio::ssl::context> context;
  // The leaf certificate for log lines: "subject <dn>, serial <hex>, expires <date>".
  std::string certificate;
};

// Reads the PEM chain (leaf first) and key, checks them (LoadCertAndKey in
// common/rpc/tls.h) and builds the context. FAILED_PRECONDITION naming the
// flag: "--https_cert: '<file>' cannot be read", "--https_key: '<file>' does
// not match the certificate of --https_cert ...".
absl::StatusOr<ServerTlsContext> MakeServerTlsContext(const std::string& cert_file,
                                                      const std::string& key_file);

}  // namespace genesis::gateway
