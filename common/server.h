// Server bootstrap shared by every Genesis service.
//
// A ServiceHost owns the gRPC server (callback API) with server reflection,
// the standard grpc.health.v1 service (describable over reflection), keepalive
// and message-size limits, the operations HTTP endpoint (/metrics, /healthz,
// /readyz), a readiness probe that flips health to NOT_SERVING while a
// dependency (the service's PostgreSQL) is unreachable, and graceful shutdown
// on SIGINT/SIGTERM that stops taking calls and drains in-flight ones within
// a deadline.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/http_server.h"
#include "common/metrics.h"

namespace genesis {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int grpc_port = 0;     // 0 picks a free port
  int metrics_port = 0;  // 0 picks a free port; -1 disables the ops endpoint
  int max_message_bytes = 8 << 20;
  absl::Duration keepalive_time = absl::Seconds(60);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  absl::Duration shutdown_grace = absl::Seconds(10);
  absl::Duration readiness_period = absl::Seconds(2);
};

class ServiceHost {
 public:
  ServiceHost(ServerOptions options, MetricsRegistry* registry);
  ~ServiceHost();
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  // Registers a service (not owned) under its full proto name. Before Start().
  void AddService(grpc::Service* service, std::string full_name);
  // Probed every readiness_period; health is SERVING only while it returns OK.
  void SetReadinessProbe(std::function<absl::Status()> probe);

  // Builds and starts the server, the ops endpoint and the probe.
  absl::Status Start();
  [[nodiscard]] int grpc_port() const { return grpc_port_; }
  [[nodiscard]] int metrics_port() const { return ops_ ? ops_->port() : -1; }
  [[nodiscard]] bool ready() const { return ready_.load(); }

  // Blocks until SIGINT/SIGTERM or RequestShutdown(), then Shutdown().
  void Run();
  // Asks Run() to return (safe from any thread).
  void RequestShutdown();
  // Health to NOT_SERVING, stop accepting, wait up to shutdown_grace for calls
  // in flight (then cancel them), stop the probe and the ops endpoint. Idempotent.
  void Shutdown();

  // Installs SIGINT/SIGTERM handlers that call RequestShutdown() on `host`.
  static void InstallSignalHandlers(ServiceHost* host);

 private:
  void ProbeLoop();
  void SetServing(bool serving);

  const ServerOptions options_;
  MetricsRegistry* registry_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  std::function<absl::Status()> probe_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<OpsHttpServer> ops_;
  int grpc_port_ = 0;
  std::atomic<bool> ready_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  bool shutdown_requested_ = false;
  bool shut_down_ = false;
  std::thread probe_thread_;
  Gauge* ready_gauge_ = nullptr;
};

}  // namespace genesis
