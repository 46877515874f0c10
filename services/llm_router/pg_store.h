// RouterStore on PostgreSQL (schema `llm_router`, migrations/). All of the
// router's SQL lives in pg_store.cc.
#pragma once

#include "common/pg_pool.h"
#include "services/llm_router/store.h"

namespace genesis::llmrouter {

class PgRouterStore final : public RouterStore {
 public:
  // `pool` must outlive the store.
  explicit PgRouterStore(PgPool* pool) : pool_(pool) {}

  absl::Status SeedModels(const std::vector<ModelSpec>& models, const CallContext& ctx) override;
  absl::StatusOr<std::vector<ModelSpec>> LoadModels(const CallContext& ctx) override;
  absl::Status SaveTunables(const ModelSpec& model, const CallContext& ctx) override;
  absl::Status RecordExecution(const ExecutionRecord& record, const CallContext& ctx) override;
  absl::Status EnqueueRetry(const RetryRecord& record, const CallContext& ctx) override;
  absl::Status Ping(const CallContext& ctx) override { return pool_->Ping(ctx.deadline); }

 private:
  PgPool* pool_;
};

}  // namespace genesis::llmrouter
