// LLM assist: the outbound dependency that proposes hypotheses and rates
// evidence through the LLM router (task "reasoning"). Suggestions are only
// returned to the caller, never written; a person accepts them with
// CreateHypothesis / CreateEvidence.
//
// The router does not exist yet, so the only implementation is
// UnconfiguredSuggestionClient (FAILED_PRECONDITION on every call); tests
// inject a fake. A router client will implement this interface.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/call_context.h"
#include "services/reasoning/model.h"

namespace genesis::reasoning {

struct HypothesisSuggestion {
  std::string statement;
  double prior = 1.0;
  std::string explanation;
};

struct RatingSuggestion {
  Rating rating;  // hypothesis_id is a bare id of the case ("h1")
  std::string explanation;
};

class SuggestionClient {
 public:
  virtual ~SuggestionClient() = default;
  // Up to `max` hypotheses the case may be missing. Must respect ctx.deadline.
  virtual absl::StatusOr<std::vector<HypothesisSuggestion>> ProposeHypotheses(
      const Case& c, int max, const CallContext& ctx) = 0;
  // Ratings of the draft `evidence` against the case's hypotheses.
  virtual absl::StatusOr<std::vector<RatingSuggestion>> RateEvidence(const Case& c,
                                                                     const Evidence& evidence,
                                                                     const CallContext& ctx) = 0;
};

// What main.cc wires while no LLM router address is configured.
class UnconfiguredSuggestionClient final : public SuggestionClient {
 public:
  absl::StatusOr<std::vector<HypothesisSuggestion>> ProposeHypotheses(const Case&, int,
                                                                      const CallContext&) override {
    return NotConfigured();
  }
  absl::StatusOr<std::vector<RatingSuggestion>> RateEvidence(const Case&, const Evidence&,
                                                             const CallContext&) override {
    return NotConfigured();
  }

 private:
  static absl::Status NotConfigured() {
    return absl::FailedPreconditionError(
        "LLM assist is not configured (the service runs without --llm_router_address)");
  }
};

}  // namespace genesis::reasoning
