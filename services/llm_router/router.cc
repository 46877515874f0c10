// Router: the call path of Complete and StreamComplete (Run, then one
// member per step), Select, and what selection reads (experiments and
// feedback refreshed, health and rate limits). The registry is in
// router_models.cc, budgets and sandbox mode in router_budget.cc, feedback
// and experiments in router_experiments.cc.
#include "services/llm_router/router.h"

#include <algorithm>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "services/llm_router/selection/pii.h"

namespace genesis::llmrouter {
namespace {

std::string RequestJson(const CompletionRequest& r) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : r.messages) {
    nlohmann::json message = {{"role", static_cast<int>(m.role)}, {"content", m.content}};
    if (!m.tool_call_id.empty()) message["tool_call_id"] = m.tool_call_id;
    for (const auto& c : m.tool_calls) {
      message["tool_calls"].push_back({{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
    }
    messages.push_back(std::move(message));
  }
  nlohmann::json j = {{"messages", messages},
                      {"task", TaskName(r.task)},
                      {"model", r.model},
                      {"max_tokens", r.max_tokens},
                      {"sensitive", r.sensitive},
                      {"strategy", static_cast<int>(r.strategy)},
                      {"max_cost_usd", r.constraints.max_cost_usd}};
  if (r.temperature) j["temperature"] = *r.temperature;
  for (const auto& t : r.tools) {
    j["tools"].push_back(
        {{"name", t.name}, {"description", t.description}, {"parameters", t.parameters}});
  }
  if (!r.tools.empty()) {
    j["tool_choice"] = {{"mode", static_cast<int>(r.tool_choice.mode)},
                        {"name", r.tool_choice.name}};
  }
  return j.dump();
}

std::string AttemptsJson(const std::vector<Attempt>& attempts) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& a : attempts) {
    arr.push_back({{"model", a.model_id},
                   {"try", a.try_number},
                   {"http_status", a.http_status},
                   {"error", MaskPii(a.error)},
                   {"latency_ms", absl::ToDoubleMilliseconds(a.latency)}});
  }
  return arr.dump();
}

}  // namespace

Router::Router(RouterConfig config, std::unique_ptr<RouterStore> store,
               std::unique_ptr<ProviderClient> client, Clock* clock,
               std::function<double()> random01, RouterOptions options, RouterDeps deps)
    : config_(std::move(config)),
      options_(options),
      store_(std::move(store)),
      client_(std::move(client)),
      clock_(clock),
      cache_(std::move(deps.cache)),
      limiter_(deps.rate_limiter ? std::move(deps.rate_limiter)
                                 : std::make_unique<LocalRateLimiter>()),
      metrics_(deps.metrics),
      health_(options.health),
      settings_(options.settings_cache_ttl),
      executor_(client_.get(), &health_, clock_, std::move(random01), options.executor),
      accounting_(store_.get(), clock_, options.record_content, deps.metrics),
      log_(Logger("llm_router")),
      models_(std::make_shared<const std::vector<ModelSpec>>()),
      running_(std::make_shared<const std::vector<Experiment>>()),
      beta_(options.thompson_seed != 0 ? options.thompson_seed : std::random_device{}()) {}

void Router::RefreshIfStale() {
  const absl::Time now = clock_->Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (now - refreshed_ < options_.refresh_interval) return;
    refreshed_ = now;  // one refresher at a time; the others keep the old view
  }
  const CallContext ctx = CallContext::Background(absl::Seconds(2));
  // The registry's tunables: another replica's UpdateModel applies here now.
  auto stored = store_->LoadModels(ctx);
  auto running = store_->ListExperiments(Task::kUnspecified, true, ctx);
  std::optional<std::vector<FeedbackStat>> stats;
  if (!config_.feedback_weighted.empty()) {
    auto st = store_->FeedbackStats(ctx);
    if (st.ok()) {
      stats = std::move(*st);
    } else {
      log_->warn("could not read the feedback posteriors: {}", st.status().message());
    }
  }
  std::shared_ptr<const std::vector<ModelSpec>> models;
  if (stored.ok()) {
    models = WithStoredTunables(*stored);
  } else {
    log_->warn("could not re-read the model registry: {}", stored.status().message());
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (models) models_ = std::move(models);
  if (running.ok()) {
    running_ = std::make_shared<const std::vector<Experiment>>(std::move(*running));
  } else {
    log_->warn("could not read the running experiments: {}", running.status().message());
  }
  if (stats) {
    feedback_.clear();
    for (auto& f : *stats) feedback_[{f.task, f.model_id}] = f;
  }
}

Selection Router::SelectFor(const CompletionRequest& request, const std::vector<ModelSpec>& models,
                            absl::Time now, const CallContext& ctx) {
  // The caller refreshed before reading the registry (Select, ChooseModels).
  auto health = [&](const std::string& id) {
    ModelHealth h = health_.Health(id, now);
    for (const auto& m : models) {
      if (m.id == id && (m.rpm > 0 || m.tpm > 0)) {
        h.rate_limited = RateLimitReason({m.rpm, m.tpm}, limiter_->Peek(id, now), now);
        if (!h.rate_limited.empty()) h.rate_limited_for = NextWindow(now) - now;
      }
    }
    return h;
  };
  SelectionInputs in{&models, &config_.policies, health, options_.default_max_tokens};
  // The task as SelectModels resolves it, to find the experiment on it.
  Task task = request.task;
  if (task == Task::kUnspecified) {
    task = ClassifyTask(request.messages, EstimateInputTokens(request));
  }
  std::shared_ptr<const std::vector<Experiment>> running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running = running_;
  }
  const std::string& subject = request.subject.empty() ? ctx.subject : request.subject;
  if (request.model.empty() && request.strategy == Strategy::kPolicy) {
    for (const auto& e : *running) {
      if (e.task != task) continue;
      in.experiment_id = &e.id;
      in.arm = AssignArm(e, subject);
    }
  }
  if (config_.feedback_weighted.count(task)) {
    in.feedback_draw = [&](const std::string& id) {
      double alpha = 1, beta = 1;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (auto it = feedback_.find({task, id}); it != feedback_.end()) {
          alpha += it->second.successes;
          beta += it->second.failures;
        }
      }
      return beta_.Sample(alpha, beta);
    };
  }
  return SelectModels(request, in);
}

absl::Status Router::Validate(const CompletionRequest& r) const {
  FieldViolations v;
  if (r.messages.empty()) v.Add("messages", "at least one message is required");
  size_t bytes = 0;
  bool has_user = false;
  ValidateTools(r, &v);
  std::set<std::string> call_ids;  // of the tool calls seen so far
  for (size_t i = 0; i < r.messages.size(); ++i) {
    const auto& m = r.messages[i];
    const std::string at = absl::StrCat("messages[", i, "]");
    if (m.role == Role::kUnspecified) {
      v.Add(at + ".role", "must be system, user, assistant or tool");
    }
    // An assistant turn that only called tools has no text.
    if (m.content.empty() && !(m.role == Role::kAssistant && !m.tool_calls.empty())) {
      v.Add(at + ".content", "must not be empty");
    }
    if (!m.tool_calls.empty() && m.role != Role::kAssistant) {
      v.Add(at + ".tool_calls", "only assistant messages carry tool calls");
    }
    for (size_t j = 0; j < m.tool_calls.size(); ++j) {
      const ToolCall& c = m.tool_calls[j];
      const std::string call_at = absl::StrCat(at, ".tool_calls[", j, "]");
      if (c.id.empty()) v.Add(call_at + ".id", "is required (the id the answer gave the call)");
      if (!call_ids.insert(c.id).second && !c.id.empty()) {
        v.Add(call_at + ".id", "'" + c.id + "' is the id of an earlier call");
      }
      if (c.name.empty()) v.Add(call_at + ".name", "is required");
      auto args = nlohmann::json::parse(c.arguments.empty() ? "{}" : c.arguments, nullptr, false);
      if (args.is_discarded() || !args.is_object()) {
        v.Add(call_at + ".arguments", "must be a JSON object");
      }
      bytes += c.arguments.size();
    }
    if (m.role == Role::kTool) {
      if (m.tool_call_id.empty()) {
        v.Add(at + ".tool_call_id", "is required for a tool result");
      } else if (!call_ids.count(m.tool_call_id)) {
        v.Add(at + ".tool_call_id",
              "'" + m.tool_call_id +
                  "' is not the id of a tool call of an earlier assistant message");
      }
    } else if (!m.tool_call_id.empty()) {
      v.Add(at + ".tool_call_id", "only tool messages answer a tool call");
    }
    has_user |= m.role == Role::kUser;
    bytes += m.content.size();
  }
  if (r.tools.empty() && UsesTools(r)) {
    v.Add("tools", "the conversation has tool calls or results: declare the tools");
  }
  if (!r.messages.empty() && !has_user) v.Add("messages", "needs at least one user message");
  if (bytes > options_.max_request_bytes) {
    v.Add("messages", absl::StrCat("at most ", options_.max_request_bytes, " bytes in total"));
  }
  if (r.max_tokens < 0) v.Add("max_tokens", "must not be negative (0: the default)");
  if (r.max_tokens > options_.max_max_tokens) {
    v.Add("max_tokens", absl::StrCat("at most ", options_.max_max_tokens));
  }
  if (r.temperature && !(*r.temperature >= 0 && *r.temperature <= 2)) {
    v.Add("temperature", "must be between 0 and 2");
  }
  if (r.constraints.max_cost_usd < 0) v.Add("constraints.max_cost_usd", "must not be negative");
  if (!r.model.empty()) {
    auto models = Models();
    if (std::none_of(models->begin(), models->end(),
                     [&](const ModelSpec& m) { return m.id == r.model; })) {
      v.Add("model", "unknown model '" + r.model + "'; ListModels shows the registry");
    }
  }
  return v.ToStatus();
}

void Router::ValidateTools(const CompletionRequest& r, FieldViolations* v) {
  // What OpenAI, Anthropic and Gemini all accept.
  auto valid_name = [](const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    if (!absl::ascii_isalpha(name[0]) && name[0] != '_') return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return absl::ascii_isalnum(c) || c == '_' || c == '-'; });
  };
  if (r.tools.size() > kMaxTools) v->Add("tools", absl::StrCat("at most ", kMaxTools, " tools"));
  std::set<std::string> names;
  for (size_t i = 0; i < r.tools.size(); ++i) {
    const ToolSpec& t = r.tools[i];
    const std::string at = absl::StrCat("tools[", i, "]");
    if (!valid_name(t.name)) {
      v->Add(at + ".name",
             "must be 1 to 64 letters, digits, '_' or '-', starting with a letter or '_'");
    } else if (!names.insert(t.name).second) {
      v->Add(at + ".name", "'" + t.name + "' is declared twice");
    }
    if (t.description.size() > 4096) v->Add(at + ".description", "at most 4096 bytes");
    if (!t.parameters.empty()) {
      auto schema = nlohmann::json::parse(t.parameters, nullptr, false);
      if (schema.is_discarded() || !schema.is_object() || !schema.contains("type") ||
          schema["type"] != "object") {
        v->Add(at + ".parameters",
               "must be a JSON Schema of an object ({\"type\": \"object\", \"properties\": ...})");
      }
    }
  }
  switch (r.tool_choice.mode) {
    case ToolChoiceMode::kAuto:
    case ToolChoiceMode::kNone:
      if (!r.tool_choice.name.empty()) {
        v->Add("tool_choice.tool_name", "only with mode TOOL_CHOICE_MODE_TOOL");
      }
      break;
    case ToolChoiceMode::kRequired:
      if (r.tools.empty()) v->Add("tool_choice.mode", "requires tools");
      if (!r.tool_choice.name.empty()) {
        v->Add("tool_choice.tool_name", "only with mode TOOL_CHOICE_MODE_TOOL");
      }
      break;
    case ToolChoiceMode::kTool:
      if (r.tool_choice.name.empty()) {
        v->Add("tool_choice.tool_name", "is required with mode TOOL_CHOICE_MODE_TOOL");
      } else if (!names.count(r.tool_choice.name)) {
        v->Add("tool_choice.tool_name", "'" + r.tool_choice.name + "' is not one of the tools");
      }
      break;
  }
}

absl::StatusOr<Selection> Router::Select(const CompletionRequest& request, const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(Validate(request));
  RefreshIfStale();  // before the registry is read: a refreshed one applies to this call
  auto models = Models();
  return SelectFor(request, *models, clock_->Now(), ctx);
}

absl::StatusOr<Completion> Router::Complete(const CompletionRequest& request,
                                            const CallContext& ctx) {
  return Run(request, nullptr, ctx);
}

absl::StatusOr<Completion> Router::StreamComplete(const CompletionRequest& request,
                                                  const TextSink& sink, const CallContext& ctx,
                                                  const ToolCallSink* tool_sink) {
  return Run(request, &sink, ctx, tool_sink);
}

absl::StatusOr<Completion> Router::Run(const CompletionRequest& request, const TextSink* sink,
                                       const CallContext& ctx, const ToolCallSink* tool_sink) {
  Call call{request, sink, ctx, tool_sink, clock_->Now()};
  GENESIS_RETURN_IF_ERROR(Validate(request));
  if (absl::Status st = ChooseModels(call); !st.ok()) return Refuse(call, st);
  if (absl::Status st = ReadSandbox(call); !st.ok()) return Refuse(call, st);
  if (auto hit = LookUpCache(call)) return AnswerFromCache(call, *hit);
  if (absl::Status st = CheckBudget(request, call.start, ctx); !st.ok()) return Refuse(call, st);
  Execution ex = Execute(call);
  const int64_t execution_id = accounting_.Executed(Accounted(call, call.latency), ex);
  if (!ex.status.ok()) {
    KeepForRetry(call, ex);
    return ex.status;
  }
  Completion answer = Answer(call, std::move(ex), execution_id);
  FillCache(call, answer);
  return answer;
}

AccountedCall Router::Accounted(const Call& call, absl::Duration latency) const {
  return {call.request, call.selection, latency, call.sink != nullptr, call.sandbox, call.ctx};
}

absl::Status Router::Refuse(const Call& call, absl::Status status) {
  accounting_.Rejected(Accounted(call, clock_->Now() - call.start), status);
  return status;
}

absl::Status Router::ChooseModels(Call& call) {
  RefreshIfStale();  // before the registry is read: a refreshed one applies to this call
  call.models = Models();
  Selection& sel = call.selection;
  sel = SelectFor(call.request, *call.models, call.start, call.ctx);
  if (!sel.ToStatus().ok() && sel.RateLimited()) {
    // Only provider limits stand in the way: wait for the next window when
    // the deadline allows, once.
    const absl::Time now = clock_->Now();
    const absl::Time next = NextWindow(now);
    if (next < call.ctx.deadline && !call.ctx.Cancelled()) {
      RouterMetrics::Inc(metrics_.rate_limit_waited);
      clock_->SleepFor(next - now);
      sel = SelectFor(call.request, *call.models, clock_->Now(), call.ctx);
    }
    if (!sel.ToStatus().ok() && sel.RateLimited()) RouterMetrics::Inc(metrics_.rate_limit_rejected);
  }
  return sel.ToStatus();
}

absl::Status Router::ReadSandbox(Call& call) {
  auto sandbox = Sandbox(call.request.subject, call.ctx);
  if (!sandbox.ok()) return sandbox.status();
  call.sandbox = *sandbox;
  return absl::OkStatus();
}

std::optional<CachedAnswer> Router::LookUpCache(Call& call) {
  // Never for sensitive requests (P0: the caller's flag or personal data),
  // nor with tools: a tool call is an action the caller takes on the state
  // of the world at that moment, which a replayed answer knows nothing of.
  call.cacheable =
      cache_ && !call.request.no_cache && !call.selection.sensitive && !UsesTools(call.request);
  if (!call.cacheable) {
    RouterMetrics::Inc(metrics_.cache_skipped);
    return std::nullopt;
  }
  call.cache_key = ResponseCacheKey(call.request, call.selection.task, call.selection.max_tokens);
  std::optional<CachedAnswer> hit = cache_->Get(call.cache_key, call.ctx);
  RouterMetrics::Inc(hit ? metrics_.cache_hits : metrics_.cache_misses);
  return hit;
}

absl::StatusOr<Completion> Router::AnswerFromCache(const Call& call, const CachedAnswer& hit) {
  const TextSink* sink = call.sink;
  if (sink && !(*sink)(hit.text)) return absl::CancelledError("the client went away");
  Completion c;
  c.text = sink ? "" : hit.text;
  c.model_id = hit.model_id;
  c.provider = hit.provider;
  c.latency = clock_->Now() - call.start;
  c.task = call.selection.task;
  c.sensitive = call.selection.sensitive;
  c.finish_reason = hit.finish_reason;
  c.simulated = hit.simulated;
  c.cached = true;
  c.sandbox = call.sandbox;
  c.execution_id = accounting_.CacheHit(Accounted(call, c.latency), hit);
  c.experiment_id = call.selection.experiment_id;
  c.arm = call.selection.arm;
  return c;
}

Execution Router::Execute(Call& call) {
  const Selection& sel = call.selection;
  if (!sel.arm.empty()) RouterMetrics::Inc(metrics_.experiment_enrolled);
  std::vector<const ModelSpec*> order;
  for (const auto& id : sel.Order()) {
    for (const auto& m : *call.models) {
      if (m.id == id) order.push_back(&m);
    }
  }
  ExecutionParams params;
  params.messages = &call.request.messages;
  params.tools = &call.request.tools;
  params.tool_choice = call.request.tool_choice;
  params.tool_sink = call.tool_sink;
  params.max_tokens = sel.max_tokens;
  params.temperature = call.request.temperature;
  params.deadline = call.ctx.deadline;
  params.cancelled = call.ctx.is_cancelled;
  // Admission reserves the prompt's estimated tokens against a TPM limit;
  // settled below, when the real usage is known.
  CallRateLimits limits(limiter_.get(), clock_, sel.estimated_input_tokens,
                        metrics_.rate_limit_skipped);
  params.admit = [&limits](const ModelSpec& m) { return limits.Admit(m); };
  // A stream's text is kept only to fill the cache.
  const TextSink* sink = call.sink;
  TextSink keeping;
  if (call.sink && call.cacheable) {
    keeping = [&call](std::string_view text) {
      call.streamed_text.append(text);
      return (*call.sink)(text);
    };
    sink = &keeping;
  }
  Execution ex = executor_.Run(order, params, sink);
  call.latency = clock_->Now() - call.start;
  limits.Settle(ex.model, ex.reply.usage);
  return ex;
}

void Router::KeepForRetry(const Call& call, const Execution& ex) {
  if (ex.status.code() != absl::StatusCode::kUnavailable &&
      ex.status.code() != absl::StatusCode::kDeadlineExceeded) {
    return;
  }
  RetryRecord r{call.ctx.request_id,
                call.request.subject,
                call.request.agent,
                call.selection.task,
                RequestJson(call.request),
                AttemptsJson(ex.attempts),
                MaskPii(std::string(ex.status.message()))};
  if (auto st = store_->EnqueueRetry(r, CallContext::Background(absl::Seconds(2))); !st.ok()) {
    log_->warn("could not keep the failed request in the retry queue: {}", st.message());
  }
}

Completion Router::Answer(const Call& call, Execution ex, int64_t execution_id) const {
  Completion c;
  c.text = call.sink ? "" : std::move(ex.reply.text);
  c.model_id = ex.model->id;
  c.provider = ex.model->provider;
  c.usage = ex.reply.usage;
  c.cost_usd = ex.model->Cost(c.usage.input_tokens, c.usage.output_tokens);
  c.latency = call.latency;
  c.attempts = std::move(ex.attempts);
  c.task = call.selection.task;
  c.sensitive = call.selection.sensitive;
  c.finish_reason = ex.reply.finish_reason;
  c.tool_calls = std::move(ex.reply.tool_calls);
  c.simulated = ex.model->simulated;
  c.sandbox = call.sandbox;
  c.execution_id = execution_id;
  c.experiment_id = call.selection.experiment_id;
  c.arm = call.selection.arm;
  return c;
}

void Router::FillCache(const Call& call, const Completion& answer) {
  if (!call.cacheable) return;
  cache_->Put(call.cache_key,
              CachedAnswer{call.sink ? call.streamed_text : answer.text, answer.model_id,
                           answer.provider, answer.finish_reason, answer.simulated},
              call.ctx);
}

}  // namespace genesis::llmrouter
