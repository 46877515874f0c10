// The Reasoning service's mathematics, as plain functions over numbers: Bayes
// with reliability-discounted likelihoods in log space, the ACH likelihood
// table and diagnostics, and the sensitivity check. No storage, no protos.
//
// Definitions (also in README.md):
//   * Priors are weights >= 0 normalised to sum to 1.
//   * Evidence items are applied one after another, in the case's order. For
//     item e of reliability r, with p(h) the distribution before e:
//         P(E)     = sum_h p(h) * P(E|h)             (the prior-weighted mixture)
//         P'(E|h)  = r * P(E|h) + (1 - r) * P(E)     (the discounted likelihood)
//         log w(h) += log P'(E|h)                    (-inf when P'(E|h) = 0)
//     then the log weights are normalised (log-sum-exp), so hundreds of items
//     neither underflow nor overflow. r = 0 changes nothing; r = 1 is plain Bayes.
//   * A hypothesis with P(E|h) = 0 under an item of reliability 1 gets
//     posterior 0. When an item has P'(E|h) = 0 under every hypothesis still
//     possible, there is no posterior: FAILED_PRECONDITION naming the item.
//   * Inconsistency score of h: sum over items of r * 2 when P(E|h) <= 0.2
//     (strongly inconsistent) or r * 1 when P(E|h) <= 0.4 (inconsistent).
//   * Diagnosticity of an item: r * (max_h P(E|h) - min_h P(E|h)), the spread
//     of its discounted likelihoods; 0 means it cannot move any posterior.
//   * Sensitivity: removing item e is first estimated by subtracting its log
//     contribution from every hypothesis (exact when all reliabilities are 1,
//     because contributions then do not depend on order). Items whose removal
//     would change the leader are ranked by the margin of the new leader; when
//     some reliability is below 1, the best few candidates (and near misses
//     within kSensitivitySlack nats) are recomputed exactly and only a
//     confirmed change is reported.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/reasoning/model.h"

namespace genesis::reasoning {

// The ACH table: CONSISTENT_STRONG 0.9, CONSISTENT_WEAK 0.7, NEUTRAL 0.5,
// INCONSISTENT_WEAK 0.3, INCONSISTENT_STRONG 0.1 (kUnspecified: neutral).
double AchLikelihood(AchRating rating);
// The likelihood of a hypothesis an item does not rate.
inline constexpr double kUnratedLikelihood = 0.5;
// How many candidates the sensitivity check recomputes exactly, and how close
// (in nats) an estimated near miss must be to be recomputed.
inline constexpr int kSensitivityExactChecks = 3;
inline constexpr double kSensitivitySlack = 1.0;

struct InferenceInput {
  struct Item {
    double reliability = 1.0;
    std::vector<double> likelihoods;  // P(E|h), one per hypothesis
  };
  std::vector<double> priors;  // weights >= 0, one per hypothesis
  std::vector<Item> evidence;
  // For error messages only ("#3" when absent).
  std::vector<std::string> evidence_labels;
};

struct InferenceResult {
  std::vector<double> priors;  // normalised
  std::vector<double> posterior;
  std::vector<double> log_posterior;  // natural log; -inf for 0
  std::vector<double> inconsistency;
  std::vector<double> diagnosticity;  // per item
  size_t leading = 0;                 // highest posterior; the first on a tie
  std::optional<size_t> pivotal;      // item whose removal changes the leader
  size_t leading_without_pivotal = 0;
};

// INVALID_ARGUMENT for out-of-range numbers or mismatched sizes (the logic
// validates input first, so this is a guard); FAILED_PRECONDITION when there
// are no hypotheses, all priors are 0, or an item eliminates every hypothesis.
absl::StatusOr<InferenceResult> Infer(const InferenceInput& input);

}  // namespace genesis::reasoning
