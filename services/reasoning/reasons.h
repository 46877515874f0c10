// The google.rpc.ErrorInfo reasons of the reasoning service (domain
// reasoning.genesis.dev), each listed in README.md ("Error reasons").
#pragma once

namespace genesis::reasoning::reasons {

// The case does not exist, or did not yet at `as_of` (metadata case).
inline constexpr char kCaseNotFound[] = "CASE_NOT_FOUND";
// A case with the generated id exists already (retry).
inline constexpr char kCaseAlreadyExists[] = "CASE_ALREADY_EXISTS";
// The case is DECIDED or CLOSED and the change needs it OPEN.
inline constexpr char kCaseNotOpen[] = "CASE_NOT_OPEN";
// CloseCase of an OPEN case, ReopenCase of an OPEN one, CloseCase of a CLOSED one.
inline constexpr char kCaseStateConflict[] = "CASE_STATE_CONFLICT";
// The request's etag is stale (metadata case).
inline constexpr char kEtagMismatch[] = "ETAG_MISMATCH";
// Another request changed the case between its read and this write; retry.
inline constexpr char kConcurrentModification[] = "CONCURRENT_MODIFICATION";
// The case has as many hypotheses as allowed (metadata limit).
inline constexpr char kHypothesisLimit[] = "HYPOTHESIS_LIMIT";
// The case has as many evidence items as allowed (metadata limit).
inline constexpr char kEvidenceLimit[] = "EVIDENCE_LIMIT";
// DecideCase chose a hypothesis that is not leading without override_reason.
inline constexpr char kOverrideReasonRequired[] = "OVERRIDE_REASON_REQUIRED";
// The case has no hypotheses yet (inference, evidence rating).
inline constexpr char kNoHypotheses[] = "NO_HYPOTHESES";
// The request_id was used before for a different case, hypothesis or evidence.
inline constexpr char kRequestIdReused[] = "REQUEST_ID_REUSED";

}  // namespace genesis::reasoning::reasons
