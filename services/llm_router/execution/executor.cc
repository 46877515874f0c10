#include "services/llm_router/execution/executor.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/runtime/logging.h"
#include "services/llm_router/reasons.h"

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

absl::Duration Executor::Share(const std::vector<const ModelSpec*>& order, size_t index,
                               absl::Time now, absl::Time deadline) const {
  if (deadline == absl::InfiniteFuture()) return absl::InfiniteDuration();
  int64_t models = 1;
  for (size_t j = index + 1; j < order.size(); ++j) {
    models += health_->State(order[j]->id, now) != BreakerState::kOpen;
  }
  return std::max(absl::ZeroDuration(), deadline - now) / models;
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
  for (size_t index = 0; index < order.size(); ++index) {
    const ModelSpec* model = order[index];
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
      req.tools = params.tools;
      req.tool_choice = params.tool_choice;
      req.max_tokens = params.max_tokens;
      req.temperature = params.temperature;
      req.timeout = std::min(options_.provider_timeout, params.deadline - start);
      const absl::Duration share = Share(order, index, start, params.deadline);
      req.first_byte_timeout =
          std::min({share, req.timeout,
                    sink ? options_.stream_first_byte_timeout : options_.provider_timeout});
      req.idle_timeout = options_.stream_idle_timeout;
      ProviderResult result;
      if (sink) {
        TextSink counting = [&](std::string_view text) {
          ex.streamed_any = true;
          return (*sink)(text);
        };
        ToolCallSink counting_tools = [&](const ToolCallDelta& delta) {
          ex.streamed_any = true;
          return (*params.tool_sink)(delta);
        };
        if (params.tool_sink) req.tool_sink = &counting_tools;
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
      // The provider's own text may name its URLs, addresses or echo a key:
      // the caller (and the attempt list it gets) sees it redacted, the log
      // keeps it whole.
      a.error = ForCaller(result.status.message());
      if (a.error.empty()) a.error = absl::StatusCodeToString(result.status.code());
      Logger("llm_router")
          ->warn("model {} try {} failed ({}, HTTP {}): {}", model->id, attempt,
                 absl::StatusCodeToString(result.status.code()), result.http_status,
                 result.status.message());
      ex.attempts.push_back(a);
      // The provider refused the request itself (HTTP 400, 413, 422: too large,
      // malformed, a parameter out of range). The caller's request is at fault,
      // not the model: no retry, no breaker count, and no other model is tried
      // (each would refuse it too, and a fallback storm costs every caller).
      if (result.status.code() == absl::StatusCode::kInvalidArgument && result.http_status >= 400 &&
          result.http_status < 500) {
        health_->OnNeutral(model->id);
        ex.status =
            WithReason(absl::InvalidArgumentError(
                           absl::StrCat(model->id, " refused the request as invalid or too large (",
                                        a.error, "); it was not retried or sent to another model")),
                       reasons::kProviderRejectedRequest, {{"model", "models/" + model->id}});
        return ex;
      }
      const bool retryable = IsRetryable(result.status);
      if (retryable) {
        health_->OnFailure(model->id, clock_->Now());
      } else {
        health_->OnNeutral(model->id);
      }
      if (result.status.code() == absl::StatusCode::kCancelled) {
        ex.status = result.status;
        return ex;
      }
      if (ex.streamed_any) {
        // Text already reached the caller: another model cannot continue it,
        // and starting over would repeat what the caller has. A stall is the
        // provider's failure, not the caller's deadline.
        const bool stalled = result.status.code() == absl::StatusCode::kDeadlineExceeded &&
                             clock_->Now() < params.deadline;
        ex.status = absl::Status(
            stalled ? absl::StatusCode::kUnavailable : result.status.code(),
            absl::StrCat(
                "the answer of ", model->id,
                " broke off after text was sent (not restarted on another model): ", a.error));
        return ex;
      }
      if (!retryable || attempt == options_.max_attempts_per_model) break;
      // Hung or too slow: its share is spent, the next model gets the rest.
      if (result.status.code() == absl::StatusCode::kDeadlineExceeded) break;
      absl::Duration wait = Backoff(attempt);
      if (result.retry_after) wait = std::max(wait, *result.retry_after);
      const absl::Time now = clock_->Now();
      // A wait (a long Retry-After too) that does not fit in this model's
      // share of what is left goes to the next model at once.
      if (now + wait >= params.deadline || wait >= Share(order, index, now, params.deadline)) break;
      clock_->SleepFor(wait);
    }
    if (deadline_hit) break;
  }
  const std::string list = DescribeAttempts(ex.attempts);
  if (deadline_hit || clock_->Now() >= params.deadline) {
    ex.status = absl::DeadlineExceededError(absl::StrCat(
        "the deadline passed before any model answered; attempts: ", list.empty() ? "none" : list));
  } else {
    ex.status =
        WithReason(absl::UnavailableError(absl::StrCat("every model failed (", ex.attempts.size(),
                                                       " attempts): ", list)),
                   reasons::kProviderUnavailable, {{"attempts", absl::StrCat(ex.attempts.size())}});
  }
  return ex;
}

}  // namespace genesis::llmrouter
