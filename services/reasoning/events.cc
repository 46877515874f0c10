#include "services/reasoning/events.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/runtime/logging.h"

namespace genesis::reasoning {
namespace {

constexpr absl::string_view kCasePrefix = "cases/";

bool ValidId(absl::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  for (char ch : id) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
      return false;
    }
  }
  return true;
}

absl::Status Corrupt(const Event& e, absl::string_view why) {
  return absl::InternalError(absl::StrCat("event ", e.version, " (", EventTypeName(e.type),
                                          ") of case '", e.case_id, "' ", why));
}

}  // namespace

const char* EventTypeName(EventType type) {
  switch (type) {
    case EventType::kCaseCreated:
      return "CASE_CREATED";
    case EventType::kCaseUpdated:
      return "CASE_UPDATED";
    case EventType::kHypothesisAdded:
      return "HYPOTHESIS_ADDED";
    case EventType::kEvidenceAdded:
      return "EVIDENCE_ADDED";
    case EventType::kDecided:
      return "DECIDED";
    case EventType::kClosed:
      return "CLOSED";
    case EventType::kReopened:
      return "REOPENED";
    default:
      return "UNSPECIFIED";
  }
}

EventType EventTypeFromName(absl::string_view name) {
  for (EventType t :
       {EventType::kCaseCreated, EventType::kCaseUpdated, EventType::kHypothesisAdded,
        EventType::kEvidenceAdded, EventType::kDecided, EventType::kClosed, EventType::kReopened}) {
    if (name == EventTypeName(t)) return t;
  }
  return EventType::kUnspecified;
}

const char* AchName(AchRating rating) {
  switch (rating) {
    case AchRating::kConsistentStrong:
      return "CONSISTENT_STRONG";
    case AchRating::kConsistentWeak:
      return "CONSISTENT_WEAK";
    case AchRating::kNeutral:
      return "NEUTRAL";
    case AchRating::kInconsistentWeak:
      return "INCONSISTENT_WEAK";
    case AchRating::kInconsistentStrong:
      return "INCONSISTENT_STRONG";
    default:
      return "UNSPECIFIED";
  }
}

AchRating AchFromName(absl::string_view name) {
  for (AchRating r : {AchRating::kConsistentStrong, AchRating::kConsistentWeak, AchRating::kNeutral,
                      AchRating::kInconsistentWeak, AchRating::kInconsistentStrong}) {
    if (name == AchName(r)) return r;
  }
  return AchRating::kUnspecified;
}

const char* CaseStateName(CaseState state) {
  switch (state) {
    case CaseState::kDecided:
      return "DECIDED";
    case CaseState::kClosed:
      return "CLOSED";
    default:
      return "OPEN";
  }
}

CaseState CaseStateFromName(absl::string_view name) {
  if (name == "DECIDED") return CaseState::kDecided;
  if (name == "CLOSED") return CaseState::kClosed;
  return CaseState::kOpen;
}

nlohmann::json HypothesisData(const Hypothesis& h) {
  return {{"id", h.id},
          {"statement", h.statement},
          {"prior", h.prior},
          {"none_of_these", h.none_of_these}};
}

nlohmann::json EvidenceData(const Evidence& e) {
  nlohmann::json ratings = nlohmann::json::array();
  for (const auto& r : e.ratings) {
    if (r.likelihood) {
      ratings.push_back({{"hypothesis", r.hypothesis_id}, {"likelihood", *r.likelihood}});
    } else {
      ratings.push_back({{"hypothesis", r.hypothesis_id}, {"ach", AchName(r.ach)}});
    }
  }
  return {{"id", e.id},
          {"description", e.description},
          {"source", e.source},
          {"reliability", e.reliability},
          {"observe_time_us", absl::ToUnixMicros(e.observe_time)},
          {"ratings", std::move(ratings)}};
}

nlohmann::json DecisionData(const Decision& d) {
  return {{"hypothesis", d.hypothesis_id},      {"rationale", d.rationale},
          {"confidence", d.confidence},         {"override_reason", d.override_reason},
          {"leading", d.leading_hypothesis_id}, {"posterior", d.posterior}};
}

absl::Status Apply(const Event& event, Case* c) {
  const nlohmann::json& d = event.data;
  if (event.version != c->version + 1) return Corrupt(event, "is out of sequence");
  if ((event.type == EventType::kCaseCreated) != (c->version == 0)) {
    return Corrupt(event, "does not fit: only the first event creates the case");
  }
  try {
    switch (event.type) {
      case EventType::kCaseCreated:
        c->id = event.case_id;
        c->question = d.value("question", "");
        c->context = d.value("context", "");
        c->owner = d.value("owner", "");
        c->state = CaseState::kOpen;
        c->creator = event.actor;
        c->create_time = event.time;
        break;
      case EventType::kCaseUpdated:
        if (d.contains("question")) c->question = d["question"].get<std::string>();
        if (d.contains("context")) c->context = d["context"].get<std::string>();
        if (d.contains("owner")) c->owner = d["owner"].get<std::string>();
        break;
      case EventType::kHypothesisAdded: {
        Hypothesis h;
        h.id = d.at("id").get<std::string>();
        h.statement = d.value("statement", "");
        h.prior = d.value("prior", 1.0);
        h.none_of_these = d.value("none_of_these", false);
        h.creator = event.actor;
        h.create_time = event.time;
        c->hypotheses.push_back(std::move(h));
        break;
      }
      case EventType::kEvidenceAdded: {
        Evidence e;
        e.id = d.at("id").get<std::string>();
        e.description = d.value("description", "");
        e.source = d.value("source", "");
        e.reliability = d.value("reliability", 1.0);
        e.observe_time = absl::FromUnixMicros(d.value("observe_time_us", int64_t{0}));
        for (const auto& r : d.value("ratings", nlohmann::json::array())) {
          Rating rating;
          rating.hypothesis_id = r.at("hypothesis").get<std::string>();
          if (r.contains("likelihood")) {
            rating.likelihood = r["likelihood"].get<double>();
          } else {
            rating.ach = AchFromName(r.value("ach", ""));
          }
          e.ratings.push_back(std::move(rating));
        }
        e.creator = event.actor;
        e.create_time = event.time;
        c->evidence.push_back(std::move(e));
        break;
      }
      case EventType::kDecided: {
        Decision dec;
        dec.hypothesis_id = d.at("hypothesis").get<std::string>();
        dec.rationale = d.value("rationale", "");
        dec.confidence = d.value("confidence", 0.0);
        dec.override_reason = d.value("override_reason", "");
        dec.leading_hypothesis_id = d.value("leading", "");
        dec.posterior = d.value("posterior", 0.0);
        dec.decider = event.actor;
        dec.decide_time = event.time;
        c->decisions.push_back(std::move(dec));
        c->state = CaseState::kDecided;
        break;
      }
      case EventType::kClosed:
        c->state = CaseState::kClosed;
        break;
      case EventType::kReopened:
        c->state = CaseState::kOpen;
        break;
      default:
        return Corrupt(event, "has an unknown type");
    }
  } catch (const nlohmann::json::exception& e) {
    Logger("reasoning")
        ->error("event {} of case '{}' has malformed data: {}", event.version, event.case_id,
                e.what());  // error text: log only
    return Corrupt(event, "has malformed data");
  }
  c->version = event.version;
  c->update_time = event.time;
  return absl::OkStatus();
}

std::string CaseName(const std::string& case_id) { return absl::StrCat(kCasePrefix, case_id); }

std::string HypothesisName(const std::string& case_id, const std::string& hypothesis_id) {
  return absl::StrCat(kCasePrefix, case_id, "/hypotheses/", hypothesis_id);
}

std::string EvidenceName(const std::string& case_id, const std::string& evidence_id) {
  return absl::StrCat(kCasePrefix, case_id, "/evidence/", evidence_id);
}

std::optional<std::string> ParseCaseName(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, kCasePrefix) || !ValidId(name)) return std::nullopt;
  return std::string(name);
}

std::optional<std::string> ParseHypothesisRef(absl::string_view ref, const std::string& case_id) {
  const std::string prefix = absl::StrCat(kCasePrefix, case_id, "/hypotheses/");
  absl::ConsumePrefix(&ref, prefix);
  if (!ValidId(ref)) return std::nullopt;
  return std::string(ref);
}

}  // namespace genesis::reasoning
