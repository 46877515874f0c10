// What the Alexa tests share: a signer of the channel simulator (a test
// root, its signing chain), a verifier that downloads chains from a fake
// fetcher, a skill request body and Amazon's URL rule.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "services/bot_manager/channels/alexa/alexa.h"
#include "services/bot_manager/simulator/alexa_signer.h"
#include "services/bot_manager/simulator/simulator.h"

namespace genesis::bot {

inline constexpr char kUrl[] = "https://s3.amazonaws.com/echo.api/echo-api-cert.pem";

// Serves PEM chains by URL and counts downloads.
class FakeFetcher final : public CertChainFetcher {
 public:
  explicit FakeFetcher(std::map<std::string, std::string> pems) : pems_(std::move(pems)) {}
  absl::StatusOr<std::string> Fetch(const std::string& url, absl::Duration) override {
    auto it = pems_.find(url);
    if (it == pems_.end()) return absl::UnavailableError("connection refused");
    return it->second;
  }

 private:
  std::map<std::string, std::string> pems_;
};

inline const sim::AlexaSigner& GoodSigner() {
  static auto* s = sim::AlexaSigner::Create().value().release();
  return *s;
}

// A clock standing at `t` that lives as long as the test binary: a verifier
// keeps the Clock* it was given.
inline Clock* FixedClockAt(absl::Time t) {
  static std::mutex mu;
  static std::deque<ManualClock> clocks;  // a deque never moves its elements
  std::lock_guard<std::mutex> lock(mu);
  return &clocks.emplace_back(t);
}

inline std::unique_ptr<AlexaVerifier> VerifierFor(const std::string& chain_pem,
                                                  const std::string& trusted_root_pem,
                                                  absl::Time now = absl::Now()) {
  AlexaVerifierOptions o;
  o.trust_system_roots = false;
  o.extra_trusted_roots_pem = trusted_root_pem;
  o.clock = FixedClockAt(now);
  return AlexaVerifier::Create(o, std::make_unique<FakeFetcher>(
                                      std::map<std::string, std::string>{{kUrl, chain_pem}}))
      .value();
}

inline std::string SkillBody() {
  sim::AlexaRequestSpec spec;
  spec.application_id = "skill";
  spec.text = "oi";
  return sim::BuildAlexaRequest(spec);
}

inline std::vector<AlexaCertUrlRule> AmazonRules() {
  return {ParseAlexaCertUrlRule(kAlexaCertUrlPrefix).value()};
}

}  // namespace genesis::bot
