// Alexa's side of a skill request, for the channel simulator and the tests:
// a private CA, a signing certificate issued by it (SAN echo-api.amazon.com
// by default) and RSA-SHA256 signatures of request bodies, exactly as Amazon
// signs them (Signature-256 = base64 of the signature over the raw body).
// Thread-safe after Create.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace genesis::bot::sim {

struct AlexaSignerOptions {
  // DNS name in the signing certificate's subject alternative names.
  std::string san = "echo-api.amazon.com";
  // Validity of the signing certificate (the CA's covers it).
  absl::Time not_before = absl::Now() - absl::Hours(1);
  absl::Time not_after = absl::Now() + absl::Hours(24 * 365);
};

class AlexaSigner {
 public:
  static absl::StatusOr<std::unique_ptr<AlexaSigner>> Create(AlexaSignerOptions options = {});
  ~AlexaSigner();

  // The CA certificate (what the bot manager must trust), PEM.
  [[nodiscard]] const std::string& ca_pem() const { return ca_pem_; }
  // The signing certificate followed by the CA, PEM (what SignatureCertChainUrl serves).
  [[nodiscard]] const std::string& chain_pem() const { return chain_pem_; }
  // base64(RSA-SHA256(body)) with the signing key: the Signature-256 header.
  [[nodiscard]] std::string Sign(absl::string_view body) const;

  struct Keys;

 private:
  AlexaSigner() = default;
  std::unique_ptr<Keys> keys_;
  std::string ca_pem_;
  std::string chain_pem_;
};

// What an Alexa request carries, for BuildAlexaRequest.
struct AlexaRequestSpec {
  std::string type = "IntentRequest";  // LaunchRequest, IntentRequest, SessionEndedRequest
  std::string application_id;
  std::string user_id = "amzn1.ask.account.SIMUSER";
  std::string request_id;  // generated when empty
  absl::Time timestamp = absl::Now();
  std::string intent = "AskIntent";
  std::string slot = "query";  // the slot that carries `text`
  std::string text;
  std::string locale = "pt-BR";
};

// The JSON body Alexa would POST for `spec`.
[[nodiscard]] std::string BuildAlexaRequest(const AlexaRequestSpec& spec);

}  // namespace genesis::bot::sim
