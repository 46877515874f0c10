#include "common/base/token_bucket.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace genesis {

absl::StatusOr<RateLimitPolicy> RateLimitPolicy::Parse(absl::string_view text) {
  auto slash = text.find('/');
  double count;
  if (slash == absl::string_view::npos || !absl::SimpleAtod(text.substr(0, slash), &count) ||
      count <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': want N/s, N/m or N/h"));
  }
  absl::string_view unit = text.substr(slash + 1);
  double seconds = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 0;
  if (seconds == 0) return absl::InvalidArgumentError(absl::StrCat("'", text, "': unit s, m or h"));
  return RateLimitPolicy{count / seconds, std::max(1.0, count)};
}

void TokenBucket::Refill(absl::Time now) {
  if (now > updated_) {
    tokens_ =
        std::min(policy_.burst, tokens_ + absl::ToDoubleSeconds(now - updated_) * policy_.rate);
    updated_ = now;
  }
}

absl::Duration TokenBucket::TimeToToken(absl::Time now) {
  Refill(now);
  return tokens_ >= 1 ? absl::ZeroDuration() : absl::Seconds((1 - tokens_) / policy_.rate);
}

RateLimitDecision TokenBucket::Take(absl::Time now) {
  Refill(now);
  RateLimitDecision d;
  if (tokens_ >= 1) {
    tokens_ -= 1;
  } else {
    d.allowed = false;
    d.retry_after = absl::Seconds((1 - tokens_) / policy_.rate);
  }
  d.remaining = tokens_;
  d.reset = absl::Seconds((policy_.burst - tokens_) / policy_.rate);
  return d;
}

RateLimitDecision LocalRateLimiter::Take(const std::string& key, const RateLimitPolicy& policy,
                                         absl::Time now) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) it = buckets_.emplace(key, TokenBucket(policy, now)).first;
  return it->second.Take(now);
}

}  // namespace genesis
