// ServiceRuntime: the main() skeleton every Genesis service follows, written
// once. A service's main() only adds what is its own:
//
//   flags -> config       ServiceRuntime(spec, &argc, &argv): parses the flags
//                         (GENESIS_<FLAG> too) and reads the shared ones; the
//                         service adds its own checks to errors()
//   -> logging            Init(): every configuration problem reported together
//   -> migrations            (exit 2), logging, the schema migrations (exit 1 on
//   -> PostgreSQL, Redis     failure, 0 after --migrate_only), the PostgreSQL
//                            pool, the Redis client (--redis_url set and the
//                            spec uses Redis), the worker pool
//   (the service builds its logic on pool(), redis(), registry() and
//    registers its gRPC services on Dispatcher()/StreamDispatcher())
//   -> workers            AddLoop(): background loops (common/runtime/worker_loop.h)
//   -> serve              Serve(): the ServiceHost (health, reflection, the
//                         metrics port, readiness and liveness as in server.h,
//                         readiness following the pool's writable primary
//                         unless the spec says otherwise — without --migrate,
//                         readiness also waits for the schema: see "Schema
//                         readiness" below — a "postgres" dependency probe and
//                         a "redis" one when a client exists), the start-up
//                         line, until SIGTERM or SIGINT
//   -> drain              then: loops stopped, calls drained (worker pool shut
//                         down), the OnStop() steps in order, "stopped" logged
//
//   int main(int argc, char** argv) {
//     ServiceRuntime rt({.name = "catalog", .description = "...",
//                        .migrations = CatalogMigrations, .uses_redis = true},
//                       &argc, &argv);
//     rt.errors().RequireRange("max_item_bytes", FLAGS_max_item_bytes, 1024, 64 << 20);
//     if (auto code = rt.Init()) return *code;
//     Catalog logic(std::make_unique<PgCatalogStore>(&rt.pool()), ...);
//     CatalogGrpcService service(&logic, &rt.Dispatcher("genesis.catalog.v1.CatalogService"));
//     rt.AddService(&service, "genesis.catalog.v1.CatalogService");
//     return rt.Serve();
//   }
//
// Schema readiness. With --migrate (the default) Init() applies the
// migrations under an advisory lock (replicas starting together are
// serialised) and a schema newer than the code is logged as a warning.
// Without it (a release Job or another replica migrates), a replica whose
// schema is OLDER than its code (the highest version in
// <schema>.schema_migrations below the highest compiled in) serves nothing:
// gRPC health stays NOT_SERVING and /readyz 503, with the line "schema
// catalog is at version 3, this build needs 5: not ready until migrations are
// applied (run with --migrate or --migrate_only)", and the schema is checked
// again every config().schema_check_period (5 s) until it is current; then
// the replica becomes ready. A schema that cannot be read (database down at
// start) keeps it unready the same way. A NEWER schema (a rolled-back
// replica) serves, with a warning line (SchemaGateForMain, service_config.h).
//
// Objects the main() builds after the runtime are destroyed before it, so the
// pool, the Redis client and the registry outlive the logic that uses them.
// Not thread-safe: everything but Serve()'s own threads runs on main's thread.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/metrics.h"
#include "common/rpc/bidi_rpc.h"
#include "common/rpc/rpc.h"
#include "common/rpc/stream_rpc.h"
#include "common/runtime/config.h"
#include "common/runtime/logging.h"
#include "common/runtime/server.h"
#include "common/runtime/service_config.h"
#include "common/runtime/worker_loop.h"
#include "common/runtime/worker_pool.h"
#include "common/storage/migrations.h"
#include "common/storage/pg_pool.h"
#include "common/storage/redis.h"

namespace genesis {

struct ServiceSpec {
  // "catalog": the logger, the schema, the pool and worker-pool labels; the
  // program is genesis-<name> with '-' for '_' (the start-up line).
  std::string name;
  // The first line of --help, e.g. "genesis-catalog: typed items ... (genesis.catalog.v1).".
  std::string description;
  // The service's migrations (generated from its migrations/*.sql).
  std::vector<Migration> (*migrations)() = nullptr;
  // Whether the service has a use for Redis; if not, a --redis_url is only noted.
  bool uses_redis = false;
  // Whether readiness follows the pool's writable primary (NOT_SERVING while
  // it has none, --pg_unready_after_failures). False for a service that still
  // answers most calls without its database (the router, voice): pulling every
  // replica would refuse those too.
  bool ready_needs_primary = true;
};

class ServiceRuntime {
 public:
  // Parses the flags and reads the shared ones into config(); problems go to errors().
  ServiceRuntime(ServiceSpec spec, int* argc, char*** argv);
  ~ServiceRuntime();
  ServiceRuntime(const ServiceRuntime&) = delete;
  ServiceRuntime& operator=(const ServiceRuntime&) = delete;

  // Before Init(): the service's own flag checks.
  ConfigErrors& errors() { return errors_; }
  // Mutable until Serve() (e.g. voice raises server.max_send_message_bytes).
  ServiceConfig& config() { return config_; }
  const std::string& program() const { return program_; }

  // Configuration errors (all of them, exit 2), logging, migrations, the pool,
  // Redis and the worker pool. Returns the exit code main() should return
  // when the process must stop here, nullopt to go on.
  [[nodiscard]] std::optional<int> Init();

  // After Init().
  const std::shared_ptr<spdlog::logger>& log() const { return log_; }
  MetricsRegistry& registry() { return registry_; }
  PgPool& pool() { return *pool_; }
  // Null without --redis_url (or when the spec does not use Redis).
  RedisClient* redis() { return redis_.get(); }
  WorkerPool& workers() { return *workers_; }
  // A dispatcher (owned) for `service`'s unary / server-streaming /
  // bidirectional calls on the worker pool, with the call deadline cap and the
  // identity trust of config() (common/rpc/call_path.h).
  RpcDispatcher& Dispatcher(const std::string& service);
  ServerStreamDispatcher& StreamDispatcher(const std::string& service);
  BidiDispatcher& BidiStreamDispatcher(const std::string& service);

  // Before Serve(): a gRPC service (not owned) under its full proto name.
  void AddService(grpc::Service* service, std::string full_name);
  // Before Serve(): another dependency exported as genesis_dependency_up
  // (server.h); "postgres" and "redis" are the runtime's own.
  void AddDependencyProbe(std::string name, std::function<absl::Status()> probe);
  // Before Serve(): a background loop (owned), started just before the server
  // and stopped once it has drained. Returns it for Notify()/set_start_delay().
  WorkerLoop& AddLoop(std::string name, int threads, absl::Duration idle,
                      std::function<absl::StatusOr<int>()> step);
  // Before Serve(): a step run after serving ended, once the loops are stopped
  // and the calls drained; in registration order.
  void OnStop(std::function<void()> step);

  // Serves until SIGTERM/SIGINT, then drains (see above). `extra` is appended
  // to the start-up line ("genesis-<svc> grpc=... metrics=...[ extra]").
  // Returns main()'s exit code.
  [[nodiscard]] int Serve(std::string_view extra = {});

 private:
  const ServiceSpec spec_;
  const std::string program_;
  ConfigErrors errors_;
  ServiceConfig config_;
  std::shared_ptr<spdlog::logger> log_;
  MetricsRegistry registry_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<WorkerPool> workers_;
  std::deque<RpcDispatcher> dispatchers_;
  std::deque<ServerStreamDispatcher> stream_dispatchers_;
  std::deque<BidiDispatcher> bidi_dispatchers_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  std::vector<std::pair<std::string, std::function<absl::Status()>>> probes_;
  std::deque<WorkerLoop> loops_;
  std::vector<std::function<void()>> on_stop_;
  // Without --migrate: what readiness waits for (SchemaGateForMain); null otherwise.
  std::function<absl::Status()> schema_gate_;
};

}  // namespace genesis
