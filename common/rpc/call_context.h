// What the logic of a service may know about the call it serves, without
// depending on gRPC: the request id, the deadline and the caller's identity.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace genesis {

struct CallContext {
  std::string request_id;
  // Work for this call must not go past this instant.
  absl::Time deadline = absl::InfiniteFuture();
  // Caller identity: forwarded by a trusted gateway (a token's subject and
  // roles), or, over mTLS, an administrator's certificate (subject = its
  // name, role admin); empty for anonymous and service-to-service callers.
  std::string subject;
  std::vector<std::string> roles;
  // The name (common name) of the client certificate that mTLS verified for
  // this call; empty without mTLS.
  std::string peer;
  // True once the caller has gone away (cancelled or deadline passed).
  std::function<bool()> is_cancelled;

  // Whether the call carries a person's or operator's identity.
  [[nodiscard]] bool HasIdentity() const { return !subject.empty() || !roles.empty(); }
  [[nodiscard]] bool Expired() const { return absl::Now() >= deadline; }
  [[nodiscard]] bool Cancelled() const { return is_cancelled && is_cancelled(); }

  // A context for background work and tests: a fresh id and `timeout`.
  static CallContext Background(absl::Duration timeout = absl::Seconds(30)) {
    CallContext ctx;
    ctx.request_id = "background";
    ctx.deadline = absl::Now() + timeout;
    return ctx;
  }
};

}  // namespace genesis
