// /openapi.json: an OpenAPI 3.0 document of the REST API generated from the
// route table and the descriptors (the REST API documents itself, so a new
// RPC with an HTTP rule appears without any gateway change).
//
// Paths come from the templates (`{name=items/*}` is the path parameter
// `name`, its pattern noted in the description), operationId is the full
// method name (`_2`, `_3`, ... for additional bindings), summary and
// description come from the proto comments (needs a descriptor set built
// with --include_source_info). Schemas follow the proto3 JSON mapping:
// lowerCamel names, 64-bit integers as strings, enums as their names,
// Timestamp as a date-time string, Duration and FieldMask as strings, Struct
// as an object, wrappers as their scalar. Errors reference google.rpc.Status.
// Server-streaming routes answer text/event-stream or application/x-ndjson;
// google.api.HttpBody requests and responses are `*/*` binary strings.
#pragma once

#include <set>
#include <string>

#include "gateway/routing/http_rules.h"

namespace genesis::gateway {

struct OpenApiOptions {
  std::string title = "Genesis REST API";
  std::string version = "v1";
  // When true, routes need bearerAuth (JWT or API key) or apiKey (X-Api-Key),
  // except those of `public_services`.
  bool auth = true;
  // Full names of the services whose routes need no credentials (--public_services).
  std::set<std::string> public_services;
};

// The OpenAPI 3.0.3 document as JSON text. Pure; routes with custom HTTP
// kinds (not GET/PUT/POST/DELETE/PATCH) are left out.
std::string BuildOpenApi(const RouteTable& routes, const OpenApiOptions& options);

}  // namespace genesis::gateway
