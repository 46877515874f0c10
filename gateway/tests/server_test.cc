#include "gateway/http/server.h"

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

}  // namespace
}  // namespace genesis::gateway
