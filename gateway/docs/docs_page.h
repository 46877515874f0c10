// GET /docs: the API reference page, Swagger UI rendering /openapi.json.
//
// The page is a handful of static files read once at start from --docs_dir
// (the build copies them there: index.html and docs.js from gateway/docs/page,
// swagger-ui-bundle.js and swagger-ui.css from the pinned swagger-ui-dist npm
// package), served from memory; nothing is loaded from another site. Every
// answer carries kDocsContentSecurityPolicy, which lets the page run its own
// scripts and styles and call the gateway ("Try it out"), and nothing else.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace genesis::gateway {

struct DocsFile {
  std::string content_type;
  std::string body;
};

// Request path ("/docs", "/docs/swagger-ui-bundle.js") -> file.
using DocsPage = std::map<std::string, DocsFile>;

// The files the page needs, from `dir`. NOT_FOUND naming the first missing
// file (scripts/install-deps.sh installs swagger-ui-dist; the build copies it).
absl::StatusOr<DocsPage> LoadDocsPage(const std::string& dir);

// The page's Content-Security-Policy. `api_origin` ("https://api.example.com",
// or "" for the gateway itself) is added to connect-src for "Try it out".
std::string DocsContentSecurityPolicy(const std::string& api_origin);

// "https://api.example.com" of "https://api.example.com/base"; "" for a relative URL.
std::string OriginOf(const std::string& url);

}  // namespace genesis::gateway
