#include "services/llm_router/convert.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"

namespace genesis::llmrouter {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Duration Dur(absl::Duration d) {
  return TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(d));
}

Role RoleFrom(v1::Role r) {
  switch (r) {
    case v1::ROLE_SYSTEM:
      return Role::kSystem;
    case v1::ROLE_USER:
      return Role::kUser;
    case v1::ROLE_ASSISTANT:
      return Role::kAssistant;
    case v1::ROLE_TOOL:
      return Role::kTool;
    default:
      return Role::kUnspecified;
  }
}

Task TaskFrom(v1::Task t) {
  switch (t) {
    case v1::TASK_CHAT:
      return Task::kChat;
    case v1::TASK_REASONING:
      return Task::kReasoning;
    case v1::TASK_CLASSIFICATION:
      return Task::kClassification;
    case v1::TASK_EXTRACTION:
      return Task::kExtraction;
    case v1::TASK_LONG_CONTEXT:
      return Task::kLongContext;
    case v1::TASK_SUMMARIZATION:
      return Task::kSummarization;
    default:
      return Task::kUnspecified;
  }
}

v1::Task TaskTo(Task t) {
  switch (t) {
    case Task::kChat:
      return v1::TASK_CHAT;
    case Task::kReasoning:
      return v1::TASK_REASONING;
    case Task::kClassification:
      return v1::TASK_CLASSIFICATION;
    case Task::kExtraction:
      return v1::TASK_EXTRACTION;
    case Task::kLongContext:
      return v1::TASK_LONG_CONTEXT;
    case Task::kSummarization:
      return v1::TASK_SUMMARIZATION;
    case Task::kUnspecified:
      break;
  }
  return v1::TASK_UNSPECIFIED;
}

uint32_t CapsFrom(const google::protobuf::RepeatedField<int>& caps) {
  uint32_t bits = 0;
  for (int c : caps) {
    if (c >= v1::CAPABILITY_CHAT && c <= v1::CAPABILITY_LONG_CONTEXT) bits |= 1u << (c - 1);
  }
  return bits;
}

}  // namespace

v1::StopReason StopReasonOf(const std::string& finish_reason) {
  if (finish_reason.empty()) return v1::STOP_REASON_UNSPECIFIED;
  if (finish_reason == "stop") return v1::STOP_REASON_STOP;
  if (finish_reason == "length") return v1::STOP_REASON_LENGTH;
  if (finish_reason == "tool_calls") return v1::STOP_REASON_TOOL_CALLS;
  if (finish_reason == "content_filter") return v1::STOP_REASON_CONTENT_FILTER;
  return v1::STOP_REASON_OTHER;
}

v1::ToolCallDelta ToProto(const ToolCallDelta& d) {
  v1::ToolCallDelta out;
  out.set_index(d.index);
  out.set_id(d.id);
  out.set_name(d.name);
  out.set_arguments(d.arguments);
  return out;
}

namespace {

// CompleteRequest and StreamCompleteRequest have the same fields.
template <typename Req>
CompletionRequest RequestFromProto(const Req& req) {
  CompletionRequest r;
  for (const auto& m : req.messages()) {
    Message message{RoleFrom(m.role()), m.content()};
    for (const auto& c : m.tool_calls())
      message.tool_calls.push_back({c.id(), c.name(), c.arguments()});
    message.tool_call_id = m.tool_call_id();
    r.messages.push_back(std::move(message));
  }
  for (const auto& t : req.tools()) {
    ToolSpec tool{t.name(), t.description(), ""};
    if (t.has_parameters()) {
      // A Struct always prints as a JSON object.
      (void)google::protobuf::util::MessageToJsonString(t.parameters(), &tool.parameters);
    }
    r.tools.push_back(std::move(tool));
  }
  switch (req.tool_choice().mode()) {
    case v1::TOOL_CHOICE_MODE_NONE:
      r.tool_choice.mode = ToolChoiceMode::kNone;
      break;
    case v1::TOOL_CHOICE_MODE_REQUIRED:
      r.tool_choice.mode = ToolChoiceMode::kRequired;
      break;
    case v1::TOOL_CHOICE_MODE_TOOL:
      r.tool_choice.mode = ToolChoiceMode::kTool;
      break;
    default:
      r.tool_choice.mode = ToolChoiceMode::kAuto;
  }
  r.tool_choice.name = req.tool_choice().tool_name();
  r.task = TaskFrom(req.task());
  r.model = req.model().rfind("models/", 0) == 0 ? req.model().substr(7) : req.model();
  r.max_tokens = req.max_tokens();
  if (req.has_temperature()) r.temperature = req.temperature();
  r.sensitive = req.sensitive();
  switch (req.strategy()) {
    case v1::STRATEGY_CHEAPEST:
      r.strategy = Strategy::kCheapest;
      break;
    case v1::STRATEGY_LOWEST_LATENCY:
      r.strategy = Strategy::kLowestLatency;
      break;
    case v1::STRATEGY_QUALITY_FIRST:
      r.strategy = Strategy::kQualityFirst;
      break;
    default:
      r.strategy = Strategy::kPolicy;
  }
  r.constraints.max_cost_usd = req.constraints().max_cost_usd();
  r.constraints.required_capabilities = CapsFrom(req.constraints().required_capabilities());
  r.subject = req.subject();
  r.agent = req.agent();
  r.no_cache = req.no_cache();
  return r;
}

}  // namespace

CompletionRequest FromProto(const v1::CompleteRequest& req) { return RequestFromProto(req); }
CompletionRequest FromProto(const v1::StreamCompleteRequest& req) { return RequestFromProto(req); }

v1::CompleteResponse ToProto(const Completion& c) {
  v1::CompleteResponse out;
  out.set_text(c.text);
  out.set_model("models/" + c.model_id);
  out.set_provider(c.provider);
  out.mutable_usage()->set_input_tokens(c.usage.input_tokens);
  out.mutable_usage()->set_output_tokens(c.usage.output_tokens);
  out.set_cost_usd(c.cost_usd);
  *out.mutable_latency() = Dur(c.latency);
  for (const auto& a : c.attempts) {
    auto* p = out.add_attempts();
    p->set_model("models/" + a.model_id);
    p->set_try_number(a.try_number);
    p->set_outcome(a.outcome == AttemptOutcome::kOk ? v1::ATTEMPT_OUTCOME_OK
                   : a.outcome == AttemptOutcome::kFailed
                       ? v1::ATTEMPT_OUTCOME_FAILED
                       : v1::ATTEMPT_OUTCOME_SKIPPED_CIRCUIT_OPEN);
    p->set_http_status(a.http_status);
    p->set_error(a.error);
    *p->mutable_latency() = Dur(a.latency);
  }
  out.set_task(TaskTo(c.task));
  out.set_sensitive(c.sensitive);
  out.set_cached(c.cached);
  out.set_sandbox(c.sandbox);
  out.set_finish_reason(c.finish_reason);
  out.set_stop_reason(StopReasonOf(c.finish_reason));
  for (const auto& call : c.tool_calls) {
    auto* p = out.add_tool_calls();
    p->set_id(call.id);
    p->set_name(call.name);
    p->set_arguments(call.arguments);
  }
  out.set_simulated(c.simulated);
  if (c.execution_id > 0) out.set_execution(absl::StrCat("executions/", c.execution_id));
  if (!c.experiment_id.empty()) out.set_experiment("experiments/" + c.experiment_id);
  out.set_arm(c.arm);
  return out;
}

v1::SelectResponse ToProto(const Selection& s) {
  v1::SelectResponse out;
  out.set_task(TaskTo(s.task));
  out.set_task_classified(s.task_classified);
  out.set_sensitive(s.sensitive);
  out.set_sensitive_reason(s.sensitive_reason);
  out.set_estimated_input_tokens(s.estimated_input_tokens);
  for (const auto& c : s.candidates) {
    auto* p = out.add_candidates();
    p->set_model("models/" + c.model_id);
    p->set_eligible(c.eligible);
    p->set_rank(c.rank);
    p->set_reason(c.reason);
    p->set_estimated_cost_usd(c.estimated_cost_usd);
    if (c.latency_ewma) *p->mutable_observed_latency() = Dur(*c.latency_ewma);
  }
  if (!s.experiment_id.empty()) out.set_experiment("experiments/" + s.experiment_id);
  out.set_arm(s.arm);
  out.set_feedback_weighted(s.feedback_weighted);
  return out;
}

v1::Model ToProto(const ModelSpec& m) {
  v1::Model out;
  out.set_name("models/" + m.id);
  out.set_provider(m.provider);
  out.set_provider_model(m.provider_model);
  out.set_protocol(m.protocol == Protocol::kOpenAi      ? v1::PROTOCOL_OPENAI
                   : m.protocol == Protocol::kAnthropic ? v1::PROTOCOL_ANTHROPIC
                                                        : v1::PROTOCOL_GEMINI);
  out.set_base_url(m.base_url);
  out.set_input_price_per_mtok(m.input_price_per_mtok);
  out.set_output_price_per_mtok(m.output_price_per_mtok);
  out.set_context_window(m.context_window);
  for (int bit = 0; bit < 5; ++bit) {
    if (m.capabilities & (1u << bit)) out.add_capabilities(static_cast<v1::Capability>(bit + 1));
  }
  out.set_locality(m.locality == Locality::kLocal ? v1::LOCALITY_LOCAL : v1::LOCALITY_CLOUD);
  out.set_enabled(m.enabled);
  out.set_quality(m.quality);
  out.set_simulated(m.simulated);
  out.set_configured(m.configured);
  out.set_requests_per_minute(m.rpm);
  out.set_tokens_per_minute(m.tpm);
  return out;
}

ModelSpec TunablesFromProto(const v1::Model& m) {
  ModelSpec s;
  s.enabled = m.enabled();
  s.input_price_per_mtok = m.input_price_per_mtok();
  s.output_price_per_mtok = m.output_price_per_mtok();
  s.context_window = m.context_window();
  s.capabilities = CapsFrom(m.capabilities());
  s.quality = m.quality();
  return s;
}

namespace {

google::protobuf::Timestamp Ts(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

}  // namespace

Feedback FromProto(const v1::RecordFeedbackRequest& req, int64_t execution_id) {
  Feedback f;
  f.execution_id = execution_id;
  f.score = req.score();
  f.comment = req.comment();
  f.subject = req.subject();
  return f;
}

v1::Feedback ToProto(const Feedback& f) {
  v1::Feedback out;
  out.set_execution(absl::StrCat("executions/", f.execution_id));
  out.set_subject(f.subject);
  out.set_score(f.score);
  out.set_comment(f.comment);
  if (f.create_time != absl::InfinitePast()) *out.mutable_create_time() = Ts(f.create_time);
  if (f.update_time != absl::InfinitePast()) *out.mutable_update_time() = Ts(f.update_time);
  return out;
}

Experiment FromProto(const std::string& experiment_id, const v1::Experiment& e) {
  Experiment out;
  out.id = experiment_id;
  out.description = e.description();
  out.task = TaskFrom(e.task());
  for (const auto& a : e.arms()) {
    ExperimentArm arm;
    arm.id = a.id();
    arm.model = a.model();
    const int strategy = a.strategy();
    arm.strategy =
        strategy >= 0 && strategy <= 3 ? static_cast<Strategy>(strategy) : Strategy::kPolicy;
    arm.percent = a.percent();
    out.arms.push_back(std::move(arm));
  }
  return out;
}

v1::Experiment ToProto(const Experiment& e) {
  v1::Experiment out;
  out.set_name("experiments/" + e.id);
  out.set_description(e.description);
  out.set_task(TaskTo(e.task));
  for (const auto& a : e.arms) {
    auto* p = out.add_arms();
    p->set_id(a.id);
    if (!a.model.empty()) p->set_model("models/" + a.model);
    p->set_strategy(static_cast<v1::Strategy>(static_cast<int>(a.strategy)));
    p->set_percent(a.percent);
  }
  out.set_state(e.running ? v1::EXPERIMENT_STATE_RUNNING : v1::EXPERIMENT_STATE_STOPPED);
  if (e.create_time != absl::InfinitePast()) *out.mutable_create_time() = Ts(e.create_time);
  if (e.stop_time != absl::InfinitePast()) *out.mutable_stop_time() = Ts(e.stop_time);
  return out;
}

v1::ArmReport ToProto(const ArmReport& r) {
  v1::ArmReport out;
  out.set_arm(r.arm);
  out.set_executions(r.executions);
  out.set_errors(r.errors);
  out.set_error_rate(
      r.executions > 0 ? static_cast<double>(r.errors) / static_cast<double>(r.executions) : 0);
  out.set_feedback_count(r.feedback_count);
  out.set_mean_score(r.mean_score);
  out.set_cost_usd(r.cost_usd);
  if (r.latency_p50) *out.mutable_latency_p50() = Dur(*r.latency_p50);
  if (r.latency_p95) *out.mutable_latency_p95() = Dur(*r.latency_p95);
  return out;
}

Task TaskFromProto(v1::Task task) { return TaskFrom(task); }

}  // namespace genesis::llmrouter
