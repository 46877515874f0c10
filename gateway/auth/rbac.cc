#include "gateway/auth/rbac.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace genesis::gateway {

std::string ServiceShortName(const std::string& service_full_name) {
  std::vector<std::string> parts = absl::StrSplit(service_full_name, '.');
  if (parts.size() < 3 || parts[0] != "genesis") return "";
  return parts[1];
}

absl::StatusOr<Rbac> Rbac::Parse(absl::string_view json) {
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("roles") || !doc["roles"].is_object())
    return absl::InvalidArgumentError("RBAC config must be an object with a \"roles\" object");
  Rbac rbac;
  for (const auto& [role, services] : doc["roles"].items()) {
    if (!services.is_object())
      return absl::InvalidArgumentError(absl::StrCat("role ", role, ": want {service: perm}"));
    auto& perms = rbac.roles_[role];
    for (const auto& [service, perm] : services.items()) {
      if (perm == "read") {
        perms[service] = Permission::kRead;
      } else if (perm == "write") {
        perms[service] = Permission::kWrite;
      } else if (perm == "none") {
        perms[service] = Permission::kNone;
      } else {
        return absl::InvalidArgumentError(absl::StrCat("role ", role, ", service ", service,
                                                       ": permission must be read, write or none"));
      }
    }
  }
  return rbac;
}

absl::StatusOr<Rbac> Rbac::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto rbac = Parse(ss.str());
  if (!rbac.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", rbac.status().message()));
  return rbac;
}

Permission Rbac::For(const std::vector<std::string>& roles,
                     const std::string& service_full_name) const {
  const std::string short_name = ServiceShortName(service_full_name);
  Permission best = Permission::kNone;
  for (const auto& role : roles) {
    auto r = roles_.find(role);
    if (r == roles_.end()) continue;
    const auto& perms = r->second;
    Permission p = Permission::kNone;
    if (auto it = perms.find(service_full_name); it != perms.end()) {
      p = it->second;
    } else if (auto it = perms.find(short_name); !short_name.empty() && it != perms.end()) {
      p = it->second;
    } else if (auto it = perms.find("*"); it != perms.end()) {
      p = it->second;
    }
    best = std::max(best, p);
  }
  return best;
}

bool Rbac::Allows(const std::vector<std::string>& roles, const std::string& service_full_name,
                  absl::string_view http_method) const {
  Permission p = For(roles, service_full_name);
  return http_method == "GET" ? p >= Permission::kRead : p == Permission::kWrite;
}

std::vector<std::string> Rbac::Roles() const {
  std::vector<std::string> out;
  for (const auto& [role, perms] : roles_) out.push_back(role);
  return out;
}

}  // namespace genesis::gateway
