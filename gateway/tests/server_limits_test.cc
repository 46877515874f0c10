// The HTTP server against what a hostile client sends, over raw sockets on
// 127.0.0.1: request smuggling (Transfer-Encoding / Content-Length / Host),
// unbounded parsing (chunk lines, extensions, chunk count, trailers), the body
// budget, connection floods and slow heads, and draining on Stop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/http/server.h"

namespace genesis::gateway {
namespace {

// A connected blocking socket to 127.0.0.1:port from `source` (any 127/8
// address is the loopback); -1 when the connection fails.
int Connect(int port, const char* source = "127.0.0.1") {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `out` (as far as the peer takes it) while reading; returns what was
// read once the peer closes, the read fails, or `timeout` passes. `*sent`
// gets the bytes written.
std::string Exchange(int fd, const std::string& out, absl::Duration timeout = absl::Seconds(10),
                     size_t* sent = nullptr) {
  std::string in;
  size_t written = 0;
  bool can_write = true;
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    pollfd p{fd, static_cast<short>(POLLIN | (can_write && written < out.size() ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, 50) < 0) break;
    if (p.revents & POLLIN || p.revents & (POLLHUP | POLLERR)) {
      char buf[65536];
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) break;
    }
    if (p.revents & POLLOUT) {
      ssize_t n = ::send(fd, out.data() + written, std::min<size_t>(out.size() - written, 65536),
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        written += static_cast<size_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        can_write = false;
      }
    }
  }
  if (sent != nullptr) *sent = written;
  return in;
}

std::string OneShot(int port, const std::string& out, const char* source = "127.0.0.1") {
  int fd = Connect(port, source);
  if (fd < 0) return "connect failed";
  std::string in = Exchange(fd, out);
  ::close(fd);
  return in;
}

// True when the peer closes `fd` (EOF or reset) within `timeout`.
bool ClosedByPeer(int fd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
  }
  return false;
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

class ServerLimitsTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options) {
    options.port = 0;
    auto s = HttpServer::Start(options, [this](HttpRequest req, auto done) {
      {
        std::lock_guard lock(mu_);
        targets_.push_back(req.target);
      }
      HttpResponse r;
      r.body = absl::StrCat(req.method, " ", req.target, " ", req.body.size());
      if (req.target == "/slow") {
        std::thread([done, r]() mutable {
          std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the handler's work
          done(std::move(r));
        }).detach();
        return;
      }
      done(std::move(r));
    });
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }
  std::vector<std::string> targets() {
    std::lock_guard lock(mu_);
    return targets_;
  }
  int port() const { return server_->port(); }

  std::mutex mu_;
  std::vector<std::string> targets_;
  std::unique_ptr<HttpServer> server_;
};

const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(ServerLimitsTest, TransferEncodingNotEndingInChunkedIs400AndNothingIsSmuggled) {
  Start({});
  for (const std::string te : {"gzip", "identity", "chunked, gzip", "deflate"}) {
    std::string in =
        OneShot(port(), absl::StrCat("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ", te,
                                     "\r\n\r\n", kSmuggled));
    EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 400")) << te << ": " << in;
    EXPECT_EQ(Count(in, "HTTP/1.1 "), 1) << te << ": " << in;
    EXPECT_TRUE(absl::StrContains(in, "Connection: close")) << in;
  }
  EXPECT_TRUE(targets().empty());
}

TEST_F(ServerLimitsTest, ContentLengthWithTransferEncodingIs400) {
  Start({});
  for (const std::string head : {"Transfer-Encoding: gzip\r\nContent-Length: 5",
                                 "Content-Length: 5\r\nTransfer-Encoding: gzip",
                                 "Transfer-Encoding: chunked\r\nContent-Length: 5",
                                 "Content-Length: 5\r\nTransfer-Encoding: chunked"}) {
    std::string in = OneShot(port(), absl::StrCat("POST /a HTTP/1.1\r\nHost: x\r\n", head,
                                                  "\r\n\r\n0\r\n\r\n", kSmuggled));
    EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 400")) << head << ": " << in;
    EXPECT_EQ(Count(in, "HTTP/1.1 "), 1) << in;
  }
  EXPECT_TRUE(targets().empty());
}

TEST_F(ServerLimitsTest, AnotherCodingBeforeChunkedIs501AndChunkedAloneWorks) {
  Start({});
  std::string in = OneShot(port(),
                           "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                           "3\r\nabc\r\n0\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 501")) << in;
  in = OneShot(
      port(),
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "3;name=value\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 200")) << in;
  EXPECT_TRUE(absl::EndsWith(in, "POST /a 5")) << in;
  in = OneShot(port(), "POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.0 400") || absl::StartsWith(in, "HTTP/1.1 400")) << in;
}

TEST_F(ServerLimitsTest, Http11NeedsExactlyOneHost) {
  Start({});
  std::string in = OneShot(port(), "GET /a HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 400")) << in;
  EXPECT_TRUE(absl::StrContains(in, "Host")) << in;
  in = OneShot(port(), "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 400")) << in;
  EXPECT_TRUE(targets().empty());
  in = OneShot(port(), "GET /a HTTP/1.0\r\n\r\n");  // HTTP/1.0 has no Host requirement
  EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.0 200")) << in;
}

// The reported attack: chunk-size lines and extensions that never end. The
// server answers once its bounded buffer is full, long before the client is done.
TEST_F(ServerLimitsTest, EndlessChunkLinesAreRefusedWithoutBufferingThem) {
  Start({});
  const std::string head = "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const std::string line_start : {"1;ext=", "0000000000"}) {
    std::string out = head + line_start + std::string(32 << 20, line_start[0] == '1' ? 'a' : '0');
    int fd = Connect(port());
    ASSERT_GE(fd, 0);
    size_t sent = 0;
    std::string in = Exchange(fd, out, absl::Seconds(10), &sent);
    ::close(fd);
    EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 400") || absl::StartsWith(in, "HTTP/1.1 431"))
        << line_start << ": " << in.substr(0, 200);
    EXPECT_LT(sent, out.size()) << "the server read all " << out.size() << " bytes";
  }
  EXPECT_TRUE(targets().empty());
}

TEST_F(ServerLimitsTest, LongChunkExtensionsTooManyChunksAndTrailersAre400) {
  HttpServerOptions options;
  options.max_chunk_extension_bytes = 64;
  options.max_chunks = 10;
  Start(options);
  const std::string head = "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string in = OneShot(port(), head + "1;" + std::string(100, 'e') + "\r\na\r\n0\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 400")) << in;
  EXPECT_TRUE(absl::StrContains(in, "chunk extensions")) << in;
  std::string many;
  for (int i = 0; i < 11; ++i) many += "1\r\na\r\n";
  in = OneShot(port(), head + many + "0\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 400")) << in;
  EXPECT_TRUE(absl::StrContains(in, "chunks")) << in;
  in = OneShot(port(), head + "1\r\na\r\n0\r\nAuthorization: Bearer x\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 400")) << in;
  EXPECT_TRUE(absl::StrContains(in, "trailer")) << in;
  EXPECT_TRUE(targets().empty());
}

// Bodies held by all connections together are bounded: past the budget a
// request gets 503 with Retry-After; the budget comes back when bodies go.
TEST_F(ServerLimitsTest, TheBodyBudgetIsSharedByAllConnections) {
  HttpServerOptions options;
  options.max_body_bytes = 60000;
  options.max_buffered_bytes = 100000;
  Start(options);
  const std::string head =
      "POST /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 60000\r\n\r\n";
  int holder = Connect(port());
  ASSERT_GE(holder, 0);
  ASSERT_EQ(::send(holder, head.data(), head.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(head.size()));
  // The holder's head reserves 60000 bytes once the server has read it; a
  // second request sent before that could take the budget first.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (server_->buffered_bytes() < 60000 && absl::Now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(server_->buffered_bytes(), 60000u);
  const std::string refused = OneShot(port(), head + std::string(60000, 'b'));
  EXPECT_TRUE(absl::StartsWith(refused, "HTTP/1.1 503")) << refused.substr(0, 200);
  EXPECT_TRUE(absl::StrContains(refused, "retry-after: 1")) << refused.substr(0, 200);
  std::string rest = std::string(60000, 'a');
  std::string in = Exchange(holder, rest);
  ::close(holder);
  EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 200")) << in;
  in = OneShot(port(), head + std::string(60000, 'c'));
  EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 200")) << in.substr(0, 200);
}

// One address opening many idle connections must not lock others out.
TEST_F(ServerLimitsTest, AFloodOfIdleConnectionsFromOneAddressLeavesOthersServed) {
  rlimit files{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);
  const int flood = std::min<int>(3000, static_cast<int>(files.rlim_cur) / 3);
  HttpServerOptions options;
  options.max_connections = flood / 2;
  options.max_connections_per_client = 50;
  Start(options);
  std::vector<int> idle;
  for (int i = 0; i < flood; ++i) {
    int fd = Connect(port(), "127.0.0.1");
    if (fd >= 0) idle.push_back(fd);
  }
  EXPECT_GT(idle.size(), static_cast<size_t>(options.max_connections));
  // The flood's connections beyond the limits are closed by the server;
  // an honest client from another address is answered, again and again.
  for (int i = 0; i < 5; ++i) {
    std::string in = OneShot(port(), "GET /honest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                             "127.0.0.2");
    EXPECT_TRUE(absl::StartsWith(in, "HTTP/1.1 200")) << i << ": " << in;
  }
  for (int fd : idle) ::close(fd);
}

// Slowloris: a head trickled in byte by byte is cut after header_timeout.
TEST_F(ServerLimitsTest, ASlowHeadIsCutAfterTheHeaderTimeout) {
  HttpServerOptions options;
  options.header_timeout = absl::Milliseconds(300);
  options.idle_timeout = absl::Seconds(60);
  Start(options);
  int fd = Connect(port());
  ASSERT_GE(fd, 0);
  std::string head = "GET /a HTTP/1.1\r\nHost: x\r\n";
  ASSERT_GT(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), 0);
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {  // up to 10 s of trickling
    if (::send(fd, "X", 1, MSG_NOSIGNAL) != 1) closed = true;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char c;
      if (::recv(fd, &c, 1, MSG_DONTWAIT) <= 0) closed = true;
    }
  }
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(targets().empty());
}

// Stop drains: the request in flight is answered (Connection: close), an
// idle keep-alive connection is closed, new connections are refused, and
// Stop returns once the last response is written, long before the grace.
TEST_F(ServerLimitsTest, StopFinishesRequestsInFlightAndReturnsRightAfter) {
  Start({});
  const int server_port = port();
  int idle = Connect(server_port);
  ASSERT_GE(idle, 0);
  std::string first = Exchange(idle, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", absl::Milliseconds(500));
  ASSERT_TRUE(absl::StartsWith(first, "HTTP/1.1 200")) << first;
  int busy = Connect(port());
  ASSERT_GE(busy, 0);
  const std::string slow = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(busy, slow.data(), slow.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(slow.size()));
  while (server_->busy() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::string answer;
  std::thread reader([&] { answer = Exchange(busy, "", absl::Seconds(20)); });
  const absl::Time start = absl::Now();
  server_->Stop(absl::Seconds(20));
  const absl::Duration took = absl::Now() - start;
  reader.join();
  EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 200")) << answer;
  EXPECT_TRUE(absl::StrContains(answer, "Connection: close")) << answer;
  EXPECT_LT(took, absl::Seconds(10)) << "Stop waited for the grace period";
  EXPECT_TRUE(ClosedByPeer(idle, absl::Seconds(5)));
  ::close(idle);
  ::close(busy);
  EXPECT_EQ(Connect(server_port), -1);
}

}  // namespace
}  // namespace genesis::gateway
