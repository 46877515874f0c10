#include "gateway/mcp/tools.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/docs/proto_docs.h"

namespace genesis::gateway::mcp {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;
using nlohmann::json;

bool IsUpdateMask(const FieldDescriptor* f) {
  return f->name() == "update_mask" && f->message_type() != nullptr &&
         f->message_type()->full_name() == "google.protobuf.FieldMask";
}

// Builds the schema of one message, nested messages inline; a message met
// again inside itself goes to $defs and is referred to.
class SchemaBuilder {
 public:
  explicit SchemaBuilder(bool input) : input_(input) {}

  json Root(const Descriptor* m) {
    json root = Message(m, /*partial=*/false);
    // Every definition a recursion asked for, built on its own (it may ask for more).
    for (bool added = true; added;) {
      added = false;
      for (const auto& [key, wanted] : wanted_) {
        if (defs_.contains(key)) continue;
        defs_[key] = json::object();  // placeholder while it is built
        defs_[key] = Message(wanted.first, wanted.second);
        added = true;
        break;  // wanted_ may have grown
      }
    }
    if (!defs_.empty()) root["$defs"] = defs_;
    return root;
  }

 private:
  static std::string DefKey(const Descriptor* m, bool partial) {
    return absl::StrCat(m->full_name(), partial ? ".partial" : "");
  }

  json Message(const Descriptor* m, bool partial) {
    if (json wkt = WellKnown(m); !wkt.is_null()) return wkt;
    const std::string key = DefKey(m, partial);
    if (std::find(stack_.begin(), stack_.end(), key) != stack_.end()) {
      wanted_.emplace(key, std::make_pair(m, partial));
      return {{"$ref", "#/$defs/" + key}};
    }
    stack_.push_back(key);
    bool has_update_mask = false;
    for (int i = 0; i < m->field_count(); ++i) has_update_mask |= IsUpdateMask(m->field(i));
    json props = json::object();
    json required = json::array();
    for (int i = 0; i < m->field_count(); ++i) {
      const FieldDescriptor* f = m->field(i);
      if (input_ && HasFieldBehavior(f, google::api::OUTPUT_ONLY)) continue;
      // The resource of an update: only the fields in update_mask change.
      const bool child_partial = partial || (has_update_mask && f->message_type() != nullptr);
      json s = Field(f, child_partial);
      const FieldDoc doc = DocOf(f);
      if (!doc.description.empty()) {
        s["description"] =
            s.contains("description")
                ? absl::StrCat(doc.description, "\n\n", s["description"].get<std::string>())
                : doc.description;
      }
      if (!doc.example.is_null()) s["examples"] = json::array({doc.example});
      if (!input_ && HasFieldBehavior(f, google::api::OUTPUT_ONLY)) s["readOnly"] = true;
      if (input_ && !partial && HasFieldBehavior(f, google::api::REQUIRED)) {
        required.push_back(f->json_name());
      }
      props[f->json_name()] = std::move(s);
    }
    stack_.pop_back();
    json schema = {{"type", "object"}, {"properties", std::move(props)}};
    if (!required.empty()) schema["required"] = std::move(required);
    if (input_) schema["additionalProperties"] = false;
    if (std::string c = ProtoComment(m); !c.empty()) schema["description"] = c;
    return schema;
  }

  json Field(const FieldDescriptor* f, bool partial) {
    if (f->is_map()) {
      return {{"type", "object"},
              {"additionalProperties", Single(f->message_type()->map_value(), partial)}};
    }
    if (f->is_repeated()) return {{"type", "array"}, {"items", Single(f, partial)}};
    return Single(f, partial);
  }

  json Single(const FieldDescriptor* f, bool partial) {
    switch (f->type()) {
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SINT32:
      case FieldDescriptor::TYPE_SFIXED32:
        return {{"type", "integer"}, {"minimum", -2147483648LL}, {"maximum", 2147483647LL}};
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        return {{"type", "integer"}, {"minimum", 0}, {"maximum", 4294967295LL}};
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SINT64:
      case FieldDescriptor::TYPE_SFIXED64:
        return {{"type", "string"},
                {"pattern", "^-?[0-9]{1,19}$"},
                {"description", "a 64-bit integer as a decimal string"}};
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        return {{"type", "string"},
                {"pattern", "^[0-9]{1,20}$"},
                {"description", "an unsigned 64-bit integer as a decimal string"}};
      case FieldDescriptor::TYPE_DOUBLE:
      case FieldDescriptor::TYPE_FLOAT:
        // proto3 JSON writes NaN and the infinities as strings.
        return input_ ? json{{"type", "number"}}
                      : json{{"type", json::array({"number", "string"})}};
      case FieldDescriptor::TYPE_BOOL:
        return {{"type", "boolean"}};
      case FieldDescriptor::TYPE_STRING:
        return {{"type", "string"}};
      case FieldDescriptor::TYPE_BYTES:
        return {{"type", "string"}, {"contentEncoding", "base64"}};
      case FieldDescriptor::TYPE_ENUM: {
        json values = json::array();
        const auto* e = f->enum_type();
        for (int i = 0; i < e->value_count(); ++i) values.push_back(e->value(i)->name());
        return {{"type", "string"}, {"enum", std::move(values)}};
      }
      default:
        return Message(f->message_type(), partial);
    }
  }

  // The schema of a well-known type written as a JSON scalar, array or
  // object; null for other messages.
  json WellKnown(const Descriptor* m) {
    const std::string& n = m->full_name();
    if (!absl::StartsWith(n, "google.protobuf.")) return nullptr;
    if (n == "google.protobuf.Timestamp") {
      return {{"type", "string"},
              {"format", "date-time"},
              {"description", "RFC 3339, e.g. 2026-01-31T12:00:00Z"}};
    }
    if (n == "google.protobuf.Duration") {
      return {{"type", "string"},
              {"pattern", "^-?[0-9]+(\\.[0-9]{1,9})?s$"},
              {"description", "seconds with an s suffix, e.g. 1.5s"}};
    }
    if (n == "google.protobuf.FieldMask") {
      return {{"type", "string"},
              {"description", "comma-separated lowerCamel field paths, e.g. title,body"}};
    }
    if (n == "google.protobuf.Struct") return {{"type", "object"}};
    if (n == "google.protobuf.Value") return json::object();  // any JSON value
    if (n == "google.protobuf.ListValue") return {{"type", "array"}};
    if (n == "google.protobuf.Empty") {
      json s = {{"type", "object"}};
      if (input_) s["additionalProperties"] = false;
      return s;
    }
    if (n == "google.protobuf.Any") {
      return {{"type", "object"},
              {"properties", {{"@type", {{"type", "string"}}}}},
              {"required", json::array({"@type"})}};
    }
    if (absl::EndsWith(n, "Value") && m->field_count() == 1) {  // wrappers
      json s = Single(m->field(0), false);
      s["type"] = json::array({s["type"].is_array() ? s["type"][0] : s["type"], "null"});
      if (s["type"][0] == "number" && !input_)
        s["type"] = json::array({"number", "string", "null"});
      return s;
    }
    return nullptr;
  }

  const bool input_;
  std::vector<std::string> stack_;
  std::map<std::string, std::pair<const Descriptor*, bool>> wanted_;
  json defs_ = json::object();
};

// "CreateItemType" -> "Create item type".
std::string Title(const std::string& method) {
  std::string out;
  for (size_t i = 0; i < method.size(); ++i) {
    const char c = method[i];
    if (i > 0 && absl::ascii_isupper(c) && !absl::ascii_isupper(method[i - 1])) {
      out += ' ';
      out += absl::ascii_tolower(c);
    } else {
      out += i > 0 && absl::ascii_isupper(c) ? absl::ascii_tolower(c) : c;
    }
  }
  return out;
}

std::string Sanitize(std::string name) {
  for (char& c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-') c = '_';
  }
  return name;
}

bool IsRaw(const Descriptor* m) { return IsHttpBody(m); }

// Whether `method` can be a tool: unary, JSON in and out, not public.
bool Eligible(const MethodDescriptor* method, const Route& route,
              const std::set<std::string>& excluded) {
  if (method->client_streaming() || method->server_streaming()) return false;
  if (excluded.contains(method->service()->full_name())) return false;
  if (IsRaw(method->input_type()) || IsRaw(method->output_type())) return false;
  for (int i = 0; i < method->input_type()->field_count(); ++i) {
    const FieldDescriptor* f = method->input_type()->field(i);
    if (f->message_type() != nullptr && IsRaw(f->message_type()) && f->name() == route.body) {
      return false;
    }
  }
  if (!route.response_body.empty()) {
    const FieldDescriptor* f = method->output_type()->FindFieldByName(route.response_body);
    if (f != nullptr && f->message_type() != nullptr && IsRaw(f->message_type())) return false;
  }
  return true;
}

bool Allowed(const std::vector<std::string>& allow, const MethodDescriptor* method,
             const std::string& tool_name) {
  if (allow.empty()) return true;
  const std::string& service = method->service()->full_name();
  return std::any_of(allow.begin(), allow.end(), [&](const std::string& a) {
    return a == tool_name || a == method->full_name() || a == service ||
           a == method->service()->file()->package();
  });
}

}  // namespace

std::string PackageShortName(const std::string& package) {
  std::vector<std::string> parts = absl::StrSplit(package, '.', absl::SkipEmpty());
  if (!parts.empty() && parts.front() == "genesis") parts.erase(parts.begin());
  if (!parts.empty() && parts.back().size() >= 2 && parts.back()[0] == 'v' &&
      absl::ascii_isdigit(parts.back()[1])) {
    parts.pop_back();
  }
  return Sanitize(absl::StrJoin(parts, "_"));
}

json InputSchema(const Descriptor* message) { return SchemaBuilder(true).Root(message); }
json OutputSchema(const Descriptor* message) { return SchemaBuilder(false).Root(message); }

json Tool::ToJson() const {
  json t = {{"name", name},
            {"title", title},
            {"description", description},
            {"inputSchema", input_schema},
            {"annotations", annotations}};
  if (!output_schema.is_null()) t["outputSchema"] = output_schema;
  return t;
}

ToolSet ToolSet::Build(const RouteTable& routes, const ToolOptions& options) {
  const std::set<std::string> excluded(options.exclude_services.begin(),
                                       options.exclude_services.end());
  // Every method with its bindings, in the order the table holds them.
  std::map<const MethodDescriptor*, std::vector<const Route*>> bindings;
  std::vector<const MethodDescriptor*> methods;
  for (const auto& r : routes.routes()) {
    if (bindings[r->method].empty()) methods.push_back(r->method);
    bindings[r->method].push_back(r.get());
  }
  struct Candidate {
    const MethodDescriptor* method;
    const Route* route;
    std::string base;  // <package>_<Method>
  };
  std::vector<Candidate> candidates;
  std::map<std::string, int> base_count;
  for (const MethodDescriptor* method : methods) {
    const auto& rs = bindings[method];
    // The GET binding when there is one (a read, retried like one), else the
    // rule itself (not an additional binding).
    const Route* route = nullptr;
    for (const Route* r : rs) {
      if (r->http_method == "GET") route = r;
    }
    if (route == nullptr) {
      auto declared = RoutesForMethod(method);
      for (const Route* r : rs) {
        if (declared.ok() && !declared->empty() && r->label == declared->front().label) route = r;
      }
      if (route == nullptr) route = rs.front();
    }
    if (!Eligible(method, *route, excluded)) continue;
    std::string base = absl::StrCat(PackageShortName(method->service()->file()->package()), "_",
                                    Sanitize(method->name()));
    ++base_count[base];
    candidates.push_back({method, route, std::move(base)});
  }

  ToolSet set;
  for (const Candidate& c : candidates) {
    Tool tool;
    tool.name =
        base_count[c.base] > 1
            ? absl::StrCat(PackageShortName(c.method->service()->file()->package()), "_",
                           Sanitize(c.method->service()->name()), "_", Sanitize(c.method->name()))
            : c.base;
    if (!Allowed(options.allow, c.method, tool.name)) continue;
    tool.route = c.route;
    tool.title = Title(c.method->name());
    std::string about = ProtoComment(c.method);
    if (about.empty()) about = absl::StrCat(tool.title, ".");
    std::vector<std::string> rest;
    bool read_only = false, destructive = false, idempotent = false;
    for (const Route* r : bindings[c.method]) {
      rest.push_back(r->label);
      read_only |= r->http_method == "GET";
      destructive |=
          r->http_method == "DELETE" || r->http_method == "PUT" || r->http_method == "PATCH";
      idempotent |=
          r->http_method == "GET" || r->http_method == "DELETE" || r->http_method == "PUT";
    }
    if (c.method->input_type()->FindFieldByName("request_id") != nullptr) idempotent = true;
    tool.description = absl::StrCat(about, "\n\nRPC ", c.method->full_name(), "; REST ",
                                    absl::StrJoin(rest, ", "), ".");
    tool.annotations = {{"title", tool.title}, {"readOnlyHint", read_only}};
    if (!read_only) {
      tool.annotations["destructiveHint"] = destructive;
      tool.annotations["idempotentHint"] = idempotent;
    }
    tool.annotations["openWorldHint"] = false;
    tool.input_schema = InputSchema(c.method->input_type());
    json out = OutputSchema(c.method->output_type());
    if (out.is_object() && out.value("type", json()) == "object") tool.output_schema = out;
    set.tools_.push_back(std::move(tool));
  }
  std::sort(set.tools_.begin(), set.tools_.end(),
            [](const Tool& a, const Tool& b) { return a.name < b.name; });
  for (size_t i = 0; i < set.tools_.size(); ++i) set.index_[set.tools_[i].name] = i;
  return set;
}

const Tool* ToolSet::Find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tools_[it->second];
}

}  // namespace genesis::gateway::mcp
