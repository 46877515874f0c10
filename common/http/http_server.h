// The operations HTTP endpoint of a service (its metrics port):
//   GET /metrics  Prometheus text format
//   GET /healthz  200 unless `live` says the process is wedged (liveness)
//   GET /readyz   200 when ready to serve, else 503 (readiness)
// (What makes a service unready or not live: common/runtime/server.h.)
// One thread, one connection at a time, 5 s read deadline: it serves scrapes
// and probes, not user traffic.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace genesis {

class MetricsRegistry;

class OpsHttpServer {
 public:
  // Binds `host:port` (port 0 picks a free one). `ready` is polled on /readyz,
  // `live` (optional) on /healthz: a non-OK status is 503 with its message.
  static absl::StatusOr<std::unique_ptr<OpsHttpServer>> Start(
      const std::string& host, int port, const MetricsRegistry* registry,
      std::function<bool()> ready, std::function<absl::Status()> live = nullptr);
  ~OpsHttpServer();  // stops and joins
  OpsHttpServer(const OpsHttpServer&) = delete;
  OpsHttpServer& operator=(const OpsHttpServer&) = delete;

  [[nodiscard]] int port() const { return port_; }

 private:
  struct Impl;
  explicit OpsHttpServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_;
};

}  // namespace genesis
