// The flags every Genesis service shares (listening ports, PostgreSQL, Redis,
// logging, worker pool, limits), turned into one validated, immutable struct.
// Each flag can also be set by the environment: --pg_dsn or GENESIS_PG_DSN.
// Service-specific flags live in that service's main.cc.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/rpc/call_path.h"
#include "common/runtime/config.h"
#include "common/runtime/logging.h"
#include "common/runtime/server.h"
#include "common/storage/migrations.h"
#include "common/storage/pg_pool.h"
#include "common/storage/redis.h"

namespace genesis {

struct ServiceConfig {
  std::string service;  // e.g. "catalog"
  ServerOptions server;
  PgPoolOptions pg;
  RedisOptions redis;
  LogFormat log_format = LogFormat::kText;
  std::string log_level = "info";
  int worker_threads = 16;
  int max_queued_calls = 1024;
  absl::Duration max_call_deadline = absl::Seconds(30);
  // Liveness: the worker pool may stall this long (ServiceHost::WatchWorkers).
  absl::Duration liveness_stall = absl::Seconds(60);
  bool migrate = true;        // apply migrations at start
  bool migrate_only = false;  // apply migrations and exit
  // How long start-up waits for PostgreSQL to accept connections (--db_wait_s).
  absl::Duration db_wait = absl::Seconds(60);
  // Without --migrate: how often a schema older than the code is checked
  // again while the service stays unready (SchemaGateForMain).
  absl::Duration schema_check_period = absl::Seconds(5);
  // Whose forwarded caller identity every dispatcher reads (call_path.h):
  // --gateway_secret and, with mTLS, --tls_trusted_peers.
  IdentityTrust identity;
  // Where administrative calls are recorded (--audit_log_file; audit_log.h).
  std::shared_ptr<AuditLog> audit;
};

// Reads the shared flags (after ParseFlagsWithEnv) into a ServiceConfig,
// adding a problem to `errors` for every bad value. The --tls_* flags (tls.h)
// land in `server.tls`: the gRPC port's, and what clients of other services
// connect with (MeshChannelCredentials(config.server.tls)).
ServiceConfig ServiceConfigFromFlags(const std::string& service, ConfigErrors* errors);

// main()'s schema step: with --migrate (the default) applies `migrations` to
// the service's schema, logging what it did. Returns the exit code main()
// should stop with (1 when a migration failed, 0 after --migrate_only), or
// nullopt to go on starting.
std::optional<int> MigrateForMain(const ServiceConfig& config, const std::string& schema,
                                  std::vector<Migration> migrations);

// The readiness gate (ServiceHost::SetReadinessGate) of a service that did
// not migrate at start: OK once `schema` is at version `needed` or newer
// (CheckSchemaCurrent over `pool`, 2 s per check). Its failures are the
// messages the host logs: "schema catalog is at version 3, this build needs
// 5: not ready until migrations are applied (run with --migrate or
// --migrate_only)", or that the version cannot be read. A schema newer than
// the code passes with one warning line (a replica older than the last
// migration serves on). `pool` must outlive the gate.
std::function<absl::Status()> SchemaGateForMain(PgPool* pool, const std::string& schema,
                                                int needed);

// main()'s serving step: SIGINT/SIGTERM handlers, Start(), the line
// "<program> grpc=HOST:PORT metrics=HOST:PORT[ <extra>]" on stdout (what
// scripts and tests wait for), then Run() until a signal. Returns main()'s
// exit code.
int ServeForMain(ServiceHost* host, const ServiceConfig& config, std::string_view program,
                 std::string_view extra = {});

}  // namespace genesis
