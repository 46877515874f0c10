// Alexa request checks (services/bot_manager/channels/alexa/alexa.h). The first byte picks:
//   'u' a SignatureCertChainUrl for CheckAlexaCertUrl (Amazon's prefix),
//       ParseAlexaCertUrlRule and RemoveDotSegments;
//   'r' a request body for ParseAlexaRequest and the checks and answer after it;
//   'c' "<Signature-256>\n<body>\n<PEM chain>" for AlexaVerifier::Verify, the
//       chain served by a fake fetcher, trusting only a test root.
// Invariants: refusals are UNAUTHENTICATED / INVALID_ARGUMENT as documented;
// an accepted URL is on s3.amazonaws.com under /echo.api/; a verified request
// carries a signature the test leaf's key made over the body (nothing else
// verifies); an answer is JSON.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "common/base/clock.h"
#include "services/bot_manager/channels/alexa/alexa.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace genesis::bot;

// A throw-away root and the signing certificate it issued (SAN
// echo-api.amazon.com, valid 2026-2036); corpus/bot_alexa holds bodies its key signed.
constexpr char kRootPem[] = R"(-----BEGIN CERTIFICATE-----
MIIC1jCCAb6gAwIBAgIBATANBgkqhkiG9w0BAQsFADAcMRowGAYDVQQDDBFHZW5l
c2lzIEZ1enogUm9vdDAeFw0yNjAxMDEwMDAwMDBaFw0zNjAxMDEwMDAwMDBaMBwx
GjAYBgNVBAMMEUdlbmVzaXMgRnV6eiBSb290MIIBIjANBgkqhkiG9w0BAQEFAAOC
AQ8AMIIBCgKCAQEAtC4sEd87yhHkiwNM6FaB2UHASeMgGiG2wgqbqS7cSXuBpssj
VpFLpyTAkMaCsbkU7ci4MFGIaejpCCE2+ubtbH5qajS5nVQKAnl27156FMryxsBl
gGNvOug1Uu6fr/LQdhVsb55ap11zCLU0k13CzJM/j04V/QG6fLe7nwjHwkWFqD2f
+QfGklj7gydtiWkXeZTed6jKeQl7k13oxoJ6xvkz2YDUjH92XjUxencNebHLyvZr
yeFAWoMrOIxWqSTfChLt58Z8O/lGyTpQnWhC6ollcO41wpzZAryboOn7wFRLjvRm
PobJwvcbae7s8tlksk+EjP/RU6QovMufwy4MRwIDAQABoyMwITAPBgNVHRMBAf8E
BTADAQH/MA4GA1UdDwEB/wQEAwIBhjANBgkqhkiG9w0BAQsFAAOCAQEAJ9kLKCBG
NSf+d3D+vgnoEWNsZ1U/2/uI14dvvKPpIiaw6Q/irA9NlC+tHdD+wY8wB2PZRu2o
/x4joVAilrJIU2/JLjhnt8W+J0MebsGCbm2pqSqoctx4mlibObkYNRVwrlV8wp6U
MpL+vodnC+VfEvu1RS6nM/XnyzzUcgDZBImymSe402j3ocyDgAtGgZJKQ4Dqhu4K
RK/4+UCtqwUJU327rNZkyWTrFfS6iNo1W57zGv9j4IFd3M+Qudk0QhLhbNnaavk/
J0AhvEdzjnPXGhFFiYpfs0NAuCwDW9VP0dbh//ZTUblF2gw/2wrgHKgQLszr6kht
Do8D2eqBQkgEeQ==
-----END CERTIFICATE-----
)";
constexpr char kLeafPem[] = R"(-----BEGIN CERTIFICATE-----
MIIC1zCCAb+gAwIBAgIBAjANBgkqhkiG9w0BAQsFADAcMRowGAYDVQQDDBFHZW5l
c2lzIEZ1enogUm9vdDAeFw0yNjAxMDEwMDAwMDBaFw0zNjAxMDEwMDAwMDBaMB4x
HDAaBgNVBAMME2VjaG8tYXBpLmFtYXpvbi5jb20wggEiMA0GCSqGSIb3DQEBAQUA
A4IBDwAwggEKAoIBAQCtYUNG3IbPWkWVgQjD1rGlqARrJUlk8omOdg9TW7dMoT9p
2qYzD/Ohp2tJpRI0h+/6Vlop2XZSfsZ30xWBg5PNy586/6UcSLfIoV/3PrJ+Vi5i
AWqlH32ZfRSkr7OUl5uLneJzT0Z7HJEzH0m1IwPRplQyq0PUWkcXyMroeR5LKU36
8wUykb2DvxIUxeHilaqkqowtCfGu4MKZ0MKyHXvvh/O8f8G/+Kz/ghLqsl4mNFn4
LVZTKoasdQ9RhlUn4yjLnLOkDzoXfoUXxfJuPiJg9eejrQ0UXUBn1yfK1Lc9vgCR
QhFHBU5KiRjEzguXgAOTFic4d2FGyVHhOrLbGw+jAgMBAAGjIjAgMB4GA1UdEQQX
MBWCE2VjaG8tYXBpLmFtYXpvbi5jb20wDQYJKoZIhvcNAQELBQADggEBAFyYN4Dw
KQv5Q83vJjTzgUkkwwENJetg4owx6RFRkUljumbjLcnH18SANAsDCu0k6fv0kjlM
lVGcfTl45kll9Wfwv0nVld0hXUY4ouQEeqVK/g6AsPIzR71cDbqL+O8E6HtzAWOr
TWKmWF3SW3FgPcaK9mul1Z7bf9qk6it6HoP2ptKJApuwbNSRnzx5G+tWckh0k7hA
/IEbhJ3PuittCBZTLjw/4ZJQyVVmAYKeSme6NzrDgvEFfEmiUlvqJ88BdNJDSuEE
TTA4r56D1rlIMgAXHCvUW5uwXaLrXBsU6eKimhjCaHT0ya1u6WeO9IazqLE2sURH
Iojuks5eBcrmweU=
-----END CERTIFICATE-----
)";
const absl::Time kNow = absl::FromUnixSeconds(1780272000);  // 2026-06-01

class FixedFetcher : public CertChainFetcher {
 public:
  explicit FixedFetcher(std::string chain) : chain_(std::move(chain)) {}
  absl::StatusOr<std::string> Fetch(const std::string&, absl::Duration) override { return chain_; }

 private:
  std::string chain_;
};

// Independent of alexa.cc: does the test leaf's key verify `signature` over `body`?
bool SignedByLeaf(const std::string& signature, absl::string_view body) {
  static X509* cert = [] {  // kept for the life of the process
    BIO* bio = BIO_new_mem_buf(kLeafPem, -1);
    X509* c = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    FUZZ_CHECK(c != nullptr);
    return c;
  }();
  EVP_PKEY* key = X509_get0_pubkey(cert);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(body.data()),
                             body.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

const std::vector<AlexaCertUrlRule>& AmazonRules() {
  static const auto* rules = [] {
    auto rule = ParseAlexaCertUrlRule(kAlexaCertUrlPrefix);
    FUZZ_CHECK(rule.ok());
    return new std::vector<AlexaCertUrlRule>{*rule};
  }();
  return *rules;
}

void CheckUrl(absl::string_view url) {
  const absl::Status status = CheckAlexaCertUrl(url, AmazonRules());
  if (status.ok()) {
    const std::string lower = absl::AsciiStrToLower(url);
    FUZZ_CHECK(absl::StartsWith(lower, "https://s3.amazonaws.com:") ||
               absl::StartsWith(lower, "https://s3.amazonaws.com/"));
  } else {
    FUZZ_CHECK(status.code() == absl::StatusCode::kUnauthenticated);
  }
  auto rule = ParseAlexaCertUrlRule(url);
  if (!rule.ok()) FUZZ_CHECK(rule.status().code() == absl::StatusCode::kInvalidArgument);
  const std::string clean = RemoveDotSegments(url);
  FUZZ_CHECK(clean.find("/../") == std::string::npos && clean.find("/./") == std::string::npos);
}

void CheckRequest(absl::string_view body) {
  auto req = ParseAlexaRequest(body);
  if (!req.ok()) {
    FUZZ_CHECK(req.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  (void)CheckAlexaTimestamp(*req, kNow, absl::Seconds(150));
  (void)CheckAlexaApplication(*req, "amzn1.ask.skill.fuzz");
  const std::string utterance = AlexaUtterance(*req, {"query", "text"});
  const std::string answer = AlexaResponseJson(utterance, req->type == "SessionEndedRequest");
  FUZZ_CHECK(!nlohmann::json::parse(answer, nullptr, false).is_discarded());
}

void CheckSignature(absl::string_view in) {
  const size_t a = in.find('\n');
  if (a == absl::string_view::npos) return;
  const size_t b = in.find('\n', a + 1);
  if (b == absl::string_view::npos) return;
  const absl::string_view signature = in.substr(0, a);
  const absl::string_view body = in.substr(a + 1, b - a - 1);
  AlexaVerifierOptions options;
  options.trust_system_roots = false;
  options.extra_trusted_roots_pem = kRootPem;
  static genesis::ManualClock clock(kNow);
  options.clock = &clock;
  auto verifier =
      AlexaVerifier::Create(options, std::make_unique<FixedFetcher>(std::string(in.substr(b + 1))));
  FUZZ_CHECK(verifier.ok());
  const absl::Status status = (*verifier)->Verify(
      "https://s3.amazonaws.com/echo.api/echo-api-cert.pem", signature, "", body);
  if (std::getenv("GENESIS_FUZZ_VERBOSE") != nullptr) {  // what each input got, for seed writing
    std::fprintf(stderr, "verify: %s\n", status.ToString().c_str());
  }
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kUnauthenticated);
    return;
  }
  std::string raw;
  FUZZ_CHECK(absl::Base64Unescape(signature, &raw));
  FUZZ_CHECK(SignedByLeaf(raw, body));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0]) {
    case 'u':
      CheckUrl(in);
      break;
    case 'r':
      CheckRequest(in);
      break;
    case 'c':
      CheckSignature(in);
      break;
    default:
      break;
  }
  return 0;
}
