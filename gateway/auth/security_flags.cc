#include "gateway/auth/security_flags.h"

#include <fstream>

DEFINE_string(jwt_hs256_secret, "",
              "Shared secret of HS256 tokens (>= 32 bytes); empty with no "
              "--jwt_hs256_secret_file refuses HS256 tokens.");
DEFINE_string(jwt_hs256_secret_file, "", "File whose first line is the HS256 secret.");
DEFINE_string(jwt_issuer, "",
              "Required iss claim of tokens (empty: not checked); set in minted ones.");
DEFINE_string(jwt_audience, "",
              "Required aud claim of tokens (empty: not checked); set in minted ones.");

namespace genesis::gateway {

std::string Hs256SecretFromFlags(ConfigErrors* errors) {
  std::string secret = FLAGS_jwt_hs256_secret;
  if (secret.empty() && !FLAGS_jwt_hs256_secret_file.empty()) {
    std::ifstream in(FLAGS_jwt_hs256_secret_file);
    if (!in || !std::getline(in, secret)) {
      errors->Add("jwt_hs256_secret_file", "cannot read " + FLAGS_jwt_hs256_secret_file);
      return "";
    }
  }
  if (!secret.empty() && secret.size() < 32) {
    errors->Add("jwt_hs256_secret", "must be at least 32 bytes");
  }
  return secret;
}

}  // namespace genesis::gateway
