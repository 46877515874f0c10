// InteractionStore on PostgreSQL (schema `voice`, migrations/). SQL lives
// here only. Thread-safe (the pool is).
#pragma once

#include "common/storage/pg_pool.h"
#include "services/voice/store.h"

namespace genesis::voice {

class PgInteractionStore final : public InteractionStore {
 public:
  explicit PgInteractionStore(PgPool* pool) : pool_(pool) {}
  absl::Status Insert(const InteractionRecord& record, const CallContext& ctx) override;
  absl::StatusOr<std::vector<InteractionRecord>> List(int limit,
                                                      const std::optional<InteractionCursor>& after,
                                                      const CallContext& ctx) override;
  absl::Status Ping(const CallContext& ctx) override { return pool_->Ping(ctx.deadline); }

 private:
  PgPool* pool_;
};

}  // namespace genesis::voice
