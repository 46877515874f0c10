#include "gateway/http/tls_context.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"
#include "common/rpc/tls.h"

namespace genesis::gateway {
namespace {

namespace ssl = boost::asio::ssl;

// ALPN: HTTP/1.1 when the client offers it; otherwise no protocol is named
// (a client offering only h2 gets a TLS connection without ALPN, as from a
// server that does not speak ALPN).
int SelectHttp11(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                 unsigned int in_len, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kHttp11, sizeof(kHttp11), in, in_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

std::string Describe(X509* cert) {
  if (cert == nullptr) return "no certificate";
  std::string out = "subject ";
  char name[512];
  X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof(name));
  out += name;
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr); bn != nullptr) {
    char* hex = BN_bn2hex(bn);
    absl::StrAppend(&out, ", serial ", hex == nullptr ? "?" : hex);
    OPENSSL_free(hex);
    BN_free(bn);
  }
  if (BIO* bio = BIO_new(BIO_s_mem()); bio != nullptr) {
    if (ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
      char* data = nullptr;
      const long n = BIO_get_mem_data(bio, &data);  // NOLINT(google-runtime-int)
      absl::StrAppend(&out, ", expires ", std::string(data, static_cast<size_t>(n)));
    }
    BIO_free(bio);
  }
  return out;
}

}  // namespace

absl::StatusOr<ServerTlsContext> MakeServerTlsContext(const std::string& cert_file,
                                                      const std::string& key_file) {
  auto pem = LoadCertAndKey(cert_file, key_file, "https_cert", "https_key");
  if (!pem.ok()) return pem.status();
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  auto fail = [&](const char* flag, const std::string& file, const std::string& what) {
    return absl::FailedPreconditionError(
        absl::StrCat("--", flag, ": '", file, "' ", what, ": ", OpenSslError()));
  };
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1 ||
      SSL_CTX_set1_groups_list(ctx, "X25519:prime256v1:secp384r1") != 1) {
    return absl::InternalError(absl::StrCat("TLS settings refused: ", OpenSslError()));
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);  // idle keep-alive connections hold no buffers
  SSL_CTX_set_alpn_select_cb(ctx, SelectHttp11, nullptr);

  boost::system::error_code ec;
  context->use_certificate_chain(boost::asio::buffer(pem->cert_pem), ec);
  if (ec) return fail("https_cert", cert_file, "is not a usable certificate chain");
  context->use_private_key(boost::asio::buffer(pem->key_pem), ssl::context::pem, ec);
  if (ec) return fail("https_key", key_file, "is not a usable private key");
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return fail("https_key", key_file, "does not match the certificate of --https_cert");
  }
  ServerTlsContext out;
  out.certificate = Describe(SSL_CTX_get0_certificate(ctx));
  out.context = std::move(context);
  return out;
}

}  // namespace genesis::gateway
