#include "common/runtime/service_config.h"

#include <gflags/gflags.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/rpc/tls.h"
#include "common/runtime/server_flags.h"
#include "common/storage/redis_url.h"

// The shared flags only the services read (ServiceConfigFromFlags); those the
// gateway reads too are in server_flags.cc and database_flags.cc.
DEFINE_int32(grpc_port, 0, "gRPC port; 0 picks a free one (printed at start).");
DEFINE_int32(pg_statement_timeout_ms, 5000, "Upper bound for one SQL transaction's statements.");
DEFINE_int32(pg_acquire_timeout_ms, 2000, "How long a call waits for a free connection.");
DEFINE_int32(pg_unready_after_failures, 3,
             "Readiness (gRPC health NOT_SERVING, /readyz 503) turns false after this many "
             "PostgreSQL connection attempts in a row found no writable primary (refused, timed "
             "out, only standbys, a write refused as read-only) and true again at the first that "
             "finds one; 0: readiness ignores PostgreSQL.");
DEFINE_int32(redis_pool_size, 8, "Maximum Redis connections.");
DEFINE_int32(redis_breaker_failures, 3,
             "Redis failures in a row (refused, timed out) after which calls stop trying "
             "Redis for --redis_breaker_open_ms and degrade as if it were down.");
DEFINE_int32(redis_breaker_open_ms, 1000,
             "How long calls skip Redis after the breaker opens; one probe then decides "
             "(doubling while it fails, up to 8x).");
DEFINE_int32(worker_threads, 16, "Threads that run RPC work (database and cache calls).");
DEFINE_int32(max_queued_calls, 1024, "Calls waiting for a worker before RESOURCE_EXHAUSTED.");
DEFINE_int32(shutdown_drain_delay_ms, 1000,
             "On SIGTERM, how long the service reports NOT_SERVING while still taking calls "
             "before it stops accepting: the mesh's own clients, which watch health, stop "
             "picking it within a round trip; other load balancers need longer (e.g. 5000 on "
             "Kubernetes). 0 stops accepting at once.");
DEFINE_int32(liveness_stall_ms, 60000,
             "/healthz answers 503 (restart me) when the worker pool has had calls queued but "
             "taken none for this long; must exceed --max_call_deadline_ms.");
DEFINE_int32(keepalive_time_ms, 60000, "Interval of server keepalive pings.");
DEFINE_int32(keepalive_timeout_ms, 20000, "How long to wait for a keepalive ack.");
DEFINE_bool(migrate_only, false, "Apply pending schema migrations, then exit.");

namespace genesis {

ServiceConfig ServiceConfigFromFlags(const std::string& service, ConfigErrors* errors) {
  ServiceConfig c;
  c.service = service;
  c.server.host = FLAGS_host;
  c.server.grpc_port = FLAGS_grpc_port;
  c.server.metrics_port = FLAGS_metrics_port;
  c.server.max_message_bytes = FLAGS_max_message_bytes;
  c.server.shutdown_grace = absl::Milliseconds(FLAGS_shutdown_grace_ms);
  c.server.drain_delay = absl::Milliseconds(FLAGS_shutdown_drain_delay_ms);
  c.liveness_stall = absl::Milliseconds(FLAGS_liveness_stall_ms);
  c.server.keepalive_time = absl::Milliseconds(FLAGS_keepalive_time_ms);
  c.server.keepalive_timeout = absl::Milliseconds(FLAGS_keepalive_timeout_ms);
  c.pg.dsn = FLAGS_pg_dsn;
  c.pg.size = FLAGS_pg_pool_size;
  c.pg.statement_timeout = absl::Milliseconds(FLAGS_pg_statement_timeout_ms);
  c.pg.acquire_timeout = absl::Milliseconds(FLAGS_pg_acquire_timeout_ms);
  c.pg.unready_after_failures = FLAGS_pg_unready_after_failures;
  c.pg.name = service;
  c.redis.url = FLAGS_redis_url;
  c.redis.pool_size = FLAGS_redis_pool_size;
  c.redis.connect_timeout = absl::Milliseconds(FLAGS_redis_timeout_ms);
  c.redis.command_timeout = absl::Milliseconds(FLAGS_redis_timeout_ms);
  c.redis.breaker_failures = FLAGS_redis_breaker_failures;
  c.redis.breaker_open = absl::Milliseconds(FLAGS_redis_breaker_open_ms);
  c.redis.breaker_max_open = 8 * c.redis.breaker_open;
  c.redis.name = service;
  c.log_format = FLAGS_log_format == "json" ? LogFormat::kJson : LogFormat::kText;
  c.log_level = FLAGS_log_level;
  c.worker_threads = FLAGS_worker_threads;
  c.max_queued_calls = FLAGS_max_queued_calls;
  c.max_call_deadline = absl::Milliseconds(FLAGS_max_call_deadline_ms);
  c.migrate = FLAGS_migrate || FLAGS_migrate_only;
  c.migrate_only = FLAGS_migrate_only;
  c.db_wait = absl::Seconds(std::max(0, FLAGS_db_wait_s));
  c.server.tls = TlsConfigFromFlags(errors);
  // mTLS: forwarded identities from --tls_trusted_peers, no secret.
  c.identity = IdentityTrust::For(FLAGS_gateway_secret, c.server.tls);
  if (c.server.tls.enabled() && c.server.tls.require_client_cert && !FLAGS_gateway_secret.empty()) {
    errors->Add("gateway_secret",
                "is not used with mutual TLS (the gateway is known by its certificate, "
                "--tls_trusted_peers); leave it empty");
  }
  if (auto audit = AuditLog::FromFlags(); audit.ok()) {
    c.audit = *std::move(audit);
  } else {
    errors->Add("audit_log_file", std::string(audit.status().message()));
  }

  errors->RequireNonEmpty("host", FLAGS_host);
  errors->RequirePort("grpc_port", FLAGS_grpc_port);
  if (FLAGS_metrics_port != -1) errors->RequirePort("metrics_port", FLAGS_metrics_port);
  errors->RequireNonEmpty("pg_dsn", FLAGS_pg_dsn);
  if (auto dsn = ParsePgDsn(FLAGS_pg_dsn); !FLAGS_pg_dsn.empty() && !dsn.ok()) {
    errors->Add("pg_dsn", std::string(dsn.status().message()));
  }
  errors->RequireRange("pg_unready_after_failures", FLAGS_pg_unready_after_failures, 0, 1000);
  errors->RequireRange("pg_pool_size", FLAGS_pg_pool_size, 1, 1000);
  errors->RequireRange("pg_statement_timeout_ms", FLAGS_pg_statement_timeout_ms, 1, 3600000);
  errors->RequireRange("pg_acquire_timeout_ms", FLAGS_pg_acquire_timeout_ms, 1, 600000);
  if (!FLAGS_redis_url.empty()) {
    if (auto url = ParseRedisUrl(FLAGS_redis_url); !url.ok()) {
      errors->Add("redis_url", std::string(url.status().message()));
    }
  }
  errors->RequireRange("redis_pool_size", FLAGS_redis_pool_size, 1, 1000);
  errors->RequireRange("redis_timeout_ms", FLAGS_redis_timeout_ms, 1, 60000);
  errors->RequireRange("redis_breaker_failures", FLAGS_redis_breaker_failures, 1, 1000);
  errors->RequireRange("redis_breaker_open_ms", FLAGS_redis_breaker_open_ms, 10, 600000);
  errors->RequireOneOf("log_format", FLAGS_log_format, {"text", "json"});
  errors->RequireOneOf("log_level", FLAGS_log_level,
                       {"trace", "debug", "info", "warn", "err", "critical", "off"});
  errors->RequireRange("worker_threads", FLAGS_worker_threads, 1, 1024);
  errors->RequireRange("max_queued_calls", FLAGS_max_queued_calls, 1, 1000000);
  errors->RequireRange("max_call_deadline_ms", FLAGS_max_call_deadline_ms, 1, 3600000);
  errors->RequireRange("max_message_bytes", FLAGS_max_message_bytes, 1024, 1 << 30);
  errors->RequireRange("shutdown_grace_ms", FLAGS_shutdown_grace_ms, 0, 600000);
  errors->RequireRange("shutdown_drain_delay_ms", FLAGS_shutdown_drain_delay_ms, 0, 600000);
  errors->RequireRange("liveness_stall_ms", FLAGS_liveness_stall_ms, 1000, 86400000);
  if (FLAGS_liveness_stall_ms <= FLAGS_max_call_deadline_ms) {
    errors->Add("liveness_stall_ms", "must exceed --max_call_deadline_ms (" +
                                         std::to_string(FLAGS_max_call_deadline_ms) +
                                         "): a call may keep a worker that long");
  }
  errors->RequireRange("keepalive_time_ms", FLAGS_keepalive_time_ms, 1000, 86400000);
  errors->RequireRange("keepalive_timeout_ms", FLAGS_keepalive_timeout_ms, 100, 3600000);
  return c;
}

std::optional<int> MigrateForMain(const ServiceConfig& config, const std::string& schema,
                                  std::vector<Migration> migrations) {
  if (!config.migrate) return std::nullopt;
  auto log = Logger(config.service);
  int applied = 0;
  if (auto st = ApplyMigrationsWhenReachable(config.pg.dsn, schema, std::move(migrations),
                                             config.db_wait, &applied);
      !st.ok()) {
    log->critical("migrations failed: {}", st.message());
    return 1;
  }
  log->info("schema {} up to date ({} migration(s) applied now)", schema, applied);
  if (config.migrate_only) return 0;
  return std::nullopt;
}

std::function<absl::Status()> SchemaGateForMain(PgPool* pool, const std::string& schema,
                                                int needed) {
  auto warned_newer = std::make_shared<std::atomic<bool>>(false);
  return [pool, schema, needed, warned_newer]() -> absl::Status {
    int version = 0;
    absl::Status st =
        CheckSchemaCurrent(*pool, schema, needed, absl::Now() + absl::Seconds(2), &version);
    if (st.ok()) {
      if (version > needed && !warned_newer->exchange(true)) {
        Logger(schema)->warn(
            "schema {} is at version {}, newer than this build's {}: serving (this replica is "
            "older than the last migration)",
            schema, version, needed);
      }
      return st;
    }
    if (st.code() == absl::StatusCode::kFailedPrecondition) return st;
    return absl::Status(
        st.code(), absl::StrCat("the version of schema ", schema, " cannot be read (", st.message(),
                                "): not ready until it can be checked"));
  };
}

int ServeForMain(ServiceHost* host, const ServiceConfig& config, std::string_view program,
                 std::string_view extra) {
  ServiceHost::InstallSignalHandlers(host);
  if (auto st = host->Start(); !st.ok()) {
    Logger(config.service)->critical("{}", st.message());
    return 1;
  }
  std::printf("%.*s grpc=%s:%d metrics=%s:%d%s%.*s\n", static_cast<int>(program.size()),
              program.data(), config.server.host.c_str(), host->grpc_port(),
              config.server.host.c_str(), host->metrics_port(), extra.empty() ? "" : " ",
              static_cast<int>(extra.size()), extra.data());
  std::fflush(stdout);
  host->Run();
  return 0;
}

}  // namespace genesis
