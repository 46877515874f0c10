// /openapi.json: an OpenAPI 3.0 document of the REST API generated from the
// route table and the descriptors (the REST API documents itself, so a new
// RPC with an HTTP rule appears without any gateway change).
//
// Paths: one path item per URL shape, with every method bound to it (GET and
// DELETE of `/v1/{name=items/*}` and PATCH of `/v1/{item.name=items/*}` are
// both `/v1/items/{item}`). A path parameter is named after the collection
// segment before its wildcard, singular (`bots/*/conversations/*` ->
// `{bot}`, `{conversation}`); a variable that is a whole segment keeps its
// field's name (`/v1/webhooks/telegram/{bot}`, `/v1/files/{path=**}`). The
// URL is the same either way: the gateway binds the variable's field to the
// whole matched text ("bots/b1/conversations/c2"), which each parameter's
// description says. operationId is the full method name (`_2`, `_3`, ... for
// additional bindings); tags are the services (described by their proto
// comments); summary and description come from the proto comments (needs a
// descriptor set built with --include_source_info).
//
// Responses: 200, then every error status the gateway may answer, each a
// google.rpc.Status: 400 (with google.rpc.BadRequest field violations), 401
// and 403 (routes that need credentials), 404 (routes with a path variable),
// 409 (requests that carry an etag: a stale one is ABORTED), 413 (routes with
// a body), 429 (with Retry-After and RateLimit-*, when rate limits are on),
// 503; `default` for the rest. Schemas follow the proto3 JSON mapping:
// lowerCamel names, 64-bit integers as strings, enums as their names,
// Timestamp as a date-time string, Duration and FieldMask as strings, Struct
// as an object, wrappers as their scalar. Server-streaming routes answer
// text/event-stream or application/x-ndjson; google.api.HttpBody requests and
// responses are `*/*` binary strings. The gateway's own routes (/healthz,
// /readyz, /openapi.json, /docs) and the OpenAI-compatible front door are
// included.
#pragma once

#include <set>
#include <string>

#include "gateway/routing/http_rules.h"

namespace genesis::gateway {

struct OpenApiOptions {
  std::string title = "Genesis REST API";
  std::string version = "v1";
  // servers[0].url (--openapi_server_url): "/" means the host that served the
  // document; an absolute URL when the gateway sits behind a proxy.
  std::string server_url = "/";
  // When true, routes need bearerAuth (JWT or API key) or apiKey (X-Api-Key),
  // except those of `public_services`.
  bool auth = true;
  // Full names of the services whose routes need no credentials (--public_services).
  std::set<std::string> public_services;
  // When true, every route may answer 429 (with Retry-After and RateLimit-*).
  bool rate_limits = true;
  // POST /v1/chat/completions and GET /v1/models (--openai).
  bool openai = true;
  // GET /docs, the API reference page.
  bool docs_page = true;
};

// The OpenAPI 3.0.3 document as JSON text. Pure and deterministic (the same
// routes and options give the same bytes); routes with custom HTTP kinds (not
// GET/PUT/POST/DELETE/PATCH) are left out.
std::string BuildOpenApi(const RouteTable& routes, const OpenApiOptions& options);

// The name of the OpenAPI path parameter of a wildcard: the singular of the
// collection segment before it ("bots" -> "bot", "entries" -> "entry"), or,
// without one, the last element of the variable's field path ("item.name" -> "name").
std::string PathParameterName(const std::string& collection, const std::string& field_path);

}  // namespace genesis::gateway
