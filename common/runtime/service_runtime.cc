#include "common/runtime/service_runtime.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "common/rpc/call_context.h"

namespace genesis {
namespace {

std::string ProgramName(const std::string& service) {
  std::string program = "genesis-" + service;
  std::replace(program.begin(), program.end(), '_', '-');
  return program;
}

}  // namespace

ServiceRuntime::ServiceRuntime(ServiceSpec spec, int* argc, char*** argv)
    : spec_(std::move(spec)), program_(ProgramName(spec_.name)) {
  const std::string usage =
      spec_.description + "\nEvery flag can also be set as GENESIS_<FLAG>, e.g. GENESIS_PG_DSN.";
  ParseFlagsWithEnv(argc, argv, usage.c_str());
  config_ = ServiceConfigFromFlags(spec_.name, &errors_);
}

ServiceRuntime::~ServiceRuntime() {
  for (auto& loop : loops_) loop.Stop();
  if (workers_) workers_->Shutdown();
}

std::optional<int> ServiceRuntime::Init() {
  errors_.ExitIfAny();
  InitLogging(config_.log_format, config_.log_level);
  log_ = Logger(spec_.name);
  std::vector<Migration> migrations =
      spec_.migrations ? spec_.migrations() : std::vector<Migration>{};
  const int needed = LatestMigrationVersion(migrations);
  if (auto code = MigrateForMain(config_, spec_.name, std::move(migrations)); code.has_value()) {
    return code;
  }
  pool_ = std::make_unique<PgPool>(config_.pg, &registry_);
  if (needed > 0) {
    auto gate = SchemaGateForMain(pool_.get(), spec_.name, needed);
    if (config_.migrate) {
      (void)gate();  // current by now; only a newer schema is worth a line
    } else {
      schema_gate_ = std::move(gate);
    }
  }
  if (!config_.redis.url.empty()) {
    if (spec_.uses_redis) {
      auto client = RedisClient::Create(config_.redis, &registry_);
      if (!client.ok()) {
        log_->critical("--redis_url: {}", client.status().message());
        return 2;
      }
      redis_ = std::move(*client);
    } else {
      log_->info("--redis_url is set but the {} service uses no cache", spec_.name);
    }
  }
  workers_ =
      std::make_unique<WorkerPool>(spec_.name, config_.worker_threads, config_.max_queued_calls);
  return std::nullopt;
}

RpcDispatcher& ServiceRuntime::Dispatcher(const std::string& service) {
  return dispatchers_.emplace_back(service, workers_.get(), &registry_, config_.max_call_deadline,
                                   config_.identity, config_.audit);
}

ServerStreamDispatcher& ServiceRuntime::StreamDispatcher(const std::string& service) {
  return stream_dispatchers_.emplace_back(service, workers_.get(), &registry_,
                                          config_.max_call_deadline, config_.identity);
}

BidiDispatcher& ServiceRuntime::BidiStreamDispatcher(const std::string& service) {
  return bidi_dispatchers_.emplace_back(service, workers_.get(), &registry_,
                                        config_.max_call_deadline, config_.identity);
}

void ServiceRuntime::AddService(grpc::Service* service, std::string full_name) {
  services_.emplace_back(service, std::move(full_name));
}

void ServiceRuntime::AddDependencyProbe(std::string name, std::function<absl::Status()> probe) {
  probes_.emplace_back(std::move(name), std::move(probe));
}

WorkerLoop& ServiceRuntime::AddLoop(std::string name, int threads, absl::Duration idle,
                                    std::function<absl::StatusOr<int>()> step) {
  return loops_.emplace_back(std::move(name), threads, idle, std::move(step));
}

void ServiceRuntime::OnStop(std::function<void()> step) { on_stop_.push_back(std::move(step)); }

int ServiceRuntime::Serve(std::string_view extra) {
  int code;
  {
    // The host goes before main()'s services and logic, which are destroyed
    // before the runtime.
    ServiceHost host(config_.server, &registry_);
    for (auto& [service, name] : services_) host.AddService(service, name);
    // Readiness follows one thing outside the process: whether the pool has a
    // writable PostgreSQL primary (its connection outcomes, no query of its
    // own; --pg_unready_after_failures), unless the service answers without
    // one. Redis, and PostgreSQL's health otherwise, are probed for
    // genesis_dependency_up only (server.h). The probe's connection attempts
    // also keep the pool's view fresh when no call comes.
    if (spec_.ready_needs_primary) {
      host.AddReadinessCheck("postgres-primary", [this] { return pool_->PrimaryStatus(); });
    }
    host.AddDependencyProbe("postgres",
                            [this] { return pool_->Ping(absl::Now() + absl::Seconds(2)); });
    if (redis_) {
      host.AddDependencyProbe(
          "redis", [this] { return redis_->Ping(absl::Now() + absl::Milliseconds(500)); });
    }
    for (auto& [name, probe] : probes_) host.AddDependencyProbe(name, probe);
    host.WatchWorkers(workers_.get(), config_.liveness_stall);
    if (schema_gate_) host.SetReadinessGate(schema_gate_, config_.schema_check_period);
    for (auto& loop : loops_) loop.Start();
    code = ServeForMain(&host, config_, program_, extra);
    for (auto& loop : loops_) loop.Stop();
    workers_->Shutdown();
  }
  for (auto& step : on_stop_) step();
  log_->info("stopped");
  return code;
}

}  // namespace genesis
