// The Model Context Protocol's messages as the gateway's /mcp endpoint speaks
// them (JSON-RPC 2.0, revision 2025-11-25 of the specification, with
// 2025-06-18 and 2025-03-26 negotiated too): parsing and checking what a
// client POSTs, and building results and errors. Pure, thread-safe; the
// endpoint itself (HTTP, sessions, admission, backend calls) is
// Gateway::ServeMcp (gateway_mcp.cc).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/mcp/tools.h"
#include "google/rpc/status.pb.h"

namespace genesis::gateway::mcp {

// The revision this server prefers, and every revision it speaks.
inline constexpr char kLatestProtocolVersion[] = "2025-11-25";
const std::vector<std::string>& SupportedProtocolVersions();
// The client's version when the server speaks it, else the latest (the client
// then decides whether it can go on: lifecycle, "Version Negotiation").
std::string NegotiateProtocolVersion(const std::string& requested);
[[nodiscard]] bool IsSupportedProtocolVersion(std::string_view version);

// JSON-RPC 2.0 error codes.
enum ErrorCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  // Transport-level refusals (a missing session, a bad header), as the
  // specification's SDKs answer them.
  kServerError = -32000,
  kSessionNotFound = -32001,
};

// One JSON-RPC message from the client.
struct Message {
  enum Kind { kRequest, kNotification, kResponse } kind = kRequest;
  nlohmann::json id;  // string or integer; null for a notification
  std::string method;
  nlohmann::json params;  // object, or null when absent
};

// A message that cannot be served: the JSON-RPC error and the HTTP status it
// goes with (400 for a body that is not one JSON-RPC message).
struct Refusal {
  int http_status = 400;
  int code = kInvalidRequest;
  std::string message;
  nlohmann::json id;  // null unless the request's id could be read
};

// Parses a POST body: RFC 8259 JSON with no duplicate keys, one JSON-RPC 2.0
// request, notification or response (batches were removed in 2025-06-18).
// Refusal: kParseError for JSON that does not parse, kInvalidRequest for a
// JSON value that is not a message (no "jsonrpc": "2.0", a method that is not
// a string, an id that is not a string or integer, params that are not an
// object, an array).
struct Parsed {
  std::optional<Message> message;
  Refusal refusal;
};
Parsed ParseMessage(std::string_view body);

// The bodies of a JSON-RPC response.
std::string ResultJson(const nlohmann::json& id, const nlohmann::json& result);
std::string ErrorJson(const nlohmann::json& id, int code, std::string_view message,
                      const nlohmann::json& data = nullptr);

// True when an Accept header lists both application/json and
// text/event-stream (or wildcards covering them), as a POST must.
[[nodiscard]] bool AcceptsJsonAndEventStream(std::string_view accept);
// True when a Content-Type is application/json (parameters allowed).
[[nodiscard]] bool IsJsonContentType(std::string_view content_type);
// True for an Origin on this machine: http(s)://localhost, 127.0.0.1 or [::1], any port.
[[nodiscard]] bool IsLoopbackOrigin(std::string_view origin);

// The InitializeResult for `version` (already negotiated).
nlohmann::json InitializeResult(const std::string& version, const std::string& server_version);

// One page of tools/list over `tools` (already filtered for the caller):
// `page_size` tools from the first whose name is >= `cursor` ("" = the
// start), and nextCursor (the next tool's name) when more remain.
nlohmann::json ToolsListResult(const std::vector<const Tool*>& tools, const std::string& cursor,
                               size_t page_size);

// A successful tools/call result: the response as structured content and,
// for clients that read only content, the same JSON as a text block.
nlohmann::json ToolResult(const nlohmann::json& structured);
// A failed call as a tool result (isError: true) the model can read and act
// on: "<CODE>: <message>", the field violations of a google.rpc.BadRequest
// and the ErrorInfo reason, one a line.
nlohmann::json ToolErrorResult(const google::rpc::Status& status);

}  // namespace genesis::gateway::mcp
