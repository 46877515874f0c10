#include "services/llm_router/executor.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace genesis::llmrouter {

Executor::Executor(ProviderClient* client, HealthBook* health, Clock* clock,
                   std::function<double()> random01, ExecutorOptions options)
    : client_(client),
      health_(health),
      clock_(clock),
      random01_(std::move(random01)),
      options_(options) {}

absl::Duration Executor::Backoff(int retry) const {
  absl::Duration base = options_.initial_backoff * std::pow(2.0, retry - 1);
  base = std::min(base, options_.max_backoff);
  return base * (0.5 + 0.5 * random01_());
}

std::string DescribeAttempts(const std::vector<Attempt>& attempts) {
  std::vector<std::string> parts;
  for (const auto& a : attempts) {
    if (a.outcome == AttemptOutcome::kSkippedCircuitOpen) {
      parts.push_back(a.model_id + ": circuit open, not called");
    } else if (a.outcome == AttemptOutcome::kFailed) {
      parts.push_back(absl::StrCat(a.model_id, " try ", a.try_number, ": ", a.error));
    } else {
      parts.push_back(absl::StrCat(a.model_id, " try ", a.try_number, ": ok"));
    }
  }
  return absl::StrJoin(parts, "; ");
}

Execution Executor::Run(const std::vector<const ModelSpec*>& order, const ExecutionParams& params,
                        const TextSink* sink) {
  Execution ex;
  bool deadline_hit = false;
  for (const ModelSpec* model : order) {
    for (int attempt = 1; attempt <= options_.max_attempts_per_model; ++attempt) {
      if (params.cancelled && params.cancelled()) {
        ex.status = absl::CancelledError("the caller went away");
        return ex;
      }
      const absl::Time start = clock_->Now();
      if (start >= params.deadline) {
        deadline_hit = true;
        break;
      }
      if (health_->State(model->id, start) == BreakerState::kClosed && params.admit) {
        // Counted against the provider's limits only when the call would go.
        if (std::string why = params.admit(*model); !why.empty()) {
          ex.attempts.push_back(
              {model->id, attempt, AttemptOutcome::kFailed, 0, "rate limit: " + why, {}});
          break;
        }
      }
      if (!health_->TryAcquire(model->id, start)) {
        ex.attempts.push_back(
            {model->id, attempt, AttemptOutcome::kSkippedCircuitOpen, 0, "circuit open", {}});
        break;
      }
      ProviderRequest req;
      req.model = model;
      req.messages = params.messages;
      req.max_tokens = params.max_tokens;
      req.temperature = params.temperature;
      req.timeout = std::min(options_.provider_timeout, params.deadline - start);
      ProviderResult result;
      if (sink) {
        TextSink counting = [&](std::string_view text) {
          ex.streamed_any = true;
          return (*sink)(text);
        };
        result = client_->Stream(req, counting);
      } else {
        result = client_->Complete(req);
      }
      const absl::Duration latency = clock_->Now() - start;
      Attempt a{model->id, attempt, AttemptOutcome::kOk, result.http_status, "", latency};
      if (result.status.ok()) {
        health_->OnSuccess(model->id, latency);
        ex.attempts.push_back(std::move(a));
        ex.model = model;
        ex.reply = std::move(result.reply);
        return ex;
      }
      a.outcome = AttemptOutcome::kFailed;
      a.error = std::string(result.status.message());
      if (a.error.empty()) a.error = absl::StatusCodeToString(result.status.code());
      ex.attempts.push_back(std::move(a));
      const bool retryable = IsRetryable(result.status);
      if (retryable) {
        health_->OnFailure(model->id, clock_->Now());
      } else {
        health_->OnNeutral(model->id);
      }
      if (ex.streamed_any || result.status.code() == absl::StatusCode::kCancelled) {
        // Text already reached the caller: another model cannot continue it.
        ex.status = result.status;
        return ex;
      }
      if (!retryable || attempt == options_.max_attempts_per_model) break;
      absl::Duration wait = Backoff(attempt);
      if (result.retry_after) {
        if (*result.retry_after > options_.max_backoff) break;  // try the next model now
        wait = std::max(wait, *result.retry_after);
      }
      if (clock_->Now() + wait >= params.deadline) break;
      clock_->SleepFor(wait);
    }
    if (deadline_hit) break;
  }
  const std::string list = DescribeAttempts(ex.attempts);
  if (deadline_hit || clock_->Now() >= params.deadline) {
    ex.status = absl::DeadlineExceededError(absl::StrCat(
        "the deadline passed before any model answered; attempts: ", list.empty() ? "none" : list));
  } else {
    ex.status = absl::UnavailableError(
        absl::StrCat("every model failed (", ex.attempts.size(), " attempts): ", list));
  }
  return ex;
}

}  // namespace genesis::llmrouter
