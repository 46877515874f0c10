// Idempotency keys of create methods (`request_id`, AIP-155): a retry with the
// same key and the same request returns the first result; the same key with
// another request is ALREADY_EXISTS (REQUEST_ID_REUSED). The store keeps the
// key and a hash of the request beside the resource it created; these helpers
// build the key and the error, so every service words them alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

namespace genesis {

struct RequestKey {
  std::string request_id;
  std::string request_hash;  // a fingerprint of the request's content
};

// nullopt when `request_id` is empty (no idempotency asked); else the key
// with the hash of `fingerprint` (the request fields that make it the same
// request).
[[nodiscard]] std::optional<RequestKey> MakeRequestKey(const std::string& request_id,
                                                       const nlohmann::json& fingerprint);

// ALREADY_EXISTS, reason REQUEST_ID_REUSED (metadata request_id): `request_id`
// created another `resource` ("experiment", "bot") with different content.
[[nodiscard]] absl::Status RequestIdReused(const std::string& request_id,
                                           absl::string_view resource);

}  // namespace genesis
