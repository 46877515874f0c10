// The storage the Reasoning logic needs. PgReasoningStore (pg_store.h) is the
// real one; tests use FakeReasoningStore (tests/fake_store.h).
//
// A case is stored twice, in one transaction: its events, append-only (the
// audit trail and the source of truth), and the state they fold to (a
// projection, so reads and inference need not replay). Every method returns
// the most specific status: NOT_FOUND for a missing case, ALREADY_EXISTS for
// a taken id, ABORTED when the case's version is no longer the one expected
// (someone else wrote first), UNAVAILABLE or DEADLINE_EXCEEDED when the
// database cannot answer in time. Implementations are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/call_context.h"
#include "services/reasoning/model.h"

namespace genesis::reasoning {

struct CaseSummaryPage {
  std::vector<Case> cases;  // without hypotheses, evidence or decisions
  int64_t last_seq = 0;     // keyset position of the last case returned
  bool more = false;
};

struct EventPage {
  std::vector<Event> events;
  bool more = false;
};

class ReasoningStore {
 public:
  virtual ~ReasoningStore() = default;

  // Appends `event` (version `after.version`) and makes `after` the case's
  // stored state, if the stored version is still `after.version - 1` (else
  // ABORTED). For kCaseCreated (version 1) the case must not exist (else
  // ALREADY_EXISTS). `after` is Apply(event) on the state read before.
  virtual absl::Status Append(const Event& event, const Case& after, const CallContext& ctx) = 0;
  // The current state: hypotheses, evidence and decisions in order.
  virtual absl::StatusOr<Case> GetCase(const std::string& id, const CallContext& ctx) = 0;
  // What inference needs, loaded faster: id, state, version; hypotheses'
  // ids and priors; evidence ids, reliabilities and ratings, in order. Other
  // fields (text, times, decisions) are left empty.
  virtual absl::StatusOr<Case> GetCaseForInference(const std::string& id,
                                                   const CallContext& ctx) = 0;
  // Cases created after keyset position `after_seq`, oldest first.
  virtual absl::StatusOr<CaseSummaryPage> ListCases(int64_t after_seq, int limit,
                                                    const CallContext& ctx) = 0;
  // Events with version > after_version and, with `until`, time <= until, in
  // version order. NOT_FOUND when the case does not exist.
  virtual absl::StatusOr<EventPage> ListEvents(const std::string& case_id, int64_t after_version,
                                               std::optional<absl::Time> until, int limit,
                                               const CallContext& ctx) = 0;
  // The event appended with `request_id`: the case's creation anywhere when
  // `case_id` is empty, else an event of that case; nullopt when none.
  virtual absl::StatusOr<std::optional<Event>> FindRequest(const std::string& case_id,
                                                           const std::string& request_id,
                                                           const CallContext& ctx) = 0;
  // OK when the store can serve.
  virtual absl::Status Ping(const CallContext& ctx) = 0;
};

}  // namespace genesis::reasoning
