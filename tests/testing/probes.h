// Small helpers for tests that watch a server from outside: the status code
// of a plain HTTP GET on a loopback port (the ops endpoint's /readyz,
// /healthz), and waiting for a condition to hold. Header-only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace genesis::testing {

// GET `path` on 127.0.0.1:port; the status code (0 when it failed).
inline int HttpStatus(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return 0;
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string resp;
  char buf[1024];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  if (resp.size() < 12) return 0;
  return std::stoi(resp.substr(9, 3));
}

// True once `done()` holds, asked every `poll` for up to `limit`.
inline bool Eventually(const std::function<bool()>& done, absl::Duration limit = absl::Seconds(10),
                       absl::Duration poll = absl::Milliseconds(5)) {
  const absl::Time until = absl::Now() + limit;
  while (absl::Now() < until) {
    if (done()) return true;
    absl::SleepFor(poll);
  }
  return done();
}

}  // namespace genesis::testing
