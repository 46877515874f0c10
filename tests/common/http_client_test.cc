// The outbound HTTP client (common/http/http_client.h) against a local server on
// 127.0.0.1: statuses and bodies, GET and POST, the response-size bound, a
// hung server ended by the call's deadline, redirects returned unless asked
// for, and error messages that never hold the URL.
#include "common/http/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/http/sim_http_server.h"

namespace genesis {
namespace {

namespace http = boost::beast::http;
using ::testing::HasSubstr;
using ::testing::Not;

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = SimHttpServer::Start(
        "127.0.0.1", 0, 16,
        [this](SimHttpServer::Socket& socket, const SimHttpServer::Request& request) {
          return Handle(socket, request);
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void TearDown() override {
    release_ = true;
    server_->Stop();
  }

  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", server_->port(), path);
  }
  int Hits(const std::string& path) {
    std::lock_guard lock(mu_);
    return hits_[path];
  }

  bool Handle(SimHttpServer::Socket& socket, const SimHttpServer::Request& request) {
    std::string path(request.target());
    path = path.substr(0, path.find('?'));
    {
      std::lock_guard lock(mu_);
      ++hits_[path];
    }
    if (path == "/ok") {
      return SimHttpServer::Respond(socket, request, http::status::ok, "text/plain", "hello");
    }
    if (path == "/missing") {
      return SimHttpServer::Respond(socket, request, http::status::not_found, "text/plain",
                                    "no such thing");
    }
    if (path == "/broken") {
      return SimHttpServer::Respond(socket, request, http::status::internal_server_error,
                                    "text/plain", "oops");
    }
    if (path == "/busy") {
      return SimHttpServer::Respond(socket, request, http::status::too_many_requests, "text/plain",
                                    "slow down", {{"Retry-After", "7"}});
    }
    if (path == "/echo") {
      std::string auth(request[http::field::authorization]);
      return SimHttpServer::Respond(
          socket, request, http::status::ok, "text/plain",
          absl::StrCat(std::string(request.method_string()), " ", auth, " ", request.body()));
    }
    if (path == "/big") {  // 2000 bytes with a Content-Length
      return SimHttpServer::Respond(socket, request, http::status::ok, "text/plain",
                                    std::string(2000, 'x'));
    }
    if (path == "/big-chunked") {  // 2000 bytes, length unknown until the end
      std::string raw =
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
      for (int i = 0; i < 4; ++i) absl::StrAppend(&raw, "1f4\r\n", std::string(500, 'y'), "\r\n");
      raw += "0\r\n\r\n";
      boost::system::error_code ec;
      boost::asio::write(socket, boost::asio::buffer(raw), ec);
      return false;
    }
    if (path == "/moved") {
      return SimHttpServer::Respond(socket, request, http::status::found, "text/plain", "see /ok",
                                    {{"Location", "/ok"}});
    }
    if (path == "/loop") {
      return SimHttpServer::Respond(socket, request, http::status::found, "text/plain", "again",
                                    {{"Location", "/loop"}});
    }
    if (path == "/hang") {  // reads the request, never answers (until the test ends)
      const absl::Time give_up = absl::Now() + absl::Seconds(20);
      while (!release_ && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(2));
      return false;
    }
    return SimHttpServer::Respond(socket, request, http::status::not_found, "text/plain", "?");
  }

  std::unique_ptr<SimHttpServer> server_;
  std::atomic<bool> release_{false};
  std::mutex mu_;
  std::map<std::string, int> hits_;
};

TEST_F(HttpClientTest, ReturnsStatusesAndBodies) {
  HttpRequest request;
  request.url = Url("/ok");
  auto ok = HttpGet(request);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "hello");
  EXPECT_FALSE(ok->retry_after.has_value());

  request.url = Url("/missing");
  auto missing = HttpGet(request);
  ASSERT_TRUE(missing.ok()) << missing.status();  // an HTTP error is a response
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "no such thing");

  request.url = Url("/broken");
  auto broken = HttpPost(request);
  ASSERT_TRUE(broken.ok()) << broken.status();
  EXPECT_EQ(broken->status, 500);

  request.url = Url("/busy");
  auto busy = HttpPost(request);
  ASSERT_TRUE(busy.ok()) << busy.status();
  EXPECT_EQ(busy->status, 429);
  EXPECT_EQ(busy->retry_after, absl::Seconds(7));
}

TEST_F(HttpClientTest, PostSendsBodyAndHeadersGetSendsNoBody) {
  HttpRequest request;
  request.url = Url("/echo");
  request.headers = {"Authorization: Bearer t0k", "Content-Type: application/json"};
  request.body = R"({"a":1})";
  auto post = HttpPost(request);
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->body, R"(POST Bearer t0k {"a":1})");

  CurlHttpClient client;
  auto get = client.Get(request);
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->body, "GET Bearer t0k ");
}

TEST_F(HttpClientTest, StreamsA2xxBodyToTheSinkAndTheSinkCanStop) {
  HttpRequest request;
  request.url = Url("/big-chunked");
  std::string seen;
  BodySink sink = [&](std::string_view bytes) {
    seen.append(bytes);
    return true;
  };
  request.max_response_bytes = 10;  // bytes given to a sink are not counted
  auto r = HttpGet(request, &sink);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(seen, std::string(2000, 'y'));

  BodySink stop = [](std::string_view) { return false; };
  auto stopped = HttpGet(request, &stop);
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kCancelled) << stopped.status();
}

TEST_F(HttpClientTest, ABodyOverTheBoundIsRefused) {
  for (const std::string path : {"/big", "/big-chunked"}) {
    HttpRequest request;
    request.url = Url(path);
    request.max_response_bytes = 1999;
    auto over = HttpGet(request);
    EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted) << path;
    EXPECT_THAT(over.status().message(), HasSubstr("larger than 1999 bytes")) << path;
    EXPECT_THAT(over.status().message(), Not(HasSubstr("127.0.0.1"))) << path;

    request.max_response_bytes = 2000;
    auto at = HttpGet(request);
    ASSERT_TRUE(at.ok()) << path << ": " << at.status();
    EXPECT_EQ(at->body.size(), 2000u) << path;
  }
}

TEST_F(HttpClientTest, AHungServerHitsTheTimeout) {
  HttpRequest request;
  request.url = Url("/hang");
  request.timeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  auto r = HttpPost(request);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  // It was connected and the request went out: it may have arrived.
  EXPECT_TRUE(HttpRequestMayHaveBeenSent(r.status()));
}

TEST_F(HttpClientTest, AHungServerHitsTheCallersDeadline) {
  HttpRequest request;
  request.url = Url("/hang");
  request.timeout = absl::Seconds(30);
  request.deadline = absl::Now() + absl::Milliseconds(300);
  auto r = HttpGet(request);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_LT(absl::Now(), request.deadline + absl::Seconds(2));
}

TEST_F(HttpClientTest, NoTimeLeftSendsNothing) {
  HttpRequest request;
  request.url = Url("/ok");
  request.deadline = absl::Now() - absl::Milliseconds(1);
  auto r = HttpPost(request);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_FALSE(HttpRequestMayHaveBeenSent(r.status()));
  EXPECT_EQ(Hits("/ok"), 0);
}

TEST_F(HttpClientTest, ARedirectIsNotFollowedUnlessAsked) {
  HttpRequest request;
  request.url = Url("/moved");
  auto r = HttpGet(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->body, "see /ok");
  EXPECT_EQ(Hits("/ok"), 0);

  request.follow_redirects = true;
  auto followed = HttpGet(request);
  ASSERT_TRUE(followed.ok()) << followed.status();
  EXPECT_EQ(followed->status, 200);
  EXPECT_EQ(followed->body, "hello");
  EXPECT_EQ(Hits("/ok"), 1);

  request.url = Url("/loop");
  request.max_redirects = 3;
  auto loop = HttpGet(request);
  EXPECT_EQ(loop.status().code(), absl::StatusCode::kUnavailable) << loop.status();
  EXPECT_EQ(Hits("/loop"), 4);
}

TEST_F(HttpClientTest, ErrorTextNeverHoldsTheUrl) {
  // A port bound but not listening: the connection is refused.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor bound(io);
  bound.open(boost::asio::ip::tcp::v4());
  bound.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
  const std::string port = std::to_string(bound.local_endpoint().port());
  const std::string secret_path = "/botSECRET-TOKEN-1/sendMessage?key=SECRET-KEY-2";

  auto expect_clean = [&](const absl::Status& status, const std::string& what) {
    EXPECT_FALSE(status.ok()) << what;
    const std::string message(status.message());
    EXPECT_THAT(message, Not(HasSubstr("SECRET"))) << what;
    EXPECT_THAT(message, Not(HasSubstr("127.0.0.1"))) << what;
    EXPECT_THAT(message, Not(HasSubstr(port))) << what;
    EXPECT_THAT(message, Not(HasSubstr(std::to_string(server_->port())))) << what;
  };

  HttpRequest request;
  request.url = absl::StrCat("http://127.0.0.1:", port, secret_path);
  auto refused = HttpPost(request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  EXPECT_FALSE(HttpRequestMayHaveBeenSent(refused.status()));
  expect_clean(refused.status(), "refused");

  request.url = absl::StrCat("ftp://127.0.0.1:", port, secret_path);
  auto scheme = HttpGet(request);
  EXPECT_EQ(scheme.status().code(), absl::StatusCode::kInvalidArgument) << scheme.status();
  expect_clean(scheme.status(), "scheme");

  request.url = "http://[127.0.0.1:" + port + secret_path;
  auto malformed = HttpGet(request);
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument) << malformed.status();
  expect_clean(malformed.status(), "malformed");

  request.url = Url("/hang") + "?key=SECRET-KEY-3";
  request.timeout = absl::Milliseconds(200);
  auto hung = HttpPost(request);
  EXPECT_EQ(hung.status().code(), absl::StatusCode::kDeadlineExceeded) << hung.status();
  expect_clean(hung.status(), "hung");

  request.url = Url("/big") + "?key=SECRET-KEY-4";
  request.timeout = absl::Seconds(10);
  request.max_response_bytes = 10;
  auto big = HttpGet(request);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted) << big.status();
  expect_clean(big.status(), "big");
}

TEST(HttpClientParseTest, RetryAfterInSeconds) {
  EXPECT_EQ(ParseRetryAfter(" 12 \r\n"), absl::Seconds(12));
  EXPECT_EQ(ParseRetryAfter("0.5"), absl::Milliseconds(500));
  EXPECT_FALSE(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
  EXPECT_FALSE(ParseRetryAfter("-1").has_value());
}

}  // namespace
}  // namespace genesis
