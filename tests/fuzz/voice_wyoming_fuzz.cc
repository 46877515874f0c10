// The Wyoming protocol framing the voice service reads from its Wyoming
// servers (services/voice/engines/wyoming.h): a JSON header line, then data_length
// bytes of JSON and payload_length bytes of audio. The input is what the
// server sends, through a socket pair; events are read until the stream ends.
// Invariants: every failure is UNAVAILABLE or DEADLINE_EXCEEDED (a broken
// backend, never INTERNAL); an event read, encoded and read back is the same
// event; an "info" event's description parses without an exception.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/clock.h"
#include "services/voice/engines/wyoming.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace genesis::voice;

bool Send(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// A connection reading `bytes` (then end of stream).
std::unique_ptr<WyomingConnection> Feed(std::string_view bytes, WyomingLimits limits) {
  int fds[2];
  FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  const int size = 1 << 20;
  ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  const bool sent = Send(fds[1], bytes);
  ::close(fds[1]);
  auto conn = std::make_unique<WyomingConnection>(fds[0], limits);
  if (!sent) return nullptr;  // larger than the socket buffer: not a useful input
  return conn;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 32768) return 0;
  WyomingLimits limits;
  limits.max_header_bytes = 4096;
  limits.max_data_bytes = 8192;
  limits.max_payload_bytes = 16384;
  auto conn = Feed(std::string_view(reinterpret_cast<const char*>(data), size), limits);
  if (!conn) return 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  for (int i = 0; i < 64; ++i) {
    auto event = conn->Read(deadline);
    if (!event.ok()) {
      FUZZ_CHECK(event.status().code() == absl::StatusCode::kUnavailable ||
                 event.status().code() == absl::StatusCode::kDeadlineExceeded);
      break;
    }
    if (event->type == "info") (void)ParseWyomingInfo(event->data, "wyoming:fuzz");
    const std::string encoded = WyomingConnection::Encode(*event);
    auto again_conn = Feed(encoded, WyomingLimits{});
    if (!again_conn) continue;
    auto again = again_conn->Read(deadline);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->type == event->type);
    FUZZ_CHECK(again->data == event->data);
    FUZZ_CHECK(again->payload == event->payload);
  }
  return 0;
}
