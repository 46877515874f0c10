// The shared flags both the services and the gateway read (see server_flags.h).
#include "common/runtime/server_flags.h"

DEFINE_string(host, "127.0.0.1", "Address to listen on (gRPC and metrics).");
DEFINE_int32(metrics_port, 0,
             "Port of /metrics, /healthz and /readyz; 0 picks a free one, -1 disables.");
DEFINE_string(log_format, "text", "Log line format: text or json.");
DEFINE_string(log_level, "info", "Log level: trace, debug, info, warn, err, critical, off.");
DEFINE_int32(max_call_deadline_ms, 30000,
             "Deadline applied to calls that set none (or a longer one).");
DEFINE_int32(max_message_bytes, 8 << 20, "Largest gRPC message accepted or sent.");
DEFINE_int32(shutdown_grace_ms, 10000, "On SIGTERM, how long in-flight calls may finish.");
DEFINE_string(gateway_secret, "",
              "Shared secret of genesis-gateway: caller identities it forwards "
              "(x-genesis-subject/-roles) are trusted only with it; empty trusts none.");
DEFINE_int32(pg_pool_size, 8, "Maximum PostgreSQL connections.");
DEFINE_bool(migrate, true, "Apply pending schema migrations at start.");
DEFINE_int32(db_wait_s, 60,
             "At start, how long to wait for PostgreSQL to accept connections before "
             "giving up (containers and pods start in any order).");
DEFINE_string(redis_url, "",
              "Redis URL: redis://[:password@]host:port[/db] (one server) or "
              "redis-sentinel://[:password@]host:port,host:port,.../master_name[/db] (the master "
              "found through Redis Sentinel); empty disables the cache.");
DEFINE_int32(redis_timeout_ms, 100, "Redis connect and command timeout.");
