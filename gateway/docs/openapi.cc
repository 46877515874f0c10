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
#include "gateway/docs/proto_docs.h"
#include "google/api/field_behavior.pb.h"
#include "google/api/resource.pb.h"

namespace genesis::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;

constexpr const char* kOpenAiTag = "OpenAI-compatible";
constexpr const char* kGatewayTag = "Gateway";

// Builds components/schemas on demand, one entry per message reached.
class Schemas {
 public:
  json Ref(const Descriptor* m) {
    if (auto wkt = WellKnown(m); !wkt.is_null()) return wkt;
    const std::string& name = m->full_name();
    if (!schemas_.contains(name)) {
      schemas_[name] = json::object();  // placeholder: recursive messages
      json props = json::object();
      json required = json::array();
      for (int i = 0; i < m->field_count(); ++i) {
        const FieldDescriptor* f = m->field(i);
        json s = Field(f);
        const FieldDoc doc = DocOf(f);
        const bool output_only = HasFieldBehavior(f, google::api::OUTPUT_ONLY);
        if (!doc.description.empty() || !doc.example.is_null() || output_only) {
          // A $ref takes no siblings in OpenAPI 3.0: wrap it to describe the field.
          if (s.contains("$ref")) s = {{"allOf", json::array({s})}};
        }
        if (!doc.description.empty()) s["description"] = doc.description;
        if (!doc.example.is_null()) s["example"] = doc.example;
        // https://google.aip.dev/203: set by the service, ignored in requests.
        if (output_only) s["readOnly"] = true;
        if (HasFieldBehavior(f, google::api::REQUIRED)) required.push_back(f->json_name());
        props[f->json_name()] = s;
      }
      json schema = {{"type", "object"}, {"properties", props}};
      if (!required.empty()) schema["required"] = required;
      if (auto c = ProtoComment(m); !c.empty()) schema["description"] = c;
      schemas_[name] = schema;
    }
    return {{"$ref", "#/components/schemas/" + name}};
  }

  // A copy of the schema of `m`, to alter. The schema of `m` itself stays
  // only if something else refers to it (no unused components).
  json Variant(const Descriptor* m) {
    const bool existed = schemas_.contains(m->full_name());
    Ref(m);
    json schema = schemas_[m->full_name()];
    if (!existed) schemas_.erase(m->full_name());
    return schema;
  }

  // The body of an update (https://google.aip.dev/134): the resource `m` with
  // no field required, since only the fields in `update_mask` (or the fields
  // set) change. Resources hold their create-time REQUIRED fields in
  // `required`.
  json PartialRef(const Descriptor* m) {
    const std::string name = m->full_name() + ".partial";
    if (!schemas_.contains(name)) {
      json schema = Variant(m);
      schema.erase("required");
      schema["description"] = absl::StrCat(
          "A ", m->name(),
          " in an update: no field is required; the fields named in `update_mask` change (without "
          "paths, the fields set).");
      schemas_[name] = schema;
    }
    return {{"$ref", "#/components/schemas/" + name}};
  }

  // The body of a `body: "*"` route: the request `m` without the fields the
  // path sets (`bound`), which the body does not carry.
  json BodyRef(const Descriptor* m, const std::set<std::string>& bound) {
    std::vector<const FieldDescriptor*> fields;
    for (const std::string& b : bound) {
      if (const FieldDescriptor* f = m->FindFieldByName(b); f != nullptr) fields.push_back(f);
    }
    if (fields.empty()) return Ref(m);
    const std::string name = m->full_name() + ".body";
    if (!schemas_.contains(name)) {
      json schema = Variant(m);
      std::vector<std::string> names;
      for (const FieldDescriptor* f : fields) {
        schema["properties"].erase(f->json_name());
        names.push_back(absl::StrCat("`", f->json_name(), "`"));
        if (schema.contains("required")) {
          json kept = json::array();
          for (const auto& r : schema["required"]) {
            if (r != f->json_name()) kept.push_back(r);
          }
          schema["required"] = kept;
          if (kept.empty()) schema.erase("required");
        }
      }
      const std::string about = schema.value("description", "");
      schema["description"] =
          absl::StrCat(about, about.empty() ? "" : "\n\n", "The path sets ",
                       absl::StrJoin(names, ", "), "; the body carries the other fields.");
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

  // The inline schema of a well-known type written as a JSON scalar, array or
  // object (Timestamp, Struct, wrappers...); null for other messages.
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

 private:
  json schemas_ = json::object();
};

// One OpenAPI path parameter: a wildcard of a template variable.
struct PathParam {
  std::string name;     // "bot", "conversation"; "name" for a whole-segment variable
  std::string field;    // the request field the variable sets: "name"
  std::string pattern;  // the variable's text with parameters: "bots/{bot}/conversations/{c}"
  bool multi = false;   // `**`: may contain slashes
};

// Template -> OpenAPI path. The literal segments of a variable's pattern go
// into the path, so `/v1/{name=items/*}` and `/v1/{name=types/*}` stay
// distinct: "/v1/items/{item}" (the URL is the same; `name` is bound to the
// whole "items/42"). "/v1/{name=bots/*/conversations/*}" ->
// "/v1/bots/{bot}/conversations/{conversation}".
std::string OpenApiPath(const std::string& tmpl, std::vector<PathParam>* params) {
  std::string out;
  std::set<std::string> used;
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
    std::vector<std::string> rendered;
    std::vector<size_t> mine;  // indexes into *params of this variable's wildcards
    for (size_t k = 0; k < segments.size(); ++k) {
      const std::string& seg = segments[k];
      if (seg != "*" && seg != "**") {
        rendered.push_back(seg);
        continue;
      }
      const bool after_literal = k > 0 && segments[k - 1] != "*" && segments[k - 1] != "**";
      std::string name = PathParameterName(after_literal ? segments[k - 1] : "", var.first);
      for (int n = 2; used.contains(name); ++n) {
        name = absl::StrCat(PathParameterName(after_literal ? segments[k - 1] : "", var.first), "_",
                            n);
      }
      used.insert(name);
      rendered.push_back(absl::StrCat("{", name, "}"));
      mine.push_back(params->size());
      params->push_back({name, var.first, "", seg == "**"});
    }
    const std::string text = absl::StrJoin(rendered, "/");
    for (size_t k : mine) (*params)[k].pattern = text;
    absl::StrAppend(&out, text);
    i = end + 1;
  }
  return out;
}

// The query parameters of a request field: scalars (and well-known types
// written as scalars) by their lowerCamel name; the scalar fields of a
// message field by dotted paths (`?hub.mode=...`), a few levels deep. Maps,
// repeated messages and recursive messages cannot be set from the query.
void AddQueryParameters(Schemas* schemas, const FieldDescriptor* f, const std::string& prefix,
                        int depth, json* params) {
  if (f->is_map()) return;
  const std::string name = prefix + f->json_name();
  if (f->message_type() != nullptr && Schemas::WellKnown(f->message_type()).is_null()) {
    if (f->is_repeated() || depth >= 3) return;
    for (int i = 0; i < f->message_type()->field_count(); ++i) {
      AddQueryParameters(schemas, f->message_type()->field(i), name + ".", depth + 1, params);
    }
    return;
  }
  json p = {{"name", name}, {"in", "query"}, {"schema", schemas->Field(f)}};
  const FieldDoc doc = DocOf(f);
  if (!doc.description.empty()) p["description"] = doc.description;
  if (!doc.example.is_null()) p["example"] = doc.example;
  // A REQUIRED field of the request itself (nested ones belong to an optional parent).
  if (depth == 0 && HasFieldBehavior(f, google::api::REQUIRED)) p["required"] = true;
  if (f->is_repeated()) p["explode"] = true;
  params->push_back(p);
}

// A raw body (google.api.HttpBody): any content type, bytes as they are.
json RawContent() { return {{"*/*", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}; }

json SchemaRef(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }
json ResponseRef(const std::string& name) { return {{"$ref", "#/components/responses/" + name}}; }
json HeaderRef(const std::string& name) { return {{"$ref", "#/components/headers/" + name}}; }
json JsonContent(json schema) { return {{"application/json", {{"schema", std::move(schema)}}}}; }

// True when `m` (or the message of one of its top-level fields) has an `etag`
// field: such a request may fail ABORTED (409) on a stale etag.
bool CarriesEtag(const Descriptor* m) {
  if (m->FindFieldByName("etag") != nullptr) return true;
  for (int i = 0; i < m->field_count(); ++i) {
    const FieldDescriptor* f = m->field(i);
    if (f->message_type() != nullptr && !f->is_repeated() &&
        f->message_type()->FindFieldByName("etag") != nullptr) {
      return true;
    }
  }
  return false;
}

// The error responses, headers and schemas every operation refers to.
json ErrorComponents(bool rate_limits, json* headers, json* extra_schemas) {
  *headers = json::parse(R"json({
    "Retry-After": {"description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 1}},
    "RateLimit-Limit": {"description": "Requests the caller's bucket holds for this route class (its burst).",
                        "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requests left in the bucket now.",
                            "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the bucket is full again.",
                        "schema": {"type": "integer"}},
    "WWW-Authenticate": {"description": "The Bearer challenge (RFC 6750), with the reason when a token was sent.",
                         "schema": {"type": "string"}}
  })json");
  *extra_schemas = json::parse(R"json({
    "BadRequestStatus": {
      "type": "object",
      "description": "A google.rpc.Status with code 3 (INVALID_ARGUMENT) whose details hold a google.rpc.BadRequest: one field violation per field at fault (`item.title`, a query parameter, a path variable).",
      "properties": {
        "code": {"type": "integer", "format": "int32"},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {"$ref": "#/components/schemas/BadRequestDetail"}}
      }
    },
    "BadRequestDetail": {
      "description": "A google.rpc.BadRequest, or another google.rpc error detail by `@type`.",
      "allOf": [
        {"$ref": "#/components/schemas/google.rpc.BadRequest"},
        {"type": "object", "required": ["@type"],
         "properties": {"@type": {"type": "string", "example": "type.googleapis.com/google.rpc.BadRequest"}}}
      ]
    }
  })json");
  json responses = json::parse(R"json({
    "BadRequest": {
      "description": "INVALID_ARGUMENT (also FAILED_PRECONDITION, OUT_OF_RANGE): a field, path variable or query parameter the request may not have, or a state the resource is not in; the fields at fault are named in a google.rpc.BadRequest.",
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BadRequestStatus"}}}
    },
    "Unauthorized": {
      "description": "UNAUTHENTICATED: no credential, or one that is not valid (expired, wrong signature, revoked key).",
      "headers": {"WWW-Authenticate": {"$ref": "#/components/headers/WWW-Authenticate"}}
    },
    "Forbidden": {"description": "PERMISSION_DENIED: the caller's roles do not allow this route."},
    "NotFound": {"description": "NOT_FOUND: no such resource (or no route for the path)."},
    "Conflict": {"description": "ABORTED: the etag sent is not the resource's current one (read it again and retry), or ALREADY_EXISTS."},
    "PayloadTooLarge": {"description": "The body is larger than the gateway accepts (--max_body_bytes)."},
    "TooManyRequests": {
      "description": "RESOURCE_EXHAUSTED: the caller's rate limit (or a service's quota) is used up; retry after Retry-After seconds.",
      "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    },
    "ServiceUnavailable": {"description": "UNAVAILABLE: the service behind the route is down, or the gateway is busy; safe to retry with back-off."},
    "Error": {"description": "Any other error: a google.rpc.Status (HTTP status from its code)."}
  })json");
  for (auto& [name, r] : responses.items()) {
    if (!r.contains("content")) r["content"] = JsonContent(SchemaRef("google.rpc.Status"));
  }
  if (rate_limits) {
    for (const char* h : {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}) {
      responses["TooManyRequests"]["headers"][h] = HeaderRef(h);
    }
  }
  return responses;
}

// The OpenAI-compatible front door: its paths and schemas.
void AddOpenAi(json* paths, json* schemas, bool rate_limits) {
  json s = json::parse(R"json({
    "openai.ChatMessage": {
      "type": "object",
      "required": ["role"],
      "properties": {
        "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]},
        "content": {
          "description": "A string, or an array of {\"type\": \"text\", \"text\": ...} parts; null only for an assistant message with tool_calls.",
          "oneOf": [
            {"type": "string", "nullable": true},
            {"type": "array", "items": {"type": "object", "properties": {
              "type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}}}}
          ]
        },
        "tool_calls": {"type": "array", "description": "Assistant messages: the tool calls the model made.",
                       "items": {"$ref": "#/components/schemas/openai.ToolCall"}},
        "tool_call_id": {"type": "string", "description": "Tool messages: the call this result answers."}
      }
    },
    "openai.ToolCall": {
      "type": "object",
      "properties": {
        "id": {"type": "string"},
        "type": {"type": "string", "enum": ["function"]},
        "function": {"type": "object", "properties": {
          "name": {"type": "string"},
          "arguments": {"type": "string", "description": "JSON text of the arguments."}}}
      }
    },
    "openai.Tool": {
      "type": "object",
      "required": ["type", "function"],
      "properties": {
        "type": {"type": "string", "enum": ["function"]},
        "function": {"type": "object", "required": ["name"], "properties": {
          "name": {"type": "string"},
          "description": {"type": "string"},
          "parameters": {"type": "object", "additionalProperties": true, "description": "JSON Schema of the arguments (an object schema)."}}}
      }
    },
    "openai.ChatCompletionRequest": {
      "type": "object",
      "required": ["messages"],
      "properties": {
        "model": {"type": "string", "description": "`auto`, empty or absent: the router selects; else the model to use (`sim-local`)."},
        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/openai.ChatMessage"}},
        "max_completion_tokens": {"type": "integer"},
        "max_tokens": {"type": "integer", "description": "Older name of max_completion_tokens."},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "stream": {"type": "boolean"},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
        "user": {"type": "string", "description": "The subject accounted and budgeted (default: the caller)."},
        "n": {"type": "integer", "enum": [1]},
        "response_format": {"type": "object", "properties": {"type": {"type": "string", "enum": ["text", "json_object"]}}},
        "tools": {"type": "array", "items": {"$ref": "#/components/schemas/openai.Tool"}, "description": "Functions the model may call (only models with the tools capability are selected)."},
        "tool_choice": {"description": "auto, none, required, or {\"type\": \"function\", \"function\": {\"name\"}}.",
                        "oneOf": [{"type": "string", "enum": ["auto", "none", "required"]},
                                  {"type": "object", "properties": {"type": {"type": "string", "enum": ["function"]},
                                   "function": {"type": "object", "properties": {"name": {"type": "string"}}}}}]},
        "genesis_task": {"type": "string", "description": "chat, reasoning, classification, extraction, long_context or summarization (the X-Genesis-Task header wins)."},
        "genesis_sensitive": {"type": "boolean", "description": "Local models only (the X-Genesis-Sensitive header wins)."}
      }
    },
    "openai.ChatCompletion": {
      "type": "object",
      "properties": {
        "id": {"type": "string"},
        "object": {"type": "string", "enum": ["chat.completion"]},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {"type": "array", "items": {"type": "object", "properties": {
          "index": {"type": "integer"},
          "message": {"$ref": "#/components/schemas/openai.ChatMessage"},
          "finish_reason": {"type": "string"}}}},
        "usage": {"type": "object", "properties": {
          "prompt_tokens": {"type": "integer"},
          "completion_tokens": {"type": "integer"},
          "total_tokens": {"type": "integer"}}},
        "genesis": {"type": "object", "additionalProperties": true,
                    "description": "provider, cost_usd, task, sensitive, cached, simulated, sandbox of the answer."}
      }
    },
    "openai.ModelList": {
      "type": "object",
      "properties": {
        "object": {"type": "string", "enum": ["list"]},
        "data": {"type": "array", "items": {"type": "object", "properties": {
          "id": {"type": "string"},
          "object": {"type": "string", "enum": ["model"]},
          "created": {"type": "integer"},
          "owned_by": {"type": "string"}}}}
      }
    },
    "openai.Error": {
      "type": "object",
      "properties": {
        "error": {"type": "object", "properties": {
          "message": {"type": "string"},
          "type": {"type": "string", "description": "invalid_request_error, authentication_error, permission_error, not_found_error, rate_limit_error, timeout_error or api_error."},
          "param": {"type": "string", "nullable": true},
          "code": {"type": "string"}}}
      }
    }
  })json");
  for (auto& [name, schema] : s.items()) (*schemas)[name] = schema;
  json errors = json::parse(R"json({
    "400": {"description": "invalid_request_error; `param` names the field at fault."},
    "401": {"description": "authentication_error.",
            "headers": {"WWW-Authenticate": {"$ref": "#/components/headers/WWW-Authenticate"}}},
    "403": {"description": "permission_error."},
    "429": {"description": "rate_limit_error.",
            "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}},
    "503": {"description": "api_error: the LLM router is unavailable."},
    "default": {"description": "Any other error, in OpenAI's shape."}
  })json");
  for (auto& [code, r] : errors.items()) r["content"] = JsonContent(SchemaRef("openai.Error"));
  if (rate_limits) {
    for (const char* h : {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}) {
      errors["429"]["headers"][h] = HeaderRef(h);
    }
  }
  json chat = json::parse(R"json({
    "operationId": "openai.CreateChatCompletion",
    "summary": "Creates a chat completion (OpenAI-compatible).",
    "description": "OpenAI's chat completion onto genesis.llmrouter.v1.LlmRouterService Complete / StreamComplete. `stream: true` answers Server-Sent Events of chat.completion.chunk objects, then `data: [DONE]`. The headers X-Genesis-Task and X-Genesis-Sensitive override the body's genesis_task / genesis_sensitive.",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/openai.ChatCompletionRequest"}}}},
    "responses": {"200": {
      "description": "The completion, or its stream of chunks when `stream` is true.",
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/openai.ChatCompletion"}},
                  "text/event-stream": {"schema": {"type": "string"}}}}}
  })json");
  json models = json::parse(R"json({
    "operationId": "openai.ListModels",
    "summary": "Lists the enabled models (OpenAI-compatible).",
    "description": "The registry's enabled models (the first 1000) in OpenAI's list shape.",
    "responses": {"200": {"description": "The models.",
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/openai.ModelList"}}}}}
  })json");
  for (json* op : {&chat, &models}) {
    (*op)["tags"] = {kOpenAiTag};
    for (auto& [code, r] : errors.items()) (*op)["responses"][code] = r;
  }
  chat["responses"]["413"] = {{"description", "invalid_request_error: the body is too large."},
                              {"content", JsonContent(SchemaRef("openai.Error"))}};
  (*paths)["/v1/chat/completions"]["post"] = chat;
  (*paths)["/v1/models"]["get"] = models;
}

// The gateway's own routes: public, served before routing and authentication.
void AddGatewayRoutes(json* paths, bool docs_page) {
  auto text = [](const std::string& d) {
    return json{{"description", d},
                {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}};
  };
  auto op = [&](const std::string& id, const std::string& summary, json ok) {
    return json{{"operationId", id},
                {"tags", {kGatewayTag}},
                {"summary", summary},
                {"security", json::array()},
                {"responses",
                 {{"200", std::move(ok)},
                  {"400", ResponseRef("BadRequest")},
                  {"default", ResponseRef("Error")}}}};
  };
  (*paths)["/healthz"]["get"] = op("gateway.Healthz", "Liveness: `ok` while the process runs.",
                                   text("The gateway is alive."));
  json ready = op("gateway.Readyz", "Readiness: 503 while draining.", text("Ready."));
  ready["responses"]["503"] = text("Not ready (draining).");
  (*paths)["/readyz"]["get"] = ready;
  (*paths)["/openapi.json"]["get"] =
      op("gateway.OpenApi", "This document.",
         {{"description", "The OpenAPI document."},
          {"content", JsonContent({{"type", "object"}, {"additionalProperties", true}})}});
  if (docs_page) {
    (*paths)["/docs"]["get"] =
        op("gateway.Docs", "The API reference page, rendered from this document.",
           {{"description", "An HTML page."},
            {"content", {{"text/html", {{"schema", {{"type", "string"}}}}}}}});
  }
}

}  // namespace

std::string PathParameterName(const std::string& collection, const std::string& field_path) {
  if (collection.empty()) {
    size_t dot = field_path.rfind('.');
    return dot == std::string::npos ? field_path : field_path.substr(dot + 1);
  }
  if (absl::EndsWith(collection, "ies") && collection.size() > 3) {
    return absl::StrCat(collection.substr(0, collection.size() - 3), "y");
  }
  if (absl::EndsWith(collection, "lves")) {  // shelves
    return absl::StrCat(collection.substr(0, collection.size() - 3), "f");
  }
  if (absl::EndsWith(collection, "sses") || absl::EndsWith(collection, "xes")) {
    return collection.substr(0, collection.size() - 2);
  }
  if (absl::EndsWith(collection, "s") && !absl::EndsWith(collection, "ss") &&
      collection.size() > 1) {
    return collection.substr(0, collection.size() - 1);
  }
  return collection;
}

std::string BuildOpenApi(const RouteTable& routes, const OpenApiOptions& options) {
  static const std::set<std::string> kMethods = {"GET", "PUT", "POST", "DELETE", "PATCH"};
  Schemas schemas;
  json paths = json::object();
  json tags = json::array();
  std::set<std::string> tagged;
  std::map<std::string, int> operation_ids;
  const json rate_headers = options.rate_limits
                                ? json{{"RateLimit-Limit", HeaderRef("RateLimit-Limit")},
                                       {"RateLimit-Remaining", HeaderRef("RateLimit-Remaining")},
                                       {"RateLimit-Reset", HeaderRef("RateLimit-Reset")}}
                                : json::object();
  for (const auto& route : routes.routes()) {
    if (!kMethods.contains(route->http_method)) continue;
    const auto* method = route->method;
    const Descriptor* input = method->input_type();
    std::vector<PathParam> path_params;
    std::string path = OpenApiPath(route->path.text(), &path_params);
    const std::string& service = method->service()->full_name();
    if (tagged.insert(service).second) {
      std::string about = ProtoComment(method->service());
      tags.push_back(
          {{"name", service},
           {"description", about.empty() ? absl::StrCat("The routes of ", service, ".") : about}});
    }
    const bool is_public = options.public_services.contains(service);

    json op = json::object();
    int n = ++operation_ids[method->full_name()];
    op["operationId"] = n == 1 ? method->full_name() : absl::StrCat(method->full_name(), "_", n);
    op["tags"] = {service};
    std::string comment = ProtoComment(method);
    std::vector<std::string> lines = absl::StrSplit(comment, '\n');
    op["summary"] = comment.empty() ? method->name() : lines[0];
    op["description"] =
        absl::StrCat(comment.empty() ? "" : comment + "\n\n", "gRPC: `", method->full_name(), "`",
                     is_public && options.auth ? " (public: no credentials)." : ".");

    json params = json::array();
    std::set<std::string> bound;  // top-level fields set by the path or the body
    for (const auto& p : path_params) {
      bound.insert(p.field.substr(0, p.field.find('.')));
      std::string description =
          p.pattern == "{" + p.name + "}"
              ? absl::StrCat("Sets `", p.field, "`.")
              : absl::StrCat("Sets `", p.field, "` to the resource name `", p.pattern, "`.");
      if (p.multi) absl::StrAppend(&description, " May contain slashes.");
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
                             {"content", JsonContent(schemas.BodyRef(input, bound))}};
      }
    } else {
      if (!route->body.empty()) {
        bound.insert(route->body);
        const FieldDescriptor* f = input->FindFieldByName(route->body);
        if (f != nullptr && !raw_request) {
          const bool partial_update =
              f->message_type() != nullptr && !f->is_repeated() &&
              f->message_type()->options().HasExtension(google::api::resource) &&
              input->FindFieldByName("update_mask") != nullptr;
          json body = {
              {"required", true},
              {"content", JsonContent(partial_update ? schemas.PartialRef(f->message_type())
                                                     : schemas.Field(f))}};
          if (auto c = DocOf(f).description; !c.empty()) body["description"] = c;
          op["requestBody"] = body;
        }
      }
      for (int i = 0; i < input->field_count(); ++i) {
        const FieldDescriptor* f = input->field(i);
        if (bound.contains(f->name())) continue;
        AddQueryParameters(&schemas, f, "", 0, &params);
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
      response_schema = response_field != nullptr ? schemas.Field(response_field) : json::object();
    } else {
      response_schema = schemas.Ref(method->output_type());
    }
    json ok;
    if (method->server_streaming()) {
      ok = {{"description",
             "A stream: Server-Sent Events (`data: <json>`) with Accept: text/event-stream, else "
             "one JSON object per line; a failure mid-stream ends it with `event: error` / "
             "`{\"error\": <google.rpc.Status>}`."},
            {"content",
             {{"text/event-stream", {{"schema", {{"type", "string"}}}}},
              {"application/x-ndjson", {{"schema", response_schema}}}}}};
    } else if (raw_response) {
      ok = {{"description",
             "The raw body (google.api.HttpBody) with the Content-Type the service chose."},
            {"content", RawContent()}};
    } else {
      std::string about = ProtoComment(method->output_type());
      ok = {{"description", about.empty() ? "OK" : about},
            {"content", JsonContent(response_schema)}};
    }
    if (!rate_headers.empty()) ok["headers"] = rate_headers;
    json responses = {{"200", ok}, {"400", ResponseRef("BadRequest")}};
    if (options.auth && !is_public) {
      responses["401"] = ResponseRef("Unauthorized");
      responses["403"] = ResponseRef("Forbidden");
    }
    if (!path_params.empty()) responses["404"] = ResponseRef("NotFound");
    if (CarriesEtag(input)) responses["409"] = ResponseRef("Conflict");
    if (!route->body.empty()) responses["413"] = ResponseRef("PayloadTooLarge");
    responses["429"] = ResponseRef("TooManyRequests");
    responses["503"] = ResponseRef("ServiceUnavailable");
    responses["default"] = ResponseRef("Error");
    op["responses"] = responses;
    if (options.auth && is_public) op["security"] = json::array();
    paths[path][absl::AsciiStrToLower(route->http_method)] = op;
  }

  json extra_schemas;
  json headers;
  json components = {{"responses", ErrorComponents(options.rate_limits, &headers, &extra_schemas)}};
  if (options.openai) {
    AddOpenAi(&paths, &extra_schemas, options.rate_limits);
    tags.push_back(
        {{"name", kOpenAiTag},
         {"description",
          "OpenAI's API onto the LLM router: OpenAI SDKs work with baseURL "
          "`<gateway>/v1` and a JWT or API key as apiKey. Errors have OpenAI's shape."}});
  }
  AddGatewayRoutes(&paths, options.docs_page);
  tags.push_back({{"name", kGatewayTag},
                  {"description",
                   "The gateway's own routes: health, readiness, this document and its reference "
                   "page. Public."}});

  std::string description =
      "Generated by genesis-gateway from the services' descriptors and google.api.http rules. "
      "JSON follows the proto3 mapping (lowerCamel names, 64-bit integers as strings, enums by "
      "name). Errors are google.rpc.Status objects (`code`, `message`, `details`); the HTTP "
      "status comes from the code.";
  if (options.auth) {
    absl::StrAppend(&description,
                    "\n\nAuthentication: `Authorization: Bearer <JWT or API key>`, or "
                    "`X-Api-Key: <API key>`. Routes marked public (webhooks, which check their "
                    "own signatures, and the gateway's own routes) need none.");
  }
  json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", options.title}, {"version", options.version}, {"description", description}}},
      {"servers",
       {{{"url", options.server_url},
         {"description",
          options.server_url == "/" ? "The gateway that serves this document." : "The gateway."}}}},
      {"tags", tags},
      {"paths", paths},
  };
  if (options.auth) {
    components["securitySchemes"] = {
        {"bearerAuth",
         {{"type", "http"},
          {"scheme", "bearer"},
          {"bearerFormat", "JWT"},
          {"description",
           "A JWT (HS256, RS256 or ES256; `sub` and `roles` claims), or an API key "
           "(gk_<id>_<secret>) as the bearer token."}}},
        {"apiKey",
         {{"type", "apiKey"},
          {"in", "header"},
          {"name", "X-Api-Key"},
          {"description",
           "An API key (gk_<id>_<secret>), from genesis-gateway-admin create-key."}}}};
    doc["security"] = json::array({{{"bearerAuth", json::array()}}, {{"apiKey", json::array()}}});
  }
  // google.rpc.Status and BadRequest from the pool of any routed method (the
  // transcoder adds them).
  if (!routes.routes().empty()) {
    const auto* pool = routes.routes().front()->method->file()->pool();
    for (const char* name : {"google.rpc.Status", "google.rpc.BadRequest"}) {
      if (const auto* m = pool->FindMessageTypeByName(name); m != nullptr) schemas.Ref(m);
    }
  }
  json all = schemas.all();
  for (auto& [name, schema] : extra_schemas.items()) all[name] = schema;
  components["schemas"] = all;
  components["headers"] = headers;
  doc["components"] = components;
  return doc.dump();
}

}  // namespace genesis::gateway
