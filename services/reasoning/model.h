// The Reasoning service's domain types: plain C++, no protobuf or gRPC.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"

namespace genesis::reasoning {

enum class CaseState { kOpen, kDecided, kClosed };

// ACH ratings; AchLikelihood() (inference.h) maps them to P(E|H).
enum class AchRating {
  kUnspecified,
  kConsistentStrong,
  kConsistentWeak,
  kNeutral,
  kInconsistentWeak,
  kInconsistentStrong
};

struct Hypothesis {
  std::string id;  // "h1"; the resource name is "cases/{case}/hypotheses/h1"
  std::string statement;
  double prior = 1.0;  // weight >= 0, normalised over the case
  bool none_of_these = false;
  std::string creator;
  absl::Time create_time;
};

// How one evidence item bears on one hypothesis: a likelihood or an ACH rating.
struct Rating {
  std::string hypothesis_id;
  std::optional<double> likelihood;  // set, or else `ach` is
  AchRating ach = AchRating::kUnspecified;
};

struct Evidence {
  std::string id;  // "e1"; the resource name is "cases/{case}/evidence/e1"
  std::string description;
  std::string source;
  double reliability = 1.0;
  absl::Time observe_time = absl::InfinitePast();  // InfinitePast: not given
  std::vector<Rating> ratings;
  std::string creator;
  absl::Time create_time;
};

struct Decision {
  std::string hypothesis_id;
  std::string rationale;
  double confidence = 0;
  std::string override_reason;
  std::string leading_hypothesis_id;  // empty when inference was impossible
  double posterior = 0;
  std::string decider;
  absl::Time decide_time;
};

struct Case {
  std::string id;  // the resource name is "cases/{id}"
  std::string question;
  std::string context;
  std::string owner;
  CaseState state = CaseState::kOpen;
  std::vector<Hypothesis> hypotheses;
  std::vector<Evidence> evidence;
  std::vector<Decision> decisions;
  std::string creator;
  absl::Time create_time;
  absl::Time update_time;
  int64_t version = 0;  // the number of events so far; the etag
};

enum class EventType {
  kUnspecified,
  kCaseCreated,
  kCaseUpdated,
  kHypothesisAdded,
  kEvidenceAdded,
  kDecided,
  kClosed,
  kReopened
};

// One change of a case (the audit trail). `data` is the change's content,
// in the JSON layout documented in events.h.
struct Event {
  std::string case_id;
  int64_t version = 0;  // 1, 2, 3... within the case
  EventType type = EventType::kUnspecified;
  std::string actor;
  absl::Time time;
  nlohmann::json data = nlohmann::json::object();
  // The create request's idempotency key and request hash ("" when none).
  std::string request_id;
  std::string request_hash;
};

}  // namespace genesis::reasoning
