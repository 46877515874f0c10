// ReasoningStore on PostgreSQL (schema `reasoning`, migrations/). All of the
// Reasoning service's SQL lives in pg_store.cc.
#pragma once

#include "absl/strings/string_view.h"
#include "common/storage/pg_pool.h"
#include "services/reasoning/store.h"

namespace genesis::reasoning {

class PgReasoningStore final : public ReasoningStore {
 public:
  // `pool` must outlive the store.
  explicit PgReasoningStore(PgPool* pool) : pool_(pool) {}

  absl::Status Append(const Event& event, const Case& after, const CallContext& ctx) override;
  absl::StatusOr<Case> GetCase(const std::string& id, const CallContext& ctx) override;
  absl::StatusOr<Case> GetCaseForInference(const std::string& id, const CallContext& ctx) override;
  absl::StatusOr<CaseSummaryPage> ListCases(int64_t after_seq, int limit,
                                            const CallContext& ctx) override;
  absl::StatusOr<EventPage> ListEvents(const std::string& case_id, int64_t after_version,
                                       std::optional<absl::Time> until, int limit,
                                       const CallContext& ctx) override;
  absl::StatusOr<std::optional<Event>> FindRequest(const std::string& case_id,
                                                   const std::string& request_id,
                                                   const CallContext& ctx) override;
  absl::Status Ping(const CallContext& ctx) override { return pool_->Ping(ctx.deadline); }

 private:
  PgPool* pool_;
};

// The `ratings` column's text form, and back (exposed for tests).
std::string EncodeRatings(const std::vector<Rating>& ratings);
absl::StatusOr<std::vector<Rating>> DecodeRatings(absl::string_view text);

}  // namespace genesis::reasoning
