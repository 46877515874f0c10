// google.api.http rules -> a route table, and the path-template matcher.
//
// Pure code (no I/O): the gateway reads each method's google.api.http option
// (including additional_bindings) from descriptors, validates it against the
// request and response messages, and matches incoming (method, path) pairs.
//
// Path templates follow google/api/http.proto:
//   Template = "/" Segments [ ":" Verb ] ;
//   Segment  = "*" | "**" | LITERAL | "{" FieldPath [ "=" Segments ] "}" ;
// `*` matches one segment, `**` zero or more (at most one `**` per template);
// `{var}` is `{var=*}`. Values of single-segment variables are fully
// percent-decoded; multi-segment values keep %2F encoded ("reserved expansion").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "absl/status/statusor.h"

namespace genesis::gateway {

// One path variable bound by a match: "item.name" -> "items/42".
struct PathBinding {
  std::string field_path;
  std::string value;
};

class PathTemplate {
 public:
  // INVALID_ARGUMENT naming the problem for a malformed template.
  static absl::StatusOr<PathTemplate> Parse(std::string_view text);

  // The bindings when `path` (without query, still percent-encoded) matches.
  [[nodiscard]] std::optional<std::vector<PathBinding>> Match(std::string_view path) const;

  [[nodiscard]] const std::string& text() const { return text_; }
  [[nodiscard]] const std::string& verb() const { return verb_; }
  // The field paths of the variables, in template order.
  [[nodiscard]] std::vector<std::string> VariableFieldPaths() const;
  // Higher is more specific: used to prefer `/v1/items:search` over `/v1/{name=items/*}`.
  [[nodiscard]] int Specificity() const;

 private:
  struct Segment {
    enum Kind { kLiteral, kSingle, kMulti } kind;
    std::string literal;
  };
  struct Variable {
    std::string field_path;
    size_t start;  // template segment range [start, end)
    size_t end;
  };
  std::string text_;
  std::vector<Segment> segments_;
  std::vector<Variable> variables_;
  std::string verb_;
  std::optional<size_t> multi_;  // index of the `**` segment
  friend class TemplateParser;
};

// One HTTP binding of a gRPC method.
struct Route {
  std::string http_method;  // "GET", "POST", ... or a custom kind
  PathTemplate path;
  std::string body;           // "", "*" or a top-level request field name
  std::string response_body;  // "" or a top-level response field name
  const google::protobuf::MethodDescriptor* method = nullptr;
  std::string grpc_path;  // "/genesis.catalog.v1.CatalogService/GetItem"
  std::string label;      // "GET /v1/{name=items/*}", for metrics and logs
};

// Resolves a dotted field path ("item.name", proto or lowerCamel names) on
// `message`; every element but the last must be a singular message field.
// INVALID_ARGUMENT naming the first element that does not resolve.
absl::StatusOr<std::vector<const google::protobuf::FieldDescriptor*>> ResolveFieldPath(
    const google::protobuf::Descriptor* message, std::string_view path);

// A field of `message` by proto name, else by JSON (lowerCamel) name; nullptr if none.
const google::protobuf::FieldDescriptor* FindFieldByAnyName(
    const google::protobuf::Descriptor* message, std::string_view name);

// True for google.api.HttpBody: a raw HTTP body (bytes + content type), not JSON.
bool IsHttpBody(const google::protobuf::Descriptor* message);

// The routes of a method's google.api.http option (empty when it has none).
// INVALID_ARGUMENT naming the method for a rule that cannot work.
absl::StatusOr<std::vector<Route>> RoutesForMethod(
    const google::protobuf::MethodDescriptor* method);

// Immutable after Build(); Lookup() is thread-safe.
class RouteTable {
 public:
  // Routes of every method of `services`; fails on the first invalid rule or
  // on two methods bound to the same HTTP method and template.
  static absl::StatusOr<RouteTable> Build(
      const std::vector<const google::protobuf::ServiceDescriptor*>& services);

  struct Lookup {
    enum Kind { kFound, kNotFound, kMethodNotAllowed } kind = kNotFound;
    const Route* route = nullptr;
    std::vector<PathBinding> bindings;
    std::vector<std::string> allow;  // for kMethodNotAllowed, sorted
  };
  [[nodiscard]] Lookup Find(std::string_view http_method, std::string_view path) const;

  [[nodiscard]] const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace genesis::gateway
