// The audit trail as the source of truth: every change of a case is an Event,
// and a case's state is the fold of its events (Apply). The logic builds an
// event, applies it to the current state to get the new one, and stores both
// (the event append-only, the state as a projection); GetCase "as of" a time
// replays the events up to it with the same Apply, so both readings agree.
//
// Event data (JSON), per type:
//   kCaseCreated     {"question", "context", "owner"}
//   kCaseUpdated     the fields that changed, of "question", "context", "owner"
//   kHypothesisAdded {"id", "statement", "prior", "none_of_these"}
//   kEvidenceAdded   {"id", "description", "source", "reliability", "observe_time_us",
//                     "ratings": [{"hypothesis", "likelihood"} or {"hypothesis", "ach"}]}
//   kDecided         {"hypothesis", "rationale", "confidence", "override_reason",
//                     "leading", "posterior"}
//   kClosed          {}
//   kReopened        {"reason"}
// ACH ratings are written by name ("CONSISTENT_STRONG"...). Old events are
// never rewritten, so these layouts only ever gain optional keys.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/reasoning/model.h"

namespace genesis::reasoning {

// Stable names, used in storage and in the API ("CASE_CREATED"...).
const char* EventTypeName(EventType type);
EventType EventTypeFromName(absl::string_view name);
const char* AchName(AchRating rating);
AchRating AchFromName(absl::string_view name);
const char* CaseStateName(CaseState state);
CaseState CaseStateFromName(absl::string_view name);

// Applies `event` to `c` (an empty Case for kCaseCreated): sets the version,
// update time and whatever the event changes. INTERNAL when the event does
// not fit the state (a corrupt trail); the logic checks rules before.
absl::Status Apply(const Event& event, Case* c);

// Event data builders (see the layouts above).
nlohmann::json HypothesisData(const Hypothesis& h);
nlohmann::json EvidenceData(const Evidence& e);
nlohmann::json DecisionData(const Decision& d);

// Resource names.
std::string CaseName(const std::string& case_id);
std::string HypothesisName(const std::string& case_id, const std::string& hypothesis_id);
std::string EvidenceName(const std::string& case_id, const std::string& evidence_id);
// "cases/x" -> "x".
std::optional<std::string> ParseCaseName(absl::string_view name);
// "cases/x/hypotheses/h1" (of case `case_id`) or "h1" -> "h1".
std::optional<std::string> ParseHypothesisRef(absl::string_view ref, const std::string& case_id);

}  // namespace genesis::reasoning
