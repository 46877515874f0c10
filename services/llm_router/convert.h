// Protos <-> the router's domain types (model.h, selection/selection.h).
#pragma once

#include "absl/status/statusor.h"
#include "genesis/llmrouter/v1/llm_router.pb.h"
#include "services/llm_router/accounting/budget.h"
#include "services/llm_router/model.h"
#include "services/llm_router/providers/provider.h"
#include "services/llm_router/selection/experiment.h"
#include "services/llm_router/selection/selection.h"

namespace genesis::llmrouter {

// Unknown enum numbers become values the logic rejects or ignores:
// an unknown role is kUnspecified (INVALID_ARGUMENT), an unknown task is
// classified, an unknown strategy is the policy's.
CompletionRequest FromProto(const v1::CompleteRequest& req);
CompletionRequest FromProto(const v1::StreamCompleteRequest& req);
v1::CompleteResponse ToProto(const Completion& c);
// "stop", "length", "tool_calls", "content_filter"; others: OTHER; "": UNSPECIFIED.
v1::StopReason StopReasonOf(const std::string& finish_reason);
v1::ToolCallDelta ToProto(const ToolCallDelta& delta);
v1::SelectResponse ToProto(const Selection& s);
v1::Model ToProto(const ModelSpec& m);
// Only the tunables (see Router::UpdateModel).
ModelSpec TunablesFromProto(const v1::Model& m);

// Budgets and usage (convert_budget.cc). INVALID_ARGUMENT naming the field
// for an unspecified scope, period or group_by.
absl::StatusOr<Budget> FromProto(const v1::Budget& b);
v1::Budget ToProto(const Budget& b);
absl::StatusOr<UsageQuery> FromProto(const v1::GetUsageReportRequest& req);
v1::UsageRow ToProto(const UsageRow& row);

// Feedback and experiments (convert.cc). The ids come from the resource
// names, parsed by the caller.
Feedback FromProto(const v1::RecordFeedbackRequest& req, int64_t execution_id);
v1::Feedback ToProto(const Feedback& f);
Experiment FromProto(const std::string& experiment_id, const v1::Experiment& e);
v1::Experiment ToProto(const Experiment& e);
v1::ArmReport ToProto(const ArmReport& r);
Task TaskFromProto(v1::Task task);

}  // namespace genesis::llmrouter
