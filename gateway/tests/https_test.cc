// The HTTPS listener of the HTTP server on 127.0.0.1, with certificates made
// at test time: TLS 1.2+ only, security headers (HSTS on HTTPS only), the
// server's limits on TLS connections, the handshake's time and size bounds,
// and certificate reload (new handshakes get the new certificate, open
// connections keep working, a bad file keeps the old one).
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/http/server.h"
#include "gateway/tests/test_certs.h"

namespace genesis::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using testing::MakeSelfSignedCert;
using testing::TestCert;
using testing::WriteFile;

constexpr auto kClientDeadline = std::chrono::seconds(10);

// Runs one asynchronous operation of `io` to its end (the stream's timer
// bounds it) and returns its error.
template <class Start>
beast::error_code Await(asio::io_context& io, Start start) {
  beast::error_code result = asio::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

// A TLS client on one connection. `max_version` 0: what OpenSSL offers by
// default (TLS 1.2 and 1.3); else at most that version, with every cipher
// allowed (OpenSSL 3 refuses TLS 1.0/1.1 above security level 0).
class TlsClient {
 public:
  explicit TlsClient(int max_version = 0) {
    SSL_CTX* ctx = ctx_.native_handle();
    if (max_version != 0) {
      SSL_CTX_set_security_level(ctx, 0);
      SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
      SSL_CTX_set_max_proto_version(ctx, max_version);
      SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
    }
    stream_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io_, ctx_);
  }

  // Connects and handshakes; the handshake's error.
  beast::error_code Connect(int port) {
    auto& tcp_stream = beast::get_lowest_layer(*stream_);
    tcp_stream.expires_after(kClientDeadline);
    auto ec = Await(io_, [&](auto done) {
      tcp_stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), done);
    });
    if (ec) return ec;
    tcp_stream.expires_after(kClientDeadline);
    return Await(io_, [&](auto done) { stream_->async_handshake(ssl::stream_base::client, done); });
  }

  http::response<http::string_body> Send(http::request<http::string_body> req,
                                         beast::error_code* ec_out = nullptr) {
    req.version(11);
    req.set(http::field::host, "localhost");
    req.prepare_payload();
    auto& tcp_stream = beast::get_lowest_layer(*stream_);
    tcp_stream.expires_after(kClientDeadline);
    auto ec = Await(io_, [&](auto done) { http::async_write(*stream_, req, done); });
    http::response<http::string_body> res;
    if (!ec) {
      tcp_stream.expires_after(kClientDeadline);
      ec = Await(io_, [&](auto done) { http::async_read(*stream_, buffer_, res, done); });
    }
    if (ec_out != nullptr) {
      *ec_out = ec;
    } else {
      EXPECT_FALSE(ec) << ec.message();
    }
    return res;
  }

  http::response<http::string_body> Get(const std::string& target) {
    return Send(http::request<http::string_body>{http::verb::get, target, 11});
  }

  // The serial of the certificate the server presented, or -1.
  long PeerSerial() {  // NOLINT(google-runtime-int): OpenSSL's type
    X509* cert = SSL_get1_peer_certificate(stream_->native_handle());
    if (cert == nullptr) return -1;
    const long serial = ASN1_INTEGER_get(X509_get0_serialNumber(cert));  // NOLINT
    X509_free(cert);
    return serial;
  }

  int Version() { return SSL_version(stream_->native_handle()); }

 private:
  asio::io_context io_;
  ssl::context ctx_{ssl::context::tls_client};
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
};

// A plain TCP connection: sends `out`, then returns what arrives until the
// server closes the connection (`*closed` true) or the deadline passes.
std::string RawExchange(int port, const std::string& out, bool* closed) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(kClientDeadline);
  *closed = false;
  if (Await(io, [&](auto done) {
        stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), done);
      })) {
    return "";
  }
  if (!out.empty()) {
    // The server may close before it has read everything: a write error is expected then.
    (void)Await(io, [&](auto done) { asio::async_write(stream, asio::buffer(out), done); });
  }
  std::string in;
  std::array<char, 4096> buf{};
  for (;;) {
    size_t n = 0;
    auto ec = Await(io, [&](auto done) {
      stream.async_read_some(asio::buffer(buf), [&n, done](beast::error_code ec, size_t read) {
        n = read;
        done(ec);
      });
    });
    in.append(buf.data(), n);
    if (ec) {
      *closed = ec != beast::error::timeout;
      return in;
    }
  }
}

class HttpsTest : public ::testing::Test {
 protected:
  HttpsTest() : dir_(testing::MakeTempDir()) {
    cert_file_ = dir_ + "/gateway.crt";
    key_file_ = dir_ + "/gateway.key";
    first_ = MakeSelfSignedCert("first.genesis.test", 1001);
    second_ = MakeSelfSignedCert("second.genesis.test", 2002);
    Install(first_);
  }

  void Install(const TestCert& cert) {
    WriteFile(cert_file_, cert.cert_pem);
    WriteFile(key_file_, cert.key_pem);
  }

  HttpServerOptions Options() {
    HttpServerOptions options;
    options.port = 0;
    options.https.port = 0;
    options.https.cert_file = cert_file_;
    options.https.key_file = key_file_;
    return options;
  }

  void StartServer(HttpServerOptions options) {
    auto s = HttpServer::Start(options, [this](HttpRequest req, auto done) {
      ++handled_;
      HttpResponse r;
      r.body = req.method + " " + req.target;
      if (req.target == "/cached") r.headers.emplace_back("cache-control", "max-age=60");
      done(std::move(r));
    });
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }

  std::string dir_, cert_file_, key_file_;
  TestCert first_, second_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> handled_{0};
};

TEST_F(HttpsTest, ServesRequestsOverTls13WithHstsAndSecurityHeaders) {
  StartServer(Options());
  ASSERT_NE(server_->https_port(), -1);
  ASSERT_NE(server_->https_port(), server_->port());
  TlsClient client;
  ASSERT_FALSE(client.Connect(server_->https_port()));
  EXPECT_EQ(client.Version(), TLS1_3_VERSION);
  EXPECT_EQ(client.PeerSerial(), 1001);
  auto res = client.Get("/v1/things");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "GET /v1/things");
  EXPECT_EQ(res[http::field::strict_transport_security], "max-age=63072000; includeSubDomains");
  EXPECT_EQ(res["x-content-type-options"], "nosniff");
  EXPECT_EQ(res["x-frame-options"], "DENY");
  EXPECT_EQ(res["content-security-policy"], "frame-ancestors 'none'");
  EXPECT_EQ(res["referrer-policy"], "no-referrer");
  EXPECT_EQ(res[http::field::cache_control], "no-store");
  // A second request on the same connection; the handler's own Cache-Control wins.
  auto cached = client.Get("/cached");
  EXPECT_EQ(cached.result_int(), 200);
  EXPECT_EQ(cached[http::field::cache_control], "max-age=60");
  EXPECT_EQ(handled_.load(), 2);
}

TEST_F(HttpsTest, TheHstsMaxAgeIsConfigurable) {
  HttpServerOptions options = Options();
  options.https.hsts_max_age = absl::Seconds(300);
  options.https.hsts_include_subdomains = false;
  StartServer(options);
  TlsClient client;
  ASSERT_FALSE(client.Connect(server_->https_port()));
  EXPECT_EQ(client.Get("/")[http::field::strict_transport_security], "max-age=300");
}

TEST_F(HttpsTest, PlainHttpGetsTheSecurityHeadersButNoHsts) {
  StartServer(Options());
  bool closed = false;
  const std::string reply = RawExchange(
      server_->port(), "GET /plain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &closed);
  ASSERT_TRUE(absl::StartsWith(reply, "HTTP/1.1 200")) << reply;
  EXPECT_TRUE(absl::StrContains(reply, "X-Content-Type-Options: nosniff")) << reply;
  EXPECT_TRUE(absl::StrContains(reply, "X-Frame-Options: DENY")) << reply;
  EXPECT_TRUE(absl::StrContains(reply, "Referrer-Policy: no-referrer")) << reply;
  EXPECT_FALSE(absl::StrContains(absl::AsciiStrToLower(reply), "strict-transport-security"))
      << reply;
}

TEST_F(HttpsTest, PlainHttpCanBeTurnedOff) {
  HttpServerOptions options = Options();
  options.port = -1;
  StartServer(options);
  EXPECT_EQ(server_->port(), -1);
  TlsClient client;
  ASSERT_FALSE(client.Connect(server_->https_port()));
  EXPECT_EQ(client.Get("/").result_int(), 200);

  options.https.port = -1;
  auto neither = HttpServer::Start(options, [](HttpRequest, auto) {});
  ASSERT_FALSE(neither.ok());
  EXPECT_TRUE(absl::StartsWith(neither.status().message(), "--http_port:")) << neither.status();
}

TEST_F(HttpsTest, Tls11IsRefusedAndTls12Accepted) {
  StartServer(Options());
  TlsClient old_client(TLS1_1_VERSION);
  const beast::error_code ec = old_client.Connect(server_->https_port());
  ASSERT_TRUE(ec);
  ASSERT_EQ(ec.category(), asio::error::get_ssl_category()) << ec.message();
  EXPECT_EQ(ERR_GET_REASON(static_cast<unsigned long>(ec.value())),  // NOLINT
            SSL_R_TLSV1_ALERT_PROTOCOL_VERSION)
      << ec.message();
  // The same client allowed TLS 1.2 gets in: what refused it was the version.
  TlsClient tls12_client(TLS1_2_VERSION);
  ASSERT_FALSE(tls12_client.Connect(server_->https_port()));
  EXPECT_EQ(tls12_client.Version(), TLS1_2_VERSION);
  EXPECT_EQ(tls12_client.Get("/").result_int(), 200);
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(HttpsTest, PlainHttpOnTheHttpsPortGetsNoHttpAnswer) {
  StartServer(Options());
  bool closed = false;
  const std::string reply =
      RawExchange(server_->https_port(), "GET /v1/things HTTP/1.1\r\nHost: a\r\n\r\n", &closed);
  EXPECT_TRUE(closed);
  EXPECT_FALSE(absl::StrContains(reply, "HTTP/1.1")) << reply;
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpsTest, TheHandshakeTimeoutClosesASilentConnection) {
  HttpServerOptions options = Options();
  options.https.handshake_timeout = absl::Milliseconds(200);
  options.header_timeout = absl::Hours(1);  // only the handshake timeout can close it
  options.idle_timeout = absl::Hours(1);
  StartServer(options);
  bool closed = false;
  const std::string reply = RawExchange(server_->https_port(), "", &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply, "");
}

TEST_F(HttpsTest, AHandshakeLargerThanTheBoundIsCut) {
  HttpServerOptions options = Options();
  options.https.max_handshake_bytes = 4096;
  options.https.handshake_timeout = absl::Hours(1);  // only the byte bound can close it
  StartServer(options);
  // A ClientHello announcing 128,000 bytes (under OpenSSL's own limit), of
  // which 64 KiB arrive in full-size handshake records.
  std::string hello;
  const size_t announced = 128000, sent = 64 << 10;
  for (size_t i = 0; i < sent; i += 16384) {
    hello += std::string{0x16, 0x03, 0x01, 0x40, 0x00};  // handshake record, 16384 bytes
    std::string body(16384, '\0');
    if (i == 0) {
      body[0] = 0x01;  // client_hello, then its 24-bit length
      body[1] = static_cast<char>(announced >> 16);
      body[2] = static_cast<char>((announced >> 8) & 0xff);
      body[3] = static_cast<char>(announced & 0xff);
      body[4] = 0x03;  // legacy_version 1.2
      body[5] = 0x03;
    }
    hello += body;
  }
  bool closed = false;
  RawExchange(server_->https_port(), hello, &closed);
  EXPECT_TRUE(closed);
}

TEST_F(HttpsTest, TheServerLimitsApplyToTlsConnections) {
  HttpServerOptions options = Options();
  options.max_header_bytes = 1024;
  options.max_connections_per_client = 1;
  StartServer(options);
  {
    TlsClient client;
    ASSERT_FALSE(client.Connect(server_->https_port()));
    http::request<http::string_body> big{http::verb::get, "/", 11};
    big.set("x-filler", std::string(4096, 'a'));
    beast::error_code ec;
    auto res = client.Send(big, &ec);
    EXPECT_EQ(res.result_int(), 431) << ec.message();
  }
  // One connection per client across both listeners: a plain one held open
  // keeps a TLS one out until it closes.
  asio::io_context io;
  beast::tcp_stream plain(io);
  plain.expires_after(kClientDeadline);
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  bool served = false;
  while (!served && absl::Now() < deadline) {  // the 431 connection may not be released yet
    beast::error_code ec;
    plain.close();
    plain.socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()), ec);
    http::request<http::string_body> get{http::verb::get, "/", 11};
    get.set(http::field::host, "a");
    ec = Await(io, [&](auto done) { http::async_write(plain, get, done); });
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    if (!ec) ec = Await(io, [&](auto done) { http::async_read(plain, buffer, res, done); });
    served = !ec && res.result_int() == 200;
    if (!served) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(served);
  TlsClient refused;
  EXPECT_TRUE(refused.Connect(server_->https_port()));
  plain.close();
  bool admitted = false;
  deadline = absl::Now() + absl::Seconds(10);
  while (!admitted && absl::Now() < deadline) {
    TlsClient again;
    admitted = !again.Connect(server_->https_port());
    if (!admitted) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(admitted);
}

TEST_F(HttpsTest, ReloadServesTheNewCertificateToNewConnectionsAndKeepsOpenOnes) {
  StartServer(Options());
  TlsClient before;
  ASSERT_FALSE(before.Connect(server_->https_port()));
  ASSERT_EQ(before.PeerSerial(), 1001);
  EXPECT_EQ(before.Get("/one").result_int(), 200);

  Install(second_);
  auto reloaded = server_->ReloadCertificate();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_TRUE(absl::StrContains(*reloaded, "second.genesis.test")) << *reloaded;
  EXPECT_TRUE(absl::StrContains(server_->certificate(), "07D2")) << server_->certificate();

  TlsClient after;
  ASSERT_FALSE(after.Connect(server_->https_port()));
  EXPECT_EQ(after.PeerSerial(), 2002);
  EXPECT_EQ(after.Get("/two").result_int(), 200);
  // The connection opened before the reload still answers, on its certificate.
  auto res = before.Get("/three");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "GET /three");
  EXPECT_EQ(before.PeerSerial(), 1001);
}

TEST_F(HttpsTest, ABadReloadKeepsTheOldCertificate) {
  StartServer(Options());
  // A key that belongs to another certificate.
  WriteFile(key_file_, second_.key_pem);
  auto mismatch = server_->ReloadCertificate();
  ASSERT_FALSE(mismatch.ok());
  EXPECT_TRUE(absl::StartsWith(mismatch.status().message(), "--https_key:")) << mismatch.status();
  EXPECT_TRUE(absl::StrContains(mismatch.status().message(), "does not match"))
      << mismatch.status();
  // A certificate file that is gone.
  ASSERT_EQ(std::remove(cert_file_.c_str()), 0);
  auto missing = server_->ReloadCertificate();
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StartsWith(missing.status().message(), "--https_cert:")) << missing.status();

  TlsClient client;
  ASSERT_FALSE(client.Connect(server_->https_port()));
  EXPECT_EQ(client.PeerSerial(), 1001);
  EXPECT_EQ(client.Get("/").result_int(), 200);
}

TEST_F(HttpsTest, StartNamesTheFlagOfABadFile) {
  WriteFile(key_file_, second_.key_pem);
  auto mismatch = HttpServer::Start(Options(), [](HttpRequest, auto) {});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_TRUE(absl::StartsWith(mismatch.status().message(), "--https_key:")) << mismatch.status();

  HttpServerOptions options = Options();
  options.https.cert_file = dir_ + "/absent.crt";
  auto missing = HttpServer::Start(options, [](HttpRequest, auto) {});
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StartsWith(missing.status().message(), "--https_cert:")) << missing.status();
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "cannot be read")) << missing.status();
}

}  // namespace
}  // namespace genesis::gateway
