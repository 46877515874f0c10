// The gateway's configuration: every flag of genesis-gateway read and
// checked once (GatewayConfigFromFlags), then handed to the wiring in main.cc
// as one immutable value. The gateway's own flags are defined in
// gateway_config.cc, beside their one reader; the shared ones in common/.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/tls.h"
#include "common/runtime/logging.h"
#include "gateway/auth/jwt.h"
#include "gateway/auth/rbac.h"
#include "gateway/gateway.h"
#include "gateway/http/server.h"
#include "gateway/routing/routing.h"

namespace genesis::gateway {

struct GatewayConfig {
  LogFormat log_format = LogFormat::kText;  // --log_format
  std::string log_level;                    // --log_level
  TlsConfig tls;                            // --tls_* (calls to the services)
  HttpServerOptions http;                   // --host, --http_port, --io_threads, limits, timeouts
  int metrics_port = -1;                    // -1: no separate ops endpoint
  absl::Duration shutdown_grace;            // --shutdown_grace_ms
  // Descriptors, backends and transcoding (credentials from `tls`).
  RoutingOptions routing;
  std::string descriptors;  // the --descriptors text, for log lines
  // Timeouts, forwarded headers, the OpenAI front door, public services,
  // rate-limit policies, CORS and the gateway secret. The authenticator, RBAC
  // rules and rate limiter are objects the wiring creates and points to.
  GatewayOptions gateway;

  bool print_openapi = false;  // --print_openapi: print the document, serve nothing
  std::string docs_dir;        // --docs_dir: the /docs page's files (empty: no page)
  bool auth = true;            // --auth=on
  JwtOptions jwt;
  std::string jwks_file;     // re-read on SIGHUP and when its mtime changes
  Jwks jwks;                 // loaded from jwks_file
  std::string rbac_config;   // re-read on SIGHUP
  std::optional<Rbac> rbac;  // loaded from rbac_config when auth is on
  // API keys in PostgreSQL (schema gateway), when auth is on and a DSN is set.
  std::string pg_dsn;
  int pg_pool_size = 0;
  bool migrate = true;
  absl::Duration db_wait = absl::Seconds(60);  // --db_wait_s
  // Rate limits: Redis token buckets when a URL is set, else per process.
  bool rate_limits = true;
  std::string redis_url;
  absl::Duration redis_timeout;
};

// Reads and validates every flag the gateway uses (after ParseFlagsWithEnv):
// FAILED_PRECONDITION naming each bad flag ("--http_port (or
// GENESIS_HTTP_PORT): ..."), joined with "; ", or the configuration.
absl::StatusOr<GatewayConfig> GatewayConfigFromFlags();

}  // namespace genesis::gateway
