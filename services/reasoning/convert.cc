#include "services/reasoning/convert.h"

#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "services/reasoning/events.h"

namespace genesis::reasoning {
namespace {

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t seconds = micros / 1000000, rem = micros % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rem * 1000));
}

v1::Case::State StateToProto(CaseState s) {
  switch (s) {
    case CaseState::kOpen:
      return v1::Case::STATE_OPEN;
    case CaseState::kDecided:
      return v1::Case::STATE_DECIDED;
    case CaseState::kClosed:
      return v1::Case::STATE_CLOSED;
  }
  return v1::Case::STATE_UNSPECIFIED;
}

v1::AchRating AchToProto(AchRating r) {
  switch (r) {
    case AchRating::kConsistentStrong:
      return v1::ACH_RATING_CONSISTENT_STRONG;
    case AchRating::kConsistentWeak:
      return v1::ACH_RATING_CONSISTENT_WEAK;
    case AchRating::kNeutral:
      return v1::ACH_RATING_NEUTRAL;
    case AchRating::kInconsistentWeak:
      return v1::ACH_RATING_INCONSISTENT_WEAK;
    case AchRating::kInconsistentStrong:
      return v1::ACH_RATING_INCONSISTENT_STRONG;
    default:
      return v1::ACH_RATING_UNSPECIFIED;
  }
}

AchRating AchFromProto(v1::AchRating r) {
  switch (r) {
    case v1::ACH_RATING_CONSISTENT_STRONG:
      return AchRating::kConsistentStrong;
    case v1::ACH_RATING_CONSISTENT_WEAK:
      return AchRating::kConsistentWeak;
    case v1::ACH_RATING_NEUTRAL:
      return AchRating::kNeutral;
    case v1::ACH_RATING_INCONSISTENT_WEAK:
      return AchRating::kInconsistentWeak;
    case v1::ACH_RATING_INCONSISTENT_STRONG:
      return AchRating::kInconsistentStrong;
    default:
      return AchRating::kUnspecified;
  }
}

v1::CaseEventType EventTypeToProto(EventType t) {
  switch (t) {
    case EventType::kCaseCreated:
      return v1::CASE_EVENT_TYPE_CASE_CREATED;
    case EventType::kCaseUpdated:
      return v1::CASE_EVENT_TYPE_CASE_UPDATED;
    case EventType::kHypothesisAdded:
      return v1::CASE_EVENT_TYPE_HYPOTHESIS_ADDED;
    case EventType::kEvidenceAdded:
      return v1::CASE_EVENT_TYPE_EVIDENCE_ADDED;
    case EventType::kDecided:
      return v1::CASE_EVENT_TYPE_DECIDED;
    case EventType::kClosed:
      return v1::CASE_EVENT_TYPE_CLOSED;
    case EventType::kReopened:
      return v1::CASE_EVENT_TYPE_REOPENED;
    default:
      return v1::CASE_EVENT_TYPE_UNSPECIFIED;
  }
}

}  // namespace

absl::Time TimeFromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

v1::Rating ToProto(const std::string& case_id, const Rating& r) {
  v1::Rating out;
  out.set_hypothesis(HypothesisName(case_id, r.hypothesis_id));
  if (r.likelihood) {
    out.set_likelihood(*r.likelihood);
  } else {
    out.set_ach(AchToProto(r.ach));
  }
  return out;
}

v1::Hypothesis ToProto(const Case& c, const Hypothesis& h) {
  v1::Hypothesis out;
  out.set_name(HypothesisName(c.id, h.id));
  out.set_statement(h.statement);
  out.set_prior(h.prior);
  out.set_none_of_these(h.none_of_these);
  double sum = 0;
  for (const auto& other : c.hypotheses) sum += other.prior;
  out.set_normalized_prior(sum > 0 ? h.prior / sum : 0);
  out.set_creator(h.creator);
  SetTime(h.create_time, out.mutable_create_time());
  return out;
}

v1::Evidence ToProto(const std::string& case_id, const Evidence& e) {
  v1::Evidence out;
  out.set_name(EvidenceName(case_id, e.id));
  out.set_description(e.description);
  out.set_source(e.source);
  out.set_reliability(e.reliability);
  SetTime(e.observe_time, out.mutable_observe_time());
  for (const auto& r : e.ratings) *out.add_ratings() = ToProto(case_id, r);
  out.set_creator(e.creator);
  SetTime(e.create_time, out.mutable_create_time());
  return out;
}

v1::Case ToProto(const Case& c, bool full) {
  v1::Case out;
  out.set_name(CaseName(c.id));
  out.set_question(c.question);
  out.set_context(c.context);
  out.set_owner(c.owner);
  out.set_state(StateToProto(c.state));
  if (full) {
    for (const auto& h : c.hypotheses) *out.add_hypotheses() = ToProto(c, h);
    for (const auto& e : c.evidence) *out.add_evidence() = ToProto(c.id, e);
    for (const auto& d : c.decisions) {
      auto* p = out.add_decisions();
      p->set_hypothesis(HypothesisName(c.id, d.hypothesis_id));
      p->set_rationale(d.rationale);
      p->set_confidence(d.confidence);
      p->set_override_reason(d.override_reason);
      if (!d.leading_hypothesis_id.empty()) {
        p->set_leading_hypothesis(HypothesisName(c.id, d.leading_hypothesis_id));
      }
      p->set_posterior(d.posterior);
      p->set_decider(d.decider);
      SetTime(d.decide_time, p->mutable_decide_time());
    }
  }
  out.set_creator(c.creator);
  SetTime(c.create_time, out.mutable_create_time());
  SetTime(c.update_time, out.mutable_update_time());
  out.set_etag(EtagOf(c.version));
  return out;
}

v1::CaseEvent ToProto(const Event& e) {
  v1::CaseEvent out;
  out.set_name(absl::StrCat(CaseName(e.case_id), "/events/", e.version));
  out.set_sequence(e.version);
  out.set_type(EventTypeToProto(e.type));
  out.set_actor(e.actor);
  SetTime(e.time, out.mutable_event_time());
  // The data is JSON written by this service, so it always parses into a Struct.
  auto parsed = google::protobuf::util::JsonStringToMessage(e.data.dump(), out.mutable_data());
  (void)parsed;
  return out;
}

v1::Inference ToProto(const CaseInference& inference) {
  const Case& c = inference.state;
  const InferenceResult& r = inference.result;
  v1::Inference out;
  out.set_case_(CaseName(c.id));
  out.set_etag(EtagOf(c.version));
  for (size_t h = 0; h < c.hypotheses.size(); ++h) {
    auto* p = out.add_hypotheses();
    p->set_hypothesis(HypothesisName(c.id, c.hypotheses[h].id));
    p->set_prior(r.priors[h]);
    p->set_posterior(r.posterior[h]);
    p->set_log_posterior(r.log_posterior[h]);
    p->set_inconsistency_score(r.inconsistency[h]);
  }
  out.set_leading_hypothesis(HypothesisName(c.id, c.hypotheses[r.leading].id));
  for (size_t e = 0; e < c.evidence.size(); ++e) {
    auto* p = out.add_evidence();
    p->set_evidence(EvidenceName(c.id, c.evidence[e].id));
    p->set_diagnosticity(r.diagnosticity[e]);
    p->set_non_diagnostic(r.diagnosticity[e] <= 1e-12);
  }
  if (r.pivotal) {
    out.set_pivotal_evidence(EvidenceName(c.id, c.evidence[*r.pivotal].id));
    out.set_leading_without_pivotal(
        HypothesisName(c.id, c.hypotheses[r.leading_without_pivotal].id));
  }
  return out;
}

Case FromProto(const v1::Case& c) {
  Case out;
  out.question = c.question();
  out.context = c.context();
  out.owner = c.owner();
  return out;
}

Hypothesis FromProto(const v1::Hypothesis& h) {
  Hypothesis out;
  out.statement = h.statement();
  out.prior = h.has_prior() ? h.prior() : 1.0;
  out.none_of_these = h.none_of_these();
  return out;
}

Evidence FromProto(const v1::Evidence& e) {
  Evidence out;
  out.description = e.description();
  out.source = e.source();
  out.reliability = e.has_reliability() ? e.reliability() : std::nan("");
  if (e.has_observe_time()) out.observe_time = TimeFromProto(e.observe_time());
  for (const auto& r : e.ratings()) {
    Rating rating;
    rating.hypothesis_id = r.hypothesis();
    if (r.value_case() == v1::Rating::kLikelihood) {
      rating.likelihood = r.likelihood();
    } else if (r.value_case() == v1::Rating::kAch) {
      rating.ach = AchFromProto(r.ach());
    }
    out.ratings.push_back(std::move(rating));
  }
  return out;
}

}  // namespace genesis::reasoning
