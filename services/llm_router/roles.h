// Who may call the router's administrative RPCs. The rule:
//   * the methods are marked administrative in the proto, so a call over
//     gRPC reaches them only with an identity (common/rpc/call_path.h
//     Admit(): a token's forwarded by the gateway, or an administrator
//     certificate's); that identity needs one of the listed roles, else
//     PERMISSION_DENIED naming them;
//   * a call without one reaches this code only from inside the process
//     (tests, background work) and is trusted.
// Administrative writes (UpdateModel, SetBudget, UpdateSubjectSettings,
// CreateExperiment, StopExperiment) need admin or operator. Reading another
// subject's usage (GetUsageReport, ListBudgets of another owner or of all)
// needs admin, operator or viewer; a subject may read its own.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "common/rpc/call_context.h"

namespace genesis::llmrouter {

// OK without identity or with one of `roles`; PERMISSION_DENIED otherwise.
inline absl::Status RequireRole(const CallContext& ctx, std::initializer_list<const char*> roles,
                                const std::string& what) {
  if (!ctx.HasIdentity()) return absl::OkStatus();
  for (const char* r : roles) {
    if (std::find(ctx.roles.begin(), ctx.roles.end(), r) != ctx.roles.end()) {
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(
      what + " needs role " + absl::StrJoin(roles, " or ") + "; the caller has " +
      (ctx.roles.empty() ? std::string("no role") : "roles " + absl::StrJoin(ctx.roles, ", ")));
}

inline absl::Status RequireAdmin(const CallContext& ctx, const std::string& what) {
  return RequireRole(ctx, {"admin", "operator"}, what);
}

// Reading data of `owner` ("" = everyone's): free for the owner itself.
inline absl::Status RequireReader(const CallContext& ctx, const std::string& owner,
                                  const std::string& what) {
  if (ctx.HasIdentity() && !owner.empty() && owner == ctx.subject) return absl::OkStatus();
  return RequireRole(ctx, {"admin", "operator", "viewer"}, what);
}

}  // namespace genesis::llmrouter
