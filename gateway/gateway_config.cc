#include "gateway/gateway_config.h"

#include <gflags/gflags.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "common/runtime/config.h"
#include "common/runtime/server_flags.h"  // the shared flags the gateway reads
#include "common/storage/pg_pool.h"
#include "common/storage/redis_url.h"
#include "gateway/auth/security_flags.h"
#include "gateway/http/tls_context.h"

DEFINE_int32(http_port, 8080,
             "Plain HTTP port of the REST API; 0 picks a free one (printed at start); -1: no "
             "plain HTTP (only with --https_port).");
DEFINE_int32(https_port, -1,
             "HTTPS port of the REST API (TLS 1.2/1.3, --https_cert and --https_key); 0 picks a "
             "free one (printed at start); -1: no HTTPS.");
DEFINE_string(https_host, "",
              "Address the HTTPS listener binds (e.g. 0.0.0.0 to face the network while plain "
              "HTTP stays on --host 127.0.0.1); empty: --host.");
DEFINE_string(https_cert, "",
              "PEM certificate chain (leaf first) of the HTTPS listener; re-read with --https_key "
              "on SIGHUP (new connections get the new certificate; a bad file keeps the old).");
DEFINE_string(https_key, "", "PEM private key (unencrypted) matching --https_cert.");
DEFINE_int32(https_handshake_timeout_ms, 10000,
             "How long a TLS handshake may take from the accept; slower clients are "
             "disconnected.");
DEFINE_int32(https_max_handshake_bytes, 64 << 10,
             "Most bytes a client may send before its TLS handshake completes; more: "
             "disconnected.");
DEFINE_int64(hsts_max_age_s, 63072000,
             "max-age of the Strict-Transport-Security header on HTTPS responses (two years; 0 "
             "tells browsers to forget the policy). Never sent over plain HTTP.");
DEFINE_bool(hsts_include_subdomains, true,
            "Add includeSubDomains to Strict-Transport-Security (every subdomain of the "
            "gateway's host must then serve HTTPS).");
DEFINE_string(backend, "",
              "Comma-separated <package.Service>=<host>:<port>[|<host>:<port>...] entries, e.g. "
              "genesis.catalog.v1.CatalogService=127.0.0.1:50051|127.0.0.1:50052 (several "
              "addresses: round-robin per call, GET retried once on the next address after "
              "UNAVAILABLE; one dns:///host:port address is balanced per call over every "
              "address the name resolves to). A service not listed uses "
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
DEFINE_bool(mcp, true,
            "Serve the Model Context Protocol at /mcp: every unary RPC with an HTTP rule as a "
            "tool, with the same authentication, RBAC and rate limits as REST.");
DEFINE_string(mcp_tools, "",
              "Comma-separated allow-list of /mcp tools: tool names (catalog_SearchItems), full "
              "method names, full service names or packages (genesis.catalog.v1); empty: every "
              "eligible RPC.");
DEFINE_int32(mcp_max_sessions, 10000,
             "Most MCP sessions held at once; beyond it the least recently used is ended.");
DEFINE_int32(mcp_session_idle_timeout_s, 3600,
             "An MCP session unused this long is ended (the client initializes again).");
DEFINE_string(openapi_server_url, "/",
              "servers[0].url of /openapi.json: \"/\" (the host that served the document), or "
              "the public URL when the gateway sits behind a proxy (https://api.example.com).");
DEFINE_string(docs_dir, GENESIS_DEFAULT_DOCS_DIR,
              "The files of the /docs API reference page (index.html, docs.js and Swagger UI's "
              "swagger-ui-bundle.js and swagger-ui.css; the build copies them); empty: no /docs.");
DEFINE_bool(print_openapi, false,
            "Print the /openapi.json this configuration serves on stdout and exit (reads only "
            "the descriptors; needs no credentials, backends, PostgreSQL or Redis).");
DEFINE_string(cors_origins, "",
              "Comma-separated origins allowed by CORS (\"*\" = any); empty: CORS off.");

namespace genesis::gateway {

absl::StatusOr<GatewayConfig> GatewayConfigFromFlags() {
  ConfigErrors errors;
  GatewayConfig config;
  // --tls_* (tls.h) for the calls to the services.
  config.tls = TlsConfigFromFlags(&errors);
  // With TLS to the services the gateway is known by its certificate
  // (services' --tls_trusted_peers); the shared secret is for plaintext only.
  if (config.tls.enabled() && !FLAGS_gateway_secret.empty()) {
    errors.Add("gateway_secret",
               "is not used with TLS to the services (--tls_cert): the services trust the "
               "gateway's certificate; leave it empty");
  }
  errors.RequireNonEmpty("host", FLAGS_host);
  if (FLAGS_http_port != -1) errors.RequirePort("http_port", FLAGS_http_port);
  if (FLAGS_https_port != -1) {
    errors.RequirePort("https_port", FLAGS_https_port);
    if (FLAGS_https_port != 0 && FLAGS_https_port == FLAGS_http_port) {
      errors.Add("https_port", "must differ from --http_port");
    }
    errors.RequireNonEmpty("https_cert", FLAGS_https_cert);
    errors.RequireNonEmpty("https_key", FLAGS_https_key);
    if (!FLAGS_https_cert.empty() && !FLAGS_https_key.empty()) {
      // Checked here so start-up stops with the flag's name; the server reads them again.
      auto tls = MakeServerTlsContext(FLAGS_https_cert, FLAGS_https_key);
      if (!tls.ok()) errors.AddStatus("https_cert", tls.status());
    }
  } else {
    if (FLAGS_http_port == -1) errors.Add("http_port", "-1 (no plain HTTP) needs --https_port");
    if (!FLAGS_https_cert.empty() || !FLAGS_https_key.empty()) {
      errors.Add("https_port",
                 "not set, but --https_cert/--https_key are: set the port to serve HTTPS");
    }
  }
  errors.RequireRange("https_handshake_timeout_ms", FLAGS_https_handshake_timeout_ms, 100, 600000);
  errors.RequireRange("https_max_handshake_bytes", FLAGS_https_max_handshake_bytes, 4096, 1 << 24);
  errors.RequireRange("hsts_max_age_s", FLAGS_hsts_max_age_s, 0, int64_t{1} << 31);
  if (FLAGS_metrics_port != -1) errors.RequirePort("metrics_port", FLAGS_metrics_port);
  if (auto dsn = ParsePgDsn(FLAGS_pg_dsn); !FLAGS_pg_dsn.empty() && !dsn.ok()) {
    errors.Add("pg_dsn", std::string(dsn.status().message()));
  }
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
  if (!FLAGS_redis_url.empty()) {
    if (auto url = ParseRedisUrl(FLAGS_redis_url); !url.ok()) {
      errors.Add("redis_url", std::string(url.status().message()));
    }
  }
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
  config.auth = FLAGS_auth == "on";
  config.jwt.hs256_secret = Hs256SecretFromFlags(&errors);
  config.jwt.issuer = FLAGS_jwt_issuer;
  config.jwt.audience = FLAGS_jwt_audience;
  config.jwt.skew = absl::Milliseconds(FLAGS_jwt_skew_ms);
  config.jwks_file = FLAGS_jwks_file;
  if (!FLAGS_jwks_file.empty()) {
    auto loaded = Jwks::Load(FLAGS_jwks_file);
    if (loaded.ok()) {
      config.jwks = std::move(*loaded);
    } else {
      errors.Add("jwks_file", std::string(loaded.status().message()));
    }
  }
  config.rbac_config = FLAGS_rbac_config;
  if (config.auth) {
    auto loaded = Rbac::Load(FLAGS_rbac_config);
    if (loaded.ok()) {
      config.rbac = std::move(*loaded);
    } else {
      errors.Add("rbac_config", std::string(loaded.status().message()));
    }
    if (config.jwt.hs256_secret.empty() && FLAGS_jwks_file.empty() && FLAGS_pg_dsn.empty() &&
        !FLAGS_print_openapi) {
      errors.Add("auth",
                 "on, but no credential can be checked: set --jwt_hs256_secret(_file), "
                 "--jwks_file or --pg_dsn (API keys), or --auth=off");
    }
  }
  GENESIS_RETURN_IF_ERROR(errors.ToStatus());

  config.log_format = FLAGS_log_format == "json" ? LogFormat::kJson : LogFormat::kText;
  config.log_level = FLAGS_log_level;
  config.metrics_port = FLAGS_metrics_port;
  config.shutdown_grace = absl::Milliseconds(FLAGS_shutdown_grace_ms);

  HttpServerOptions& http = config.http;
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
  http.https.port = FLAGS_https_port;
  http.https.host = FLAGS_https_host;
  http.https.cert_file = FLAGS_https_cert;
  http.https.key_file = FLAGS_https_key;
  http.https.handshake_timeout = absl::Milliseconds(FLAGS_https_handshake_timeout_ms);
  http.https.max_handshake_bytes = static_cast<size_t>(FLAGS_https_max_handshake_bytes);
  http.https.hsts_max_age = absl::Seconds(FLAGS_hsts_max_age_s);
  http.https.hsts_include_subdomains = FLAGS_hsts_include_subdomains;

  RoutingOptions& routing = config.routing;
  routing.source = *descriptor_source;
  routing.descriptor_set = FLAGS_descriptor_set;
  routing.backends = *backend_list;
  routing.reflection_addresses = AddressesFromEnvironment();
  routing.getenv = [](const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return std::string(v == nullptr ? "" : v);
  };
  routing.reflection_timeout = absl::Milliseconds(FLAGS_reflection_timeout_ms);
  routing.max_message_bytes = FLAGS_max_message_bytes;
  routing.max_response_bytes = FLAGS_max_backend_response_bytes;
  routing.credentials = MeshChannelCredentials(config.tls);
  routing.transcoder.ignore_unknown_query_parameters = FLAGS_ignore_unknown_query_params;
  routing.transcoder.max_parameter_bytes = static_cast<size_t>(FLAGS_max_parameter_bytes);
  config.descriptors = FLAGS_descriptors;

  GatewayOptions& options = config.gateway;
  options.security.gateway_secret = FLAGS_gateway_secret;
  options.security.identity_by_certificate = config.tls.enabled();
  options.security.general_limit = *general_limit;
  options.security.token_route_limit = *token_limit;
  options.security.token_route_prefixes =
      absl::StrSplit(FLAGS_token_route_prefixes, ',', absl::SkipWhitespace());
  options.security.public_services = std::move(public_services);
  options.security.cors_origins = absl::StrSplit(FLAGS_cors_origins, ',', absl::SkipWhitespace());
  options.forward_headers = std::move(forward_headers);
  options.openai.enabled = FLAGS_openai;
  options.mcp.enabled = FLAGS_mcp;
  options.mcp.tools = absl::StrSplit(FLAGS_mcp_tools, ',', absl::SkipWhitespace());
  if (FLAGS_mcp_max_sessions < 1) errors.Add("mcp_max_sessions", "must be at least 1");
  options.mcp.max_sessions = static_cast<size_t>(std::max(FLAGS_mcp_max_sessions, 1));
  if (FLAGS_mcp_session_idle_timeout_s < 1) {
    errors.Add("mcp_session_idle_timeout_s", "must be at least 1");
  }
  options.mcp.session_idle_timeout = absl::Seconds(std::max(FLAGS_mcp_session_idle_timeout_s, 1));
  options.openapi_server_url = FLAGS_openapi_server_url;
  if (!(absl::StartsWith(FLAGS_openapi_server_url, "/") ||
        !OriginOf(FLAGS_openapi_server_url).empty()) ||
      FLAGS_openapi_server_url.find_first_of(" ;,\"'\r\n\t") != std::string::npos) {
    errors.Add("openapi_server_url",
               absl::StrCat("'", FLAGS_openapi_server_url,
                            "' is neither a path (/, /api) nor an http(s):// URL"));
  }
  options.docs = !FLAGS_docs_dir.empty();
  config.docs_dir = FLAGS_docs_dir;
  config.print_openapi = FLAGS_print_openapi;
  options.default_timeout = absl::Milliseconds(FLAGS_default_timeout_ms);
  options.max_timeout = absl::Milliseconds(FLAGS_max_call_deadline_ms);

  config.pg_dsn = FLAGS_pg_dsn;
  config.pg_pool_size = FLAGS_pg_pool_size;
  config.migrate = FLAGS_migrate;
  config.db_wait = absl::Seconds(std::max(0, FLAGS_db_wait_s));
  config.rate_limits = FLAGS_rate_limits;
  config.redis_url = FLAGS_redis_url;
  config.redis_timeout = absl::Milliseconds(FLAGS_redis_timeout_ms);
  return config;
}

}  // namespace genesis::gateway
