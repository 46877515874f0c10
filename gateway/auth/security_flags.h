// Flags shared by genesis-gateway and genesis-gateway-admin (JWT settings),
// and the gateway's security flags. Environment: GENESIS_<FLAG>, e.g.
// GENESIS_JWT_HS256_SECRET.
#pragma once

#include <gflags/gflags.h>

#include <string>

#include "absl/status/statusor.h"
#include "common/runtime/config.h"
#include "gateway/auth/jwt.h"

DECLARE_string(jwt_hs256_secret);
DECLARE_string(jwt_hs256_secret_file);
DECLARE_string(jwt_issuer);
DECLARE_string(jwt_audience);

namespace genesis::gateway {

// --jwt_hs256_secret, else the first line of --jwt_hs256_secret_file, else "".
// Adds a problem to `errors` for an unreadable file or a secret under 32 bytes.
std::string Hs256SecretFromFlags(ConfigErrors* errors);

}  // namespace genesis::gateway
