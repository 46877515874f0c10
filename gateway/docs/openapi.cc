#include "gateway/docs/openapi.h"

#include <map>
#include <set>

#include <google/protobuf/descriptor.pb.h>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace genesis::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;

template <typename D>
std::string Comment(const D* d) {
  google::protobuf::SourceLocation loc;
  if (d == nullptr || !d->GetSourceLocation(&loc)) return "";
  // "// a\n// b" arrives as " a\n b\n".
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(loc.leading_comments, '\n')) {
    lines.emplace_back(absl::StripAsciiWhitespace(line));
  }
  return std::string(absl::StripAsciiWhitespace(absl::StrJoin(lines, "\n")));
}

// Builds components/schemas on demand, one entry per message reached.
class Schemas {
 public:
  json Ref(const Descriptor* m) {
    if (auto wkt = WellKnown(m); !wkt.is_null()) return wkt;
    const std::string& name = m->full_name();
    if (!schemas_.contains(name)) {
      schemas_[name] = json::object();  // placeholder: recursive messages
      json props = json::object();
      for (int i = 0; i < m->field_count(); ++i) {
        const FieldDescriptor* f = m->field(i);
        json s = Field(f);
        if (auto c = Comment(f); !c.empty()) s["description"] = c;
        props[f->json_name()] = s;
      }
      json schema = {{"type", "object"}, {"properties", props}};
      if (auto c = Comment(m); !c.empty()) schema["description"] = c;
      schemas_[name] = schema;
    }
    return {{"$ref", "#/components/schemas/" + name}};
  }

  json Field(const FieldDescriptor* f) {
    if (f->is_map()) {
      return {{"type", "object"}, {"additionalProperties", Single(f->message_type()->map_value())}};
    }
    if (f->is_repeated()) return {{"type", "array"}, {"items", Single(f)}};
    return Single(f);
  }

  json Single(const FieldDescriptor* f) {
    switch (f->type()) {
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SINT32:
      case FieldDescriptor::TYPE_SFIXED32:
        return {{"type", "integer"}, {"format", "int32"}};
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        return {{"type", "integer"}, {"format", "uint32"}};
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SINT64:
      case FieldDescriptor::TYPE_SFIXED64:
        return {{"type", "string"}, {"format", "int64"}};
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        return {{"type", "string"}, {"format", "uint64"}};
      case FieldDescriptor::TYPE_DOUBLE:
        return {{"type", "number"}, {"format", "double"}};
      case FieldDescriptor::TYPE_FLOAT:
        return {{"type", "number"}, {"format", "float"}};
      case FieldDescriptor::TYPE_BOOL:
        return {{"type", "boolean"}};
      case FieldDescriptor::TYPE_STRING:
        return {{"type", "string"}};
      case FieldDescriptor::TYPE_BYTES:
        return {{"type", "string"}, {"format", "byte"}};
      case FieldDescriptor::TYPE_ENUM:
        return Enum(f->enum_type());
      default:
        return Ref(f->message_type());
    }
  }

  static json Enum(const EnumDescriptor* e) {
    json values = json::array();
    for (int i = 0; i < e->value_count(); ++i) values.push_back(e->value(i)->name());
    return {{"type", "string"}, {"enum", values}};
  }

  [[nodiscard]] const json& all() const { return schemas_; }

 private:
  static json WellKnown(const Descriptor* m) {
    const std::string& n = m->full_name();
    if (n == "google.protobuf.Timestamp") return {{"type", "string"}, {"format", "date-time"}};
    if (n == "google.protobuf.Duration") {
      return {{"type", "string"}, {"description", "seconds with an s suffix, e.g. 1.5s"}};
    }
    if (n == "google.protobuf.FieldMask") {
      return {{"type", "string"}, {"description", "comma-separated lowerCamel field paths"}};
    }
    if (n == "google.protobuf.Struct") return {{"type", "object"}, {"additionalProperties", true}};
    if (n == "google.protobuf.Value") return json::object();  // any JSON value
    if (n == "google.protobuf.ListValue") return {{"type", "array"}, {"items", json::object()}};
    if (n == "google.protobuf.Empty") return {{"type", "object"}};
    if (n == "google.protobuf.Any") {
      return {{"type", "object"},
              {"properties", {{"@type", {{"type", "string"}}}}},
              {"additionalProperties", true}};
    }
    if (absl::StartsWith(n, "google.protobuf.") && absl::EndsWith(n, "Value") &&
        m->field_count() == 1) {
      json s = Schemas().Single(m->field(0));
      s["nullable"] = true;
      return s;
    }
    return nullptr;
  }

  json schemas_ = json::object();
};

// One OpenAPI path parameter: a wildcard of a template variable.
struct PathParam {
  std::string name;     // "name", or "name_1", "name_2" for several wildcards
  std::string field;    // the request field the variable sets: "name"
  std::string pattern;  // "shelves/*/books/*"
  bool multi = false;   // `**`: may contain slashes
};

// Template -> OpenAPI path. The literal segments of a variable's pattern go
// into the path, so `/v1/{name=items/*}` and `/v1/{name=types/*}` stay
// distinct: "/v1/items/{name}" (the URL is the same; `name` is bound to the
// whole "items/42"). "/v1/{name=shelves/*/books/*}" -> "/v1/shelves/{name_1}/books/{name_2}".
std::string OpenApiPath(const std::string& tmpl, std::vector<PathParam>* params) {
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] != '{') {
      out += tmpl[i++];
      continue;
    }
    size_t end = tmpl.find('}', i);
    if (end == std::string::npos) end = tmpl.size();
    std::pair<std::string, std::string> var =
        absl::StrSplit(tmpl.substr(i + 1, end - i - 1), absl::MaxSplits('=', 1));
    std::string pattern = var.second.empty() ? "*" : var.second;
    std::vector<std::string> segments = absl::StrSplit(pattern, '/');
    int wildcards = 0;
    for (const auto& seg : segments) wildcards += seg == "*" || seg == "**";
    int k = 0;
    std::vector<std::string> rendered;
    for (const auto& seg : segments) {
      if (seg != "*" && seg != "**") {
        rendered.push_back(seg);
        continue;
      }
      PathParam p{wildcards > 1 ? absl::StrCat(var.first, "_", ++k) : var.first, var.first, pattern,
                  seg == "**"};
      rendered.push_back(absl::StrCat("{", p.name, "}"));
      params->push_back(std::move(p));
    }
    absl::StrAppend(&out, absl::StrJoin(rendered, "/"));
    i = end + 1;
  }
  return out;
}

// A raw body (google.api.HttpBody): any content type, bytes as they are.
json RawContent() { return {{"*/*", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}; }

}  // namespace

std::string BuildOpenApi(const RouteTable& routes, const OpenApiOptions& options) {
  static const std::set<std::string> kMethods = {"GET", "PUT", "POST", "DELETE", "PATCH"};
  Schemas schemas;
  json paths = json::object();
  std::map<std::string, int> operation_ids;
  for (const auto& route : routes.routes()) {
    if (!kMethods.contains(route->http_method)) continue;
    const auto* method = route->method;
    const Descriptor* input = method->input_type();
    std::vector<PathParam> path_params;
    std::string path = OpenApiPath(route->path.text(), &path_params);

    json op = json::object();
    int n = ++operation_ids[method->full_name()];
    op["operationId"] = n == 1 ? method->full_name() : absl::StrCat(method->full_name(), "_", n);
    op["tags"] = {method->service()->full_name()};
    std::string comment = Comment(method);
    std::vector<std::string> lines = absl::StrSplit(comment, '\n');
    op["summary"] = comment.empty() ? method->name() : lines[0];
    if (!comment.empty()) op["description"] = comment;

    json params = json::array();
    std::set<std::string> bound;  // top-level fields set by the path or the body
    for (const auto& p : path_params) {
      bound.insert(p.field.substr(0, p.field.find('.')));
      std::string description = absl::StrCat("Sets `", p.field, "` (pattern `", p.pattern, "`)");
      if (p.multi) absl::StrAppend(&description, "; may contain slashes");
      params.push_back({{"name", p.name},
                        {"in", "path"},
                        {"required", true},
                        {"description", description},
                        {"schema", {{"type", "string"}}}});
    }
    const FieldDescriptor* body_field =
        route->body.empty() || route->body == "*" ? nullptr : input->FindFieldByName(route->body);
    const bool raw_request = (route->body == "*" && IsHttpBody(input)) ||
                             (body_field != nullptr && body_field->message_type() != nullptr &&
                              !body_field->is_repeated() && IsHttpBody(body_field->message_type()));
    if (raw_request) {
      op["requestBody"] = {
          {"required", true},
          {"description",
           "The raw body (google.api.HttpBody): the exact bytes and Content-Type reach the "
           "service."},
          {"content", RawContent()}};
    }
    if (route->body == "*") {
      if (!raw_request) {
        op["requestBody"] = {{"required", true},
                             {"content", {{"application/json", {{"schema", schemas.Ref(input)}}}}}};
      }
    } else {
      if (!route->body.empty()) {
        bound.insert(route->body);
        const FieldDescriptor* f = input->FindFieldByName(route->body);
        if (f != nullptr && !raw_request) {
          op["requestBody"] = {{"required", true},
                               {"content", {{"application/json", {{"schema", schemas.Field(f)}}}}}};
        }
      }
      for (int i = 0; i < input->field_count(); ++i) {
        const FieldDescriptor* f = input->field(i);
        if (bound.contains(f->name()) || f->is_map()) continue;
        json s = schemas.Field(f);
        if (s.contains("$ref")) continue;  // nested messages: ?a.b=... (see README)
        json p = {{"name", f->json_name()}, {"in", "query"}, {"schema", s}};
        if (auto c = Comment(f); !c.empty()) p["description"] = c;
        if (f->is_repeated()) p["explode"] = true;
        params.push_back(p);
      }
    }
    if (!params.empty()) op["parameters"] = params;

    const FieldDescriptor* response_field =
        route->response_body.empty() ? nullptr
                                     : method->output_type()->FindFieldByName(route->response_body);
    const bool raw_response = response_field == nullptr
                                  ? IsHttpBody(method->output_type())
                                  : response_field->message_type() != nullptr &&
                                        !response_field->is_repeated() &&
                                        IsHttpBody(response_field->message_type());
    json response_schema;
    if (!route->response_body.empty()) {
      const FieldDescriptor* f = method->output_type()->FindFieldByName(route->response_body);
      response_schema = f != nullptr ? schemas.Field(f) : json::object();
    } else {
      response_schema = schemas.Ref(method->output_type());
    }
    if (method->server_streaming()) {
      op["responses"]["200"] = {
          {"description",
           "A stream: Server-Sent Events (`data: <json>`) with Accept: text/event-stream, else "
           "one JSON object per line; a failure mid-stream ends it with `event: error` / "
           "`{\"error\": <google.rpc.Status>}`."},
          {"content",
           {{"text/event-stream", {{"schema", {{"type", "string"}}}}},
            {"application/x-ndjson", {{"schema", response_schema}}}}}};
    } else if (raw_response) {
      op["responses"]["200"] = {
          {"description",
           "The raw body (google.api.HttpBody) with the Content-Type the service chose."},
          {"content", RawContent()}};
    } else {
      op["responses"]["200"] = {{"description", "OK"},
                                {"content", {{"application/json", {{"schema", response_schema}}}}}};
    }
    op["responses"]["default"] = {{"$ref", "#/components/responses/Error"}};
    if (options.auth && options.public_services.contains(method->service()->full_name())) {
      op["security"] = json::array();
    }
    paths[path][absl::AsciiStrToLower(route->http_method)] = op;
  }

  json status_ref = {{"$ref", "#/components/schemas/google.rpc.Status"}};
  json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", options.title},
        {"version", options.version},
        {"description",
         "Generated by genesis-gateway from the services' descriptors and google.api.http "
         "rules. JSON follows the proto3 mapping (64-bit integers as strings)."}}},
      {"paths", paths},
  };
  json components = {
      {"responses",
       {{"Error",
         {{"description", "An error: a google.rpc.Status (HTTP status from its code)."},
          {"content", {{"application/json", {{"schema", status_ref}}}}}}}}}};
  if (options.auth) {
    components["securitySchemes"] = {
        {"bearerAuth",
         {{"type", "http"},
          {"scheme", "bearer"},
          {"bearerFormat", "JWT"},
          {"description", "A JWT, or an API key (gk_<id>_<secret>) as the bearer token."}}},
        {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Api-Key"}}}};
    doc["security"] = json::array({{{"bearerAuth", json::array()}}, {{"apiKey", json::array()}}});
  }
  // google.rpc.Status from the pool of any routed method (the transcoder adds it).
  if (!routes.routes().empty()) {
    const auto* status =
        routes.routes().front()->method->file()->pool()->FindMessageTypeByName("google.rpc.Status");
    if (status != nullptr) schemas.Ref(status);
  }
  components["schemas"] = schemas.all();
  doc["components"] = components;
  return doc.dump();
}

}  // namespace genesis::gateway
