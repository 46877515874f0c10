#include "gateway/http/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace genesis::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options) {
    options.port = 0;
    auto s = HttpServer::Start(options, [this](HttpRequest req, auto done) {
      ++handled_;
      HttpResponse r;
      r.status = req.target == "/teapot" ? 418 : 200;
      r.body = req.method + " " + req.target + " " + req.body + " " + req.headers["x-test"];
      r.headers.emplace_back("x-echo", "yes");
      done(std::move(r));
    });
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    stream_.expires_after(std::chrono::seconds(10));
  }

  http::response<http::string_body> RoundTrip(http::request<http::string_body> req,
                                              beast::error_code* ec_out = nullptr) {
    req.version(11);
    req.set(http::field::host, "127.0.0.1");
    req.prepare_payload();
    beast::error_code ec;
    http::write(stream_, req, ec);
    http::response<http::string_body> res;
    if (!ec) http::read(stream_, buffer_, res, ec);
    if (ec_out != nullptr)
      *ec_out = ec;
    else
      EXPECT_FALSE(ec) << ec.message();
    return res;
  }

  asio::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> handled_{0};
};

TEST_F(HttpServerTest, ServesSeveralRequestsOnOneKeepAliveConnection) {
  StartServer({});
  http::request<http::string_body> get{http::verb::get, "/v1/a?x=1", 11};
  get.set("X-Test", "hdr");
  auto first = RoundTrip(get);
  EXPECT_EQ(first.result_int(), 200u);
  EXPECT_EQ(first.body(), "GET /v1/a?x=1  hdr");
  EXPECT_EQ(first[http::field::content_type], "application/json");
  EXPECT_EQ(first["x-echo"], "yes");
  EXPECT_TRUE(first.keep_alive());
  http::request<http::string_body> post{http::verb::post, "/teapot", 11};
  post.body() = "{}";
  auto second = RoundTrip(post);
  EXPECT_EQ(second.result_int(), 418u);
  EXPECT_EQ(second.body(), "POST /teapot {} ");
  EXPECT_EQ(handled_.load(), 2);
}

TEST_F(HttpServerTest, OversizedBodyIs413AndNeverHandled) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  http::request<http::string_body> post{http::verb::post, "/v1/a", 11};
  post.body() = std::string(2048, 'x');
  beast::error_code ec;
  auto res = RoundTrip(post, &ec);
  EXPECT_EQ(res.result_int(), 413u) << ec.message();
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerTest, OversizedHeaderIs431) {
  HttpServerOptions options;
  options.max_header_bytes = 2048;
  StartServer(options);
  http::request<http::string_body> get{http::verb::get, "/v1/a", 11};
  get.set("X-Big", std::string(4096, 'y'));
  beast::error_code ec;
  auto res = RoundTrip(get, &ec);
  EXPECT_EQ(res.result_int(), 431u) << ec.message();
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerTest, StopIsIdempotent) {
  StartServer({});
  server_->Stop(absl::Milliseconds(100));
  server_->Stop(absl::Milliseconds(100));
  SUCCEED();
}

// A socket handed to the server (Adopt) is served like an accepted one, and
// with io_threads = 0 the caller's thread runs the server (Poll).
TEST(HttpServerAdoptTest, ServesAnAdoptedSocketPairOnTheCallersThread) {
  HttpServerOptions options;
  options.io_threads = 0;
  options.max_connections_per_client = 1;
  std::string seen_address;
  auto server = HttpServer::Start(options, [&](HttpRequest req, auto done) {
    seen_address = req.remote_address;
    HttpResponse r;
    r.body = req.method + " " + req.target;
    done(std::move(r));
  });
  ASSERT_TRUE(server.ok()) << server.status();
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  ASSERT_TRUE((*server)->Adopt(fds[1], "10.0.0.7").ok());
  const std::string request = "GET /v1/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fds[0], request.data(), request.size(), 0),
            static_cast<ssize_t>(request.size()));

  // A second connection from the same address is over its limit of one.
  int more[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, more), 0);
  EXPECT_EQ((*server)->Adopt(more[1], "10.0.0.7").code(), absl::StatusCode::kResourceExhausted);
  ::close(more[0]);

  std::string reply;
  char buf[4096];
  for (int i = 0; i < 100; ++i) {
    (*server)->Poll(absl::Milliseconds(100));
    const ssize_t n = ::recv(fds[0], buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) reply.append(buf, static_cast<size_t>(n));
    if (n == 0) break;  // the server closed after its answer
  }
  ::close(fds[0]);
  EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("GET /v1/x"), std::string::npos) << reply;
  EXPECT_EQ(seen_address, "10.0.0.7");

  (*server)->Stop(absl::Seconds(1));
  int late[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, late), 0);
  EXPECT_EQ((*server)->Adopt(late[1], "10.0.0.8").code(), absl::StatusCode::kFailedPrecondition);
  ::close(late[0]);
}

}  // namespace
}  // namespace genesis::gateway
