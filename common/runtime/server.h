// Server bootstrap shared by every Genesis service.
//
// A ServiceHost owns the gRPC server (callback API) with server reflection,
// the standard grpc.health.v1 service (describable over reflection), keepalive
// and message-size limits, the operations HTTP endpoint (/metrics, /healthz,
// /readyz) and graceful shutdown on SIGINT/SIGTERM.
//
// Readiness ("send me traffic": gRPC health SERVING, /readyz 200) is false
// while the service cannot take calls at all: before Start() (migrations
// run before it), until a readiness gate has passed (SetReadinessGate: a
// schema older than the code, see service_runtime.h), and from the
// moment a shutdown begins (SIGTERM: readiness
// goes NOT_SERVING first, calls are still taken for `drain_delay` so load
// balancers can notice, then the server stops accepting and drains calls in
// flight for `shutdown_grace`). It is also false while a readiness check
// fails (AddReadinessCheck): the service runtime's one is "no writable
// PostgreSQL primary", from the pool's own connection outcomes (a failover:
// nothing that needs the database can work on any replica, and one replica
// cut off alone should get no traffic). Checks are cheap reads, asked every
// `readiness_check_period`; the service keeps taking calls meanwhile (they
// answer UNAVAILABLE fast) and turns SERVING at the first pass.
// Other dependency outages (Redis down or hung, PostgreSQL hung: calls answer
// UNAVAILABLE or degrade) do NOT make a service unready: dependency probes
// only export genesis_dependency_up{dependency} and log.
//
// Liveness ("restart me": /healthz 503) is false only when the process is
// wedged: a watched worker pool took no queued task for `stall_limit`
// (every worker stuck), which no restart-free recovery will fix.
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
#include "common/base/metrics.h"
#include "common/http/http_server.h"
#include "common/rpc/tls.h"
#include "common/runtime/worker_pool.h"

namespace genesis {

// Clients may ping a ServiceHost's connections this often (keepalive) or more
// seldom; more often and the server answers GOAWAY (too_many_pings). Mesh
// channels (common/rpc/mesh_channel.h) ping every 20 s.
inline constexpr absl::Duration kMinClientPingInterval = absl::Seconds(10);

struct ServerOptions {
  std::string host = "127.0.0.1";
  int grpc_port = 0;     // 0 picks a free port
  int metrics_port = 0;  // 0 picks a free port; -1 disables the ops endpoint
  int max_message_bytes = 8 << 20;
  // Largest message sent; 0: max_message_bytes. A service whose responses are
  // bigger than what it accepts (voice's audio) raises only this.
  int max_send_message_bytes = 0;
  absl::Duration keepalive_time = absl::Seconds(60);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  absl::Duration shutdown_grace = absl::Seconds(10);
  absl::Duration readiness_period = absl::Seconds(2);  // dependency probe period
  // How often readiness checks (AddReadinessCheck) are asked.
  absl::Duration readiness_check_period = absl::Milliseconds(250);
  // After SIGTERM: NOT_SERVING while still taking calls, before refusing them.
  absl::Duration drain_delay = absl::ZeroDuration();
  // TLS/mTLS of the gRPC port (tls.h); off (plaintext) by default.
  TlsConfig tls;
};

class ServiceHost {
 public:
  ServiceHost(ServerOptions options, MetricsRegistry* registry);
  ~ServiceHost();
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  // Registers a service (not owned) under its full proto name. Before Start().
  void AddService(grpc::Service* service, std::string full_name);
  // A dependency probed every readiness_period. Its result is exported as
  // genesis_dependency_up{dependency=name} and logged when it changes; it
  // does not change readiness (see above). Before Start().
  void AddDependencyProbe(std::string name, std::function<absl::Status()> probe);
  // Readiness waits for `gate`: from Start() health is NOT_SERVING and
  // /readyz 503 until `gate` returns OK. It is run on its own thread at
  // Start() and then every `period` until it passes once (not after); each
  // new failure message is logged (warning, logger "server"). Unlike a
  // dependency probe it is for what makes this process unfit to serve at all
  // (its code needs a newer schema). Before Start().
  void SetReadinessGate(std::function<absl::Status()> gate, absl::Duration period);

  // Readiness follows `check` too: NOT_SERVING while it fails (logged with
  // its reason when that changes), SERVING again once every check passes.
  // `check` must be cheap (no I/O). Liveness never follows it. Before Start().
  void AddReadinessCheck(std::string name, std::function<absl::Status()> check);
  // Liveness: /healthz answers 503 while `pool` has had tasks queued but
  // taken none for `stall_limit`. `pool` must outlive the host. Before Start().
  void WatchWorkers(const WorkerPool* pool, absl::Duration stall_limit);
  // OK, or why the process is wedged (what /healthz answers).
  [[nodiscard]] absl::Status Live() const;

  // Builds and starts the server, the ops endpoint and the probe.
  absl::Status Start();
  [[nodiscard]] int grpc_port() const { return grpc_port_; }
  [[nodiscard]] int metrics_port() const { return ops_ ? ops_->port() : -1; }
  [[nodiscard]] bool ready() const { return ready_.load(); }

  // Blocks until SIGINT/SIGTERM or RequestShutdown(), then Shutdown().
  void Run();
  // Asks Run() to return (safe from any thread).
  void RequestShutdown();
  // Health to NOT_SERVING, keep taking calls for drain_delay, stop accepting,
  // wait up to shutdown_grace for calls in flight (then cancel them), stop the
  // probes and the ops endpoint. Idempotent.
  void Shutdown();

  // Installs SIGINT/SIGTERM handlers that call RequestShutdown() on `host`.
  static void InstallSignalHandlers(ServiceHost* host);

 private:
  void ProbeLoop();
  void GateLoop();
  void RunProbes();
  // Asks every readiness check; true when all pass.
  bool RunReadinessChecks();
  void SetServing(bool serving);

  const ServerOptions options_;
  MetricsRegistry* registry_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  struct Probe {
    std::string name;
    std::function<absl::Status()> fn;
    Gauge* up = nullptr;
    bool last_ok = true;
  };
  std::vector<Probe> probes_;
  struct Check {
    std::string name;
    std::function<absl::Status()> fn;
    bool last_ok = true;
  };
  std::vector<Check> checks_;
  struct Watched {
    const WorkerPool* pool;
    absl::Duration stall_limit;
  };
  std::vector<Watched> watched_pools_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<OpsHttpServer> ops_;
  int grpc_port_ = 0;
  std::atomic<bool> ready_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  bool shutdown_requested_ = false;
  bool shut_down_ = false;
  std::thread probe_thread_;
  std::function<absl::Status()> gate_;
  absl::Duration gate_period_;
  std::thread gate_thread_;
  std::atomic<bool> gate_passed_{true};
  Gauge* ready_gauge_ = nullptr;
};

}  // namespace genesis
