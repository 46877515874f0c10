#include "common/base/request_key.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/reasons.h"
#include "common/base/status.h"

namespace genesis {

std::optional<RequestKey> MakeRequestKey(const std::string& request_id,
                                         const nlohmann::json& fingerprint) {
  if (request_id.empty()) return std::nullopt;
  // FNV-1a over the canonical JSON (object keys sorted): tells a retry from
  // another request, not a security boundary.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : fingerprint.dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return RequestKey{request_id, absl::StrFormat("%016x", h)};
}

absl::Status RequestIdReused(const std::string& request_id, absl::string_view resource) {
  return WithReason(absl::AlreadyExistsError(absl::StrCat(
                        "request_id '", request_id, "' was already used for a different ", resource,
                        "; use a new request_id per new ", resource)),
                    reasons::kRequestIdReused, {{"request_id", request_id}});
}

}  // namespace genesis
