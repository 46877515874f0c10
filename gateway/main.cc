// genesis-gateway: flags -> one validated GatewayConfig (gateway_config.h) ->
// descriptors, routes and backends, authentication, rate limits -> the HTTP
// server; SIGHUP reloads, SIGINT/SIGTERM stop it gracefully.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/base/metrics.h"
#include "common/http/http_server.h"
#include "common/runtime/config.h"
#include "common/runtime/logging.h"
#include "common/storage/migrations.h"
#include "common/storage/pg_pool.h"
#include "common/storage/redis.h"
#include "gateway/auth/api_keys.h"
#include "gateway/auth/auth.h"
#include "gateway/gateway.h"
#include "gateway/gateway_config.h"
#include "gateway/http/server.h"
#include "gateway/routing/routing.h"

namespace genesis::gateway {
namespace {

// What authenticates callers: JWTs, and API keys in PostgreSQL (schema
// `gateway`) when there is a DSN.
struct AuthParts {
  std::unique_ptr<PgPool> pg;
  std::unique_ptr<PgApiKeyStore> key_store;
  std::unique_ptr<JwtVerifier> jwt;
  std::unique_ptr<Authenticator> authenticator;
};

absl::StatusOr<AuthParts> StartAuth(const GatewayConfig& config, MetricsRegistry* registry) {
  AuthParts parts;
  if (config.auth && !config.pg_dsn.empty()) {
    if (config.migrate) {
      if (auto st = ApplyMigrationsWhenReachable(config.pg_dsn, "gateway", GatewayMigrations(),
                                                 config.db_wait);
          !st.ok()) {
        return absl::Status(st.code(),
                            absl::StrCat("--pg_dsn: migrating schema gateway: ", st.message()));
      }
    }
    PgPoolOptions pg_options;
    pg_options.dsn = config.pg_dsn;
    pg_options.size = config.pg_pool_size;
    pg_options.name = "gateway";
    parts.pg = std::make_unique<PgPool>(pg_options, registry);
    parts.key_store = std::make_unique<PgApiKeyStore>(parts.pg.get());
  }
  parts.jwt = std::make_unique<JwtVerifier>(config.jwt, config.jwks);
  parts.authenticator = std::make_unique<Authenticator>(parts.jwt.get(), parts.key_store.get());
  return parts;
}

// The Redis client of the rate limits (null without --redis_url).
absl::StatusOr<std::unique_ptr<RedisClient>> StartRedis(const GatewayConfig& config,
                                                        MetricsRegistry* registry) {
  if (config.redis_url.empty()) return nullptr;
  RedisOptions redis_options;
  redis_options.url = config.redis_url;
  redis_options.name = "gateway";
  redis_options.connect_timeout = config.redis_timeout;
  redis_options.command_timeout = config.redis_timeout;
  auto created = RedisClient::Create(redis_options, registry);
  if (!created.ok()) {
    return absl::Status(created.status().code(),
                        absl::StrCat("--redis_url: ", created.status().message()));
  }
  return std::move(*created);
}

void LogSecurity(const GatewayConfig& config, const AuthParts& auth, const RedisClient* redis) {
  auto log = Logger("gateway");
  if (config.auth) {
    log->info("auth on: HS256 {}, JWKS keys {}, API keys {}, RBAC roles from {}",
              config.jwt.hs256_secret.empty() ? "off" : "on", config.jwks_file.empty() ? 0 : 1,
              auth.key_store ? "on" : "off", config.rbac_config);
  } else {
    log->warn("--auth=off: EVERY ROUTE IS OPEN TO ANYONE; use only for local experiments");
  }
  if (config.auth && (config.jwt.issuer.empty() || config.jwt.audience.empty())) {
    log->warn(
        "--jwt_issuer / --jwt_audience not both set: a JWT signed with an accepted key is "
        "taken whatever issuer minted it and whatever API it was meant for; set both in "
        "production");
  }
  if (config.gateway.security.gateway_secret.empty() && !config.tls.enabled()) {
    log->warn(
        "--gateway_secret is empty and TLS to the services is off: backends will not see "
        "caller identities");
  }
  if (config.rate_limits && redis == nullptr)
    log->warn("no --redis_url: rate limits are per process");
}

// Serves until SIGINT or SIGTERM (returned). SIGHUP rebuilds descriptors,
// routes and backends, re-reads the RBAC rules, the JWKS file and the HTTPS
// certificate and key; the JWKS file is also re-read when its modification
// time changes (checked every 2 s).
int ServeUntilStopped(const GatewayConfig& config, const sigset_t& signals,
                      RoutingBuilder* routing_builder, Gateway* gateway, JwtVerifier* jwt,
                      HttpServer* server) {
  auto log = Logger("gateway");
  auto jwks_mtime = [&config] {
    std::error_code ec;
    if (config.jwks_file.empty()) return std::filesystem::file_time_type();
    auto t = std::filesystem::last_write_time(config.jwks_file, ec);
    return ec ? std::filesystem::file_time_type() : t;
  };
  auto last_jwks_mtime = jwks_mtime();
  auto reload_jwks = [&] {
    if (config.jwks_file.empty()) return;
    last_jwks_mtime = jwks_mtime();
    auto loaded = Jwks::Load(config.jwks_file);
    if (!loaded.ok()) {
      log->error("--jwks_file: keeping the previous keys: {}", loaded.status().message());
      return;
    }
    log->info("--jwks_file: {} key(s) loaded", loaded->size());
    jwt->SetJwks(std::move(*loaded));
  };
  for (;;) {
    const timespec poll = {2, 0};
    const int signal = sigtimedwait(&signals, nullptr, &poll);
    if (signal == SIGHUP) {
      log->info("SIGHUP: reloading descriptors ({}), RBAC, JWKS and the HTTPS certificate",
                config.descriptors);
      auto rebuilt = routing_builder->Build();
      if (rebuilt.ok()) {
        for (const auto& w : rebuilt->warnings) log->warn("{}", w);
        log->info("serving {} routes for {} backend service(s)", rebuilt->routes.routes().size(),
                  rebuilt->backends.size());
        gateway->Swap(std::move(rebuilt->transcoder), std::move(rebuilt->routes),
                      std::move(rebuilt->backends));
      } else {
        log->error("reload: keeping the previous routes: {}", rebuilt.status().message());
      }
      if (config.auth) {
        auto loaded = Rbac::Load(config.rbac_config);
        if (loaded.ok()) {
          gateway->SetRbac(std::make_shared<const Rbac>(std::move(*loaded)));
        } else {
          log->error("--rbac_config: keeping the previous rules: {}", loaded.status().message());
        }
      }
      reload_jwks();
      if (server->https_port() != -1) {
        auto reloaded = server->ReloadCertificate();
        if (reloaded.ok()) {
          log->info("--https_cert: serving {}", *reloaded);
        } else {
          log->error("keeping the previous HTTPS certificate: {}", reloaded.status().message());
        }
      }
      continue;
    }
    if (signal < 0) {  // the poll interval passed
      if (!config.jwks_file.empty() && jwks_mtime() != last_jwks_mtime) reload_jwks();
      continue;
    }
    return signal;
  }
}

int Run(const GatewayConfig& config) {
  auto log = Logger("gateway");
  RoutingBuilder routing_builder(config.routing);
  auto built = routing_builder.Build();
  if (!built.ok()) {
    std::fprintf(
        stderr, "configuration error:\n  --%s: %s\n",
        config.routing.source == DescriptorSource::kFile ? "descriptor_set" : "descriptors",
        std::string(built.status().message()).c_str());
    return 2;
  }
  for (const auto& w : built->warnings) log->warn("{}", w);
  for (const auto& n : built->notes) log->info("{}", n);
  if (config.print_openapi) {  // the document the gateway would serve, byte for byte
    std::string doc = BuildOpenApi(
        built->routes, OpenApiOptionsFor(config.gateway, config.auth, config.rate_limits));
    std::fwrite(doc.data(), 1, doc.size(), stdout);
    std::fflush(stdout);
    return 0;
  }

  // Block the stop signals before any thread starts; they are waited for below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);  // reload: descriptors, RBAC, JWKS, HTTPS certificate
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  MetricsRegistry registry;
  GatewayOptions options = config.gateway;
  if (options.docs) {
    auto page = LoadDocsPage(config.docs_dir);
    if (page.ok()) {
      options.docs_page = std::make_shared<const DocsPage>(std::move(*page));
    } else {
      log->warn(
          "--docs_dir: {}; /docs answers 503 (scripts/install-deps.sh installs "
          "swagger-ui-dist, the build copies it)",
          page.status().message());
    }
  }
  auto auth = StartAuth(config, &registry);
  if (!auth.ok()) {
    log->critical("{}", auth.status().message());
    return 1;
  }
  auto redis = StartRedis(config, &registry);
  if (!redis.ok()) {
    log->critical("{}", redis.status().message());
    return 1;
  }
  LogSecurity(config, *auth, redis->get());
  RateLimiter limiter(redis->get(), &registry, absl::Now, config.redis_timeout);
  if (config.auth) {
    options.security.authenticator = auth->authenticator.get();
    options.security.rbac = &*config.rbac;
  }
  if (config.rate_limits) options.security.rate_limiter = &limiter;
  const size_t route_count = built->routes.routes().size();
  const size_t backend_count = built->backends.size();
  Gateway gateway(options, std::move(built->transcoder), std::move(built->routes),
                  std::move(built->backends), &registry, GatewayMetrics::Register(&registry));

  auto server = HttpServer::Start(config.http, [&gateway](HttpRequest req, auto done) {
    gateway.Handle(std::move(req), std::move(done));
  });
  if (!server.ok()) {  // the message names the flag
    log->critical("{}", server.status().message());
    return 1;
  }
  std::unique_ptr<OpsHttpServer> ops;
  if (config.metrics_port != -1) {
    auto started = OpsHttpServer::Start(config.http.host, config.metrics_port, &registry,
                                        [&gateway] { return gateway.ready(); });
    if (!started.ok()) {
      log->critical("--metrics_port: {}", started.status().message());
      return 1;
    }
    ops = std::move(*started);
  }
  log->info("serving {} routes for {} backend service(s)", route_count, backend_count);
  if ((*server)->https_port() != -1) {
    const std::string& https_host =
        config.http.https.host.empty() ? config.http.host : config.http.https.host;
    log->info("HTTPS on {}:{}: {}", https_host, (*server)->https_port(), (*server)->certificate());
    std::printf("genesis-gateway https=%s:%d\n", https_host.c_str(), (*server)->https_port());
  }
  std::printf("genesis-gateway http=%s:%d metrics=%s:%d\n", config.http.host.c_str(),
              (*server)->port(), config.http.host.c_str(), ops ? ops->port() : -1);
  std::fflush(stdout);

  const int signal = ServeUntilStopped(config, signals, &routing_builder, &gateway, auth->jwt.get(),
                                       server->get());
  // Drain: readiness fails first, then no new connections, idle keep-alive
  // connections closed, requests and streams in flight finished (their
  // responses close the connection); the process exits as soon as the last
  // one is written, or when the grace period ends.
  const absl::Time drain_start = absl::Now();
  log->info("signal {}: draining {} request(s) in flight for up to {} ms", signal,
            (*server)->busy(), absl::ToInt64Milliseconds(config.shutdown_grace));
  gateway.StartDraining();
  (*server)->Stop(config.shutdown_grace);
  const int cut = (*server)->busy();
  ops.reset();
  log->info("stopped after {} ms{}", absl::ToInt64Milliseconds(absl::Now() - drain_start),
            cut > 0 ? absl::StrCat(" (grace period over: ", cut, " request(s) cut)") : "");
  std::fflush(nullptr);
  return 0;
}

}  // namespace
}  // namespace genesis::gateway

int main(int argc, char** argv) {
  using namespace genesis;
  ParseFlagsWithEnv(
      &argc, &argv,
      "genesis-gateway: REST/JSON to gRPC for every RPC with a google.api.http "
      "rule.\nEvery flag can also be set as GENESIS_<FLAG>, e.g. GENESIS_HTTP_PORT.\n"
      "--pg_dsn holds API keys (schema gateway); --redis_url the rate-limit buckets.");
  auto config = gateway::GatewayConfigFromFlags();
  if (!config.ok()) {  // one problem a line, each naming its flag
    std::fprintf(stderr, "configuration error:\n  %s\n",
                 absl::StrReplaceAll(config.status().message(), {{"; --", "\n  --"}}).c_str());
    return 2;
  }
  InitLogging(config->log_format, config->log_level);
  return gateway::Run(*config);
}
