#include "services/llm_router/execution/rate_limit.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace genesis::llmrouter {

int64_t WindowOf(absl::Time now) { return absl::ToInt64Seconds(now - absl::UnixEpoch()) / 60; }

absl::Time NextWindow(absl::Time now) {
  return absl::UnixEpoch() + absl::Seconds((WindowOf(now) + 1) * 60);
}

std::string RateLimitReason(const RateLimits& limits, const RateState& state, absl::Time now) {
  const int64_t frees_in =
      static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(NextWindow(now) - now)));
  if (limits.rpm > 0 && state.requests >= limits.rpm) {
    return absl::StrCat("at its limit of ", limits.rpm, " requests per minute (", state.requests,
                        " this minute); frees in ", frees_in, " s");
  }
  if (limits.tpm > 0 && state.tokens >= limits.tpm) {
    return absl::StrCat("at its limit of ", limits.tpm, " tokens per minute (", state.tokens,
                        " this minute); frees in ", frees_in, " s");
  }
  return "";
}

RateState& LocalRateLimiter::At(const std::string& model_id, int64_t window) {
  Window& w = windows_[model_id];
  if (w.window != window) {
    w.window = window;
    w.state = {};
  }
  return w.state;
}

RateState LocalRateLimiter::Peek(const std::string& model_id, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  return At(model_id, WindowOf(now));
}

bool LocalRateLimiter::Admit(const std::string& model_id, const RateLimits& limits, absl::Time now,
                             int64_t reserve_tokens) {
  std::lock_guard<std::mutex> lock(mu_);
  RateState& s = At(model_id, WindowOf(now));
  if (!RateLimitReason(limits, s, now).empty()) return false;
  ++s.requests;
  s.tokens += reserve_tokens;
  return true;
}

void LocalRateLimiter::AddTokens(const std::string& model_id, int64_t tokens, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  At(model_id, WindowOf(now)).tokens += tokens;
}

std::string CallRateLimits::Admit(const ModelSpec& m) {
  if (m.rpm <= 0 && m.tpm <= 0) return "";
  const absl::Time now = clock_->Now();
  const int64_t reserve = m.tpm > 0 ? estimated_input_tokens_ : 0;
  if (limiter_->Admit(m.id, {m.rpm, m.tpm}, now, reserve)) {
    if (reserve > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      reserved_.push_back({m.id, reserve, now});
    }
    return "";
  }
  if (skipped_) skipped_->Inc();
  return RateLimitReason({m.rpm, m.tpm}, limiter_->Peek(m.id, now), now);
}

void CallRateLimits::Settle(const ModelSpec* answered, const Usage& usage) {
  const absl::Time now = clock_->Now();
  int64_t used = answered && answered->tpm > 0 ? usage.input_tokens + usage.output_tokens : 0;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : reserved_) {
    // One correction when the answering model's reservation is in this window.
    if (used > 0 && r.model_id == answered->id && WindowOf(r.at) == WindowOf(now)) {
      limiter_->AddTokens(r.model_id, used - r.tokens, now);
      used = 0;
    } else {
      limiter_->AddTokens(r.model_id, -r.tokens, r.at);
    }
  }
  if (used > 0) limiter_->AddTokens(answered->id, used, now);
}

}  // namespace genesis::llmrouter
