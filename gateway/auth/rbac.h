// Role-based access: roles map to a permission per service, read (GET routes)
// or write (every method). Loaded from a JSON file (config/rbac.json):
//   {"roles": {"admin": {"*": "write"}, "viewer": {"*": "read"},
//              "bot": {"catalog": "write", "reasoning": "read"}}}
// Service keys are the package name of genesis.<name>.v1.* services
// ("catalog"), a full service name, or "*" for every service; the most
// specific entry of a role wins, and a caller's permission is the best of
// its roles. Unknown roles grant nothing. Immutable, thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace genesis::gateway {

enum class Permission { kNone = 0, kRead = 1, kWrite = 2 };

class Rbac {
 public:
  // INVALID_ARGUMENT naming the role and service of a bad entry.
  static absl::StatusOr<Rbac> Parse(absl::string_view json);
  static absl::StatusOr<Rbac> Load(const std::string& path);

  // The permission `roles` have on `service_full_name`.
  [[nodiscard]] Permission For(const std::vector<std::string>& roles,
                               const std::string& service_full_name) const;
  // True when `roles` may call a route of `http_method` on the service:
  // GET needs read, anything else write.
  [[nodiscard]] bool Allows(const std::vector<std::string>& roles,
                            const std::string& service_full_name,
                            absl::string_view http_method) const;
  [[nodiscard]] std::vector<std::string> Roles() const;

 private:
  std::map<std::string, std::map<std::string, Permission>> roles_;
};

// "genesis.catalog.v1.CatalogService" -> "catalog"; "" for other names.
std::string ServiceShortName(const std::string& service_full_name);

}  // namespace genesis::gateway
