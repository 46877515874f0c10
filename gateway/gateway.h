// The gateway's logic, free of any HTTP library: an HttpRequest is routed by
// google.api.http rules, transcoded, forwarded to its backend with a
// deadline and request id, and the reply (or error) becomes an HttpResponse.
// The Beast server (http/server.h) only moves bytes; tests drive this class with a
// fake Backend.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/metrics.h"
#include "gateway/auth/auth.h"
#include "gateway/auth/rate_limit.h"
#include "gateway/auth/rbac.h"
#include "gateway/docs/docs_page.h"
#include "gateway/docs/openapi.h"
#include "gateway/http/streaming.h"
#include "gateway/mcp/sessions.h"
#include "gateway/mcp/tools.h"
#include "gateway/routing/backend.h"
#include "gateway/routing/http_rules.h"
#include "gateway/routing/transcoder.h"

namespace genesis::gateway {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/v1/items?page_size=2"
  std::string body;
  // Lower-case header names; only the ones the gateway reads.
  std::map<std::string, std::string> headers;
  // The client's IP address ("127.0.0.1"); the rate-limit key of public routes.
  std::string remote_address;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set for a server-streaming RPC: the body is produced by `stream` after
  // the headers (chunked, `body` unused, the connection closes afterwards).
  std::shared_ptr<StreamSource> stream;
};

// The services whose routes need no credentials by default (--public_services):
// the bot manager's webhooks, which verify the channel's own signature.
std::set<std::string> DefaultPublicServices();

// True for a service's full name: dot-separated identifiers ("genesis.bot.v1.BotWebhookService").
bool IsServiceName(std::string_view name);

// Who may call what, how often, and from which browser origins. Pointers are
// not owned and must outlive the Gateway.
struct SecurityOptions {
  // Null: no authentication (every route is public; --auth=off). Else every
  // route but /healthz, /readyz, /metrics, /openapi.json and the routes of
  // `public_services` needs a credential: 401 without a valid one, 403 when
  // its roles lack the permission.
  const Authenticator* authenticator = nullptr;
  // Full names of the services whose routes are public: no credential, no
  // RBAC, rate-limited per client IP address and route.
  std::set<std::string> public_services = DefaultPublicServices();
  const Rbac* rbac = nullptr;  // null with an authenticator: any identity may call anything
  // Null: no rate limits. Keys: credential (or "anonymous") + route class;
  // public routes: client IP + route.
  RateLimiter* rate_limiter = nullptr;
  RateLimitPolicy general_limit{30, 30};           // 30 req/s
  RateLimitPolicy token_route_limit{5.0 / 60, 5};  // 5 req/min
  std::vector<std::string> token_route_prefixes;   // paths limited by token_route_limit
  // Sent to backends as x-genesis-gateway-auth with x-genesis-subject and
  // x-genesis-roles; backends trust the identity only when it matches theirs.
  std::string gateway_secret;
  // Calls to the backends go over mutual TLS: the caller's identity is sent
  // without a secret (the backends trust this gateway's certificate).
  bool identity_by_certificate = false;
  // CORS: allowed origins ("*" = any); empty = CORS off.
  std::vector<std::string> cors_origins;
  absl::Duration cors_max_age = absl::Minutes(10);
};

// The inbound HTTP headers forwarded to backends as gRPC metadata (lower-case
// names) by default: the signatures webhooks verify, and the user agent.
std::vector<std::string> DefaultForwardHeaders();
// False for headers that must never be copied from a client to a backend:
// the gateway's identity metadata (x-genesis-*), credentials (authorization,
// x-api-key, cookie), gRPC and HTTP/2 reserved names (grpc-*, *-bin, :*,
// te, content-type, host...) and x-request-id (set by the gateway).
bool IsForwardableHeader(const std::string& lower_case_name);

// The OpenAI-compatible front door (POST /v1/chat/completions, GET /v1/models)
// onto genesis.llmrouter.v1.LlmRouterService; see openai/openai.h.
struct OpenAiOptions {
  bool enabled = true;
  // The service the front door calls (its backend comes from the route table's backends).
  std::string service = "genesis.llmrouter.v1.LlmRouterService";
};

// The Model Context Protocol server at `path` (gateway/mcp/): every unary RPC
// with an HTTP rule as a tool, behind the same authentication, RBAC and rate
// limits as REST.
struct McpOptions {
  bool enabled = true;
  std::string path = "/mcp";
  // Empty: every eligible RPC; else the tools, methods, services or packages
  // named (mcp::ToolOptions::allow).
  std::vector<std::string> tools;
  size_t max_sessions = 10000;
  absl::Duration session_idle_timeout = absl::Hours(1);
  size_t page_size = 50;  // tools per tools/list page
  std::string server_version = "0.1.0";
};

struct GatewayOptions {
  absl::Duration default_timeout = absl::Seconds(30);
  absl::Duration max_timeout = absl::Seconds(30);
  SecurityOptions security;
  // Lower-case names of inbound headers copied to the backend call's metadata.
  std::vector<std::string> forward_headers = DefaultForwardHeaders();
  OpenAiOptions openai;
  McpOptions mcp;
  // servers[0].url of /openapi.json (--openapi_server_url).
  std::string openapi_server_url = "/";
  // GET /docs, the API reference page (--docs_dir; empty: no page). Its files
  // are loaded once at start; null while they could not be (503).
  bool docs = true;
  std::shared_ptr<const DocsPage> docs_page;
};

// What /openapi.json documents for these options: `auth` and `rate_limits` say
// whether an authenticator and a rate limiter are in place. The gateway and
// `genesis-gateway --print_openapi` both use it, so the two documents are the same.
OpenApiOptions OpenApiOptionsFor(const GatewayOptions& options, bool auth, bool rate_limits);

// What the gateway routes with, replaced as a whole (Gateway::Swap): the
// descriptors, the routes built from them, the backends of their services and
// the OpenAPI document. A request holds the snapshot it started with until it
// ends, so a swap never pulls descriptors from under a call in flight.
struct RouteSnapshot {
  std::unique_ptr<Transcoder> transcoder;
  RouteTable routes;
  std::map<std::string, Backend*> backends;  // not owned
  std::string openapi;
  mcp::ToolSet mcp_tools;  // the RPCs /mcp serves as tools (routes point into `routes`)
};

// Counters and histograms of the gateway, registered once.
struct GatewayMetrics {
  Family<Counter>* requests = nullptr;        // route, code (HTTP status)
  Family<Histogram>* latency = nullptr;       // route
  Family<Counter>* backend_errors = nullptr;  // service, grpc_code ("UNAVAILABLE")
  Gauge* in_flight = nullptr;
  static GatewayMetrics Register(MetricsRegistry* registry);
};

// The deadline a request asks for: X-Request-Timeout ("2.5", "2.5s",
// "500ms") or grpc-timeout ("500m", "2S"), else the default; never above
// `max`. INVALID_ARGUMENT naming the header when malformed.
absl::StatusOr<absl::Duration> RequestTimeout(const std::map<std::string, std::string>& headers,
                                              absl::Duration default_timeout, absl::Duration max);

class Gateway {
 public:
  // `backends` maps service full names to their (not owned) backend; routes
  // of services without a backend answer 503. `registry` renders /metrics.
  Gateway(GatewayOptions options, std::unique_ptr<Transcoder> transcoder, RouteTable routes,
          std::map<std::string, Backend*> backends, const MetricsRegistry* registry,
          GatewayMetrics metrics);

  // Serves one request; `done` runs exactly once, possibly on another thread.
  // Thread-safe. The request goes through small stages, each of which either
  // lets it go on or answers it: ServeLocally (preflight, ops endpoints) or
  // the OpenAI front door, then FindRoute -> Authenticate -> Authorize ->
  // LimitRate -> Transcode -> Call -> Render (gateway.cc).
  void Handle(HttpRequest request, std::function<void(HttpResponse)> done);

  // Readiness means "this process can take traffic": it is up, its routes
  // are loaded (construction) and it is not draining. Backends are not part
  // of it: a backend outage is answered per request (503) so that it never
  // pulls every gateway replica out of rotation at once.
  [[nodiscard]] bool ready() const { return !draining_.load(); }
  // From now on /readyz answers 503 (SIGTERM: the first step of a drain).
  void StartDraining() { draining_.store(true); }

  // Replaces descriptors, routes and backends at once; requests in flight
  // finish on the snapshot they started with. Thread-safe.
  void Swap(std::unique_ptr<Transcoder> transcoder, RouteTable routes,
            std::map<std::string, Backend*> backends);
  // Replaces the RBAC rules (SIGHUP); null keeps "any identity may call anything".
  void SetRbac(std::shared_ptr<const Rbac> rbac);

  // The current snapshot. Thread-safe.
  [[nodiscard]] std::shared_ptr<const RouteSnapshot> snapshot() const;

 private:
  using HeaderList = std::vector<std::pair<std::string, std::string>>;
  using Finish = std::function<void(std::string, HttpResponse)>;

  // One request on its way through the stages of Handle (below, in order);
  // each stage reads what the earlier ones filled in. `request` is valid only
  // while Handle runs.
  struct Exchange {
    const HttpRequest* request = nullptr;
    std::string request_id, path, query;
    std::shared_ptr<const RouteSnapshot> snapshot;
    std::string label = "unmatched";  // the route's label (metrics, access log)
    // FindRoute:
    const Route* route = nullptr;
    std::vector<PathBinding> bindings;
    const google::protobuf::ServiceDescriptor* service = nullptr;
    // Authenticate (public: no identity, limited per client address):
    bool is_public = false;
    Identity identity;
    HeaderList limit_headers;  // LimitRate: RateLimit-* of the response
    // Transcode:
    std::string message;  // the serialized request message
    absl::Duration timeout;
  };
  // What a stage returns: nullopt to go on to the next stage, or the response to send.
  using Outcome = std::optional<HttpResponse>;
  using Stage = Outcome (Gateway::*)(Exchange&) const;

  // The stages, in order. ServeLocally: CORS preflight, a target backends
  // could not read (400), /healthz, /readyz, /metrics, /openapi.json.
  Outcome ServeLocally(Exchange& ex) const;
  [[nodiscard]] bool IsOpenAiRequest(const HttpRequest& request, const std::string& path) const;
  // The route of the method and path: 404, 405 with Allow, 501 for client streaming.
  Outcome FindRoute(Exchange& ex) const;
  // The caller's identity (skipped with auth off or a public service): 401.
  Outcome Authenticate(Exchange& ex) const;
  // RBAC: the identity's roles may read (GET) or write the service: 403.
  Outcome Authorize(Exchange& ex) const;
  // The caller's (or a public route's client address's) bucket: 429 with Retry-After.
  Outcome LimitRate(Exchange& ex) const;
  // Authenticate, Authorize and LimitRate (the OpenAI front door's admission too).
  // Authorize reads the route's HTTP method (GET reads), else the request's.
  Outcome Admit(Exchange& ex) const;
  // The deadline (400 when malformed) and the request message (400 naming the field).
  Outcome Transcode(Exchange& ex) const;
  // The backend call (503 when the service has none): unary, answered by
  // Render, or a server stream (StartStream).
  void Call(Exchange ex, Finish finish);
  // A unary call's answer: the response JSON (or raw HttpBody), or the error.
  HttpResponse Render(const RouteSnapshot& snap, const Route& route, const grpc::Status& status,
                      const std::string& response, HeaderList limit_headers) const;
  // Counts the request in flight and returns what ends it: metrics, the access
  // log line, x-request-id, Retry-After on 429 and CORS headers, then `done`.
  Finish Completion(const HttpRequest& request, const std::string& request_id,
                    const std::string& path, std::function<void(HttpResponse)> done);

  HttpResponse ErrorResponse(const google::rpc::Status& status) const;
  // Counts a failed backend call (or a service without a backend: UNAVAILABLE)
  // under the code's canonical name.
  void CountBackendError(const std::string& service, grpc::StatusCode code) const;
  // The metadata of a backend call: request id, identity, forwarded headers.
  [[nodiscard]] Metadata CallMetadata(const std::string& request_id, const Identity& identity,
                                      const HttpRequest& request) const;
  // POST /v1/chat/completions and GET /v1/models (openai/gateway_openai.cc).
  void ServeOpenAi(const HttpRequest& request, const std::string& path,
                   const std::string& request_id, Finish finish);
  // POST/GET/DELETE on the MCP endpoint (mcp/gateway_mcp.cc).
  void ServeMcp(const HttpRequest& request, const std::string& request_id, Finish finish);
  // tools/call: RBAC for the tool's route, the arguments as its request, the
  // backend call; the answer (a tool result, isError on failure) goes to `reply`.
  void CallTool(const Exchange& ex, const nlohmann::json& id, const nlohmann::json& params,
                std::function<void(std::string)> reply);
  // The tools `identity` may call (all with auth off), sorted by name.
  [[nodiscard]] std::vector<const mcp::Tool*> VisibleTools(const RouteSnapshot& snap,
                                                           const Identity& identity) const;
  // A server-streaming call relayed as SSE or NDJSON (http/streaming.h); `finish`
  // gets the 200 response once the first message (or the clean end) arrived,
  // or an ordinary error response when the call failed before any message.
  void StartStream(std::shared_ptr<const RouteSnapshot> snapshot, const Route& route,
                   const std::string& accept, Backend* backend, std::string message,
                   absl::Time deadline, const Metadata& metadata, HeaderList limit_headers,
                   Finish finish);
  // The Access-Control-Allow-Origin value for `request`, or "" (CORS off / not allowed).
  [[nodiscard]] std::string CorsOrigin(const HttpRequest& request) const;

  [[nodiscard]] std::shared_ptr<const Rbac> rbac() const;

  const GatewayOptions options_;
  const std::string docs_csp_;  // the /docs page's Content-Security-Policy
  const MetricsRegistry* registry_;
  GatewayMetrics metrics_;
  mutable std::mutex mu_;
  std::shared_ptr<const RouteSnapshot> snapshot_;  // guarded by mu_
  std::shared_ptr<const Rbac> rbac_;               // guarded by mu_
  std::atomic<bool> draining_{false};
  std::unique_ptr<mcp::SessionTable> mcp_sessions_;
};

}  // namespace genesis::gateway
