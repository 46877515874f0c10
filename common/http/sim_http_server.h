// A small blocking HTTP/1.1 server for the project's simulators (the LLM
// provider simulator, the channel simulator): one thread per connection, at
// most `max_connections` at once (more are closed on accept), keep-alive, and
// a handler that writes each response itself, so it may stream, pause or hang
// up. Stop() (also the destructor) shuts the open connections down and joins
// every thread. Not for user traffic: the gateway has its own server.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace genesis {

class SimHttpServer {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  // Answers `request` on `socket`; false closes the connection.
  using Handler = std::function<bool(Socket& socket, const Request& request)>;

  // A request body larger than this is answered 413 with a JSON error
  // ({"error": {"code": 413, "type": "request_too_large", "message": ...}}),
  // as a real API's size limit does, and the connection is closed; bodies
  // past 64 MiB are not read at all (the connection is closed).
  static constexpr size_t kDefaultMaxBodyBytes = 1 << 20;

  // Listens on host:port (0: a free port) and serves until Stop().
  static absl::StatusOr<std::unique_ptr<SimHttpServer>> Start(
      const std::string& host, int port, int max_connections, Handler handler,
      size_t max_body_bytes = kDefaultMaxBodyBytes);
  ~SimHttpServer();
  SimHttpServer(const SimHttpServer&) = delete;
  SimHttpServer& operator=(const SimHttpServer&) = delete;

  [[nodiscard]] int port() const;
  void Stop();  // idempotent

  // Writes one whole response; false when the connection should close (the
  // client asked so, or the write failed).
  static bool Respond(Socket& socket, const Request& request, boost::beast::http::status status,
                      const std::string& content_type, std::string body,
                      const std::vector<std::pair<std::string, std::string>>& headers = {});

 private:
  struct Impl;
  explicit SimHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace genesis
