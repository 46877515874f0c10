#include "gateway/auth/auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace genesis::gateway {

Authenticator::Authenticator(const JwtVerifier* jwt, ApiKeyStore* keys, Clock clock,
                             absl::Duration store_timeout)
    : jwt_(jwt), keys_(keys), clock_(std::move(clock)), store_timeout_(store_timeout) {}

absl::StatusOr<Identity> Authenticator::Authenticate(
    const std::map<std::string, std::string>& headers) const {
  std::string token;
  if (auto it = headers.find("authorization"); it != headers.end()) {
    absl::string_view v = absl::StripAsciiWhitespace(it->second);
    if (v.size() < 7 || !absl::EqualsIgnoreCase(v.substr(0, 7), "bearer ")) {
      return absl::UnauthenticatedError("Authorization must be 'Bearer <token>'");
    }
    token = std::string(absl::StripAsciiWhitespace(v.substr(7)));
  } else if (auto k = headers.find("x-api-key"); k != headers.end()) {
    token = std::string(absl::StripAsciiWhitespace(k->second));
  }
  if (token.empty()) {
    return absl::UnauthenticatedError(
        "credentials required: Authorization: Bearer <token> or X-Api-Key");
  }
  const absl::Time now = clock_();
  if (LooksLikeApiKey(token)) {
    if (keys_ == nullptr) return absl::UnauthenticatedError("API keys are not accepted");
    auto record = CheckApiKey(keys_, token, now, absl::Now() + store_timeout_);
    if (!record.ok()) return record.status();
    return Identity{absl::StrCat("apikey/", record->id), record->roles,
                    absl::StrCat("key:", record->id)};
  }
  if (jwt_ == nullptr) return absl::UnauthenticatedError("JWTs are not accepted");
  auto claims = jwt_->Verify(token, now);
  if (!claims.ok()) return claims.status();
  return Identity{claims->subject, claims->roles, absl::StrCat("jwt:", claims->subject)};
}

}  // namespace genesis::gateway
