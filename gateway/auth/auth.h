// Who is calling: a JWT or an API key from `Authorization: Bearer <token>`
// (API keys also from `X-Api-Key`), turned into an Identity. Tokens shaped
// like gk_<id>_<secret> are API keys, anything else is a JWT.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/auth/api_keys.h"
#include "gateway/auth/jwt.h"

namespace genesis::gateway {

struct Identity {
  std::string subject;  // JWT sub, or "apikey/<id>"
  std::vector<std::string> roles;
  std::string credential;  // rate-limit key: "jwt:<sub>" or "key:<id>"
};

class Authenticator {
 public:
  using Clock = std::function<absl::Time()>;
  // Either may be null: that kind of credential is then refused.
  Authenticator(const JwtVerifier* jwt, ApiKeyStore* keys, Clock clock = absl::Now,
                absl::Duration store_timeout = absl::Seconds(1));

  // UNAUTHENTICATED when no credential is presented or it is invalid (the
  // message says which); UNAVAILABLE when API keys cannot be checked now.
  absl::StatusOr<Identity> Authenticate(const std::map<std::string, std::string>& headers) const;

 private:
  const JwtVerifier* jwt_;
  ApiKeyStore* keys_;
  Clock clock_;
  absl::Duration store_timeout_;
};

}  // namespace genesis::gateway
