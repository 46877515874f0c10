// Gateway::ServeMcp: the Model Context Protocol's Streamable HTTP transport
// at --mcp_path (protocol.h, tools.h, sessions.h), with the same
// authentication, RBAC and rate limits as every REST route.
//
// Every request: the Origin check (403), authentication (401 with
// WWW-Authenticate, as REST) and the caller's rate limit (429), then
//   POST   one JSON-RPC message: initialize, ping, tools/list, tools/call;
//          notifications and responses 202; JSON answers (never a stream)
//   GET    405: the server sends no messages of its own
//   DELETE ends the session (204)
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/status.h"
#include "common/rpc/mesh_channel.h"
#include "gateway/gateway.h"
#include "gateway/http/errors.h"
#include "gateway/mcp/protocol.h"

namespace genesis::gateway {
namespace {

using nlohmann::json;

constexpr char kSessionHeader[] = "mcp-session-id";

std::string Header(const HttpRequest& request, const std::string& name) {
  auto it = request.headers.find(name);
  return it == request.headers.end() ? "" : it->second;
}

HttpResponse JsonRpcResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// A refusal of the transport (no id): the HTTP status and a JSON-RPC error body.
HttpResponse TransportError(int status, int code, std::string_view message) {
  return JsonRpcResponse(status, mcp::ErrorJson(nullptr, code, message));
}

google::rpc::Status MakeStatus(grpc::StatusCode code, std::string message) {
  return RpcStatusFromAbsl(absl::Status(static_cast<absl::StatusCode>(code), message));
}

}  // namespace

std::vector<const mcp::Tool*> Gateway::VisibleTools(const RouteSnapshot& snap,
                                                    const Identity& identity) const {
  std::vector<const mcp::Tool*> out;
  auto rbac = this->rbac();
  const bool check = options_.security.authenticator != nullptr && rbac != nullptr;
  for (const mcp::Tool& tool : snap.mcp_tools.tools()) {
    if (!check || rbac->Allows(identity.roles, tool.route->method->service()->full_name(),
                               tool.route->http_method)) {
      out.push_back(&tool);
    }
  }
  return out;
}

void Gateway::ServeMcp(const HttpRequest& request, const std::string& request_id, Finish finish) {
  const std::string label = absl::StrCat(request.method, " ", options_.mcp.path);
  // Security: a browser page of another site must not reach a local server
  // through DNS rebinding. An Origin is accepted when it is this machine or
  // one of --cors_origins.
  if (std::string origin = Header(request, "origin");
      !origin.empty() && !mcp::IsLoopbackOrigin(origin) && CorsOrigin(request).empty()) {
    finish(label, TransportError(403, mcp::kServerError,
                                 absl::StrCat("Forbidden: Origin ", origin, " is not allowed")));
    return;
  }
  Exchange ex;
  ex.request = &request;
  ex.request_id = request_id;
  ex.path = options_.mcp.path;
  ex.label = label;
  ex.snapshot = snapshot();
  // The REST path's own stages: 401 with WWW-Authenticate, 429 with Retry-After.
  for (Stage stage : {&Gateway::Authenticate, &Gateway::LimitRate}) {
    if (Outcome refused = (this->*stage)(ex)) {
      finish(label, std::move(*refused));
      return;
    }
  }
  const std::string credential =
      ex.identity.credential.empty() ? "anonymous" : ex.identity.credential;
  auto answer = [&](HttpResponse r) {
    r.headers.insert(r.headers.begin(), ex.limit_headers.begin(), ex.limit_headers.end());
    finish(label, std::move(r));
  };

  if (request.method == "DELETE") {
    const std::string id = Header(request, kSessionHeader);
    if (id.empty()) {
      return answer(TransportError(400, mcp::kServerError,
                                   "Bad Request: the Mcp-Session-Id header is required"));
    }
    if (!mcp_sessions_->Remove(id, credential)) {
      return answer(TransportError(404, mcp::kSessionNotFound, "Session not found"));
    }
    HttpResponse r;
    r.status = 204;
    r.content_type = "text/plain";
    return answer(std::move(r));
  }
  if (request.method != "POST") {
    // GET would open a stream for the server's own messages; it sends none.
    HttpResponse r = TransportError(405, mcp::kServerError,
                                    absl::StrCat("Method Not Allowed: ", request.method,
                                                 "; this endpoint takes POST and DELETE"));
    r.headers.emplace_back("allow", "POST, DELETE");
    return answer(std::move(r));
  }
  if (!mcp::IsJsonContentType(Header(request, "content-type"))) {
    return answer(TransportError(415, mcp::kServerError,
                                 "Unsupported Media Type: Content-Type must be application/json"));
  }
  if (!mcp::AcceptsJsonAndEventStream(Header(request, "accept"))) {
    return answer(TransportError(
        406, mcp::kServerError,
        "Not Acceptable: Accept must list both application/json and text/event-stream"));
  }
  mcp::Parsed parsed = mcp::ParseMessage(request.body);
  if (!parsed.message) {
    const mcp::Refusal& no = parsed.refusal;
    return answer(JsonRpcResponse(no.http_status, mcp::ErrorJson(no.id, no.code, no.message)));
  }
  const mcp::Message& m = *parsed.message;
  if (std::string v = Header(request, "mcp-protocol-version");
      !v.empty() && !mcp::IsSupportedProtocolVersion(v)) {
    return answer(TransportError(
        400, mcp::kServerError,
        absl::StrCat("Bad Request: unsupported MCP-Protocol-Version ", v,
                     "; supported: ", absl::StrJoin(mcp::SupportedProtocolVersions(), ", "))));
  }

  if (m.kind == mcp::Message::kRequest && m.method == "initialize") {
    const json& params = m.params;
    if (!params.is_object() || !params.contains("protocolVersion") ||
        !params["protocolVersion"].is_string()) {
      return answer(JsonRpcResponse(
          200, mcp::ErrorJson(m.id, mcp::kInvalidParams,
                              "Invalid params: initialize needs protocolVersion (a string)")));
    }
    const std::string version =
        mcp::NegotiateProtocolVersion(params["protocolVersion"].get<std::string>());
    HttpResponse r = JsonRpcResponse(
        200, mcp::ResultJson(m.id, mcp::InitializeResult(version, options_.mcp.server_version)));
    r.headers.emplace_back(kSessionHeader, mcp_sessions_->Create(credential, version));
    return answer(std::move(r));
  }

  // Everything else belongs to a session.
  const std::string session = Header(request, kSessionHeader);
  if (session.empty()) {
    return answer(TransportError(400, mcp::kServerError,
                                 "Bad Request: the Mcp-Session-Id header is required (initialize "
                                 "first)"));
  }
  if (!mcp_sessions_->Touch(session, credential)) {
    return answer(
        TransportError(404, mcp::kSessionNotFound, "Session not found: initialize a new session"));
  }
  if (m.kind != mcp::Message::kRequest) {  // notifications/initialized, cancelled; responses
    HttpResponse r;
    r.status = 202;
    r.content_type = "text/plain";
    return answer(std::move(r));
  }
  if (m.method == "ping")
    return answer(JsonRpcResponse(200, mcp::ResultJson(m.id, json::object())));
  if (m.method == "tools/list") {
    std::string cursor;
    if (m.params.is_object() && m.params.contains("cursor")) {
      if (!m.params["cursor"].is_string()) {
        return answer(JsonRpcResponse(
            200,
            mcp::ErrorJson(m.id, mcp::kInvalidParams, "Invalid params: cursor must be a string")));
      }
      cursor = m.params["cursor"].get<std::string>();
    }
    return answer(JsonRpcResponse(
        200, mcp::ResultJson(m.id, mcp::ToolsListResult(VisibleTools(*ex.snapshot, ex.identity),
                                                        cursor, options_.mcp.page_size))));
  }
  if (m.method == "tools/call") {
    CallTool(ex, m.id, m.params,
             [finish, label, limit_headers = ex.limit_headers](std::string body) {
               HttpResponse r = JsonRpcResponse(200, std::move(body));
               r.headers.insert(r.headers.begin(), limit_headers.begin(), limit_headers.end());
               finish(label, std::move(r));
             });
    return;
  }
  answer(JsonRpcResponse(200, mcp::ErrorJson(m.id, mcp::kMethodNotFound,
                                             absl::StrCat("Method not found: ", m.method,
                                                          " (this server offers tools only)"))));
}

void Gateway::CallTool(const Exchange& ex, const json& id, const json& params,
                       std::function<void(std::string)> reply) {
  if (!params.is_object() || !params.contains("name") || !params["name"].is_string()) {
    return reply(mcp::ErrorJson(id, mcp::kInvalidParams,
                                "Invalid params: tools/call needs name (a string)"));
  }
  const std::string name = params["name"].get<std::string>();
  json arguments = params.contains("arguments") ? params["arguments"] : json::object();
  if (arguments.is_null()) arguments = json::object();
  if (!arguments.is_object()) {
    return reply(
        mcp::ErrorJson(id, mcp::kInvalidParams, "Invalid params: arguments must be an object"));
  }
  const RouteSnapshot& snap = *ex.snapshot;
  const mcp::Tool* tool = snap.mcp_tools.Find(name);
  if (tool == nullptr) {
    return reply(mcp::ErrorJson(id, mcp::kInvalidParams, absl::StrCat("Unknown tool: ", name)));
  }
  auto fail = [&](const google::rpc::Status& status) {
    reply(mcp::ResultJson(id, mcp::ToolErrorResult(status)));
  };
  // RBAC as on REST: the tool's binding decides read or write (403 there).
  Exchange call = ex;
  call.route = tool->route;
  call.service = tool->route->method->service();
  if (Outcome refused = Authorize(call)) {
    return fail(MakeStatus(
        grpc::StatusCode::PERMISSION_DENIED,
        absl::StrCat("roles [", absl::StrJoin(ex.identity.roles, ","), "] may not call ", name)));
  }
  auto timeout =
      RequestTimeout(ex.request->headers, options_.default_timeout, options_.max_timeout);
  if (!timeout.ok()) return fail(RpcStatusFromAbsl(timeout.status()));
  // The arguments are the whole request message (a body of "*").
  Route as_body = *tool->route;
  as_body.body = "*";
  auto message = snap.transcoder->BuildRequest(as_body, {}, "", arguments.dump());
  if (!message.ok()) return fail(RpcStatusFromAbsl(message.status()));
  const std::string& service = call.service->full_name();
  auto backend = snap.backends.find(service);
  if (backend == snap.backends.end()) {
    CountBackendError(service, grpc::StatusCode::UNAVAILABLE);
    return fail(MakeStatus(grpc::StatusCode::UNAVAILABLE,
                           absl::StrCat("no backend is configured for ", service)));
  }
  const bool idempotent = tool->route->http_method == "GET" ||
                          RetryableWithRequestId(*tool->route->method->input_type(), *message);
  backend->second->CallIdempotent(
      tool->route->grpc_path, std::move(*message), absl::Now() + *timeout,
      CallMetadata(ex.request_id, ex.identity, *ex.request), idempotent,
      [this, snap = ex.snapshot, tool, id, reply = std::move(reply)](grpc::Status status,
                                                                     std::string response) {
        if (!status.ok()) {
          CountBackendError(tool->route->method->service()->full_name(), status.error_code());
          return reply(mcp::ResultJson(id, mcp::ToolErrorResult(RpcStatusFromGrpc(status))));
        }
        // The whole response message (a rule's response_body is a REST matter).
        Route whole = *tool->route;
        whole.response_body.clear();
        auto rendered = snap->transcoder->ResponseToJson(whole, response);
        json structured =
            rendered.ok() ? json::parse(*rendered, nullptr, /*allow_exceptions=*/false) : json();
        if (!rendered.ok() || !structured.is_object()) {
          return reply(mcp::ResultJson(
              id, mcp::ToolErrorResult(MakeStatus(grpc::StatusCode::INTERNAL,
                                                  "the service's answer could not be rendered"))));
        }
        reply(mcp::ResultJson(id, mcp::ToolResult(structured)));
      });
}

}  // namespace genesis::gateway
