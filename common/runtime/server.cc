#include "common/runtime/server.h"

#include <semaphore.h>
#include <signal.h>

#include <algorithm>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "common/runtime/logging.h"
#include "grpc/health/v1/health.pb.h"

namespace genesis {
namespace {

sem_t g_signal_sem;
std::atomic<bool> g_signal_installed{false};

void OnSignal(int) { sem_post(&g_signal_sem); }  // async-signal-safe

}  // namespace

ServiceHost::ServiceHost(ServerOptions options, MetricsRegistry* registry)
    : options_(std::move(options)), registry_(registry) {
  ready_gauge_ =
      &registry_->AddGauge("genesis_ready", "1 while the service reports SERVING, else 0.")
           .WithLabels({});
}

ServiceHost::~ServiceHost() { Shutdown(); }

void ServiceHost::AddService(grpc::Service* service, std::string full_name) {
  services_.emplace_back(service, std::move(full_name));
}

void ServiceHost::AddDependencyProbe(std::string name, std::function<absl::Status()> probe) {
  Probe p;
  p.up = &registry_
              ->AddGauge("genesis_dependency_up",
                         "1 while the dependency's probe succeeds, else 0 (does not change "
                         "readiness).",
                         {"dependency"})
              .WithLabels({name});
  p.name = std::move(name);
  p.fn = std::move(probe);
  probes_.push_back(std::move(p));
}

void ServiceHost::SetReadinessGate(std::function<absl::Status()> gate, absl::Duration period) {
  gate_ = std::move(gate);
  gate_period_ = period;
}

void ServiceHost::AddReadinessCheck(std::string name, std::function<absl::Status()> check) {
  checks_.push_back(Check{std::move(name), std::move(check), true});
}

void ServiceHost::WatchWorkers(const WorkerPool* pool, absl::Duration stall_limit) {
  watched_pools_.push_back({pool, stall_limit});
}

absl::Status ServiceHost::Live() const {
  for (const auto& w : watched_pools_) {
    const absl::Duration stalled = w.pool->StalledFor();
    if (stalled >= w.stall_limit) {
      return absl::UnavailableError(
          absl::StrCat("wedged: worker pool '", w.pool->name(), "' has taken no task for ",
                       absl::FormatDuration(stalled), " while ", w.pool->queued(), " wait"));
    }
  }
  return absl::OkStatus();
}

absl::Status ServiceHost::Start() {
  // Referencing the generated health descriptors links them in, so reflection
  // clients can describe grpc.health.v1.Health (gRPC's built-in service
  // registers none).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  const std::string address = options_.host + ":" + std::to_string(options_.grpc_port);
  builder.AddListeningPort(address, ServerCredentialsFor(options_.tls), &grpc_port_);
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_send_message_bytes > 0
                                    ? options_.max_send_message_bytes
                                    : options_.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive_time)));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive_timeout)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Let clients ping as often as every 10 s without being told to go away.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(kMinClientPingInterval)));
  for (auto& [service, name] : services_) builder.RegisterService(service);
  server_ = builder.BuildAndStart();
  if (!server_ || grpc_port_ == 0) {
    return absl::UnavailableError("cannot listen for gRPC on " + address +
                                  " (port in use or address not local?)");
  }
  if (options_.metrics_port >= 0) {
    auto ops = OpsHttpServer::Start(
        options_.host, options_.metrics_port, registry_, [this] { return ready_.load(); },
        [this] { return Live(); });
    if (!ops.ok()) {
      server_->Shutdown();
      return ops.status();
    }
    ops_ = std::move(*ops);
  }
  // Serving from here on once the gate (if any) has passed, unless a
  // readiness check fails; dependency probes never change it (see server.h).
  gate_passed_ = !gate_;
  SetServing(gate_passed_ && RunReadinessChecks());
  if (gate_) gate_thread_ = std::thread([this] { GateLoop(); });
  if (!probes_.empty() || !checks_.empty()) {
    RunProbes();
    probe_thread_ = std::thread([this] { ProbeLoop(); });
  }
  Logger("server")->info("gRPC listening on {}:{} ({}), ops http on {}:{}", options_.host,
                         grpc_port_,
                         !options_.tls.enabled()            ? "plaintext"
                         : options_.tls.require_client_cert ? "mTLS, client certificate required"
                                                            : "TLS",
                         options_.host, metrics_port());
  return absl::OkStatus();
}

void ServiceHost::SetServing(bool serving) {
  bool was = ready_.exchange(serving);
  ready_gauge_->Set(serving ? 1 : 0);
  auto* health = server_ ? server_->GetHealthCheckService() : nullptr;
  if (health != nullptr) {
    health->SetServingStatus(serving);  // "" (the whole server) and every service
    for (auto& [service, name] : services_) health->SetServingStatus(name, serving);
  }
  if (was != serving) {
    Logger("server")->log(serving ? spdlog::level::info : spdlog::level::warn, "health: {}",
                          serving ? "SERVING" : "NOT_SERVING");
  }
}

void ServiceHost::RunProbes() {
  for (auto& p : probes_) {
    absl::Status st = p.fn();
    p.up->Set(st.ok() ? 1 : 0);
    if (st.ok() != p.last_ok) {
      if (st.ok()) {
        Logger("server")->info("dependency {} is reachable again", p.name);
      } else {
        Logger("server")->warn(
            "dependency {} is failing: {} (calls that need it answer UNAVAILABLE)", p.name,
            st.message());
      }
    }
    p.last_ok = st.ok();
  }
}

bool ServiceHost::RunReadinessChecks() {
  bool all_ok = true;
  for (auto& c : checks_) {
    absl::Status st = c.fn();
    if (st.ok() != c.last_ok) {
      if (st.ok()) {
        Logger("server")->info("readiness check {} passes again", c.name);
      } else {
        Logger("server")->warn("readiness check {} fails: {} (NOT_SERVING until it passes)", c.name,
                               st.message());
      }
    }
    c.last_ok = st.ok();
    all_ok = all_ok && st.ok();
  }
  return all_ok;
}

void ServiceHost::ProbeLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  absl::Time next_probe = absl::Now() + options_.readiness_period;
  while (!shutdown_requested_) {
    absl::Duration wait = next_probe - absl::Now();
    if (!checks_.empty()) wait = std::min(wait, options_.readiness_check_period);
    cv_.wait_for(lock, absl::ToChronoNanoseconds(std::max(wait, absl::ZeroDuration())));
    if (shutdown_requested_) break;
    lock.unlock();
    if (absl::Now() >= next_probe) {
      RunProbes();
      next_probe = absl::Now() + options_.readiness_period;
    }
    const bool serving = RunReadinessChecks() && gate_passed_;
    lock.lock();
    // Under mu_: a shutdown that began meanwhile keeps NOT_SERVING.
    if (!shutdown_requested_ && serving != ready_.load()) SetServing(serving);
  }
}

void ServiceHost::GateLoop() {
  std::string last;
  while (true) {
    absl::Status st = gate_();
    std::unique_lock<std::mutex> lock(mu_);
    // Under mu_, so a shutdown that began meanwhile is never undone.
    if (shutdown_requested_) return;
    if (st.ok()) {
      gate_passed_ = true;
      // The readiness checks' loop (ProbeLoop) turns it SERVING when they pass.
      if (checks_.empty()) return SetServing(true);
      cv_.notify_all();
      return;
    }
    if (st.message() != last) {
      last = std::string(st.message());
      Logger("server")->warn("{}", last);
    }
    cv_.wait_for(lock, absl::ToChronoNanoseconds(gate_period_),
                 [this] { return shutdown_requested_; });
    if (shutdown_requested_) return;
  }
}

void ServiceHost::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return shutdown_requested_; });
  lock.unlock();
  Shutdown();
}

void ServiceHost::RequestShutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_requested_ = true;
  }
  cv_.notify_all();
}

void ServiceHost::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    shutdown_requested_ = true;
  }
  cv_.notify_all();
  if (server_) {
    // Readiness goes first, so balancers stop sending before calls are refused.
    ready_ = false;
    ready_gauge_->Set(0);
    if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
  }
  if (probe_thread_.joinable()) probe_thread_.join();
  if (gate_thread_.joinable()) gate_thread_.join();
  if (server_) {
    auto log = Logger("server");
    if (options_.drain_delay > absl::ZeroDuration()) {
      log->info("shutting down: NOT_SERVING, still taking calls for {}",
                absl::FormatDuration(options_.drain_delay));
      absl::SleepFor(options_.drain_delay);
    }
    log->info("shutting down: draining calls for up to {}",
              absl::FormatDuration(options_.shutdown_grace));
    server_->Shutdown(std::chrono::system_clock::now() +
                      absl::ToChronoNanoseconds(options_.shutdown_grace));
    server_->Wait();
    log->info("gRPC server stopped");
  }
  ops_.reset();
}

void ServiceHost::InstallSignalHandlers(ServiceHost* host) {
  if (!g_signal_installed.exchange(true)) sem_init(&g_signal_sem, 0, 0);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::thread([host] {
    while (sem_wait(&g_signal_sem) != 0) {
    }
    Logger("server")->info("signal received");
    host->RequestShutdown();
  }).detach();
}

}  // namespace genesis
