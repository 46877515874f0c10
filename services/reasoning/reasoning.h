// The Reasoning service's logic: cases, hypotheses, evidence, inference,
// decisions and the audit trail.
//
// Plain domain types in, absl::Status out; no gRPC here (grpc_service.h is
// the transport). Storage, LLM assist and clock are injected. Every change is
// an Event (events.h) applied to the current state and appended with it.
// The actor recorded in events is CallContext.subject (the identity a trusted
// gateway forwards), or "anonymous" for direct callers. Errors:
//   INVALID_ARGUMENT with field violations for bad input (names, empty or
//     oversized text, negative prior, likelihood or reliability outside
//     [0, 1], unknown or repeated hypothesis in ratings, bad page tokens);
//   NOT_FOUND for an unknown case (or one that did not exist yet at `as_of`);
//   FAILED_PRECONDITION when the state forbids the change (adding to a case
//     that is not OPEN, closing an undecided case, reopening an open one,
//     choosing a hypothesis that is not leading without an override reason),
//     when inference is impossible, or when LLM assist is not configured;
//   ABORTED for a stale etag or a concurrent change;
//   UNAVAILABLE / DEADLINE_EXCEEDED from storage.
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/base/paging.h"
#include "common/base/request_key.h"
#include "common/rpc/call_context.h"
#include "services/reasoning/inference.h"
#include "services/reasoning/metrics.h"
#include "services/reasoning/model.h"
#include "services/reasoning/store.h"
#include "services/reasoning/suggestions.h"

namespace genesis::reasoning {

struct ReasoningOptions {
  int default_page_size = 50;
  int max_page_size = 1000;
  int default_event_page_size = 100;
  int max_event_page_size = 1000;
  int max_hypotheses = 100;       // per case
  int max_evidence = 10000;       // per case
  size_t max_text_bytes = 16384;  // question, context, statement, description, rationale
  Clock* clock = Clock::Real();   // time of events and decisions
};

struct DecideParams {
  std::string hypothesis;  // "cases/x/hypotheses/h1" or "h1"
  std::string rationale;
  std::optional<double> confidence;  // default: the chosen hypothesis's posterior
  std::string override_reason;
  std::string etag;
};

// An inference and the case state it was computed on.
struct CaseInference {
  Case state;
  InferenceResult result;
};

class Reasoning {
 public:
  // `suggestions` may be null: LLM assist is then not configured.
  Reasoning(std::unique_ptr<ReasoningStore> store, std::unique_ptr<SuggestionClient> suggestions,
            ReasoningOptions options, ReasoningMetrics metrics = {});

  // `c.question` and `c.owner` are required; other fields are ignored.
  // `request_id` (may be empty) makes a retry return the case as the first
  // attempt created it (CreateCaseRequest.request_id); the same holds for the
  // hypotheses and evidence below, per case.
  absl::StatusOr<Case> CreateCase(const Case& c, const std::string& request_id,
                                  const CallContext& ctx);
  absl::StatusOr<Case> CreateCase(const Case& c, const CallContext& ctx) {
    return CreateCase(c, "", ctx);
  }
  // With `as_of`, the case replayed from its events up to that time.
  absl::StatusOr<Case> GetCase(const std::string& name, std::optional<absl::Time> as_of,
                               const CallContext& ctx);
  // Cases without hypotheses, evidence or decisions.
  absl::StatusOr<Page<Case>> ListCases(int page_size, const std::string& page_token,
                                       const CallContext& ctx);
  // `mask` paths: question, context, owner (the caller resolves an empty mask).
  absl::StatusOr<Case> UpdateCase(const std::string& name, const Case& fields,
                                  const std::vector<std::string>& mask, const std::string& etag,
                                  const CallContext& ctx);
  // `h.prior` is the weight given (1 when the caller gave none). Returns the
  // case; the new hypothesis is its last.
  absl::StatusOr<Case> CreateHypothesis(const std::string& parent, const Hypothesis& h,
                                        const std::string& etag, const std::string& request_id,
                                        const CallContext& ctx);
  absl::StatusOr<Case> CreateHypothesis(const std::string& parent, const Hypothesis& h,
                                        const std::string& etag, const CallContext& ctx) {
    return CreateHypothesis(parent, h, etag, "", ctx);
  }
  // `e.reliability` NaN means not given (required). `e.observe_time`
  // InfinitePast means now. Ratings name hypotheses of the case. Returns the
  // case; the new item is its last.
  absl::StatusOr<Case> CreateEvidence(const std::string& parent, const Evidence& e,
                                      const std::string& etag, const std::string& request_id,
                                      const CallContext& ctx);
  absl::StatusOr<Case> CreateEvidence(const std::string& parent, const Evidence& e,
                                      const std::string& etag, const CallContext& ctx) {
    return CreateEvidence(parent, e, etag, "", ctx);
  }
  // The returned state holds only what inference needs (see
  // ReasoningStore::GetCaseForInference) unless `as_of` is given.
  absl::StatusOr<CaseInference> InferCase(const std::string& name, std::optional<absl::Time> as_of,
                                          const CallContext& ctx);
  absl::StatusOr<Case> DecideCase(const std::string& name, const DecideParams& params,
                                  const CallContext& ctx);
  absl::StatusOr<Case> CloseCase(const std::string& name, const std::string& etag,
                                 const CallContext& ctx);
  absl::StatusOr<Case> ReopenCase(const std::string& name, const std::string& reason,
                                  const std::string& etag, const CallContext& ctx);
  absl::StatusOr<Page<Event>> ListCaseEvents(const std::string& parent, int page_size,
                                             const std::string& page_token, const CallContext& ctx);
  // Suggestions only: nothing is written. Suggestions with no statement or
  // a bad prior, and ratings that do not name a hypothesis of the case or are
  // out of range, are dropped (and counted in `dropped`). Errors of the
  // SuggestionClient are returned as they are.
  absl::StatusOr<HypothesisSuggestions> SuggestHypotheses(const std::string& name,
                                                          int max_suggestions,
                                                          const AssistOptions& options,
                                                          const CallContext& ctx);
  absl::StatusOr<RatingSuggestions> SuggestRatings(const std::string& name, const Evidence& draft,
                                                   const AssistOptions& options,
                                                   const CallContext& ctx);

  // OK when storage answers (readiness).
  absl::Status Ready(const CallContext& ctx) { return store_->Ping(ctx); }

 private:
  // Reads the case, checks `etag`, lets `build` fill the event (and check the
  // rules against the current state), applies it and appends both. With a
  // key, a retry of the request (FindRequest) returns the case as its first
  // attempt left it instead.
  absl::StatusOr<Case> Mutate(const std::string& id, const std::string& etag, EventType type,
                              const std::optional<RequestKey>& key, const CallContext& ctx,
                              const std::function<absl::Status(const Case&, Event*)>& build);
  // The result of an earlier attempt with `key` (of `type`, on case `case_id`,
  // "" for a creation): the case right after its event; REQUEST_ID_REUSED for
  // another request; nullopt when there was none.
  std::optional<absl::StatusOr<Case>> EarlierAttempt(const std::string& case_id,
                                                     const RequestKey& key, EventType type,
                                                     absl::string_view resource,
                                                     const CallContext& ctx);
  absl::StatusOr<Case> Replay(const std::string& id, absl::Time as_of, const CallContext& ctx);
  // The case right after its event `version`.
  absl::StatusOr<Case> ReplayToVersion(const std::string& id, int64_t version,
                                       const CallContext& ctx);
  absl::StatusOr<InferenceResult> Compute(const Case& c);
  std::string NewCaseId();

  std::unique_ptr<ReasoningStore> store_;
  std::unique_ptr<SuggestionClient> suggestions_;
  const ReasoningOptions options_;
  ReasoningMetrics metrics_;
};

// The etag of a case version.
std::string EtagOf(int64_t version);
// The numbers inference needs from a case: priors in hypothesis order, and
// per evidence item its reliability and P(E|h) for every hypothesis (ACH
// ratings through the table, unrated hypotheses kUnratedLikelihood).
InferenceInput InferenceInputOf(const Case& c);

}  // namespace genesis::reasoning
