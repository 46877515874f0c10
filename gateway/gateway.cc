#include "gateway/gateway.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "common/rpc/mesh_channel.h"
#include "common/runtime/logging.h"
#include "gateway/docs/openapi.h"
#include "gateway/http/errors.h"
#include "gateway/http/url.h"

namespace genesis::gateway {
namespace {

// The gateway's own errors carry an ErrorInfo in its domain like every service's.
google::rpc::Status MakeStatus(grpc::StatusCode code, std::string message) {
  return RpcStatusFromAbsl(absl::Status(static_cast<absl::StatusCode>(code), message));
}

// A caller's X-Request-Id when it is sane (printable ASCII, at most 128), else a new one.
std::string RequestIdFrom(const std::map<std::string, std::string>& headers) {
  auto it = headers.find("x-request-id");
  if (it != headers.end() && !it->second.empty() && it->second.size() <= 128 &&
      std::all_of(it->second.begin(), it->second.end(), [](char c) { return c > 32 && c < 127; })) {
    return it->second;
  }
  return NewRequestId();
}

absl::StatusOr<absl::Duration> ParseGrpcTimeout(const std::string& v) {
  int64_t n;
  if (v.size() < 2 || v.size() > 9 || !absl::SimpleAtoi(v.substr(0, v.size() - 1), &n) || n < 0) {
    return absl::InvalidArgumentError("bad grpc-timeout");
  }
  switch (v.back()) {
    case 'H':
      return absl::Hours(n);
    case 'M':
      return absl::Minutes(n);
    case 'S':
      return absl::Seconds(n);
    case 'm':
      return absl::Milliseconds(n);
    case 'u':
      return absl::Microseconds(n);
    case 'n':
      return absl::Nanoseconds(n);
    default:
      return absl::InvalidArgumentError("bad grpc-timeout");
  }
}

int CeilSeconds(absl::Duration d) {
  return static_cast<int>(absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1))));
}

// A header value gRPC accepts as ASCII metadata (printable, no control characters).
bool IsMetadataSafe(const std::string& value) {
  return std::all_of(value.begin(), value.end(), [](char c) { return c >= 32 && c < 127; });
}

}  // namespace

std::set<std::string> DefaultPublicServices() { return {"genesis.bot.v1.BotWebhookService"}; }

bool IsServiceName(std::string_view name) {
  if (name.find('.') == std::string_view::npos) return false;
  for (absl::string_view part : absl::StrSplit(absl::string_view(name.data(), name.size()), '.')) {
    if (part.empty() || absl::ascii_isdigit(part[0])) return false;
    for (char c : part) {
      if (!absl::ascii_isalnum(c) && c != '_') return false;
    }
  }
  return true;
}

std::vector<std::string> DefaultForwardHeaders() {
  return {"x-hub-signature-256", "x-telegram-bot-api-secret-token", "signature",
          "signature-256",       "signaturecertchainurl",           "x-mattermost-token",
          "user-agent"};
}

bool IsForwardableHeader(const std::string& name) {
  static const std::set<std::string> kNever = {
      "authorization", "x-api-key",  "cookie",         "x-request-id",     "content-type", "te",
      "host",          "connection", "content-length", "transfer-encoding"};
  if (name.empty() || kNever.contains(name) || name[0] == ':') return false;
  if (absl::StartsWith(name, "x-genesis-") || absl::StartsWith(name, "grpc-") ||
      absl::EndsWith(name, "-bin")) {  // -bin: binary gRPC metadata
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

GatewayMetrics GatewayMetrics::Register(MetricsRegistry* registry) {
  GatewayMetrics m;
  m.requests = &registry->AddCounter("genesis_gateway_requests_total",
                                     "HTTP requests by route and HTTP status.", {"route", "code"});
  m.latency = &registry->AddHistogram("genesis_gateway_request_duration_seconds",
                                      "HTTP request latency by route.", {"route"});
  m.backend_errors = &registry->AddCounter("genesis_gateway_backend_errors_total",
                                           "Backend calls that failed, by service and gRPC code.",
                                           {"service", "grpc_code"});
  m.in_flight =
      &registry->AddGauge("genesis_gateway_in_flight_requests", "Requests being served now.")
           .WithLabels({});
  return m;
}

absl::StatusOr<absl::Duration> RequestTimeout(const std::map<std::string, std::string>& headers,
                                              absl::Duration default_timeout, absl::Duration max) {
  absl::Duration timeout = default_timeout;
  if (auto it = headers.find("x-request-timeout"); it != headers.end()) {
    std::string v(absl::StripAsciiWhitespace(it->second));
    double seconds;
    if (absl::SimpleAtod(v, &seconds) && v.find_first_not_of("0123456789.") == std::string::npos) {
      timeout = absl::Seconds(seconds);
    } else if (!absl::ParseDuration(v, &timeout)) {
      return absl::InvalidArgumentError(
          absl::StrCat("X-Request-Timeout: '", v, "' is not a duration such as 2.5s or 500ms"));
    }
    if (timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("X-Request-Timeout: must be positive");
    }
  } else if (auto g = headers.find("grpc-timeout"); g != headers.end()) {
    auto parsed = ParseGrpcTimeout(g->second);
    if (!parsed.ok() || *parsed <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("grpc-timeout: '", g->second, "' is not a gRPC timeout such as 500m or 2S"));
    }
    timeout = *parsed;
  }
  return std::min(timeout, max);
}

OpenApiOptions OpenApiOptionsFor(const GatewayOptions& options, bool auth, bool rate_limits) {
  OpenApiOptions o;
  o.server_url = options.openapi_server_url;
  o.auth = auth;
  o.public_services = options.security.public_services;
  o.rate_limits = rate_limits;
  o.openai = options.openai.enabled;
  o.docs_page = options.docs;
  return o;
}

Gateway::Gateway(GatewayOptions options, std::unique_ptr<Transcoder> transcoder, RouteTable routes,
                 std::map<std::string, Backend*> backends, const MetricsRegistry* registry,
                 GatewayMetrics metrics)
    : options_(std::move(options)),
      docs_csp_(DocsContentSecurityPolicy(OriginOf(options_.openapi_server_url))),
      registry_(registry),
      metrics_(metrics),
      mcp_sessions_(std::make_unique<mcp::SessionTable>(options_.mcp.max_sessions,
                                                        options_.mcp.session_idle_timeout)) {
  if (options_.security.rbac != nullptr) {
    rbac_ = std::shared_ptr<const Rbac>(options_.security.rbac, [](const Rbac*) {});
  }
  Swap(std::move(transcoder), std::move(routes), std::move(backends));
}

void Gateway::Swap(std::unique_ptr<Transcoder> transcoder, RouteTable routes,
                   std::map<std::string, Backend*> backends) {
  auto next = std::make_shared<RouteSnapshot>();
  next->transcoder = std::move(transcoder);
  next->routes = std::move(routes);
  next->backends = std::move(backends);
  if (options_.mcp.enabled) {
    mcp::ToolOptions tool_options;
    tool_options.allow = options_.mcp.tools;
    tool_options.exclude_services.assign(options_.security.public_services.begin(),
                                         options_.security.public_services.end());
    next->mcp_tools = mcp::ToolSet::Build(next->routes, tool_options);
  }
  next->openapi = BuildOpenApi(
      next->routes, OpenApiOptionsFor(options_, options_.security.authenticator != nullptr,
                                      options_.security.rate_limiter != nullptr));
  std::lock_guard lock(mu_);
  snapshot_ = std::move(next);
}

void Gateway::SetRbac(std::shared_ptr<const Rbac> rbac) {
  std::lock_guard lock(mu_);
  rbac_ = std::move(rbac);
}

std::shared_ptr<const RouteSnapshot> Gateway::snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

std::shared_ptr<const Rbac> Gateway::rbac() const {
  std::lock_guard lock(mu_);
  return rbac_;
}

HttpResponse Gateway::ErrorResponse(const google::rpc::Status& status) const {
  HttpResponse r;
  r.status = HttpStatusFromCode(status.code());
  r.body = snapshot()->transcoder->StatusToJson(status);
  if (auto seconds = RetryAfterSeconds(status)) {
    r.headers.emplace_back("retry-after", absl::StrCat(*seconds));
  }
  return r;
}

void Gateway::CountBackendError(const std::string& service, grpc::StatusCode code) const {
  metrics_.backend_errors->WithLabels({service, GrpcCodeName(code)}).Inc();
}

std::string Gateway::CorsOrigin(const HttpRequest& request) const {
  const auto& origins = options_.security.cors_origins;
  auto it = request.headers.find("origin");
  if (origins.empty() || it == request.headers.end()) return "";
  for (const auto& allowed : origins) {
    if (allowed == "*" || allowed == it->second) return it->second;
  }
  return "";
}

Metadata Gateway::CallMetadata(const std::string& request_id, const Identity& identity,
                               const HttpRequest& request) const {
  Metadata metadata = {{"x-request-id", request_id}};
  const bool forward =
      options_.security.identity_by_certificate || !options_.security.gateway_secret.empty();
  if (forward && !identity.subject.empty()) {
    if (!options_.security.identity_by_certificate) {
      metadata.emplace_back("x-genesis-gateway-auth", options_.security.gateway_secret);
    }
    metadata.emplace_back("x-genesis-subject", identity.subject);
    metadata.emplace_back("x-genesis-roles", absl::StrJoin(identity.roles, ","));
  }
  for (const auto& name : options_.forward_headers) {
    auto it = request.headers.find(name);
    if (it != request.headers.end() && IsForwardableHeader(name) && IsMetadataSafe(it->second)) {
      metadata.emplace_back(name, it->second);
    }
  }
  return metadata;
}

// ---- The stages of a request (Handle). Each one reads what the earlier ones
// put in the Exchange and returns nullopt to go on, or the response to send.

Gateway::Outcome Gateway::ServeLocally(Exchange& ex) const {
  const HttpRequest& request = *ex.request;
  // CORS preflight: answered for allowed origins, before routing and auth.
  if (request.method == "OPTIONS" && request.headers.count("access-control-request-method") > 0 &&
      request.headers.count("origin") > 0) {
    ex.label = "preflight";
    HttpResponse r;
    r.status = 204;
    r.content_type = "text/plain";
    if (!CorsOrigin(request).empty()) {
      r.headers = {{"access-control-allow-methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS"},
                   {"access-control-allow-headers",
                    "authorization, content-type, x-api-key, x-request-id, x-request-timeout, "
                    "mcp-session-id, mcp-protocol-version, last-event-id"},
                   {"access-control-max-age",
                    absl::StrCat(absl::ToInt64Seconds(options_.security.cors_max_age))}};
    } else {
      r.status = 403;
      r.body = "CORS: origin not allowed\n";
    }
    return r;
  }

  // A target backends could not read as text stops here (a backend would
  // answer UNIMPLEMENTED or worse for every route, credentials or not).
  if (std::string problem = TargetProblem(request.target); !problem.empty()) {
    return ErrorResponse(MakeStatus(grpc::StatusCode::INVALID_ARGUMENT, problem));
  }

  const std::string& path = ex.path;
  if (request.method == "GET" &&
      (path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/openapi.json")) {
    ex.label = path;
    HttpResponse r;
    r.content_type = "text/plain; charset=utf-8";
    if (path == "/openapi.json") {
      r.content_type = "application/json";
      r.body = snapshot()->openapi;
    } else if (path == "/healthz") {
      r.body = "ok\n";
    } else if (path == "/metrics") {
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = registry_ != nullptr ? registry_->Render() : "";
    } else {
      r.status = ready() ? 200 : 503;
      r.body = ready() ? "ready\n" : "not ready: draining\n";
    }
    return r;
  }
  if (request.method == "GET" && options_.docs &&
      (path == "/docs" || absl::StartsWith(path, "/docs/"))) {
    ex.label = "/docs";
    const DocsPage* page = options_.docs_page.get();
    auto file = page != nullptr ? page->find(path) : DocsPage::const_iterator();
    if (page == nullptr || file == page->end()) {
      return ErrorResponse(
          MakeStatus(page == nullptr ? grpc::StatusCode::UNAVAILABLE : grpc::StatusCode::NOT_FOUND,
                     page == nullptr ? "the reference page's files are not installed (--docs_dir)"
                                     : absl::StrCat("no such file: ", path)));
    }
    HttpResponse r;
    r.content_type = file->second.content_type;
    r.body = file->second.body;
    r.headers.emplace_back("content-security-policy", docs_csp_);
    return r;
  }
  return std::nullopt;
}

bool Gateway::IsOpenAiRequest(const HttpRequest& request, const std::string& path) const {
  return options_.openai.enabled && ((request.method == "POST" && path == "/v1/chat/completions") ||
                                     (request.method == "GET" && path == "/v1/models"));
}

Gateway::Outcome Gateway::FindRoute(Exchange& ex) const {
  const HttpRequest& request = *ex.request;
  RouteTable::Lookup found = ex.snapshot->routes.Find(request.method, ex.path);
  if (found.kind == RouteTable::Lookup::kNotFound) {
    return ErrorResponse(MakeStatus(grpc::StatusCode::NOT_FOUND,
                                    absl::StrCat("no route for ", request.method, " ", ex.path)));
  }
  if (found.kind == RouteTable::Lookup::kMethodNotAllowed) {
    std::string allow = absl::StrJoin(found.allow, ", ");
    HttpResponse r =
        ErrorResponse(MakeStatus(grpc::StatusCode::UNIMPLEMENTED,
                                 absl::StrCat("method ", request.method, " is not allowed on ",
                                              ex.path, "; allowed: ", allow)));
    r.status = 405;
    r.headers.emplace_back("allow", allow);
    return r;
  }
  ex.route = found.route;
  ex.bindings = std::move(found.bindings);
  ex.service = ex.route->method->service();
  ex.label = ex.route->label;
  if (ex.route->method->client_streaming()) {
    return ErrorResponse(MakeStatus(grpc::StatusCode::UNIMPLEMENTED,
                                    "client-streaming RPCs are not served by the gateway"));
  }
  return std::nullopt;
}

Gateway::Outcome Gateway::Authenticate(Exchange& ex) const {
  const SecurityOptions& sec = options_.security;
  ex.is_public = ex.service != nullptr && sec.public_services.contains(ex.service->full_name());
  if (sec.authenticator == nullptr || ex.is_public) return std::nullopt;
  const HttpRequest& request = *ex.request;
  auto found = sec.authenticator->Authenticate(request.headers);
  if (!found.ok()) {
    HttpResponse r = ErrorResponse(RpcStatusFromAbsl(found.status()));
    if (found.status().code() == absl::StatusCode::kUnauthenticated) {
      bool presented =
          request.headers.count("authorization") > 0 || request.headers.count("x-api-key") > 0;
      r.headers.emplace_back("www-authenticate", presented ? R"(Bearer error="invalid_token")"
                                                           : R"(Bearer realm="genesis")");
    }
    return r;
  }
  ex.identity = std::move(*found);
  return std::nullopt;
}

Gateway::Outcome Gateway::Authorize(Exchange& ex) const {
  if (options_.security.authenticator == nullptr || ex.is_public) return std::nullopt;
  const std::string& service = ex.service->full_name();
  const std::string& method = ex.route != nullptr ? ex.route->http_method : ex.request->method;
  auto rbac = this->rbac();
  if (rbac == nullptr || rbac->Allows(ex.identity.roles, service, method)) return std::nullopt;
  return ErrorResponse(
      MakeStatus(grpc::StatusCode::PERMISSION_DENIED,
                 absl::StrCat("roles [", absl::StrJoin(ex.identity.roles, ","), "] may not ",
                              method == "GET" ? "read" : "write", " ", service)));
}

Gateway::Outcome Gateway::LimitRate(Exchange& ex) const {
  const SecurityOptions& sec = options_.security;
  if (sec.rate_limiter == nullptr) return std::nullopt;
  bool token_route =
      std::any_of(sec.token_route_prefixes.begin(), sec.token_route_prefixes.end(),
                  [&](const std::string& p) { return absl::StartsWith(ex.path, p); });
  const RateLimitPolicy& policy = token_route ? sec.token_route_limit : sec.general_limit;
  const std::string& address = ex.request->remote_address;
  std::string key =
      ex.is_public
          ? absl::StrCat("ip:", address.empty() ? "unknown" : address, "|", ex.label)
          : absl::StrCat(ex.identity.credential.empty() ? "anonymous" : ex.identity.credential,
                         token_route ? "|token" : "|general");
  RateLimitDecision d = sec.rate_limiter->Take(key, policy);
  HeaderList headers = {{"ratelimit-limit", absl::StrCat(static_cast<int64_t>(policy.burst))},
                        {"ratelimit-remaining", absl::StrCat(static_cast<int64_t>(d.remaining))},
                        {"ratelimit-reset", absl::StrCat(CeilSeconds(d.reset))}};
  if (!d.allowed) {
    // Retry-After comes from the RetryInfo (ErrorResponse).
    HttpResponse r = ErrorResponse(RpcStatusFromAbsl(WithRetryDelay(
        WithReason(absl::ResourceExhaustedError(absl::StrCat("rate limit exceeded; retry after ",
                                                             CeilSeconds(d.retry_after), " s")),
                   kReasonRateLimited,
                   {{"limit", absl::StrCat(static_cast<int64_t>(policy.burst))}}),
        d.retry_after)));
    r.headers.insert(r.headers.begin(), headers.begin(), headers.end());
    return r;
  }
  ex.limit_headers = std::move(headers);
  return std::nullopt;
}

Gateway::Outcome Gateway::Admit(Exchange& ex) const {
  for (Stage stage : {&Gateway::Authenticate, &Gateway::Authorize, &Gateway::LimitRate}) {
    if (Outcome refused = (this->*stage)(ex)) return refused;
  }
  return std::nullopt;
}

Gateway::Outcome Gateway::Transcode(Exchange& ex) const {
  const HttpRequest& request = *ex.request;
  auto timeout = RequestTimeout(request.headers, options_.default_timeout, options_.max_timeout);
  if (!timeout.ok()) return ErrorResponse(RpcStatusFromAbsl(timeout.status()));
  auto content_type = request.headers.find("content-type");
  auto message = ex.snapshot->transcoder->BuildRequest(
      *ex.route, ex.bindings, ex.query, request.body,
      content_type == request.headers.end() ? "" : content_type->second);
  if (!message.ok()) return ErrorResponse(RpcStatusFromAbsl(message.status()));
  ex.timeout = *timeout;
  ex.message = std::move(*message);
  return std::nullopt;
}

void Gateway::Call(Exchange ex, Finish finish) {
  const std::string& service = ex.service->full_name();
  auto backend = ex.snapshot->backends.find(service);
  if (backend == ex.snapshot->backends.end()) {
    CountBackendError(service, grpc::StatusCode::UNAVAILABLE);
    finish(ex.label,
           ErrorResponse(MakeStatus(grpc::StatusCode::UNAVAILABLE,
                                    absl::StrCat("no backend is configured for ", service))));
    return;
  }
  Metadata metadata = CallMetadata(ex.request_id, ex.identity, *ex.request);
  if (ex.route->method->server_streaming()) {
    auto accept = ex.request->headers.find("accept");
    StartStream(ex.snapshot, *ex.route, accept == ex.request->headers.end() ? "" : accept->second,
                backend->second, std::move(ex.message), absl::Now() + ex.timeout, metadata,
                std::move(ex.limit_headers), std::move(finish));
    return;
  }
  // Safe to repeat after UNAVAILABLE: a GET, or a request whose request_id
  // makes the service answer a repeat with the first outcome.
  const bool idempotent = ex.route->http_method == "GET" ||
                          RetryableWithRequestId(*ex.route->method->input_type(), ex.message);
  backend->second->CallIdempotent(
      ex.route->grpc_path, std::move(ex.message), absl::Now() + ex.timeout, metadata, idempotent,
      [this, snap = ex.snapshot, route = ex.route, finish = std::move(finish),
       limit_headers = std::move(ex.limit_headers)](grpc::Status status,
                                                    std::string response) mutable {
        finish(route->label, Render(*snap, *route, status, response, std::move(limit_headers)));
      });
}

HttpResponse Gateway::Render(const RouteSnapshot& snap, const Route& route,
                             const grpc::Status& status, const std::string& response,
                             HeaderList limit_headers) const {
  if (!status.ok()) {
    CountBackendError(route.method->service()->full_name(), status.error_code());
    HttpResponse r = ErrorResponse(RpcStatusFromGrpc(status));
    r.headers.insert(r.headers.begin(), limit_headers.begin(), limit_headers.end());
    return r;
  }
  auto rendered = snap.transcoder->RenderResponse(route, response);
  if (!rendered.ok()) return ErrorResponse(RpcStatusFromAbsl(rendered.status()));
  HttpResponse r;
  r.content_type = std::move(rendered->content_type);
  r.body = std::move(rendered->body);
  r.headers = std::move(limit_headers);
  return r;
}

Gateway::Finish Gateway::Completion(const HttpRequest& request, const std::string& request_id,
                                    const std::string& path,
                                    std::function<void(HttpResponse)> done) {
  metrics_.in_flight->Add(1);
  // Completes the request: metrics, the access log line, the request id and CORS headers.
  return [this, start = absl::Now(), request_id, method = request.method, path,
          cors = CorsOrigin(request),
          done = std::move(done)](std::string route, HttpResponse response) {
    response.headers.emplace_back("x-request-id", request_id);
    // Every 429 says when to come back (a backend's RESOURCE_EXHAUSTED too).
    if (response.status == 429 &&
        std::none_of(response.headers.begin(), response.headers.end(),
                     [](const auto& h) { return h.first == "retry-after"; })) {
      response.headers.emplace_back("retry-after", "1");
    }
    if (!cors.empty()) {
      response.headers.emplace_back("access-control-allow-origin", cors);
      response.headers.emplace_back("access-control-expose-headers",
                                    "x-request-id, retry-after, ratelimit-limit, "
                                    "ratelimit-remaining, ratelimit-reset, www-authenticate, "
                                    "mcp-session-id");
      response.headers.emplace_back("vary", "Origin");
    }
    double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    metrics_.requests->WithLabels({route, std::to_string(response.status)}).Inc();
    metrics_.latency->WithLabels({route}).Observe(seconds);
    metrics_.in_flight->Add(-1);
    {
      RequestIdScope scope(request_id);
      static auto log = Logger("gateway.access");
      log->info("{} {} status={} route=\"{}\" bytes={} duration_ms={:.2f}", method, path,
                response.status, route, response.body.size(), seconds * 1000);
    }
    done(std::move(response));
  };
}

void Gateway::Handle(HttpRequest request, std::function<void(HttpResponse)> done) {
  Exchange ex;
  ex.request = &request;
  ex.request_id = RequestIdFrom(request.headers);
  auto [path, query] = SplitTarget(request.target);
  ex.path = std::string(path);
  ex.query = std::string(query);
  Finish finish = Completion(request, ex.request_id, ex.path, std::move(done));

  if (Outcome response = ServeLocally(ex)) {  // preflight, a bad target, /healthz...
    finish(ex.label, std::move(*response));
    return;
  }
  // The OpenAI-compatible front door takes precedence over transcoded routes.
  if (IsOpenAiRequest(request, ex.path)) {
    ServeOpenAi(request, ex.path, ex.request_id, std::move(finish));
    return;
  }
  // So does the MCP endpoint.
  if (options_.mcp.enabled && ex.path == options_.mcp.path) {
    ServeMcp(request, ex.request_id, std::move(finish));
    return;
  }
  ex.snapshot = snapshot();
  for (Stage stage : {&Gateway::FindRoute, &Gateway::Authenticate, &Gateway::Authorize,
                      &Gateway::LimitRate, &Gateway::Transcode}) {
    if (Outcome response = (this->*stage)(ex)) {
      finish(ex.label, std::move(*response));
      return;
    }
  }
  Call(std::move(ex), std::move(finish));  // then Render, when the backend answers
}

void Gateway::StartStream(std::shared_ptr<const RouteSnapshot> snap, const Route& route,
                          const std::string& accept, Backend* backend, std::string message,
                          absl::Time deadline, const Metadata& metadata, HeaderList limit_headers,
                          Finish finish) {
  const StreamFormat format = StreamFormatFromAccept(accept);
  const std::string service = route.method->service()->full_name();
  // The relay's callbacks hold the snapshot: `route` lives as long as they do.
  auto relay = std::make_shared<StreamRelay>(
      format,
      [snap, &route](const std::string& m) { return snap->transcoder->ResponseToJson(route, m); },
      [snap](const grpc::Status& s) {
        return snap->transcoder->StatusToJson(RpcStatusFromGrpc(s));
      });
  std::weak_ptr<StreamRelay> weak = relay;
  auto count_error = [this, service](const grpc::Status& s) {
    CountBackendError(service, s.error_code());
  };
  auto handlers = relay->Handlers(
      [weak, snap, format, &route, finish, limit_headers] {
        HttpResponse r;
        r.content_type = StreamContentType(format);
        r.headers = limit_headers;
        r.headers.emplace_back("cache-control", "no-cache");
        r.stream = weak.lock();
        finish(route.label, std::move(r));
      },
      [this, snap, &route, finish, limit_headers, count_error](const grpc::Status& s) {
        count_error(s);
        HttpResponse r = ErrorResponse(RpcStatusFromGrpc(s));
        r.headers.insert(r.headers.begin(), limit_headers.begin(), limit_headers.end());
        finish(route.label, std::move(r));
      },
      [count_error](const grpc::Status& s) {
        if (!s.ok() && s.error_code() != grpc::StatusCode::CANCELLED) count_error(s);
      });
  relay->SetCall(backend->CallStream(route.grpc_path, std::move(message), deadline, metadata,
                                     std::move(handlers)));
}

}  // namespace genesis::gateway
