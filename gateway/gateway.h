// The gateway's logic, free of any HTTP library: an HttpRequest is routed by
// google.api.http rules, transcoded, forwarded to its backend with a
// deadline and request id, and the reply (or error) becomes an HttpResponse.
// The Beast server (server.h) only moves bytes; tests drive this class with a
// fake Backend.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "gateway/auth.h"
#include "gateway/backend.h"
#include "gateway/http_rules.h"
#include "gateway/rate_limit.h"
#include "gateway/rbac.h"
#include "gateway/streaming.h"
#include "gateway/transcoder.h"

namespace genesis::gateway {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/v1/items?page_size=2"
  std::string body;
  // Lower-case header names; only the ones the gateway reads.
  std::map<std::string, std::string> headers;
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

// Who may call what, how often, and from which browser origins. Pointers are
// not owned and must outlive the Gateway.
struct SecurityOptions {
  // Null: no authentication (every route is public; --auth=off). Else every
  // route but /healthz, /readyz, /metrics, /openapi.json and routes whose
  // request is google.api.HttpBody (webhooks) needs a credential: 401
  // without a valid one, 403 when its roles lack the permission.
  const Authenticator* authenticator = nullptr;
  const Rbac* rbac = nullptr;  // null with an authenticator: any identity may call anything
  // Null: no rate limits. Keys: credential (or "anonymous") + route class.
  RateLimiter* rate_limiter = nullptr;
  RateLimitPolicy general_limit{30, 30};           // 30 req/s
  RateLimitPolicy token_route_limit{5.0 / 60, 5};  // 5 req/min
  std::vector<std::string> token_route_prefixes;   // paths limited by token_route_limit
  // Sent to backends as x-genesis-gateway-auth with x-genesis-subject and
  // x-genesis-roles; backends trust the identity only when it matches theirs.
  std::string gateway_secret;
  // CORS: allowed origins ("*" = any); empty = CORS off.
  std::vector<std::string> cors_origins;
  absl::Duration cors_max_age = absl::Minutes(10);
};

struct GatewayOptions {
  absl::Duration default_timeout = absl::Seconds(30);
  absl::Duration max_timeout = absl::Seconds(30);
  absl::Duration readiness_timeout = absl::Seconds(2);
  SecurityOptions security;
};

// Counters and histograms of the gateway, registered once.
struct GatewayMetrics {
  Family<Counter>* requests = nullptr;        // route, code (HTTP status)
  Family<Histogram>* latency = nullptr;       // route
  Family<Counter>* backend_errors = nullptr;  // service, grpc_code
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
  // Thread-safe.
  void Handle(HttpRequest request, std::function<void(HttpResponse)> done);

  // True when every backend's health check reports SERVING.
  void CheckReady(std::function<void(bool)> done);

  [[nodiscard]] const RouteTable& routes() const { return routes_; }

 private:
  HttpResponse ErrorResponse(const google::rpc::Status& status) const;
  // Authentication, RBAC and the rate limit of a matched route: the identity
  // (empty when auth is off or the route is public), or the error response.
  std::variant<Identity, HttpResponse> Admit(
      const Route& route, const std::string& path, const HttpRequest& request,
      std::vector<std::pair<std::string, std::string>>* extra_headers) const;
  // A server-streaming call relayed as SSE or NDJSON (streaming.h); `finish`
  // gets the 200 response once the first message (or the clean end) arrived,
  // or an ordinary error response when the call failed before any message.
  void StartStream(const Route& route, const std::string& accept, Backend* backend,
                   std::string message, absl::Time deadline, const Metadata& metadata,
                   std::vector<std::pair<std::string, std::string>> limit_headers,
                   std::function<void(std::string, HttpResponse)> finish);
  // The Access-Control-Allow-Origin value for `request`, or "" (CORS off / not allowed).
  [[nodiscard]] std::string CorsOrigin(const HttpRequest& request) const;

  const GatewayOptions options_;
  std::unique_ptr<Transcoder> transcoder_;
  RouteTable routes_;
  std::map<std::string, Backend*> backends_;
  const MetricsRegistry* registry_;
  GatewayMetrics metrics_;
  const std::string openapi_;  // /openapi.json, built once from the routes
};

}  // namespace genesis::gateway
