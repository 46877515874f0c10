// genesis-gateway: flags -> validated config -> descriptors, routes and
// backends -> the HTTP server; SIGINT/SIGTERM stop it gracefully.
#include <gflags/gflags.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "common/config.h"
#include "common/http_server.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/migrations.h"
#include "common/pg_pool.h"
#include "common/redis.h"
#include "common/server_flags.h"  // the shared flags the gateway reads
#include "common/tls.h"
#include "gateway/api_keys.h"
#include "gateway/auth.h"
#include "gateway/backend.h"
#include "gateway/gateway.h"
#include "gateway/routing.h"
#include "gateway/security_flags.h"
#include "gateway/server.h"

DEFINE_int32(http_port, 8080, "HTTP port of the REST API; 0 picks a free one (printed at start).");
DEFINE_string(backend, "",
              "Comma-separated <package.Service>=<host>:<port>[|<host>:<port>...] entries, e.g. "
              "genesis.catalog.v1.CatalogService=127.0.0.1:50051|127.0.0.1:50052 (several "
              "addresses: round-robin per call, GET retried once on the next address after "
              "UNAVAILABLE). A service not listed uses "
              "GENESIS_<NAME>_ADDR (genesis.<name>.v1.*), as scripts/run.sh exports.");
DEFINE_string(descriptor_set, GENESIS_DEFAULT_DESCRIPTOR_SET,
              "FileDescriptorSet (protoc --include_imports) with the services and their "
              "google.api.http rules (--descriptors=file or both).");
DEFINE_string(descriptors, "file",
              "Where the services and their HTTP rules come from: file (--descriptor_set), "
              "reflection (each backend's gRPC server reflection: --backend addresses and every "
              "GENESIS_<NAME>_ADDR), or both (reflected files replace same-named files of the "
              "set). Re-read on SIGHUP; requests in flight finish on the old routes.");
DEFINE_int32(reflection_timeout_ms, 5000, "Deadline of one backend's reflection at (re)load.");
DEFINE_int32(io_threads, 2, "Threads serving HTTP connections.");
DEFINE_int32(max_body_bytes, 8 << 20,
             "Largest request body; larger ones get 413. The default fits the voice "
             "service's largest audio (5 MiB) as base64 inside JSON.");
DEFINE_int32(max_header_bytes, 16 << 10,
             "Largest request head (request line and header fields); larger ones get 431. "
             "The connection's read buffer is this plus 4 KiB, which also bounds a chunk-size "
             "line and the trailer.");
DEFINE_int32(max_chunk_extension_bytes, 256,
             "Longest chunk extension (';name=value' after a chunk size) of a chunked request "
             "body; longer: 400.");
DEFINE_int32(max_chunks, 16384, "Most chunks in one chunked request body; more: 400.");
DEFINE_int64(max_buffered_bytes, 256 << 20,
             "Request bodies held at once by all connections together (Content-Length when the "
             "head arrives, each chunk's size when it is announced); beyond it 503 with "
             "Retry-After.");
DEFINE_int32(default_timeout_ms, 30000,
             "Deadline of a call without X-Request-Timeout or grpc-timeout (capped by "
             "--max_call_deadline_ms).");
DEFINE_int32(header_timeout_ms, 10000,
             "How long a request's head may take from its first byte (for a new connection: "
             "from the accept); slower clients are disconnected.");
DEFINE_int32(read_timeout_ms, 30000,
             "How long reading one request's body (and writing one response) may take.");
DEFINE_int32(idle_timeout_ms, 30000, "How long a keep-alive connection may wait for a request.");
DEFINE_int32(max_connections, 10000, "Open connections beyond this are refused.");
DEFINE_int32(max_backend_response_bytes, 80 << 20,
             "Largest answer accepted from a backend (voice: 5,000 characters of speech is over "
             "16 MB of audio; the voice service sends up to 64 MiB of it).");
DEFINE_int32(max_connections_per_client, 256,
             "Open connections from one client IP address beyond this are refused (closed at "
             "once), so one client cannot use up --max_connections.");
DEFINE_int32(max_parameter_bytes, 1024,
             "Longest value of one path variable or query parameter (decoded); longer: 400 "
             "naming the field.");
DEFINE_bool(ignore_unknown_query_params, false,
            "Ignore query parameters that name no request field instead of answering 400.");
DEFINE_string(auth, "on",
              "on: every route but /healthz, /readyz, /metrics, /openapi.json and those of "
              "--public_services needs a JWT or API key; off: no authentication at all (local "
              "experiments only).");
DEFINE_string(public_services, "genesis.bot.v1.BotWebhookService",
              "Comma-separated full names of the services whose routes need no credentials "
              "(webhooks that verify their own signatures); they are rate-limited per client "
              "IP address instead.");
DEFINE_string(jwks_file, "",
              "JWKS file with the RS256/ES256 public keys (by kid); re-read on SIGHUP and when "
              "its modification time changes (checked every 2 s).");
DEFINE_int32(jwt_skew_ms, 30000, "Clock skew allowed on exp and nbf.");
DEFINE_string(rbac_config, GENESIS_DEFAULT_RBAC_CONFIG,
              "JSON file mapping roles to per-service read/write permissions.");
DEFINE_string(rate_limit, "30/s", "Requests per credential on ordinary routes (N/s, N/m, N/h).");
DEFINE_string(token_rate_limit, "5/m", "Requests per credential on token-minting routes.");
DEFINE_string(token_route_prefixes, "/v1/auth/,/v1/tokens",
              "Comma-separated path prefixes limited by --token_rate_limit.");
DEFINE_bool(rate_limits, true, "Apply rate limits (Redis from --redis_url, else per process).");
DEFINE_string(forward_headers,
              "x-hub-signature-256,x-telegram-bot-api-secret-token,signature,signature-256,"
              "signaturecertchainurl,x-mattermost-token,user-agent",
              "Comma-separated inbound HTTP headers copied to backend calls as gRPC metadata "
              "(lower-case names); webhooks verify their signatures with them.");
DEFINE_bool(openai, true,
            "Serve the OpenAI-compatible front door (POST /v1/chat/completions, GET /v1/models) "
            "onto genesis.llmrouter.v1.LlmRouterService; it takes precedence over transcoded "
            "routes with the same path.");
DEFINE_string(cors_origins, "",
              "Comma-separated origins allowed by CORS (\"*\" = any); empty: CORS off.");

int main(int argc, char** argv) {
  using namespace genesis;
  using namespace genesis::gateway;
  ParseFlagsWithEnv(
      &argc, &argv,
      "genesis-gateway: REST/JSON to gRPC for every RPC with a google.api.http "
      "rule.\nEvery flag can also be set as GENESIS_<FLAG>, e.g. GENESIS_HTTP_PORT.\n"
      "--pg_dsn holds API keys (schema gateway); --redis_url the rate-limit buckets.");
  ConfigErrors errors;
  // --tls_* (tls.h) for the calls to the services.
  const TlsConfig tls = TlsConfigFromFlags(&errors);
  errors.RequireNonEmpty("host", FLAGS_host);
  errors.RequirePort("http_port", FLAGS_http_port);
  if (FLAGS_metrics_port != -1) errors.RequirePort("metrics_port", FLAGS_metrics_port);
  errors.RequireOneOf("log_format", FLAGS_log_format, {"text", "json"});
  errors.RequireOneOf("log_level", FLAGS_log_level,
                      {"trace", "debug", "info", "warn", "err", "critical", "off"});
  errors.RequireRange("io_threads", FLAGS_io_threads, 1, 256);
  errors.RequireRange("max_body_bytes", FLAGS_max_body_bytes, 1024, 1 << 30);
  errors.RequireRange("max_header_bytes", FLAGS_max_header_bytes, 1024, 1 << 20);
  errors.RequireRange("default_timeout_ms", FLAGS_default_timeout_ms, 1, 3600000);
  errors.RequireRange("max_call_deadline_ms", FLAGS_max_call_deadline_ms, 1, 3600000);
  errors.RequireRange("max_chunk_extension_bytes", FLAGS_max_chunk_extension_bytes, 0, 1 << 20);
  errors.RequireRange("max_parameter_bytes", FLAGS_max_parameter_bytes, 16, 1 << 20);
  errors.RequireRange("max_chunks", FLAGS_max_chunks, 1, 1 << 30);
  if (FLAGS_max_buffered_bytes < FLAGS_max_body_bytes) {
    errors.Add("max_buffered_bytes", "must be at least --max_body_bytes");
  }
  errors.RequireRange("header_timeout_ms", FLAGS_header_timeout_ms, 100, 3600000);
  errors.RequireRange("read_timeout_ms", FLAGS_read_timeout_ms, 100, 3600000);
  errors.RequireRange("idle_timeout_ms", FLAGS_idle_timeout_ms, 100, 3600000);
  errors.RequireRange("max_connections", FLAGS_max_connections, 1, 1000000);
  errors.RequireRange("max_connections_per_client", FLAGS_max_connections_per_client, 1, 1000000);
  errors.RequireRange("shutdown_grace_ms", FLAGS_shutdown_grace_ms, 0, 600000);
  auto backend_list = ParseBackendList(FLAGS_backend);
  if (!backend_list.ok()) errors.Add("backend", std::string(backend_list.status().message()));
  auto descriptor_source = ParseDescriptorSource(FLAGS_descriptors);
  if (!descriptor_source.ok()) {
    errors.Add("descriptors", std::string(descriptor_source.status().message()));
  }
  errors.RequireRange("reflection_timeout_ms", FLAGS_reflection_timeout_ms, 1, 600000);
  std::vector<std::string> forward_headers;
  for (absl::string_view h : absl::StrSplit(FLAGS_forward_headers, ',', absl::SkipWhitespace())) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(h));
    if (!IsForwardableHeader(name)) {
      errors.Add("forward_headers",
                 "'" + name +
                     "' may not be forwarded (credentials, x-genesis-* identity, x-request-id "
                     "and gRPC/HTTP reserved names are refused; names are [a-z0-9-_.])");
    }
    forward_headers.push_back(std::move(name));
  }
  std::set<std::string> public_services;
  for (absl::string_view s : absl::StrSplit(FLAGS_public_services, ',', absl::SkipWhitespace())) {
    std::string name(absl::StripAsciiWhitespace(s));
    if (!IsServiceName(name)) {
      errors.Add("public_services",
                 "'" + name + "' is not a service's full name (package.Service)");
    }
    public_services.insert(std::move(name));
  }
  errors.RequireOneOf("auth", FLAGS_auth, {"on", "off"});
  errors.RequireRange("jwt_skew_ms", FLAGS_jwt_skew_ms, 0, 3600000);
  auto general_limit = RateLimitPolicy::Parse(FLAGS_rate_limit);
  if (!general_limit.ok()) errors.Add("rate_limit", std::string(general_limit.status().message()));
  auto token_limit = RateLimitPolicy::Parse(FLAGS_token_rate_limit);
  if (!token_limit.ok())
    errors.Add("token_rate_limit", std::string(token_limit.status().message()));
  const bool auth_on = FLAGS_auth == "on";
  JwtOptions jwt_options;
  jwt_options.hs256_secret = Hs256SecretFromFlags(&errors);
  jwt_options.issuer = FLAGS_jwt_issuer;
  jwt_options.audience = FLAGS_jwt_audience;
  jwt_options.skew = absl::Milliseconds(FLAGS_jwt_skew_ms);
  Jwks jwks;
  if (!FLAGS_jwks_file.empty()) {
    auto loaded = Jwks::Load(FLAGS_jwks_file);
    if (loaded.ok()) {
      jwks = std::move(*loaded);
    } else {
      errors.Add("jwks_file", std::string(loaded.status().message()));
    }
  }
  std::optional<Rbac> rbac;
  if (auth_on) {
    auto loaded = Rbac::Load(FLAGS_rbac_config);
    if (loaded.ok()) {
      rbac = std::move(*loaded);
    } else {
      errors.Add("rbac_config", std::string(loaded.status().message()));
    }
    if (jwt_options.hs256_secret.empty() && FLAGS_jwks_file.empty() && FLAGS_pg_dsn.empty()) {
      errors.Add("auth",
                 "on, but no credential can be checked: set --jwt_hs256_secret(_file), "
                 "--jwks_file or --pg_dsn (API keys), or --auth=off");
    }
  }
  errors.ExitIfAny();
  InitLogging(FLAGS_log_format == "json" ? LogFormat::kJson : LogFormat::kText, FLAGS_log_level);
  auto log = Logger("gateway");

  RoutingOptions routing_options;
  routing_options.source = *descriptor_source;
  routing_options.descriptor_set = FLAGS_descriptor_set;
  routing_options.backends = *backend_list;
  routing_options.reflection_addresses = AddressesFromEnvironment();
  routing_options.getenv = [](const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return std::string(v == nullptr ? "" : v);
  };
  routing_options.reflection_timeout = absl::Milliseconds(FLAGS_reflection_timeout_ms);
  routing_options.max_message_bytes = FLAGS_max_message_bytes;
  routing_options.max_response_bytes = FLAGS_max_backend_response_bytes;
  routing_options.credentials = MeshChannelCredentials(tls);
  routing_options.transcoder.ignore_unknown_query_parameters = FLAGS_ignore_unknown_query_params;
  routing_options.transcoder.max_parameter_bytes = static_cast<size_t>(FLAGS_max_parameter_bytes);
  RoutingBuilder routing_builder(routing_options);
  auto built = routing_builder.Build();
  if (!built.ok()) {
    std::fprintf(stderr, "configuration error:\n  --%s: %s\n",
                 *descriptor_source == DescriptorSource::kFile ? "descriptor_set" : "descriptors",
                 std::string(built.status().message()).c_str());
    return 2;
  }
  for (const auto& w : built->warnings) log->warn("{}", w);
  for (const auto& n : built->notes) log->info("{}", n);

  // Block the stop signals before any thread starts; main waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // reload: descriptors, RBAC, JWKS
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  MetricsRegistry registry;
  GatewayOptions options;
  // Authentication: JWTs, and API keys in PostgreSQL (schema `gateway`).
  std::unique_ptr<PgPool> pg;
  std::unique_ptr<PgApiKeyStore> key_store;
  if (auth_on && !FLAGS_pg_dsn.empty()) {
    if (FLAGS_migrate) {
      if (auto st = ApplyMigrations(FLAGS_pg_dsn, "gateway", GatewayMigrations()); !st.ok()) {
        log->critical("--pg_dsn: migrating schema gateway: {}", st.message());
        return 1;
      }
    }
    PgPoolOptions pg_options;
    pg_options.dsn = FLAGS_pg_dsn;
    pg_options.size = FLAGS_pg_pool_size;
    pg_options.name = "gateway";
    pg = std::make_unique<PgPool>(pg_options, &registry);
    key_store = std::make_unique<PgApiKeyStore>(pg.get());
  }
  JwtVerifier jwt(jwt_options, std::move(jwks));
  Authenticator authenticator(&jwt, key_store.get());
  if (auth_on) {
    options.security.authenticator = &authenticator;
    options.security.rbac = &*rbac;
    log->info("auth on: HS256 {}, JWKS keys {}, API keys {}, RBAC roles from {}",
              jwt_options.hs256_secret.empty() ? "off" : "on", FLAGS_jwks_file.empty() ? 0 : 1,
              key_store ? "on" : "off", FLAGS_rbac_config);
  } else {
    log->warn("--auth=off: EVERY ROUTE IS OPEN TO ANYONE; use only for local experiments");
  }
  if (auth_on && (FLAGS_jwt_issuer.empty() || FLAGS_jwt_audience.empty())) {
    log->warn(
        "--jwt_issuer / --jwt_audience not both set: a JWT signed with an accepted key is "
        "taken whatever issuer minted it and whatever API it was meant for; set both in "
        "production");
  }
  if (FLAGS_gateway_secret.empty()) {
    log->warn("--gateway_secret is empty: backends will not see caller identities");
  }
  options.security.gateway_secret = FLAGS_gateway_secret;
  // Rate limits: Redis token buckets, a local bucket when Redis fails.
  std::unique_ptr<RedisClient> redis;
  if (!FLAGS_redis_url.empty()) {
    RedisOptions redis_options;
    redis_options.url = FLAGS_redis_url;
    redis_options.name = "gateway";
    redis_options.connect_timeout = absl::Milliseconds(FLAGS_redis_timeout_ms);
    redis_options.command_timeout = absl::Milliseconds(FLAGS_redis_timeout_ms);
    auto created = RedisClient::Create(redis_options, &registry);
    if (!created.ok()) {
      log->critical("--redis_url: {}", created.status().message());
      return 1;
    }
    redis = std::move(*created);
  }
  RateLimiter limiter(redis.get(), &registry, absl::Now,
                      absl::Milliseconds(FLAGS_redis_timeout_ms));
  if (FLAGS_rate_limits) {
    options.security.rate_limiter = &limiter;
    options.security.general_limit = *general_limit;
    options.security.token_route_limit = *token_limit;
    options.security.token_route_prefixes =
        absl::StrSplit(FLAGS_token_route_prefixes, ',', absl::SkipWhitespace());
    if (!redis) log->warn("no --redis_url: rate limits are per process");
  }
  options.security.public_services = public_services;
  options.security.cors_origins = absl::StrSplit(FLAGS_cors_origins, ',', absl::SkipWhitespace());
  options.forward_headers = forward_headers;
  options.openai.enabled = FLAGS_openai;
  options.default_timeout = absl::Milliseconds(FLAGS_default_timeout_ms);
  options.max_timeout = absl::Milliseconds(FLAGS_max_call_deadline_ms);
  const size_t route_count = built->routes.routes().size();
  const size_t backend_count = built->backends.size();
  Gateway gateway(options, std::move(built->transcoder), std::move(built->routes),
                  std::move(built->backends), &registry, GatewayMetrics::Register(&registry));

  HttpServerOptions http;
  http.host = FLAGS_host;
  http.port = FLAGS_http_port;
  http.io_threads = FLAGS_io_threads;
  http.max_body_bytes = static_cast<size_t>(FLAGS_max_body_bytes);
  http.max_header_bytes = static_cast<size_t>(FLAGS_max_header_bytes);
  http.max_chunk_extension_bytes = static_cast<size_t>(FLAGS_max_chunk_extension_bytes);
  http.max_chunks = static_cast<size_t>(FLAGS_max_chunks);
  http.max_buffered_bytes = static_cast<size_t>(FLAGS_max_buffered_bytes);
  http.header_timeout = absl::Milliseconds(FLAGS_header_timeout_ms);
  http.read_timeout = absl::Milliseconds(FLAGS_read_timeout_ms);
  http.idle_timeout = absl::Milliseconds(FLAGS_idle_timeout_ms);
  http.max_connections = FLAGS_max_connections;
  http.max_connections_per_client = FLAGS_max_connections_per_client;
  auto server = HttpServer::Start(http, [&gateway](HttpRequest req, auto done) {
    gateway.Handle(std::move(req), std::move(done));
  });
  if (!server.ok()) {
    log->critical("--http_port: {}", server.status().message());
    return 1;
  }
  std::unique_ptr<OpsHttpServer> ops;
  if (FLAGS_metrics_port != -1) {
    auto started = OpsHttpServer::Start(FLAGS_host, FLAGS_metrics_port, &registry,
                                        [&gateway] { return gateway.ready(); });
    if (!started.ok()) {
      log->critical("--metrics_port: {}", started.status().message());
      return 1;
    }
    ops = std::move(*started);
  }
  log->info("serving {} routes for {} backend service(s)", route_count, backend_count);
  std::printf("genesis-gateway http=%s:%d metrics=%s:%d\n", FLAGS_host.c_str(), (*server)->port(),
              FLAGS_host.c_str(), ops ? ops->port() : -1);
  std::fflush(stdout);

  // The JWKS file is re-read when its modification time changes.
  auto jwks_mtime = [] {
    std::error_code ec;
    if (FLAGS_jwks_file.empty()) return std::filesystem::file_time_type();
    auto t = std::filesystem::last_write_time(FLAGS_jwks_file, ec);
    return ec ? std::filesystem::file_time_type() : t;
  };
  auto last_jwks_mtime = jwks_mtime();
  auto reload_jwks = [&] {
    if (FLAGS_jwks_file.empty()) return;
    last_jwks_mtime = jwks_mtime();
    auto loaded = Jwks::Load(FLAGS_jwks_file);
    if (!loaded.ok()) {
      log->error("--jwks_file: keeping the previous keys: {}", loaded.status().message());
      return;
    }
    log->info("--jwks_file: {} key(s) loaded", loaded->size());
    jwt.SetJwks(std::move(*loaded));
  };
  int signal = 0;
  for (;;) {
    const timespec poll = {2, 0};
    signal = sigtimedwait(&stop_signals, nullptr, &poll);
    if (signal == SIGHUP) {
      log->info("SIGHUP: reloading descriptors ({}), RBAC and JWKS", FLAGS_descriptors);
      auto rebuilt = routing_builder.Build();
      if (rebuilt.ok()) {
        for (const auto& w : rebuilt->warnings) log->warn("{}", w);
        log->info("serving {} routes for {} backend service(s)", rebuilt->routes.routes().size(),
                  rebuilt->backends.size());
        gateway.Swap(std::move(rebuilt->transcoder), std::move(rebuilt->routes),
                     std::move(rebuilt->backends));
      } else {
        log->error("reload: keeping the previous routes: {}", rebuilt.status().message());
      }
      if (auth_on) {
        auto loaded = Rbac::Load(FLAGS_rbac_config);
        if (loaded.ok()) {
          gateway.SetRbac(std::make_shared<const Rbac>(std::move(*loaded)));
        } else {
          log->error("--rbac_config: keeping the previous rules: {}", loaded.status().message());
        }
      }
      reload_jwks();
      continue;
    }
    if (signal < 0) {  // the poll interval passed
      if (!FLAGS_jwks_file.empty() && jwks_mtime() != last_jwks_mtime) reload_jwks();
      continue;
    }
    break;
  }
  // Drain: readiness fails first, then no new connections, idle keep-alive
  // connections closed, requests and streams in flight finished (their
  // responses close the connection); the process exits as soon as the last
  // one is written, or when the grace period ends.
  const absl::Time drain_start = absl::Now();
  log->info("signal {}: draining {} request(s) in flight for up to {} ms", signal,
            (*server)->busy(), FLAGS_shutdown_grace_ms);
  gateway.StartDraining();
  (*server)->Stop(absl::Milliseconds(FLAGS_shutdown_grace_ms));
  const int cut = (*server)->busy();
  ops.reset();
  log->info("stopped after {} ms{}", absl::ToInt64Milliseconds(absl::Now() - drain_start),
            cut > 0 ? absl::StrCat(" (grace period over: ", cut, " request(s) cut)") : "");
  std::fflush(nullptr);
  return 0;
}
