#include "services/llm_router/selection/selection.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/base/status.h"
#include "services/llm_router/reasons.h"
#include "services/llm_router/selection/pii.h"

namespace genesis::llmrouter {
namespace {

constexpr int64_t kLongContextTokens = 24000;

bool ContainsAny(const std::string& text, std::initializer_list<const char*> words) {
  for (const char* w : words) {
    if (text.find(w) != std::string::npos) return true;
  }
  return false;
}

std::string MissingCapabilities(uint32_t missing) {
  return absl::StrJoin(CapabilityNames(missing), ", ");
}

}  // namespace

int64_t EstimateInputTokens(const std::vector<Message>& messages) {
  int64_t bytes = 0;
  for (const auto& m : messages) {
    bytes += static_cast<int64_t>(m.content.size() + m.tool_call_id.size()) + 16;
    for (const auto& c : m.tool_calls) {
      bytes += static_cast<int64_t>(c.id.size() + c.name.size() + c.arguments.size()) + 16;
    }
  }
  return (bytes + 3) / 4;
}

int64_t EstimateInputTokens(const CompletionRequest& request) {
  int64_t bytes = 0;
  for (const auto& t : request.tools) {
    bytes += static_cast<int64_t>(t.name.size() + t.description.size() + t.parameters.size()) + 16;
  }
  return EstimateInputTokens(request.messages) + (bytes + 3) / 4;
}

Task ClassifyTask(const std::vector<Message>& messages, int64_t estimated_input_tokens) {
  if (estimated_input_tokens > kLongContextTokens) return Task::kLongContext;
  // The last user message says what is asked; system prompts often say how.
  std::string text;
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role == Role::kUser) {
      text = absl::AsciiStrToLower(it->content.substr(0, 4000));
      break;
    }
  }
  if (ContainsAny(text, {"resum", "summar", "tl;dr", "sintetiz"})) return Task::kSummarization;
  if (ContainsAny(text, {"classifi", "categori", "sentiment", "qual a categoria", "label this"})) {
    return Task::kClassification;
  }
  if (ContainsAny(text, {"extra", "json", "campos", "fields", "parse "})) return Task::kExtraction;
  if (ContainsAny(text,
                  {"por que", "porque", "why", "explain", "expliqu", "analis", "analy", "raciocin",
                   "reason", "passo a passo", "step by step", "prove", "compare", "decid"})) {
    return Task::kReasoning;
  }
  return Task::kChat;
}

std::string SensitiveReason(const CompletionRequest& request) {
  if (request.sensitive) return "marked sensitive by the caller";
  // Tool results and the arguments of earlier tool calls are the
  // conversation too: a CPF a lookup tool returned is as personal as one
  // the user typed.
  std::vector<std::string> kinds;
  auto scan = [&](std::string_view text) {
    for (const auto& match : DetectPii(text)) {
      std::string name = PiiKindName(match.kind);
      if (std::find(kinds.begin(), kinds.end(), name) == kinds.end()) kinds.push_back(name);
    }
  };
  for (const auto& m : request.messages) {
    scan(m.content);
    for (const auto& c : m.tool_calls) scan(c.arguments);
  }
  if (kinds.empty()) return "";
  return "personal data: " + absl::StrJoin(kinds, ", ");
}

std::vector<std::string> Selection::Order() const {
  std::vector<std::string> ids;
  for (const auto& c : candidates) {
    if (c.eligible) ids.push_back(c.model_id);
  }
  return ids;
}

bool Selection::RateLimited() const {
  for (const auto& c : candidates) {
    if (!c.eligible && c.reason.rfind("rate limit: ", 0) == 0) return true;
  }
  return false;
}

absl::Status Selection::ToStatus() const {
  std::vector<std::string> why;
  bool breaker_only = false, rate_limited = false;
  // The shortest wait among the models excluded by a breaker / a rate limit.
  std::optional<absl::Duration> breaker_wait, rate_wait;
  auto shortest = [](std::optional<absl::Duration>& into, std::optional<absl::Duration> d) {
    if (d && (!into || *d < *into)) into = d;
  };
  for (const auto& c : candidates) {
    if (c.eligible) return absl::OkStatus();
    if (c.reason.rfind("not the requested model", 0) == 0) continue;
    if (c.reason.rfind("circuit breaker open", 0) == 0) {
      breaker_only = true;
      shortest(breaker_wait, c.retry_after);
    }
    if (c.reason.rfind("rate limit: ", 0) == 0) {
      rate_limited = true;
      shortest(rate_wait, c.retry_after);
    }
    why.push_back(c.model_id + ": " + c.reason);
  }
  const std::string list = absl::StrJoin(why, "; ");
  if (sensitive) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "P0: the request is sensitive (", sensitive_reason,
            ") and no local model can take it; it was not sent to any cloud model. ", list)),
        reasons::kSensitiveNoLocalModel);
  }
  if (rate_limited) {
    absl::Status st = WithReason(
        absl::ResourceExhaustedError(
            "every model that could take the request is at its provider rate limit: " + list),
        reasons::kRateLimited);
    return rate_wait ? WithRetryDelay(std::move(st), *rate_wait) : st;
  }
  if (breaker_only) {
    absl::Status st = WithReason(absl::UnavailableError("no model is available now: " + list),
                                 reasons::kCircuitOpen);
    return breaker_wait ? WithRetryDelay(std::move(st), *breaker_wait) : st;
  }
  return WithReason(absl::FailedPreconditionError("no model meets the request: " + list),
                    reasons::kNoEligibleModel);
}

Selection SelectModels(const CompletionRequest& request, const SelectionInputs& in) {
  Selection sel;
  sel.estimated_input_tokens = EstimateInputTokens(request);
  sel.task = request.task;
  if (sel.task == Task::kUnspecified) {
    sel.task = ClassifyTask(request.messages, sel.estimated_input_tokens);
    sel.task_classified = true;
  }
  sel.sensitive_reason = SensitiveReason(request);
  sel.sensitive = !sel.sensitive_reason.empty();
  sel.max_tokens = request.max_tokens > 0 ? request.max_tokens : in.default_max_tokens;

  const std::vector<std::string>* policy = nullptr;
  if (auto it = in.policies->find(sel.task); it != in.policies->end() && !it->second.empty()) {
    policy = &it->second;
  }
  // An experiment's arm: its model first, or its strategy.
  const ExperimentArm* arm = request.model.empty() ? in.arm : nullptr;
  const std::string arm_model = arm ? arm->model : "";
  const Strategy strategy = arm && arm_model.empty() ? arm->strategy : request.strategy;
  if (arm) {
    sel.experiment_id = in.experiment_id ? *in.experiment_id : "";
    sel.arm = arm->id;
  }
  // The policy bounds the pool only for the policy strategy without an
  // explicit model; sensitive requests may use any local model besides, and
  // an arm's model is in the pool too.
  const bool policy_bounds = policy && request.model.empty() && strategy == Strategy::kPolicy;
  auto policy_index = [&](const std::string& id) -> int {
    if (!policy) return -1;
    auto it = std::find(policy->begin(), policy->end(), id);
    return it == policy->end() ? -1 : static_cast<int>(it - policy->begin());
  };

  // Tools (declared, or calls and results in the conversation) need a model
  // with the tools capability.
  const uint32_t required =
      request.constraints.required_capabilities | (UsesTools(request) ? kCapTools : 0u);
  struct Scored {
    CandidateView view;
    const ModelSpec* spec;
    int policy_pos;
  };
  std::vector<Scored> eligible, rejected;
  const std::string task_name = TaskName(sel.task);
  for (const auto& m : *in.models) {
    Scored s{{}, &m, policy_index(m.id)};
    s.view.model_id = m.id;
    s.view.estimated_cost_usd = m.Cost(sel.estimated_input_tokens, sel.max_tokens);
    ModelHealth health = in.health ? in.health(m.id) : ModelHealth{};
    s.view.latency_ewma = health.latency_ewma;
    const uint32_t missing = required & ~m.capabilities;
    std::string& why = s.view.reason;
    if (!request.model.empty() && request.model != m.id) {
      why = "not the requested model";
    } else if (!m.enabled) {
      why = "disabled in the registry";
    } else if (!m.configured) {
      why = m.simulated ? "simulated, but no --simulator_url is configured"
                        : (m.api_key_env.empty() ? "its base URL variable is not set"
                                                 : m.api_key_env + " is not set");
    } else if (sel.sensitive && m.locality != Locality::kLocal) {
      why = "P0: a sensitive request never goes to a cloud model";
    } else if (policy_bounds && s.policy_pos < 0 && m.id != arm_model &&
               !(sel.sensitive && m.locality == Locality::kLocal)) {
      why = "not in the policy for task " + task_name;
    } else if (missing != 0) {
      why = "lacks capabilities: " + MissingCapabilities(missing);
    } else if (sel.estimated_input_tokens + sel.max_tokens > m.context_window) {
      why = absl::StrCat("~", sel.estimated_input_tokens, " prompt tokens + max_tokens ",
                         sel.max_tokens, " exceed its context window of ", m.context_window);
    } else if (request.constraints.max_cost_usd > 0 &&
               s.view.estimated_cost_usd > request.constraints.max_cost_usd) {
      why = absl::StrFormat("estimated cost $%.6f exceeds max_cost_usd $%.6f",
                            s.view.estimated_cost_usd, request.constraints.max_cost_usd);
    } else if (!health.available) {
      why = "circuit breaker open after repeated failures";
      s.view.retry_after = health.open_for;
    } else if (!health.rate_limited.empty()) {
      why = "rate limit: " + health.rate_limited;
      s.view.retry_after = health.rate_limited_for;
    }
    if (why.empty()) {
      s.view.eligible = true;
      eligible.push_back(std::move(s));
    } else {
      rejected.push_back(std::move(s));
    }
  }

  auto by_quality = [](const Scored& a, const Scored& b) {
    return a.spec->quality > b.spec->quality;
  };
  std::map<std::string, double> draws;
  const bool feedback_weighted = in.feedback_draw && request.model.empty() && arm == nullptr &&
                                 strategy == Strategy::kPolicy && !eligible.empty();
  if (feedback_weighted) {
    sel.feedback_weighted = true;
    for (const auto& s : eligible) draws[s.spec->id] = in.feedback_draw(s.spec->id);
    std::stable_sort(eligible.begin(), eligible.end(), [&](const Scored& a, const Scored& b) {
      return draws[a.spec->id] > draws[b.spec->id];
    });
  } else {
    switch (strategy) {
      case Strategy::kPolicy:
        std::stable_sort(eligible.begin(), eligible.end(), [&](const Scored& a, const Scored& b) {
          // In policy order; models outside the policy after, best quality first.
          const int pa = a.policy_pos < 0 ? 1 << 20 : a.policy_pos;
          const int pb = b.policy_pos < 0 ? 1 << 20 : b.policy_pos;
          return pa != pb ? pa < pb : by_quality(a, b);
        });
        break;
      case Strategy::kCheapest:
        std::stable_sort(eligible.begin(), eligible.end(), [&](const Scored& a, const Scored& b) {
          if (a.view.estimated_cost_usd != b.view.estimated_cost_usd) {
            return a.view.estimated_cost_usd < b.view.estimated_cost_usd;
          }
          return by_quality(a, b);
        });
        break;
      case Strategy::kLowestLatency:
        std::stable_sort(eligible.begin(), eligible.end(), [&](const Scored& a, const Scored& b) {
          const absl::Duration la = a.view.latency_ewma.value_or(absl::InfiniteDuration());
          const absl::Duration lb = b.view.latency_ewma.value_or(absl::InfiniteDuration());
          return la != lb ? la < lb : by_quality(a, b);
        });
        break;
      case Strategy::kQualityFirst:
        std::stable_sort(eligible.begin(), eligible.end(), [&](const Scored& a, const Scored& b) {
          if (a.spec->quality != b.spec->quality) return by_quality(a, b);
          return a.view.estimated_cost_usd < b.view.estimated_cost_usd;
        });
        break;
    }
  }
  if (!arm_model.empty()) {
    std::stable_partition(eligible.begin(), eligible.end(),
                          [&](const Scored& s) { return s.spec->id == arm_model; });
  }
  int rank = 0;
  for (auto& s : eligible) {
    s.view.rank = ++rank;
    std::string& why = s.view.reason;
    if (!request.model.empty()) {
      why = "the requested model";
    } else if (!arm_model.empty() && s.spec->id == arm_model) {
      why = absl::StrCat("experiment ", sel.experiment_id, " arm ", arm->id, ": tried first");
    } else if (feedback_weighted) {
      why = absl::StrFormat("feedback-weighted: drew %.3f from its feedback posterior",
                            draws[s.spec->id]);
    } else if (strategy == Strategy::kCheapest) {
      why = absl::StrFormat("cheapest first: estimated $%.6f", s.view.estimated_cost_usd);
    } else if (strategy == Strategy::kLowestLatency) {
      why = s.view.latency_ewma ? absl::StrFormat("fastest first: %.1f ms on average",
                                                  absl::ToDoubleMilliseconds(*s.view.latency_ewma))
                                : "fastest first: no latency observed yet";
    } else if (strategy == Strategy::kQualityFirst) {
      why = absl::StrCat("best quality first: ", s.spec->quality);
    } else if (s.policy_pos == 0) {
      why = "primary for task " + task_name;
    } else if (s.policy_pos > 0) {
      why = absl::StrCat("fallback ", s.policy_pos, " for task ", task_name);
    } else {
      why = sel.sensitive ? "local model (P0)" : "no policy for task " + task_name;
    }
    if (sel.sensitive && !request.model.empty()) why += " (local, P0)";
    if (arm && arm_model.empty() && s.view.rank == 1) {
      why += absl::StrCat(" (experiment ", sel.experiment_id, " arm ", arm->id, ")");
    }
    sel.candidates.push_back(std::move(s.view));
  }
  for (auto& s : rejected) sel.candidates.push_back(std::move(s.view));
  return sel;
}

}  // namespace genesis::llmrouter
