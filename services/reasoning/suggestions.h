// LLM assist: the outbound dependency that proposes hypotheses and rates
// evidence through the LLM router (task "reasoning"). Suggestions are only
// returned to the caller, never written; a person accepts them with
// CreateHypothesis / CreateEvidence.
//
// Implementations: RouterSuggestionClient (router_suggestions.h, over the
// LLM router's gRPC API) and UnconfiguredSuggestionClient (FAILED_PRECONDITION
// on every call, when --llm_router_address is empty); tests inject fakes.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/rpc/call_context.h"
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

// What a model answered, after filtering.
struct HypothesisSuggestions {
  std::vector<HypothesisSuggestion> suggestions;
  int dropped = 0;    // invalid entries of the answer that were left out
  std::string model;  // "models/{model}" that answered; empty when unknown
};

struct RatingSuggestions {
  std::vector<RatingSuggestion> suggestions;
  int dropped = 0;
  std::string model;
};

// Per-call choices of the caller.
struct AssistOptions {
  // The case is sensitive: the router must keep it on local models (P0).
  bool sensitive = false;
};

// Thread-safe implementations are required: the logic calls them from many
// worker threads at once.
class SuggestionClient {
 public:
  virtual ~SuggestionClient() = default;
  // Up to `max` hypotheses the case may be missing. Must respect ctx.deadline.
  virtual absl::StatusOr<HypothesisSuggestions> ProposeHypotheses(const Case& c, int max,
                                                                  const AssistOptions& options,
                                                                  const CallContext& ctx) = 0;
  // Ratings of the draft `evidence` against the case's hypotheses.
  virtual absl::StatusOr<RatingSuggestions> RateEvidence(const Case& c, const Evidence& evidence,
                                                         const AssistOptions& options,
                                                         const CallContext& ctx) = 0;
};

// What main.cc wires while no LLM router address is configured.
class UnconfiguredSuggestionClient final : public SuggestionClient {
 public:
  absl::StatusOr<HypothesisSuggestions> ProposeHypotheses(const Case&, int, const AssistOptions&,
                                                          const CallContext&) override {
    return NotConfigured();
  }
  absl::StatusOr<RatingSuggestions> RateEvidence(const Case&, const Evidence&, const AssistOptions&,
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
