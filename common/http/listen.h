// Binding a TCP listener for the Beast-based HTTP servers (a service's
// metrics port, the gateway, the simulators): one place for the host check,
// SO_REUSEADDR and the message a person reads when the port cannot be had.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace genesis {

// Opens `acceptor` on host:port (port 0: a free one; read it back from
// acceptor.local_endpoint()) with SO_REUSEADDR, and listens.
//   INVALID_ARGUMENT "<what> host '<host>' is not an IP address: <reason>"
//   UNAVAILABLE      "cannot listen for <what> on <host>:<port>: <reason>"
// (`what` names the listener for the operator: "metrics", "HTTP", ...).
[[nodiscard]] absl::Status ListenTcp(boost::asio::ip::tcp::acceptor& acceptor,
                                     const std::string& host, int port, absl::string_view what);

}  // namespace genesis
