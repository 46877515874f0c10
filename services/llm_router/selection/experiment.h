// Experiments and feedback: plain types and the pure functions the router
// uses to split subjects between the arms of an A/B test and to order models
// by the feedback they received (Thompson sampling).
//
// Split: bucket = first 8 bytes of SHA-256("{experiment_id}:{subject}") mod
// 100; the arms take consecutive ranges of buckets in their order (a 30/70
// experiment: buckets 0..29 -> first arm). The same subject always lands in
// the same arm of an experiment, on every router instance and after restarts;
// different experiments split independently. A request without a subject is
// not enrolled.
//
// Feedback scores are 1..5. For Thompson sampling a score s counts as
// (s-1)/4 of a success and (5-s)/4 of a failure; each model's posterior is
// Beta(1 + successes, 1 + failures) over the feedback on its executions of
// the task; each request samples every candidate's posterior and tries the
// highest sample first.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/llm_router/model.h"

namespace genesis::llmrouter {

inline constexpr int kMinFeedbackScore = 1;
inline constexpr int kMaxFeedbackScore = 5;
inline constexpr size_t kMaxFeedbackComment = 2000;

struct Feedback {
  int64_t execution_id = 0;
  std::string subject;
  int score = 0;
  std::string comment;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

// INVALID_ARGUMENT naming score / comment.
absl::Status ValidateFeedback(const Feedback& feedback);

// "executions/{id}" -> id; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<int64_t> ParseExecutionName(const std::string& name, const std::string& field);

struct ExperimentArm {
  std::string id;     // label, unique in the experiment
  std::string model;  // model id tried first ("" = by strategy)
  Strategy strategy = Strategy::kPolicy;
  int percent = 0;
};

struct Experiment {
  std::string id;  // resource name "experiments/{id}"
  std::string description;
  Task task = Task::kUnspecified;
  std::vector<ExperimentArm> arms;
  bool running = true;
  absl::Time create_time = absl::InfinitePast();
  absl::Time stop_time = absl::InfinitePast();  // InfinitePast while running
};

// INVALID_ARGUMENT naming experiment_id, experiment.task, experiment.arms,
// experiment.arms[i].id / .model / .percent. `known_model` says whether a
// model id is in the registry.
absl::Status ValidateExperiment(const Experiment& experiment,
                                const std::function<bool(const std::string&)>& known_model);

// 0..99, see the file comment.
int ExperimentBucket(const std::string& experiment_id, const std::string& subject);
// The arm of `subject` (nullptr when the subject is empty).
const ExperimentArm* AssignArm(const Experiment& experiment, const std::string& subject);

struct ArmReport {
  std::string arm;
  int64_t executions = 0;
  int64_t errors = 0;
  int64_t feedback_count = 0;
  double mean_score = 0;
  double cost_usd = 0;
  std::optional<absl::Duration> latency_p50, latency_p95;
};

// Feedback summed per (task, model) for Thompson sampling.
struct FeedbackStat {
  Task task = Task::kChat;
  std::string model_id;
  int64_t count = 0;
  double successes = 0;  // sum of (score-1)/4
  double failures = 0;   // sum of (5-score)/4
};

// A score's contribution to a model's posterior: (success, failure).
std::pair<double, double> ScoreWeight(int score);

// Draws from Beta distributions with its own seeded engine. Thread-safe.
class BetaSampler {
 public:
  explicit BetaSampler(uint64_t seed) : engine_(seed) {}
  double Sample(double alpha, double beta);

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

}  // namespace genesis::llmrouter
