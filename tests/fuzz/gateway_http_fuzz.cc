// The gateway's HTTP/1.1 server (gateway/server.h, Boost.Beast underneath):
// the input is what a client sends on one connection (then it half-closes),
// to a real HttpServer on 127.0.0.1 with small limits. Covers the request
// line, fields, Content-Length and chunked framing, the smuggling refusals
// (Transfer-Encoding with Content-Length, codings other than chunked,
// Transfer-Encoding in HTTP/1.0, trailers, Host rules) and keep-alive.
// Invariants: the server answers with status lines of the codes it
// documents, within its timeouts (never hangs); the handler only ever sees
// requests within the limits.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "gateway/http/server.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace genesis::gateway;

constexpr size_t kMaxBody = 2048;

int Port() {
  static HttpServer* server = [] {
    HttpServerOptions o;
    o.io_threads = 1;
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
  return server->port();
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
  const int port = Port();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  FUZZ_CHECK(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  FUZZ_CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  timeval tv{8, 0};  // beyond the server's 2 s timeouts: reaching it is a hang
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  size_t at = 0;
  while (at < size) {
    const ssize_t n = ::send(fd, data + at, size - at, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server refused and closed
    at += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string reply;
  char buf[8192];
  bool hung = false;
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      reply.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) hung = true;
    break;  // EOF, reset, or the timeout
  }
  ::close(fd);
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
