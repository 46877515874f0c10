// The gateway's HTTP/1.1 server (Boost.Beast): keep-alive connections served
// by a pool of io threads. It only moves bytes: every complete request goes
// to a Handler (Gateway::Handle) and its HttpResponse is written back.
//
// Everything a client can make it hold is bounded before authentication: the
// head (request line + fields), every chunk-size line and the trailer (the
// connection's read buffer), chunk extensions, the number of chunks, the body,
// the bodies held by all connections together, the time to send a head, a
// body and between keep-alive requests, and the connections in all and per
// client address. Framing that two HTTP parsers could read differently is
// refused and the connection closed (RFC 9112 §6): a Transfer-Encoding whose
// final coding is not chunked (400) or that names another coding (501),
// Transfer-Encoding with Content-Length (400), Transfer-Encoding in HTTP/1.0
// (400), trailer fields (400), an HTTP/1.1 request without exactly one Host
// (400). Oversized bodies get 413, oversized heads 431, an exhausted body
// budget 503 with Retry-After, garbage 400.
//
// Besides the plain listener it may serve HTTPS on a second port (TLS 1.2+,
// tls_context.h) with the same limits; the connections of both listeners
// count against the same totals. A TLS connection must finish its handshake
// within handshake_timeout and in max_handshake_bytes; the head of its first
// request then gets header_timeout. Every response carries the security
// headers below; HTTPS responses also Strict-Transport-Security (never plain
// ones: RFC 6797 §7.2).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/gateway.h"

namespace genesis::gateway {

// The HTTPS listener.
struct HttpsOptions {
  int port = -1;          // -1: no HTTPS listener; 0 picks a free port
  std::string host;       // empty: HttpServerOptions::host
  std::string cert_file;  // PEM certificate chain, leaf first
  std::string key_file;   // PEM private key of the leaf
  absl::Duration handshake_timeout = absl::Seconds(10);  // from the accept
  // What a client may send before its handshake completes (TLS records the
  // TLS engine reads; it buffers up to about 34 KiB more from the socket).
  size_t max_handshake_bytes = 64 << 10;
  absl::Duration hsts_max_age = absl::Seconds(63072000);  // two years
  bool hsts_include_subdomains = true;
};

// Set on every response unless the handler set the same header.
inline constexpr std::pair<const char*, const char*> kSecurityHeaders[] = {
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Content-Security-Policy", "frame-ancestors 'none'"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // plain HTTP; 0 picks a free port, -1: none (HTTPS only)
  HttpsOptions https;
  // Threads serving the connections. 0: none; whoever embeds the server runs
  // its work with Poll() (a single-threaded harness: no hand-off between threads).
  int io_threads = 2;
  size_t max_body_bytes = 1 << 20;
  // The request line and header fields; the connection's read buffer holds
  // this much plus kReadSlack, which also bounds a chunk-size line and the trailer.
  size_t max_header_bytes = 16 << 10;
  size_t max_chunk_extension_bytes = 256;  // the ";name=value" part of one chunk-size line
  size_t max_chunks = 16384;               // chunks in one request body
  // Request bodies held at once by all connections (Content-Length when the
  // head arrives, each chunk's size when its line arrives); beyond it 503.
  size_t max_buffered_bytes = 256 << 20;
  absl::Duration header_timeout = absl::Seconds(10);  // a request's head, from its first byte
  absl::Duration read_timeout = absl::Seconds(30);    // a request's body; writing a response
  absl::Duration idle_timeout = absl::Seconds(30);    // between keep-alive requests
  int max_connections = 10000;
  int max_connections_per_client = 256;  // open connections from one client IP address
};

// Bytes of the read buffer beyond max_header_bytes.
inline constexpr size_t kReadSlack = 4096;

class HttpServer {
 public:
  using Handler = std::function<void(HttpRequest, std::function<void(HttpResponse)>)>;

  // Binds and starts serving on `options.io_threads` threads. Errors name
  // the flag: "--http_port: cannot listen ...", "--https_cert: '<file>' ...".
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           Handler handler);
  // Stop(absl::ZeroDuration()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  [[nodiscard]] int port() const;        // plain HTTP; -1 when there is none
  [[nodiscard]] int https_port() const;  // -1 when there is no HTTPS listener
  // Body bytes reserved now by all connections (the max_buffered_bytes budget).
  [[nodiscard]] size_t buffered_bytes() const;

  // Re-reads https.cert_file and https.key_file: handshakes from now on use
  // the new certificate, connections already open keep theirs. On an error
  // (the file unreadable, the key not matching) the previous certificate
  // stays. Returns a description of the certificate now served ("subject
  // ..., serial ..., expires ...") or the error, naming the flag. Thread-safe.
  absl::StatusOr<std::string> ReloadCertificate();
  // The certificate served now (empty without HTTPS).
  [[nodiscard]] std::string certificate() const;

  // Serves `fd`, a connected stream socket the server now owns (accepted
  // elsewhere, or one end of a socketpair(2)), as a connection accepted from
  // `address`: the same limits, parsing and answers. FAILED_PRECONDITION
  // once stopping; RESOURCE_EXHAUSTED (fd closed) past the connection limits.
  absl::Status Adopt(int fd, std::string address);
  // With io_threads = 0: runs the server's ready work, waiting up to
  // `timeout` for the first; returns how many handlers ran (0: none was ready
  // in time).
  size_t Poll(absl::Duration timeout);
  // Drains: stops accepting (new connections are refused), closes
  // connections waiting for a request, answers requests in progress with
  // `Connection: close`, and returns as soon as the last of them (streams
  // included) has been written, or after `grace`; then closes every
  // connection and joins the threads. Idempotent.
  void Stop(absl::Duration grace);

  // Requests being served now (read, not yet completely written).
  [[nodiscard]] int busy() const;

  struct Impl;  // implementation detail, public for the connection class in server.cc

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace genesis::gateway
