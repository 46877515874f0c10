// The gateway's HTTP/1.1 server (gateway/http/server.h, Boost.Beast
// underneath): the input is what a client sends on one connection (then it
// half-closes), to a real HttpServer with small limits. Covers the request
// line, fields, Content-Length and chunked framing, the smuggling refusals
// (Transfer-Encoding with Content-Length, codings other than chunked,
// Transfer-Encoding in HTTP/1.0, trailers, Host rules) and keep-alive.
// The connection is one end of a socket pair handed to the server
// (HttpServer::Adopt), and the server has no io thread: this thread runs its
// work (HttpServer::Poll), so an input costs no TCP handshake and no hand-off
// between threads; the server's code from the accepted socket on is the same.
// Invariants: the server answers with status lines of the codes it
// documents, within its timeouts (never hangs); the handler only ever sees
// requests within the limits.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "gateway/http/server.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace genesis::gateway;

constexpr size_t kMaxBody = 2048;

HttpServer& Server() {
  static HttpServer* server = [] {
    HttpServerOptions o;
    o.io_threads = 0;  // run by this thread (Poll)
    o.max_body_bytes = kMaxBody;
    o.max_header_bytes = 2048;
    o.max_chunk_extension_bytes = 64;
    o.max_chunks = 32;
    o.max_buffered_bytes = 1 << 20;
    o.header_timeout = absl::Seconds(2);
    o.read_timeout = absl::Seconds(2);
    o.idle_timeout = absl::Seconds(2);
    auto s = HttpServer::Start(o, [](HttpRequest request, std::function<void(HttpResponse)> done) {
      FUZZ_CHECK(!request.method.empty());
      FUZZ_CHECK(request.body.size() <= kMaxBody);
      HttpResponse response;
      response.status = 200;
      response.content_type = "text/plain";
      response.body = "ok " + std::to_string(request.body.size());
      done(std::move(response));
    });
    FUZZ_CHECK(s.ok());
    return s->release();
  }();
  return *server;
}

bool KnownStatus(std::string_view code) {
  for (const char* c : {"200", "400", "408", "413", "431", "501", "503", "505"}) {
    if (code == c) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  HttpServer& server = Server();
  int fds[2];
  FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  const int client = fds[0];
  // Room for the whole input, so it is written before the server reads.
  int room = 64 << 10;
  ::setsockopt(client, SOL_SOCKET, SO_SNDBUF, &room, sizeof(room));
  ::setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &room, sizeof(room));
  FUZZ_CHECK(::fcntl(client, F_SETFL, O_NONBLOCK) == 0);
  FUZZ_CHECK(server.Adopt(fds[1], "127.0.0.1").ok());

  // Send what the socket takes, run the server, read its answer, until it
  // closes; the input is half-closed once sent. The server's timeouts are
  // 2 s: nothing to do for 8 s is a hang.
  size_t at = 0;
  bool sent = false, closed = false, hung = false;
  std::string reply;
  char buf[8192];
  while (!closed) {
    while (!sent && at < size) {
      const ssize_t n = ::send(client, data + at, size - at, MSG_NOSIGNAL);
      if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        sent = true;  // the server refused and closed
        break;
      }
      at += static_cast<size_t>(n);
    }
    if (!sent && at == size) {
      ::shutdown(client, SHUT_WR);
      sent = true;
    }
    for (;;) {
      const ssize_t n = ::recv(client, buf, sizeof(buf), 0);
      if (n > 0) {
        reply.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) closed = true;  // EOF or reset
      break;
    }
    if (closed) break;
    if (server.Poll(absl::Seconds(8)) == 0) {
      hung = true;
      break;
    }
  }
  ::close(client);
  server.Poll(absl::ZeroDuration());                     // the server's side of the close
  if (std::getenv("GENESIS_FUZZ_VERBOSE") != nullptr) {  // what each input got, for seed writing
    std::fprintf(
        stderr, "%zu bytes in -> %s\n", size,
        reply.empty() ? "(closed without an answer)" : reply.substr(0, reply.find('\r')).c_str());
  }
  FUZZ_CHECK(!hung);
  if (!reply.empty()) {
    FUZZ_CHECK(reply.rfind("HTTP/1.1 ", 0) == 0 || reply.rfind("HTTP/1.0 ", 0) == 0);
    FUZZ_CHECK(reply.size() >= 12 && KnownStatus(std::string_view(reply).substr(9, 3)));
  }
  return 0;
}
