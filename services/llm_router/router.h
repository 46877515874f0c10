// The LLM router's logic: validate a request, select models (selection/selection.h),
// run them with retries and fallbacks (execution/executor.h), account for it
// (accounting/usage_recorder.h), and keep the model registry. Plain types in, absl::Status out;
// no gRPC (grpc_service.h is the transport). Errors:
//   INVALID_ARGUMENT naming each field (messages, messages[i].content,
//     messages[i].role, messages[i].tool_call_id, messages[i].tool_calls[j].*,
//     max_tokens, temperature, model, constraints.max_cost_usd, tools,
//     tools[i].name, tools[i].parameters, tool_choice.mode, tool_choice.tool_name);
//   FAILED_PRECONDITION when P0 or the constraints leave no model;
//   UNAVAILABLE listing the attempts when every model failed (the request is
//     then kept in the retry queue); DEADLINE_EXCEEDED, CANCELLED;
//   NOT_FOUND for an unknown model in GetModel/UpdateModel;
//   RESOURCE_EXHAUSTED naming the budget when one of the subject's or the
//     agent's is spent (checked before any model is called);
//   UNAVAILABLE (retriable, no database text) when the subject's settings
//     (sandbox mode) or the budgets of the subject or agent cannot be read
//     within `settings_read_timeout`: a call is never answered under a
//     guessed setting (a sandbox mark the caller did not ask for silently
//     drops replies; "no budget" silently lifts a limit).
// Order of a call (Run, one private step each): validate, select with the
// experiment arm of the subject (selection/experiment.h), P0 and rate limits (waits for
// the next minute window when only rate limits stand in the way and the
// deadline allows), the subject's sandbox mode, response cache (not for
// sensitive requests nor `no_cache`; a hit is answered without a budget check
// since it costs nothing), budgets, execute, account (+ budget alerts), fill
// the cache.
// Accounting never fails a call that a model answered: a failed write is
// logged and counted; neither does the response cache (a Redis error is a
// miss). Running experiments and feedback posteriors that cannot be re-read
// keep their last known value (an experiment that cannot be read at all
// routes by the task's policy, the arm is then simply absent).
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/rpc/call_context.h"
#include "common/runtime/logging.h"
#include "services/llm_router/accounting/settings_cache.h"
#include "services/llm_router/accounting/usage_recorder.h"
#include "services/llm_router/config.h"
#include "services/llm_router/execution/executor.h"
#include "services/llm_router/execution/health.h"
#include "services/llm_router/execution/rate_limit.h"
#include "services/llm_router/execution/response_cache.h"
#include "services/llm_router/metrics.h"
#include "services/llm_router/selection/experiment.h"
#include "services/llm_router/selection/selection.h"
#include "services/llm_router/store/store.h"

namespace genesis::llmrouter {

struct RouterOptions {
  int default_max_tokens = 1024;
  int max_max_tokens = 65536;
  size_t max_request_bytes = 4 << 20;
  bool record_content = false;  // keep prompts and answers (PII masked) in executions
  ExecutorOptions executor;
  HealthOptions health;
  // How often the registry's tunables, running experiments and feedback
  // posteriors are re-read from the store (other router instances change
  // them too): the bound on how stale another replica's change can be here.
  absl::Duration refresh_interval = absl::Seconds(30);
  uint64_t thompson_seed = 0;  // 0: from std::random_device
  // How long a subject's sandbox flag and a "no budget applies" answer are
  // reused (accounting/settings_cache.h); zero reads them on every call.
  absl::Duration settings_cache_ttl = absl::ZeroDuration();
  // Longest wait for the subject's settings or budgets (also bounded by the
  // caller's deadline); past it the call fails UNAVAILABLE. A locked or hung
  // table must not eat the whole deadline.
  absl::Duration settings_read_timeout = absl::Seconds(2);
};

// Optional dependencies: without a cache nothing is cached.
struct RouterDeps {
  std::unique_ptr<ResponseCache> cache;
  // Provider RPM/TPM limits; null: a LocalRateLimiter.
  std::unique_ptr<RateLimiter> rate_limiter;
  RouterMetrics metrics;
};

class Router {
 public:
  // `config` holds the models (with resolved keys) and the policies.
  // `clock` (Clock::Real() outside tests) must outlive the router.
  Router(RouterConfig config, std::unique_ptr<RouterStore> store,
         std::unique_ptr<ProviderClient> client, Clock* clock, std::function<double()> random01,
         RouterOptions options, RouterDeps deps = {});

  // Seeds the store with the configured models and loads the registry
  // (tunables from the store, connection details and keys from the config).
  absl::Status Init(const CallContext& ctx);

  absl::StatusOr<Completion> Complete(const CompletionRequest& request, const CallContext& ctx);
  // Streams text to `sink` and tool-call pieces to `tool_sink` (may be
  // null) as they arrive; the result has no text (the caller has it) but
  // usage, cost, attempts and the complete tool calls.
  absl::StatusOr<Completion> StreamComplete(const CompletionRequest& request, const TextSink& sink,
                                            const CallContext& ctx,
                                            const ToolCallSink* tool_sink = nullptr);
  // The choice Complete would make, without calling any model.
  absl::StatusOr<Selection> Select(const CompletionRequest& request, const CallContext& ctx);

  std::vector<ModelSpec> ListModels() const;
  // `name` is "models/{id}" or "{id}".
  absl::StatusOr<ModelSpec> GetModel(const std::string& name) const;
  // `mask` paths: enabled, input_price_per_mtok, output_price_per_mtok,
  // context_window, capabilities, quality.
  absl::StatusOr<ModelSpec> UpdateModel(const std::string& name, const ModelSpec& values,
                                        const std::vector<std::string>& mask,
                                        const CallContext& ctx);

  // Budgets (accounting/budget.h). SetBudget: INVALID_ARGUMENT naming the field.
  absl::Status SetBudget(const Budget& budget, const CallContext& ctx);
  // With the usage of the current period (the router's clock).
  absl::StatusOr<std::vector<Budget>> ListBudgets(const std::string& owner, const CallContext& ctx);
  absl::StatusOr<std::vector<UsageRow>> UsageReport(const UsageQuery& query,
                                                    const CallContext& ctx);
  // Sandbox mode per subject: `subject` is the bare id (INVALID_ARGUMENT
  // "subject" when empty).
  absl::StatusOr<bool> GetSandbox(const std::string& subject, const CallContext& ctx);
  absl::Status SetSandbox(const std::string& subject, bool sandbox, const CallContext& ctx);

  // Feedback of the caller (gateway identity) or of `feedback.subject`:
  // INVALID_ARGUMENT naming score / comment, NOT_FOUND for an unknown
  // execution. Returns it with its times.
  absl::StatusOr<Feedback> RecordFeedback(const Feedback& feedback, const CallContext& ctx);

  // Experiments (admin: create, stop). INVALID_ARGUMENT naming the field;
  // ALREADY_EXISTS; FAILED_PRECONDITION while another runs on the task.
  // `request_id` (may be empty) makes retries safe (CreateExperimentRequest.request_id).
  absl::StatusOr<Experiment> CreateExperiment(Experiment experiment, const std::string& request_id,
                                              const CallContext& ctx);
  absl::StatusOr<Experiment> CreateExperiment(Experiment experiment, const CallContext& ctx) {
    return CreateExperiment(std::move(experiment), "", ctx);
  }
  absl::StatusOr<Experiment> GetExperiment(const std::string& name, const CallContext& ctx);
  absl::StatusOr<std::vector<Experiment>> ListExperiments(Task task, bool running_only,
                                                          const CallContext& ctx);
  // One page of ListExperiments, newest first (AIP-158): `page_size` 0 ->
  // 50, at most 500, negative -> INVALID_ARGUMENT page_size; `page_token`
  // from a previous page of the same task / running_only, else
  // INVALID_ARGUMENT page_token. `next_page_token` is empty on the last page.
  struct ExperimentPage {
    std::vector<Experiment> experiments;
    std::string next_page_token;
  };
  absl::StatusOr<ExperimentPage> ListExperimentsPage(Task task, bool running_only, int page_size,
                                                     const std::string& page_token,
                                                     const CallContext& ctx);
  absl::StatusOr<Experiment> StopExperiment(const std::string& name, const CallContext& ctx);
  absl::StatusOr<std::vector<ArmReport>> ExperimentReport(const std::string& name,
                                                          const CallContext& ctx);

  HealthBook& health() { return health_; }

 private:
  // One Complete or StreamComplete on its way through Run's steps.
  struct Call {
    const CompletionRequest& request;
    const TextSink* sink;  // null: a plain call
    const CallContext& ctx;
    const ToolCallSink* tool_sink;  // streams: tool-call pieces (may be null)
    absl::Time start;
    std::shared_ptr<const std::vector<ModelSpec>> models;  // the registry the call saw
    Selection selection;
    bool sandbox = false;  // the subject's mode, once read
    bool cacheable = false;
    std::string cache_key;
    std::string streamed_text;  // a stream's text, kept only to fill the cache
    absl::Duration latency;     // until the executor returned
  };

  absl::Status Validate(const CompletionRequest& request) const;
  // Tools and tool choice: names, schemas, duplicates, the named tool.
  static void ValidateTools(const CompletionRequest& request, FieldViolations* violations);
  static constexpr size_t kMaxTools = 128;
  // Complete and StreamComplete: the steps below, in this order.
  absl::StatusOr<Completion> Run(const CompletionRequest& request, const TextSink* sink,
                                 const CallContext& ctx, const ToolCallSink* tool_sink = nullptr);
  // 1. The models to try, in order; when only provider rate limits stand in
  // the way, waits once for the next minute window if the deadline allows.
  absl::Status ChooseModels(Call& call);
  // 2. The subject's sandbox mode (Sandbox, router_budget.cc).
  absl::Status ReadSandbox(Call& call);
  // 3. The response cache: the answer held for this request, if any (never
  // for sensitive requests nor `no_cache`). A hit is answered (and
  // accounted) at once, without a budget check: it costs nothing.
  std::optional<CachedAnswer> LookUpCache(Call& call);
  absl::StatusOr<Completion> AnswerFromCache(const Call& call, const CachedAnswer& hit);
  // 4. RESOURCE_EXHAUSTED when a budget of the subject or agent is spent;
  // UNAVAILABLE (logged, counted) when the budgets cannot be read
  // (router_budget.cc).
  absl::Status CheckBudget(const CompletionRequest& request, absl::Time now,
                           const CallContext& ctx);
  // 5. The models in order, with retries and fallbacks, within their
  // provider rate limits.
  Execution Execute(Call& call);
  // 6. Accounted (accounting_.Executed); a request every model failed is
  // kept in the retry queue.
  void KeepForRetry(const Call& call, const Execution& ex);
  // 7. The answer, and the response cache filled with it.
  Completion Answer(const Call& call, Execution ex, int64_t execution_id) const;
  void FillCache(const Call& call, const Completion& answer);
  // A call refused before any model ran (steps 1, 2, 4): accounted as
  // rejected.
  absl::Status Refuse(const Call& call, absl::Status status);
  AccountedCall Accounted(const Call& call, absl::Duration latency) const;

  std::shared_ptr<const std::vector<ModelSpec>> Models() const;
  // The subject's sandbox mode; UNAVAILABLE (logged, counted) when it
  // cannot be read: never guessed, since a caller that honours the mark
  // drops the answer.
  absl::StatusOr<bool> Sandbox(const std::string& subject, const CallContext& ctx);
  // `ctx` with its deadline cut to settings_read_timeout from now.
  CallContext SettingsReadContext(const CallContext& ctx) const;
  void RefreshIfStale();
  std::shared_ptr<const std::vector<ModelSpec>> WithStoredTunables(
      const std::vector<ModelSpec>& stored) const;
  // Selection with health, rate limits, the arm and feedback weighting.
  Selection SelectFor(const CompletionRequest& request, const std::vector<ModelSpec>& models,
                      absl::Time now, const CallContext& ctx);

  const RouterConfig config_;
  const RouterOptions options_;
  std::unique_ptr<RouterStore> store_;
  std::unique_ptr<ProviderClient> client_;
  Clock* clock_;
  std::unique_ptr<ResponseCache> cache_;
  std::unique_ptr<RateLimiter> limiter_;
  const RouterMetrics metrics_;
  HealthBook health_;
  SettingsCache settings_;
  Executor executor_;
  UsageRecorder accounting_;  // the executions rows
  std::shared_ptr<spdlog::logger> log_;
  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<ModelSpec>> models_;           // sorted by id
  std::shared_ptr<const std::vector<Experiment>> running_;         // running experiments
  std::map<std::pair<Task, std::string>, FeedbackStat> feedback_;  // by task and model
  absl::Time refreshed_ = absl::InfinitePast();
  BetaSampler beta_;
};

}  // namespace genesis::llmrouter
