#include "gateway/mcp/protocol.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gateway/http/errors.h"
#include "gateway/http/strict_json.h"
#include "google/rpc/error_details.pb.h"

namespace genesis::gateway::mcp {
namespace {

using nlohmann::json;

Parsed Refuse(int code, std::string message, json id = nullptr) {
  Parsed p;
  p.refusal.code = code;
  p.refusal.message = std::move(message);
  p.refusal.id = std::move(id);
  return p;
}

// The media types of an Accept or Content-Type value, lower-case, without parameters.
std::vector<std::string> MediaTypes(std::string_view value) {
  std::vector<std::string> out;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(value.data(), value.size()), ',')) {
    absl::string_view type = part.substr(0, part.find(';'));
    type = absl::StripAsciiWhitespace(type);
    if (!type.empty()) out.push_back(absl::AsciiStrToLower(type));
  }
  return out;
}

}  // namespace

const std::vector<std::string>& SupportedProtocolVersions() {
  static const std::vector<std::string> kVersions = {kLatestProtocolVersion, "2025-06-18",
                                                     "2025-03-26"};
  return kVersions;
}

bool IsSupportedProtocolVersion(std::string_view version) {
  const auto& v = SupportedProtocolVersions();
  return std::find(v.begin(), v.end(), version) != v.end();
}

std::string NegotiateProtocolVersion(const std::string& requested) {
  return IsSupportedProtocolVersion(requested) ? requested : kLatestProtocolVersion;
}

Parsed ParseMessage(std::string_view body) {
  if (auto st = CheckStrictJson(body); !st.ok()) {
    return Refuse(kParseError, absl::StrCat("Parse error: ", st.message()));
  }
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Refuse(kParseError, "Parse error: not JSON");
  if (doc.is_array()) {
    return Refuse(kInvalidRequest, "Invalid Request: batches are not supported; send one message");
  }
  if (!doc.is_object()) return Refuse(kInvalidRequest, "Invalid Request: not a JSON-RPC object");
  json id = nullptr;
  const bool has_id = doc.contains("id");
  if (has_id) {
    const json& raw = doc["id"];
    if (!raw.is_string() && !raw.is_number_integer()) {
      return Refuse(kInvalidRequest, "Invalid Request: id must be a string or an integer");
    }
    id = raw;
  }
  if (doc.value("jsonrpc", json()) != "2.0") {
    return Refuse(kInvalidRequest, "Invalid Request: jsonrpc must be \"2.0\"", id);
  }
  Message m;
  m.id = id;
  if (!doc.contains("method")) {
    // A response to a request of ours (the server sends none, but must accept them).
    if (has_id && (doc.contains("result") != doc.contains("error"))) {
      m.kind = Message::kResponse;
      Parsed p;
      p.message = std::move(m);
      return p;
    }
    return Refuse(kInvalidRequest, "Invalid Request: no method", id);
  }
  if (!doc["method"].is_string()) {
    return Refuse(kInvalidRequest, "Invalid Request: method must be a string", id);
  }
  m.method = doc["method"].get<std::string>();
  if (doc.contains("params")) {
    if (!doc["params"].is_object()) {
      return Refuse(kInvalidRequest, "Invalid Request: params must be an object", id);
    }
    m.params = doc["params"];
  }
  m.kind = has_id ? Message::kRequest : Message::kNotification;
  Parsed p;
  p.message = std::move(m);
  return p;
}

std::string ResultJson(const json& id, const json& result) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}.dump();
}

std::string ErrorJson(const json& id, int code, std::string_view message, const json& data) {
  json error = {{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = data;
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}}.dump();
}

bool AcceptsJsonAndEventStream(std::string_view accept) {
  bool json_ok = false, sse_ok = false;
  for (const std::string& t : MediaTypes(accept)) {
    json_ok |= t == "application/json" || t == "application/*" || t == "*/*";
    sse_ok |= t == "text/event-stream" || t == "text/*" || t == "*/*";
  }
  return json_ok && sse_ok;
}

bool IsJsonContentType(std::string_view content_type) {
  auto types = MediaTypes(content_type);
  return types.size() == 1 && types[0] == "application/json";
}

bool IsLoopbackOrigin(std::string_view origin) {
  absl::string_view rest(origin.data(), origin.size());
  if (!absl::ConsumePrefix(&rest, "http://") && !absl::ConsumePrefix(&rest, "https://")) {
    return false;
  }
  absl::string_view host = rest;
  if (absl::StartsWith(host, "[")) {
    size_t end = host.find(']');
    if (end == absl::string_view::npos) return false;
    absl::string_view after = host.substr(end + 1);
    host = host.substr(0, end + 1);
    if (!after.empty() && after[0] != ':') return false;
    rest = after;
  } else {
    size_t colon = host.find(':');
    rest = colon == absl::string_view::npos ? absl::string_view() : host.substr(colon);
    host = host.substr(0, colon);
  }
  if (!rest.empty()) {  // ":port", digits only
    rest.remove_prefix(1);
    if (rest.empty() || !std::all_of(rest.begin(), rest.end(), absl::ascii_isdigit)) return false;
  }
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

json InitializeResult(const std::string& version, const std::string& server_version) {
  return {
      {"protocolVersion", version},
      {"capabilities", {{"tools", {{"listChanged", false}}}}},
      {"serverInfo",
       {{"name", "genesis-gateway"}, {"title", "Genesis mesh"}, {"version", server_version}}},
      {"instructions",
       "Each tool is one RPC of the Genesis mesh (catalog, reasoning, LLM router, voice, bots): "
       "its arguments are the request message as proto3 JSON (lowerCamel names, 64-bit integers "
       "as strings, enums by name), its structured result the response message. A failed call "
       "returns isError with the gRPC status and the fields at fault; fix them and call again."}};
}

json ToolsListResult(const std::vector<const Tool*>& tools, const std::string& cursor,
                     size_t page_size) {
  auto it = std::lower_bound(tools.begin(), tools.end(), cursor,
                             [](const Tool* t, const std::string& c) { return t->name < c; });
  json list = json::array();
  for (; it != tools.end() && list.size() < page_size; ++it) list.push_back((*it)->ToJson());
  json result = {{"tools", std::move(list)}};
  if (it != tools.end()) result["nextCursor"] = (*it)->name;
  return result;
}

json ToolResult(const json& structured) {
  return {{"content", json::array({{{"type", "text"}, {"text", structured.dump()}}})},
          {"structuredContent", structured},
          {"isError", false}};
}

json ToolErrorResult(const google::rpc::Status& status) {
  std::string text = absl::StrCat(GrpcCodeName(static_cast<grpc::StatusCode>(status.code())), ": ",
                                  status.message());
  for (const auto& detail : status.details()) {
    google::rpc::BadRequest bad;
    google::rpc::ErrorInfo info;
    if (detail.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) {
        absl::StrAppend(&text, "\n- ", v.field(), ": ", v.description());
      }
    } else if (detail.UnpackTo(&info) && !info.reason().empty()) {
      absl::StrAppend(&text, "\nreason: ", info.reason());
    }
  }
  return {{"content", json::array({{{"type", "text"}, {"text", text}}})}, {"isError", true}};
}

}  // namespace genesis::gateway::mcp
