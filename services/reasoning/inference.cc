#include "services/reasoning/inference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "services/reasoning/reasons.h"

namespace genesis::reasoning {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

double SafeLog(double x) { return x > 0 ? std::log(x) : kNegInf; }

std::string Label(const InferenceInput& in, size_t e) {
  return e < in.evidence_labels.size() ? in.evidence_labels[e] : absl::StrCat("#", e + 1);
}

size_t ArgMax(const std::vector<double>& v) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] > v[best]) best = i;
  }
  return best;
}

// Applies every item but `skip` to the normalised log priors `logw` (updated
// in place, shifted so that its maximum is 0). With `contrib`, stores each
// item's log contribution log P'(E|h) at [e * H + h].
absl::Status Fold(const InferenceInput& in, std::optional<size_t> skip, std::vector<double>* logw,
                  std::vector<double>* contrib) {
  const size_t H = logw->size();
  std::vector<double> p(H);
  for (size_t e = 0; e < in.evidence.size(); ++e) {
    if (skip && *skip == e) continue;
    const auto& item = in.evidence[e];
    const double r = item.reliability;
    double pe = 0;
    if (r < 1.0) {
      // p = softmax(logw); the maximum of logw is 0, so the sum is >= 1.
      double sum = 0;
      for (size_t h = 0; h < H; ++h) sum += (p[h] = std::exp((*logw)[h]));
      for (size_t h = 0; h < H; ++h) pe += p[h] / sum * item.likelihoods[h];
    }
    double max = kNegInf;
    for (size_t h = 0; h < H; ++h) {
      const double c = SafeLog(r * item.likelihoods[h] + (1.0 - r) * pe);
      if (contrib) (*contrib)[e * H + h] = c;
      (*logw)[h] += c;  // -inf stays -inf
      max = std::max(max, (*logw)[h]);
    }
    if (max == kNegInf) {
      return absl::FailedPreconditionError(absl::StrCat(
          "evidence ", Label(in, e),
          " has likelihood 0 under every hypothesis still possible, so no posterior exists; "
          "correct its ratings or add a hypothesis that explains it (e.g. \"none of these\")"));
    }
    for (double& w : *logw) w -= max;
  }
  return absl::OkStatus();
}

absl::Status CheckInput(const InferenceInput& in) {
  if (in.priors.empty()) {
    return WithReason(absl::FailedPreconditionError("the case has no hypotheses; add some first"),
                      reasons::kNoHypotheses);
  }
  double sum = 0;
  for (size_t h = 0; h < in.priors.size(); ++h) {
    if (!(in.priors[h] >= 0) || !std::isfinite(in.priors[h])) {
      return absl::InvalidArgumentError(absl::StrCat("prior #", h + 1, " must be >= 0"));
    }
    sum += in.priors[h];
  }
  if (!(sum > 0)) {
    return absl::FailedPreconditionError(
        "every hypothesis has prior 0; give at least one a positive prior");
  }
  for (size_t e = 0; e < in.evidence.size(); ++e) {
    const auto& item = in.evidence[e];
    if (!(item.reliability >= 0 && item.reliability <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("evidence ", Label(in, e), ": reliability must be in [0, 1]"));
    }
    if (item.likelihoods.size() != in.priors.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("evidence ", Label(in, e), ": one likelihood per hypothesis is needed"));
    }
    for (double l : item.likelihoods) {
      if (!(l >= 0 && l <= 1)) {
        return absl::InvalidArgumentError(
            absl::StrCat("evidence ", Label(in, e), ": likelihoods must be in [0, 1]"));
      }
    }
  }
  return absl::OkStatus();
}

// The sensitivity check (see inference.h). `logw0` are the normalised log
// priors, `contrib` the log contributions of the full fold.
void Sensitivity(const InferenceInput& in, const std::vector<double>& logw0,
                 const std::vector<double>& contrib, InferenceResult* out) {
  const size_t H = logw0.size(), E = in.evidence.size();
  // Per hypothesis: the sum of finite terms and how many terms are -inf.
  std::vector<double> finite(H, 0);
  std::vector<int> zeros(H, 0);
  for (size_t h = 0; h < H; ++h) {
    if (logw0[h] == kNegInf) {
      ++zeros[h];
    } else {
      finite[h] = logw0[h];
    }
  }
  for (size_t e = 0; e < E; ++e) {
    for (size_t h = 0; h < H; ++h) {
      const double c = contrib[e * H + h];
      if (c == kNegInf) {
        ++zeros[h];
      } else {
        finite[h] += c;
      }
    }
  }
  bool all_reliable = true;
  for (const auto& item : in.evidence) all_reliable = all_reliable && item.reliability == 1.0;

  struct Candidate {
    double margin;  // estimated log weight of the new leader over the old one
    size_t evidence, leader;
  };
  std::vector<Candidate> candidates;
  std::vector<double> v(H);
  const size_t lead = out->leading;
  for (size_t e = 0; e < E; ++e) {
    for (size_t h = 0; h < H; ++h) {
      const double c = contrib[e * H + h];
      const bool zero = c == kNegInf;
      v[h] = zeros[h] - (zero ? 1 : 0) > 0 ? kNegInf : finite[h] - (zero ? 0 : c);
    }
    const size_t best = ArgMax(v);
    if (v[best] == kNegInf || v[lead] == kNegInf) continue;
    double margin;
    if (best != lead) {
      margin = v[best] - v[lead];
    } else {
      double second = kNegInf;
      for (size_t h = 0; h < H; ++h) {
        if (h != lead) second = std::max(second, v[h]);
      }
      margin = second - v[lead];  // <= 0: the leader stays
    }
    if (best != lead || (!all_reliable && margin > -kSensitivitySlack)) {
      candidates.push_back({margin, e, best});
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.margin > b.margin; });
  if (all_reliable) {
    // The estimate is exact; the first candidate is a change (near misses are not kept).
    if (!candidates.empty()) {
      out->pivotal = candidates[0].evidence;
      out->leading_without_pivotal = candidates[0].leader;
    }
    return;
  }
  int checks = 0;
  for (const auto& c : candidates) {
    if (checks++ == kSensitivityExactChecks) break;
    std::vector<double> logw = logw0;
    if (!Fold(in, c.evidence, &logw, nullptr).ok()) continue;
    const size_t leader = ArgMax(logw);
    if (leader != lead) {
      out->pivotal = c.evidence;
      out->leading_without_pivotal = leader;
      return;
    }
  }
}

}  // namespace

double AchLikelihood(AchRating rating) {
  switch (rating) {
    case AchRating::kConsistentStrong:
      return 0.9;
    case AchRating::kConsistentWeak:
      return 0.7;
    case AchRating::kInconsistentWeak:
      return 0.3;
    case AchRating::kInconsistentStrong:
      return 0.1;
    default:
      return 0.5;
  }
}

absl::StatusOr<InferenceResult> Infer(const InferenceInput& in) {
  if (absl::Status st = CheckInput(in); !st.ok()) return st;
  const size_t H = in.priors.size(), E = in.evidence.size();
  InferenceResult out;
  double sum = 0;
  for (double p : in.priors) sum += p;
  std::vector<double> logw0(H);
  for (size_t h = 0; h < H; ++h) {
    out.priors.push_back(in.priors[h] / sum);
    logw0[h] = SafeLog(out.priors[h]);
  }
  std::vector<double> logw = logw0;
  std::vector<double> contrib(E * H);
  if (absl::Status st = Fold(in, std::nullopt, &logw, &contrib); !st.ok()) return st;

  // Normalise: log posterior = logw - log(sum exp(logw)); max(logw) is 0.
  double z = 0;
  for (double w : logw) z += std::exp(w);
  const double log_z = std::log(z);
  for (size_t h = 0; h < H; ++h) {
    out.log_posterior.push_back(logw[h] - log_z);
    out.posterior.push_back(std::exp(out.log_posterior.back()));
  }
  out.leading = ArgMax(out.log_posterior);

  out.inconsistency.assign(H, 0);
  for (const auto& item : in.evidence) {
    double lo = 1, hi = 0;
    for (size_t h = 0; h < H; ++h) {
      const double l = item.likelihoods[h];
      lo = std::min(lo, l);
      hi = std::max(hi, l);
      if (l <= 0.2) {
        out.inconsistency[h] += 2 * item.reliability;
      } else if (l <= 0.4) {
        out.inconsistency[h] += item.reliability;
      }
    }
    out.diagnosticity.push_back(item.reliability * (hi - lo));
  }
  Sensitivity(in, logw0, contrib, &out);
  return out;
}

}  // namespace genesis::reasoning
