#include "services/llm_router/accounting/usage_recorder.h"

#include <string>

#include "services/llm_router/selection/pii.h"

namespace genesis::llmrouter {
namespace {

// A tool call as recorded content: "tool call get_order {\"order_id\": ...}".
std::string CallText(const ToolCall& call) {
  return "tool call " + call.name + " " + call.arguments;
}

}  // namespace

UsageRecorder::UsageRecorder(RouterStore* store, Clock* clock, bool record_content,
                             RouterMetrics metrics)
    : store_(store),
      clock_(clock),
      record_content_(record_content),
      metrics_(metrics),
      log_(Logger("llm_router")) {}

ExecutionRecord UsageRecorder::Row(const AccountedCall& call) const {
  const CompletionRequest& request = call.request;
  const Selection& sel = call.selection;
  ExecutionRecord r;
  r.request_id = call.ctx.request_id;
  r.subject = request.subject;
  r.agent = request.agent;
  r.task = sel.task;
  r.latency = call.latency;
  r.sensitive = sel.sensitive;
  r.streamed = call.streamed;
  r.sandbox = call.sandbox;
  r.experiment_id = sel.experiment_id;
  r.arm = sel.arm;
  r.time = clock_->Now();
  if (record_content_) {
    for (const auto& m : request.messages) {
      r.prompt += MaskPii(m.content) + "\n";
      for (const auto& c : m.tool_calls) r.prompt += MaskPii(CallText(c)) + "\n";
    }
  }
  return r;
}

int64_t UsageRecorder::Rejected(const AccountedCall& call, const absl::Status& status) {
  ExecutionRecord r = Row(call);
  r.outcome = status.ok() ? "ok" : "rejected";
  r.error = MaskPii(std::string(status.message()));
  return Write(r);
}

int64_t UsageRecorder::Executed(const AccountedCall& call, const Execution& ex) {
  ExecutionRecord r = Row(call);
  r.outcome = ex.status.ok() ? "ok" : "failed";
  r.error = MaskPii(std::string(ex.status.message()));
  r.attempts = static_cast<int>(ex.attempts.size());
  if (ex.model) {
    r.model_id = ex.model->id;
    r.provider = ex.model->provider;
    r.usage = ex.reply.usage;
    r.cost_usd = ex.model->Cost(r.usage.input_tokens, r.usage.output_tokens);
    r.simulated = ex.model->simulated;
  }
  if (record_content_) {
    r.response = MaskPii(ex.reply.text);
    for (const auto& c : ex.reply.tool_calls) r.response += "\n" + MaskPii(CallText(c));
  }
  return Write(r);
}

int64_t UsageRecorder::CacheHit(const AccountedCall& call, const CachedAnswer& hit) {
  // Accounted as a request that used no tokens and cost nothing.
  ExecutionRecord r = Row(call);
  r.outcome = "ok";
  r.cached = true;
  r.model_id = hit.model_id;
  r.provider = hit.provider;
  r.simulated = hit.simulated;
  if (record_content_) r.response = MaskPii(hit.text);
  return Write(r);
}

int64_t UsageRecorder::Write(const ExecutionRecord& r) {
  // The answer is already paid for: a failed write must not fail the call.
  auto recorded = store_->RecordExecution(r, CallContext::Background(absl::Seconds(2)));
  int64_t id = 0;
  if (!recorded.ok()) {
    log_->warn("could not record the execution: {}", recorded.status().message());
  } else {
    id = recorded->execution_id;
    for (const auto& a : recorded->alerts) {
      RouterMetrics::Inc(metrics_.budget_alerts);
      log_->warn("{}", BudgetAlertMessage(a));
    }
  }
  log_->info(
      "task={} model={} outcome={} cached={} sandbox={} attempts={} tokens={}/{} cost_usd={:.6f} "
      "latency_ms={:.1f} sensitive={}",
      TaskName(r.task), r.model_id.empty() ? "-" : r.model_id, r.outcome, r.cached, r.sandbox,
      r.attempts, r.usage.input_tokens, r.usage.output_tokens, r.cost_usd,
      absl::ToDoubleMilliseconds(r.latency), r.sensitive);
  return id;
}

}  // namespace genesis::llmrouter
