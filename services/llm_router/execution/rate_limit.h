// Provider limits per model: requests per minute (RPM) and tokens per minute
// (TPM) from the configuration file (`"rpm"`, `"tpm"`; 0 or absent: none).
//
// Windows are calendar minutes of the router's clock (fixed windows: at most
// twice a limit can pass in the 60 s around a minute boundary, as providers'
// own fixed windows allow). A request is admitted when the model's requests
// this minute are below its RPM and its tokens this minute are below its TPM;
// admission counts the request and reserves the prompt's estimated tokens
// (so calls in flight count against the TPM limit: a burst of large prompts
// stops once the reservations reach it, passing it by at most one request),
// and when the call ends the router releases the reservation and adds the
// answer's real tokens (input + output). Selection skips models at
// their limit (the reason says when the window frees); when every otherwise
// eligible model is at its limit the router waits for the next window if the
// caller's deadline allows, else fails with RESOURCE_EXHAUSTED.
//
// LocalRateLimiter counts in this process; RedisRateLimiter (redis_rate_limiter.h)
// shares the counts between router instances and falls back to a local one
// while Redis fails. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/base/metrics.h"
#include "services/llm_router/model.h"

namespace genesis::llmrouter {

struct RateLimits {
  int rpm = 0;      // 0: none
  int64_t tpm = 0;  // 0: none
  [[nodiscard]] bool any() const { return rpm > 0 || tpm > 0; }
};

// What the limiter knows of one model in the current window.
struct RateState {
  int64_t requests = 0;
  int64_t tokens = 0;
};

// "" when `state` is within `limits`, otherwise why not ("at its limit of 3
// requests per minute (3 this minute); frees in 12 s").
std::string RateLimitReason(const RateLimits& limits, const RateState& state, absl::Time now);
// The start of the next window after `now`.
absl::Time NextWindow(absl::Time now);
// The window number of `now` (Unix minutes).
int64_t WindowOf(absl::Time now);

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // The counts of the window containing `now` (no side effect).
  virtual RateState Peek(const std::string& model_id, absl::Time now) = 0;
  // Counts one request, and `reserve_tokens` tokens, when within the limits
  // and returns true; false (and nothing counted) when the model is at a limit.
  virtual bool Admit(const std::string& model_id, const RateLimits& limits, absl::Time now,
                     int64_t reserve_tokens) = 0;
  // Adds tokens (negative: releases a reservation) to the window containing `now`.
  virtual void AddTokens(const std::string& model_id, int64_t tokens, absl::Time now) = 0;
};

class LocalRateLimiter final : public RateLimiter {
 public:
  RateState Peek(const std::string& model_id, absl::Time now) override;
  bool Admit(const std::string& model_id, const RateLimits& limits, absl::Time now,
             int64_t reserve_tokens) override;
  void AddTokens(const std::string& model_id, int64_t tokens, absl::Time now) override;

 private:
  struct Window {
    int64_t window = -1;
    RateState state;
  };
  RateState& At(const std::string& model_id, int64_t window);  // mu_ held

  std::mutex mu_;
  std::map<std::string, Window> windows_;
};

// The provider limits of one call. Admit, the executor's gate before each
// model (ExecutionParams::admit), counts the request and reserves the
// prompt's estimated tokens against a TPM limit, or says why the model is
// passed over (counted in `skipped`). Settle, once the call has ended,
// releases every reservation and adds the answer's real tokens (one
// correction when the answering model's reservation is in the current
// window). `limiter` and `clock` must outlive it. Thread-safe.
class CallRateLimits {
 public:
  CallRateLimits(RateLimiter* limiter, Clock* clock, int64_t estimated_input_tokens,
                 Counter* skipped)
      : limiter_(limiter),
        clock_(clock),
        estimated_input_tokens_(estimated_input_tokens),
        skipped_(skipped) {}

  // "" lets the call to `model` go; otherwise why not.
  std::string Admit(const ModelSpec& model);
  // `answered`: the model that answered (null: none), with its usage.
  void Settle(const ModelSpec* answered, const Usage& usage);

 private:
  struct Reservation {
    std::string model_id;
    int64_t tokens;
    absl::Time at;
  };

  RateLimiter* limiter_;
  Clock* clock_;
  const int64_t estimated_input_tokens_;
  Counter* skipped_;
  std::mutex mu_;
  std::vector<Reservation> reserved_;
};

}  // namespace genesis::llmrouter
