// The gateway's HTTP/1.1 server (Boost.Beast): keep-alive connections served
// by a pool of io threads, with bounds on header and body size, read and idle
// time and the number of connections. It only moves bytes: every complete
// request goes to a Handler (Gateway::Handle) and its HttpResponse is written
// back. Oversized bodies get 413, oversized headers 431, garbage 400.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/gateway.h"

namespace genesis::gateway {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 picks a free port
  int io_threads = 2;
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;
  absl::Duration read_timeout = absl::Seconds(30);  // one request's headers and body
  absl::Duration idle_timeout = absl::Seconds(60);  // between keep-alive requests
  int max_connections = 10000;
};

class HttpServer {
 public:
  using Handler = std::function<void(HttpRequest, std::function<void(HttpResponse)>)>;

  // Binds and starts serving on `options.io_threads` threads.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           Handler handler);
  // Stop(absl::ZeroDuration()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  [[nodiscard]] int port() const;
  // Stops accepting, lets requests in progress finish for up to `grace`,
  // then closes every connection and joins the threads. Idempotent.
  void Stop(absl::Duration grace);

  struct Impl;  // implementation detail, public for the connection class in server.cc

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace genesis::gateway
