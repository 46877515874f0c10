// Alexa custom-skill requests: who sent them (Amazon's request signature and
// its certificate chain), what they ask (LaunchRequest, IntentRequest,
// SessionEndedRequest) and the answer in the Alexa response format.
//
// Verification follows Amazon's "host a custom skill as a web service" rules:
//   1. SignatureCertChainUrl matches an allowed prefix: scheme and host
//      compared case-insensitively, the path after dot-segment removal starts
//      with the prefix's path (case-sensitively), the port is the scheme's
//      default or the one the prefix names (Amazon's: https://s3.amazonaws.com/echo.api/);
//   2. the PEM chain at that URL (downloaded once per URL, then cached) leads
//      from the signing certificate to a trusted root, every certificate is
//      inside its validity dates at the injected clock's time, and the signing
//      certificate's subject alternative names include echo-api.amazon.com;
//   3. Signature-256 is base64(RSA-SHA256(raw body)) under the signing
//      certificate's key. The legacy SHA-1 `Signature` header is not accepted:
//      Amazon sends Signature-256 with every request and SHA-1 is no longer
//      safe against forged collisions;
//   4. request.timestamp is within the tolerance (150 s) of now, both ways;
//   5. the application id is the bot's skill id (compared in constant time).
// Failures of 1-3 are UNAUTHENTICATED (nothing is stored); 4 and 5 are
// INVALID_ARGUMENT, as Amazon documents them (HTTP 400); a chain that cannot
// be downloaded for a transport failure is UNAVAILABLE.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/base/clock.h"

namespace genesis::bot {

// The SAN every Alexa signing certificate carries.
inline constexpr char kAlexaSigningSan[] = "echo-api.amazon.com";
// Amazon's certificate URL prefix.
inline constexpr char kAlexaCertUrlPrefix[] = "https://s3.amazonaws.com/echo.api/";

// One allowed certificate-URL prefix, parsed.
struct AlexaCertUrlRule {
  std::string scheme;  // lower case: http or https
  std::string host;    // lower case
  int port = 0;        // the scheme's default when the prefix names none
  std::string path_prefix;
};

// "scheme://host[:port]/path/" -> rule. INVALID_ARGUMENT naming what is wrong.
[[nodiscard]] absl::StatusOr<AlexaCertUrlRule> ParseAlexaCertUrlRule(absl::string_view prefix);

// The path with "." and ".." segments removed (RFC 3986 5.2.4).
[[nodiscard]] std::string RemoveDotSegments(absl::string_view path);

// OK when `url` satisfies one of `rules`; UNAUTHENTICATED saying why not.
[[nodiscard]] absl::Status CheckAlexaCertUrl(absl::string_view url,
                                             const std::vector<AlexaCertUrlRule>& rules);

// Downloads a certificate chain (PEM). UNAVAILABLE / DEADLINE_EXCEEDED on
// transport failures (worth a retry), UNAUTHENTICATED for a non-200 answer or
// an oversized chain (the request cannot be authenticated). Thread-safe.
class CertChainFetcher {
 public:
  virtual ~CertChainFetcher() = default;
  virtual absl::StatusOr<std::string> Fetch(const std::string& url, absl::Duration timeout) = 0;
};

// Over the mesh's HTTP client (common/http/http_client.h): redirects not followed,
// at most 64 KiB.
std::unique_ptr<CertChainFetcher> MakeHttpCertChainFetcher();

struct AlexaVerifierOptions {
  std::vector<AlexaCertUrlRule> url_rules;  // empty: Amazon's
  // PEM roots trusted besides (or instead of) the system's.
  std::string extra_trusted_roots_pem;
  bool trust_system_roots = true;
  absl::Duration fetch_timeout = absl::Seconds(5);
  // Downloaded chains kept at most, and for how long.
  size_t max_cached_chains = 32;
  absl::Duration chain_cache_ttl = absl::Hours(1);
  Clock* clock = Clock::Real();  // certificate validity
};

// Checks rules 1-3 above. Thread-safe.
class AlexaVerifier {
 public:
  // INVALID_ARGUMENT when the extra roots are not PEM certificates.
  static absl::StatusOr<std::unique_ptr<AlexaVerifier>> Create(
      AlexaVerifierOptions options, std::unique_ptr<CertChainFetcher> fetcher);
  ~AlexaVerifier();

  // `signature_256` is the Signature-256 header, `legacy_signature` the
  // Signature header (only used to explain a refusal).
  [[nodiscard]] absl::Status Verify(absl::string_view cert_url, absl::string_view signature_256,
                                    absl::string_view legacy_signature, absl::string_view body);

  // Downloads done so far (cache misses), for tests.
  [[nodiscard]] int fetches() const;

  struct Chain;

 private:
  AlexaVerifier(AlexaVerifierOptions options, std::unique_ptr<CertChainFetcher> fetcher);
  absl::StatusOr<std::shared_ptr<const Chain>> ChainFor(const std::string& url);

  const AlexaVerifierOptions options_;
  std::unique_ptr<CertChainFetcher> fetcher_;
  struct Roots;
  std::unique_ptr<Roots> roots_;
  mutable std::mutex mu_;
  std::map<std::string, std::pair<std::shared_ptr<const Chain>, absl::Time>> cache_;
  int fetches_ = 0;
};

// What an Alexa request asks.
struct AlexaRequest {
  std::string type;  // LaunchRequest, IntentRequest, SessionEndedRequest, ...
  std::string request_id;
  absl::Time timestamp;
  std::string application_id;
  std::string user_id;
  std::string session_id;
  std::string locale;
  std::string intent_name;                   // IntentRequest
  std::map<std::string, std::string> slots;  // slot name -> value (filled slots only)
  std::string end_reason;                    // SessionEndedRequest
};

// The request headers (lower-case) Verify reads: Signature-256, Signature,
// SignatureCertChainUrl.
[[nodiscard]] inline std::vector<std::string> AlexaHeaderNames() {
  return {"signature-256", "signature", "signaturecertchainurl"};
}

// Parses the request body. INVALID_ARGUMENT naming the missing or malformed field.
[[nodiscard]] absl::StatusOr<AlexaRequest> ParseAlexaRequest(absl::string_view body);

// Rule 4: INVALID_ARGUMENT (field request.timestamp) when outside `tolerance` of `now`.
[[nodiscard]] absl::Status CheckAlexaTimestamp(const AlexaRequest& req, absl::Time now,
                                               absl::Duration tolerance);

// Rule 5: INVALID_ARGUMENT (field context.System.application.applicationId)
// unless the request's application id equals `skill_id`.
[[nodiscard]] absl::Status CheckAlexaApplication(const AlexaRequest& req,
                                                 absl::string_view skill_id);

// The user's words in an IntentRequest: the first filled slot among
// `preferred` (e.g. query, text), else the only filled slot; empty when none.
[[nodiscard]] std::string AlexaUtterance(const AlexaRequest& req,
                                         const std::vector<std::string>& preferred);

// {"version":"1.0","response":{"outputSpeech":{"type":"PlainText","text":...},
//  "shouldEndSession":...}}; no outputSpeech when `speech` is empty
// (SessionEndedRequest answers carry no speech).
[[nodiscard]] std::string AlexaResponseJson(absl::string_view speech, bool end_session);

}  // namespace genesis::bot
