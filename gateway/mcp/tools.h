// The gateway's RPCs as MCP tools (https://modelcontextprotocol.io, "Tools"):
// every unary RPC with a google.api.http rule becomes one tool whose input is
// the request message as proto3 JSON, described by a JSON Schema (draft
// 2020-12) generated from the descriptors, and whose structured output is the
// response message, described the same way. Pure and deterministic (the same
// routes and options give the same tools, sorted by name); thread-safe once
// built.
//
// Names: `<package>_<Method>`, the package without `genesis.` and its version
// (`genesis.catalog.v1.CatalogService.SearchItems` -> `catalog_SearchItems`);
// when two services of one package have a method of the same name, both tools
// are `<package>_<Service>_<Method>`. Names use only A-Z a-z 0-9 _ (what MCP
// allows, and what model APIs accept as function names).
//
// Left out: server- and client-streaming RPCs, RPCs whose request or response
// is a raw google.api.HttpBody (audio, webhooks), and the services listed as
// public (webhooks verify a channel's signature, not a caller).
//
// Schemas: properties by lowerCamel JSON name; REQUIRED fields
// (google.api.field_behavior) listed in `required`, except inside the
// resource of an update (beside an `update_mask`), where only the masked
// fields change; OUTPUT_ONLY fields left out of inputs; enums as string
// enums; 64-bit integers as decimal strings; bytes as base64 strings;
// well-known types in their JSON form (Timestamp date-time, Duration "1.5s",
// FieldMask, Struct, Value, wrappers nullable); nested messages inline, a
// recursive one under `$defs`; descriptions and `examples` from the proto
// comments. Inputs are closed (`additionalProperties: false`: the gateway
// refuses unknown fields); outputs list every field and require none (proto3
// JSON leaves default values out).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <nlohmann/json.hpp>

#include "gateway/routing/http_rules.h"

namespace genesis::gateway::mcp {

struct Tool {
  std::string name;         // "catalog_SearchItems"
  std::string title;        // "Search items"
  std::string description;  // the method's proto comment, then its REST binding
  nlohmann::json input_schema;
  nlohmann::json output_schema;  // null when the response is not a JSON object
  // readOnlyHint (a GET binding), destructiveHint (DELETE, PUT, PATCH),
  // idempotentHint (GET, DELETE, PUT, or a request with a `request_id`).
  nlohmann::json annotations;
  // The binding the tool calls through (its GET binding when it has one):
  // its HTTP method decides RBAC (GET reads) and retries, as on REST. Owned
  // by the RouteTable the tools were built from.
  const Route* route = nullptr;

  // The tool as tools/list describes it.
  [[nodiscard]] nlohmann::json ToJson() const;
};

struct ToolOptions {
  // Empty: every eligible RPC. Else only the RPCs an entry names: a tool name
  // (`catalog_SearchItems`), a full method name
  // (`genesis.catalog.v1.CatalogService.SearchItems`), a full service name or
  // a package (`genesis.catalog.v1`).
  std::vector<std::string> allow;
  // Full names of the services left out (the gateway's public services).
  std::vector<std::string> exclude_services;
};

class ToolSet {
 public:
  // The tools of `routes` (which must outlive the set).
  static ToolSet Build(const RouteTable& routes, const ToolOptions& options);

  [[nodiscard]] const std::vector<Tool>& tools() const { return tools_; }
  // The tool called `name`, or nullptr.
  [[nodiscard]] const Tool* Find(const std::string& name) const;

 private:
  std::vector<Tool> tools_;              // sorted by name
  std::map<std::string, size_t> index_;  // name -> tools_ index
};

// The JSON Schema of `message` as a tool's input (closed, REQUIRED fields
// required, OUTPUT_ONLY fields left out) or output (every field, none required).
nlohmann::json InputSchema(const google::protobuf::Descriptor* message);
nlohmann::json OutputSchema(const google::protobuf::Descriptor* message);

// `genesis.catalog.v1` -> "catalog"; `acme.billing.v2` -> "acme_billing".
std::string PackageShortName(const std::string& package);

}  // namespace genesis::gateway::mcp
