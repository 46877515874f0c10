// Alexa request verification (certificate URL rules, the signing chain, the
// signature), the request and response formats (channels/alexa/alexa.h).
#include "services/bot_manager/channels/alexa/alexa.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "common/base/status.h"
#include "services/bot_manager/bot_manager.h"
#include "services/bot_manager/channel_client.h"
#include "services/bot_manager/simulator/alexa_signer.h"
#include "services/bot_manager/simulator/simulator.h"
#include "services/bot_manager/tests/alexa_test_util.h"
#include "services/bot_manager/tests/fake_store.h"

namespace genesis::bot {
namespace {

using sim::AlexaRequestSpec;
using sim::AlexaSigner;
using sim::AlexaSignerOptions;

TEST(AlexaCertUrl, AmazonsDocumentedExamples) {
  struct Case {
    const char* url;
    bool ok;
  };
  const Case cases[] = {
      {"https://s3.amazonaws.com/echo.api/echo-api-cert.pem", true},
      {"HTTPS://s3.amazonaws.com/echo.api/echo-api-cert.pem", true},
      {"https://S3.AMAZONAWS.COM/echo.api/echo-api-cert.pem", true},
      {"https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem", true},
      {"https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem", true},
      {"http://s3.amazonaws.com/echo.api/echo-api-cert.pem", false},  // scheme
      {"https://notamazon.com/echo.api/echo-api-cert.pem", false},    // host
      {"https://s3.amazonaws.com.evil.com/echo.api/echo-api-cert.pem", false},
      {"https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem", false},       // path case
      {"https://s3.amazonaws.com/invalid.path/echo-api-cert.pem", false},   // path
      {"https://s3.amazonaws.com/echo.api/../x/echo-api-cert.pem", false},  // leaves echo.api
      {"https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem", false},   // port
      {"https://user@s3.amazonaws.com/echo.api/echo-api-cert.pem", false},
      {"https://s3.amazonaws.com/echo.api/%2e%2e/x.pem", false},
      {"s3.amazonaws.com/echo.api/echo-api-cert.pem", false},
      {"", false},
  };
  for (const auto& c : cases) {
    absl::Status st = CheckAlexaCertUrl(c.url, AmazonRules());
    EXPECT_EQ(st.ok(), c.ok) << c.url << ": " << st;
    if (!c.ok) {
      EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << c.url;
    }
  }
}

TEST(AlexaCertUrl, ExplicitTestRuleNeedsItsPort) {
  auto rule = ParseAlexaCertUrlRule("http://127.0.0.1:8123/echo.api/");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_TRUE(CheckAlexaCertUrl("http://127.0.0.1:8123/echo.api/c.pem", {*rule}).ok());
  EXPECT_FALSE(CheckAlexaCertUrl("http://127.0.0.1:8124/echo.api/c.pem", {*rule}).ok());
  EXPECT_FALSE(CheckAlexaCertUrl("http://127.0.0.1/echo.api/c.pem", {*rule}).ok());
  EXPECT_EQ(ParseAlexaCertUrlRule("ftp://x/echo.api/").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseAlexaCertUrlRule("https://x/echo.api").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AlexaCertUrl, RemovesDotSegments) {
  EXPECT_EQ(RemoveDotSegments("/echo.api/../echo.api/c.pem"), "/echo.api/c.pem");
  EXPECT_EQ(RemoveDotSegments("/echo.api/./c.pem"), "/echo.api/c.pem");
  EXPECT_EQ(RemoveDotSegments("/../../echo.api/c.pem"), "/echo.api/c.pem");
  EXPECT_EQ(RemoveDotSegments("/a/b/.."), "/a/");
}

TEST(AlexaVerifier, AcceptsAGoodSignatureAndCachesTheChain) {
  const std::string body = SkillBody();
  auto v = VerifierFor(GoodSigner().chain_pem(), GoodSigner().ca_pem());
  EXPECT_TRUE(v->Verify(kUrl, GoodSigner().Sign(body), "", body).ok());
  EXPECT_TRUE(v->Verify(kUrl, GoodSigner().Sign(body), "", body).ok());
  EXPECT_EQ(v->fetches(), 1);
}

TEST(AlexaVerifier, RefusesATamperedBody) {
  const std::string body = SkillBody();
  auto v = VerifierFor(GoodSigner().chain_pem(), GoodSigner().ca_pem());
  std::string tampered = body;
  tampered.replace(tampered.find("oi"), 2, "xx");
  absl::Status st = v->Verify(kUrl, GoodSigner().Sign(body), "", tampered);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << st;
  EXPECT_EQ(v->Verify(kUrl, "bm90IGEgc2lnbmF0dXJl", "", body).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(v->Verify(kUrl, "***", "", body).code(), absl::StatusCode::kUnauthenticated);
}

TEST(AlexaVerifier, RefusesMissingHeaders) {
  const std::string body = SkillBody();
  auto v = VerifierFor(GoodSigner().chain_pem(), GoodSigner().ca_pem());
  const std::string sig = GoodSigner().Sign(body);
  absl::Status no_url = v->Verify("", sig, "", body);
  EXPECT_EQ(no_url.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(no_url.message().find("SignatureCertChainUrl"), std::string::npos);
  absl::Status no_sig = v->Verify(kUrl, "", "", body);
  EXPECT_EQ(no_sig.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(no_sig.message().find("Signature-256"), std::string::npos);
  // The legacy SHA-1 header alone is not enough.
  absl::Status legacy = v->Verify(kUrl, "", sig, body);
  EXPECT_EQ(legacy.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(legacy.message().find("SHA-1"), std::string::npos);
  EXPECT_EQ(v->fetches(), 0);  // nothing downloaded for a request without signature
}

TEST(AlexaVerifier, RefusesAnUntrustedRoot) {
  auto other = AlexaSigner::Create().value();
  const std::string body = SkillBody();
  // Chain of `other`, trusting only the good signer's CA.
  auto v = VerifierFor(other->chain_pem(), GoodSigner().ca_pem());
  absl::Status st = v->Verify(kUrl, other->Sign(body), "", body);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << st;
  EXPECT_NE(st.message().find("chain"), std::string::npos);
}

TEST(AlexaVerifier, RefusesAnExpiredOrNotYetValidCertificate) {
  const absl::Time now = absl::Now();
  AlexaSignerOptions old;
  old.not_before = now - absl::Hours(48);
  old.not_after = now - absl::Hours(1);
  auto expired = AlexaSigner::Create(old).value();
  const std::string body = SkillBody();
  auto v = VerifierFor(expired->chain_pem(), expired->ca_pem(), now);
  absl::Status st = v->Verify(kUrl, expired->Sign(body), "", body);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << st;
  EXPECT_NE(st.message().find("expired"), std::string::npos) << st;
  // The same certificate was fine while it was valid (injected clock).
  auto earlier = VerifierFor(expired->chain_pem(), expired->ca_pem(), now - absl::Hours(2));
  EXPECT_TRUE(earlier->Verify(kUrl, expired->Sign(body), "", body).ok());
  auto future = VerifierFor(GoodSigner().chain_pem(), GoodSigner().ca_pem(), now - absl::Hours(3));
  EXPECT_EQ(future->Verify(kUrl, GoodSigner().Sign(body), "", body).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(AlexaVerifier, RefusesAWrongSan) {
  AlexaSignerOptions other_name;
  other_name.san = "echo-api.example.com";
  auto wrong = AlexaSigner::Create(other_name).value();
  const std::string body = SkillBody();
  auto v = VerifierFor(wrong->chain_pem(), wrong->ca_pem());
  absl::Status st = v->Verify(kUrl, wrong->Sign(body), "", body);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << st;
  EXPECT_NE(st.message().find("echo-api.amazon.com"), std::string::npos);
}

TEST(AlexaVerifier, RefusesADisallowedUrlBeforeDownloading) {
  const std::string body = SkillBody();
  auto v = VerifierFor(GoodSigner().chain_pem(), GoodSigner().ca_pem());
  EXPECT_EQ(v->Verify("https://evil.example.com/echo.api/c.pem", GoodSigner().Sign(body), "", body)
                .code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(v->fetches(), 0);
}

TEST(AlexaVerifier, UnreachableChainIsUnavailable) {
  const std::string body = SkillBody();
  auto v = VerifierFor(GoodSigner().chain_pem(), GoodSigner().ca_pem());
  EXPECT_EQ(
      v->Verify("https://s3.amazonaws.com/echo.api/other.pem", GoodSigner().Sign(body), "", body)
          .code(),
      absl::StatusCode::kUnavailable);
}

TEST(AlexaVerifier, DownloadsTheChainFromTheSimulatorOverHttp) {
  auto sim = sim::ChannelSimulator::Start("127.0.0.1", 0);
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto fetcher = MakeHttpCertChainFetcher();
  auto ca = fetcher->Fetch((*sim)->url() + "/_sim/alexa/ca.pem", absl::Seconds(5));
  ASSERT_TRUE(ca.ok()) << ca.status();
  auto signed_request = PostJson((*sim)->url() + "/_sim/alexa/sign", {},
                                 R"({"skill_id": "skill", "text": "oi"})", absl::Seconds(5));
  ASSERT_TRUE(signed_request.ok()) << signed_request.status();
  auto s = nlohmann::json::parse(signed_request->body);
  AlexaVerifierOptions o;
  o.trust_system_roots = false;
  o.extra_trusted_roots_pem = *ca;
  o.url_rules = {ParseAlexaCertUrlRule((*sim)->url() + "/echo.api/").value()};
  auto v = AlexaVerifier::Create(o, MakeHttpCertChainFetcher()).value();
  const std::string url = s["cert_url"];
  EXPECT_TRUE(
      v->Verify(url, s["signature_256"].get<std::string>(), "", s["body"].get<std::string>()).ok());
  // A path under the allowed prefix that serves no chain cannot authenticate anything.
  EXPECT_EQ(v->Verify((*sim)->url() + "/echo.api/missing.pem",
                      s["signature_256"].get<std::string>(), "", s["body"].get<std::string>())
                .code(),
            absl::StatusCode::kUnauthenticated);
  const int port = (*sim)->port();
  sim->reset();
  // The simulator is gone: a transport failure is worth retrying.
  auto gone = MakeHttpCertChainFetcher()->Fetch(
      absl::StrCat("http://127.0.0.1:", port, "/echo.api/echo-api-cert.pem"), absl::Seconds(5));
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kUnavailable);
}

TEST(AlexaRequest, ParsesAnIntentWithItsSlots) {
  const absl::Time t = absl::FromUnixSeconds(1700000000);
  AlexaRequestSpec spec;
  spec.application_id = "amzn1.ask.skill.1";
  spec.user_id = "amzn1.ask.account.U";
  spec.request_id = "req-1";
  spec.timestamp = t;
  spec.text = "qual o horário?";
  auto r = ParseAlexaRequest(sim::BuildAlexaRequest(spec));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->type, "IntentRequest");
  EXPECT_EQ(r->request_id, "req-1");
  EXPECT_EQ(r->timestamp, t);
  EXPECT_EQ(r->application_id, "amzn1.ask.skill.1");
  EXPECT_EQ(r->user_id, "amzn1.ask.account.U");
  EXPECT_EQ(r->intent_name, "AskIntent");
  EXPECT_EQ(AlexaUtterance(*r, {"query", "text"}), "qual o horário?");
}

TEST(AlexaRequest, UtterancePrefersConfiguredSlots) {
  AlexaRequest r;
  r.slots = {{"city", "Recife"}, {"text", "vai chover?"}};
  EXPECT_EQ(AlexaUtterance(r, {"query", "text"}), "vai chover?");
  EXPECT_EQ(AlexaUtterance(r, {"query"}), "");  // two slots, none preferred: ambiguous
  r.slots = {{"city", "Recife"}};
  EXPECT_EQ(AlexaUtterance(r, {"query"}), "Recife");
}

TEST(AlexaRequest, NamesMissingFields) {
  auto r = ParseAlexaRequest(R"({"request":{"type":"IntentRequest"}})");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  std::map<std::string, std::string> fields;
  for (auto& [f, d] : FieldViolationsOf(r.status())) fields[f] = d;
  EXPECT_TRUE(fields.count("body.request.requestId"));
  EXPECT_TRUE(fields.count("body.request.timestamp"));
  EXPECT_TRUE(fields.count("body.context.System.application.applicationId"));
  EXPECT_TRUE(fields.count("body.context.System.user.userId"));
  EXPECT_TRUE(fields.count("body.request.intent.name"));
  EXPECT_EQ(ParseAlexaRequest("not json").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AlexaRequest, TimestampWithin150Seconds) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  AlexaRequest r;
  r.timestamp = now - absl::Seconds(150);
  EXPECT_TRUE(CheckAlexaTimestamp(r, now, absl::Seconds(150)).ok());
  r.timestamp = now + absl::Seconds(150);
  EXPECT_TRUE(CheckAlexaTimestamp(r, now, absl::Seconds(150)).ok());
  r.timestamp = now - absl::Seconds(151);
  absl::Status st = CheckAlexaTimestamp(r, now, absl::Seconds(150));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolationsOf(st).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(st)[0].first, "body.request.timestamp");
  r.timestamp = now + absl::Seconds(151);
  EXPECT_FALSE(CheckAlexaTimestamp(r, now, absl::Seconds(150)).ok());
}

TEST(AlexaRequest, ApplicationIdMustBeTheBotsSkill) {
  AlexaRequest r;
  r.application_id = "amzn1.ask.skill.A";
  EXPECT_TRUE(CheckAlexaApplication(r, "amzn1.ask.skill.A").ok());
  absl::Status st = CheckAlexaApplication(r, "amzn1.ask.skill.B");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldViolationsOf(st)[0].first, "body.context.System.application.applicationId");
  EXPECT_FALSE(CheckAlexaApplication(r, "").ok());
}

TEST(AlexaResponse, PlainTextSpeech) {
  auto j = nlohmann::json::parse(AlexaResponseJson("Olá, tudo bem?", false));
  EXPECT_EQ(j["version"], "1.0");
  EXPECT_EQ(j["response"]["outputSpeech"]["type"], "PlainText");
  EXPECT_EQ(j["response"]["outputSpeech"]["text"], "Olá, tudo bem?");
  EXPECT_EQ(j["response"]["shouldEndSession"], false);
  auto end = nlohmann::json::parse(AlexaResponseJson("Até logo!", true));
  EXPECT_EQ(end["response"]["shouldEndSession"], true);
  auto ended = nlohmann::json::parse(AlexaResponseJson("", true));
  EXPECT_TRUE(ended["response"].is_object());
  EXPECT_FALSE(ended["response"].contains("outputSpeech"));
}

}  // namespace
}  // namespace genesis::bot
