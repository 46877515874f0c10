// Token buckets (capacity `burst`, refilled at `rate` tokens per second): the
// arithmetic, and per-process buckets by key. Shared by the gateway's rate
// limits (its Redis script does the same arithmetic) and the bot manager's
// send limits.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace genesis {

struct RateLimitPolicy {
  double rate = 30;   // tokens per second
  double burst = 30;  // bucket capacity
  // "30/s", "5/m", "100/h" (burst = the count); INVALID_ARGUMENT otherwise.
  static absl::StatusOr<RateLimitPolicy> Parse(absl::string_view text);
};

struct RateLimitDecision {
  bool allowed = true;
  double remaining = 0;                               // tokens left after this request
  absl::Duration retry_after = absl::ZeroDuration();  // when refused: until one token is back
  absl::Duration reset = absl::ZeroDuration();        // until the bucket is full again
};

// The bucket arithmetic, pure (the gateway's Redis script does the same).
class TokenBucket {
 public:
  explicit TokenBucket(RateLimitPolicy policy, absl::Time now)
      : policy_(policy), tokens_(policy.burst), updated_(now) {}
  RateLimitDecision Take(absl::Time now);

  // For a caller that must hold several buckets at once (the bot manager's
  // per-bot and per-recipient send limits): the time until one token is there
  // (zero: now), after refilling to `now`; and TakeAhead, which takes one
  // whether it is there yet or not (the balance goes negative: a send booked
  // for later, which later callers wait behind).
  absl::Duration TimeToToken(absl::Time now);
  void TakeAhead() { tokens_ -= 1; }

 private:
  void Refill(absl::Time now);

  RateLimitPolicy policy_;
  double tokens_;
  absl::Time updated_;
};

// Per-process buckets by key. Thread-safe.
class LocalRateLimiter {
 public:
  RateLimitDecision Take(const std::string& key, const RateLimitPolicy& policy, absl::Time now);

 private:
  std::mutex mu_;
  std::map<std::string, TokenBucket> buckets_;
};

}  // namespace genesis
