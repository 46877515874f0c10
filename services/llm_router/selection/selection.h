// Model selection: pure functions from a request, the registry, the task
// policies and what the router observed (circuit breakers, latency) to the
// ordered list of models to try, with the reason for every model taken or
// rejected. No I/O; the executor (execution/executor.h) calls the chosen models.
//
// Order of the checks for each model: requested model, enabled, configured
// (key / URL), P0 (sensitive requests: local models only), task policy,
// capabilities (the request's, plus tools when it uses tools), context window, cost limit, circuit
// breaker, provider rate limit (execution/rate_limit.h). The eligible models are then ordered by
// the strategy: the policy's order, cheapest estimated cost, lowest latency moving average, or
// highest quality.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/llm_router/model.h"
#include "services/llm_router/selection/experiment.h"

namespace genesis::llmrouter {

// The task a request most likely is, by cheap keyword and size rules
// (Portuguese and English). Never kUnspecified.
Task ClassifyTask(const std::vector<Message>& messages, int64_t estimated_input_tokens);

// About four bytes per token plus a few per message; deliberately generous.
int64_t EstimateInputTokens(const std::vector<Message>& messages);
// The messages (tool calls too) and the tool declarations.
int64_t EstimateInputTokens(const CompletionRequest& request);

// Why P0 applies ("" when it does not): the caller's flag, or the kinds of
// personal data found in the messages ("personal data: cpf, email").
std::string SensitiveReason(const CompletionRequest& request);

// What the router knows of a model's health at selection time.
struct ModelHealth {
  bool available = true;  // the circuit breaker would let a call through
  std::optional<absl::Duration> latency_ewma;
  // Why the model is at its provider rate limit ("" when it is not).
  std::string rate_limited;
  // When not available: how long its circuit breaker stays open (nullopt:
  // unknown, e.g. a half-open breaker whose probe is in flight).
  std::optional<absl::Duration> open_for;
  // When rate limited: how long until its rate window frees.
  std::optional<absl::Duration> rate_limited_for;
};
using HealthLookup = std::function<ModelHealth(const std::string& model_id)>;

struct CandidateView {
  std::string model_id;
  bool eligible = false;
  int rank = 0;  // 1-based order of trial; 0 when rejected
  std::string reason;
  double estimated_cost_usd = 0;
  std::optional<absl::Duration> latency_ewma;
  // Rejected by its open breaker or its rate limit: when that may change.
  std::optional<absl::Duration> retry_after;
};

struct Selection {
  Task task = Task::kChat;
  bool task_classified = false;
  bool sensitive = false;
  std::string sensitive_reason;
  int64_t estimated_input_tokens = 0;
  int max_tokens = 0;         // the request's, or the default
  std::string experiment_id;  // the experiment and arm that shaped the order ("" none)
  std::string arm;
  bool feedback_weighted = false;  // ordered by Thompson sampling on feedback
  // Every model: eligible ones first, in order of trial, then rejected ones.
  std::vector<CandidateView> candidates;

  [[nodiscard]] std::vector<std::string> Order() const;
  // OK when at least one model is eligible. Otherwise FAILED_PRECONDITION for
  // P0 or constraints that exclude every model, UNAVAILABLE when a model was
  // excluded only by its open circuit breaker, RESOURCE_EXHAUSTED when
  // provider rate limits are what excluded the rest; the message lists the
  // reasons. The ErrorInfo reason says which (reasons.h); RATE_LIMITED and
  // CIRCUIT_OPEN carry the shortest wait of the models they excluded as
  // RetryInfo.
  [[nodiscard]] absl::Status ToStatus() const;
  // True when some model was rejected only because of its rate limit.
  [[nodiscard]] bool RateLimited() const;
};

struct SelectionInputs {
  const std::vector<ModelSpec>* models = nullptr;
  const std::map<Task, std::vector<std::string>>* policies = nullptr;
  HealthLookup health;
  int default_max_tokens = 1024;
  // The subject's experiment arm (nullptr: none). An arm's model is tried
  // first when eligible (even outside the task's policy), followed by the
  // usual order; an arm without a model orders by its strategy.
  const std::string* experiment_id = nullptr;
  const ExperimentArm* arm = nullptr;
  // Feedback-weighted selection for the task (nullptr: off): a draw from the
  // model's posterior; eligible models are tried in decreasing draw order.
  // Applies to the policy strategy without an explicit model or an arm.
  std::function<double(const std::string& model_id)> feedback_draw;
};

// The request must have passed validation (see router.h).
Selection SelectModels(const CompletionRequest& request, const SelectionInputs& inputs);

}  // namespace genesis::llmrouter
