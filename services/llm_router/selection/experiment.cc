#include "services/llm_router/selection/experiment.h"

#include <openssl/sha.h>

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/base/text.h"

namespace genesis::llmrouter {
namespace {

bool ValidLabel(const std::string& s, size_t max, bool letter_first) {
  if (s.empty() || s.size() > max) return false;
  if (letter_first && !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateFeedback(const Feedback& f) {
  FieldViolations v;
  if (f.score < kMinFeedbackScore || f.score > kMaxFeedbackScore) {
    v.Add("score", absl::StrCat("must be ", kMinFeedbackScore, " (bad) to ", kMaxFeedbackScore,
                                " (excellent); got ", f.score));
  }
  if (f.comment.size() > kMaxFeedbackComment) {
    v.Add("comment", absl::StrCat("at most ", kMaxFeedbackComment, " characters"));
  } else {
    CheckStorableText("comment", f.comment, &v);
  }
  return v.ToStatus();
}

absl::StatusOr<int64_t> ParseExecutionName(const std::string& name, const std::string& field) {
  constexpr std::string_view kPrefix = "executions/";
  int64_t id = 0;
  if (name.rfind(kPrefix, 0) != 0 ||
      !absl::SimpleAtoi(absl::string_view(name).substr(kPrefix.size()), &id) || id <= 0) {
    return InvalidField(field, "must be executions/{id} as returned in CompleteResponse.execution");
  }
  return id;
}

absl::Status ValidateExperiment(const Experiment& e,
                                const std::function<bool(const std::string&)>& known_model) {
  FieldViolations v;
  if (!ValidLabel(e.id, 63, true) || e.id.find('_') != std::string::npos) {
    v.Add("experiment_id", "must be 1..63 of [a-z0-9-], starting with a letter");
  }
  if (e.task == Task::kUnspecified) v.Add("experiment.task", "is required");
  if (e.description.size() > 2000) v.Add("experiment.description", "at most 2000 characters");
  if (e.arms.size() < 2) v.Add("experiment.arms", "needs at least two arms");
  if (e.arms.size() > 10) v.Add("experiment.arms", "at most 10 arms");
  int total = 0;
  std::set<std::string> ids;
  for (size_t i = 0; i < e.arms.size(); ++i) {
    const auto& a = e.arms[i];
    const std::string at = absl::StrCat("experiment.arms[", i, "]");
    if (!ValidLabel(a.id, 32, false)) {
      v.Add(at + ".id", "must be 1..32 of [a-z0-9_-]");
    } else if (!ids.insert(a.id).second) {
      v.Add(at + ".id", "duplicate arm id '" + a.id + "'");
    }
    if (!a.model.empty() && !known_model(a.model)) {
      v.Add(at + ".model", "unknown model '" + a.model + "'; ListModels shows the registry");
    }
    if (a.percent < 1 || a.percent > 100) {
      v.Add(at + ".percent", "must be 1..100");
    }
    total += a.percent;
  }
  if (e.arms.size() >= 2 && total != 100) {
    v.Add("experiment.arms", absl::StrCat("percentages must sum to 100; they sum to ", total));
  }
  return v.ToStatus();
}

int ExperimentBucket(const std::string& experiment_id, const std::string& subject) {
  const std::string key = experiment_id + ":" + subject;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = (x << 8) | digest[i];
  return static_cast<int>(x % 100);
}

const ExperimentArm* AssignArm(const Experiment& e, const std::string& subject) {
  if (subject.empty() || e.arms.empty()) return nullptr;
  const int bucket = ExperimentBucket(e.id, subject);
  int upper = 0;
  for (const auto& a : e.arms) {
    upper += a.percent;
    if (bucket < upper) return &a;
  }
  return &e.arms.back();
}

std::pair<double, double> ScoreWeight(int score) {
  const double range = kMaxFeedbackScore - kMinFeedbackScore;
  return {(score - kMinFeedbackScore) / range, (kMaxFeedbackScore - score) / range};
}

double BetaSampler::Sample(double alpha, double beta) {
  std::lock_guard<std::mutex> lock(mu_);
  const double x = std::gamma_distribution<double>(alpha, 1.0)(engine_);
  const double y = std::gamma_distribution<double>(beta, 1.0)(engine_);
  return x + y > 0 ? x / (x + y) : 0.5;
}

}  // namespace genesis::llmrouter
