#include "gateway/docs/docs_page.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace genesis::gateway {

absl::StatusOr<DocsPage> LoadDocsPage(const std::string& dir) {
  static const std::pair<const char*, const char*> kFiles[] = {
      {"index.html", "text/html; charset=utf-8"},
      {"docs.js", "text/javascript; charset=utf-8"},
      {"swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
      {"swagger-ui.css", "text/css; charset=utf-8"},
  };
  DocsPage page;
  for (const auto& [name, type] : kFiles) {
    const std::string path = absl::StrCat(dir, "/", name);
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
    std::ostringstream body;
    body << in.rdbuf();
    const std::string key =
        std::string(name) == "index.html" ? "/docs" : absl::StrCat("/docs/", name);
    page[key] = {type, body.str()};
  }
  return page;
}

std::string DocsContentSecurityPolicy(const std::string& api_origin) {
  // Swagger UI sets style attributes (hence 'unsafe-inline' for styles only)
  // and draws some icons as data: images; no script runs but the page's own.
  return absl::StrCat(
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
      "img-src 'self' data:; font-src 'self' data:; connect-src 'self'",
      api_origin.empty() ? "" : " " + api_origin,
      "; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
}

std::string OriginOf(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos ||
      !(absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://"))) {
    return "";
  }
  size_t end = url.find('/', scheme + 3);
  return end == std::string::npos ? url : url.substr(0, end);
}

}  // namespace genesis::gateway
