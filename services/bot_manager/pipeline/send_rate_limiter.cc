#include "services/bot_manager/pipeline/send_rate_limiter.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace genesis::bot {

absl::Duration SendRateLimiter::Delay(const OutboxRow& row, absl::Duration reserve) {
  const absl::Time now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  if (buckets_.size() > 100000) buckets_.clear();
  // Both buckets must have a token; only then are both taken.
  struct Want {
    Bucket* bucket;
    double rate;
  };
  std::vector<Want> wants;
  if (per_bot_ > 0) {
    wants.push_back({&buckets_[row.bot_id], per_bot_});
  }
  if (per_recipient_ > 0) {
    wants.push_back({&buckets_[absl::StrCat(row.bot_id, "/", row.recipient)], per_recipient_});
  }
  absl::Duration wait = absl::ZeroDuration();
  for (auto& w : wants) {
    // Burst: one second's worth, at least one send.
    const double burst = std::max(1.0, w.rate);
    if (w.bucket->refill == absl::Time()) {
      w.bucket->tokens = burst;
    } else {
      w.bucket->tokens = std::min(
          burst, w.bucket->tokens + absl::ToDoubleSeconds(now - w.bucket->refill) * w.rate);
    }
    w.bucket->refill = now;
    if (w.bucket->tokens < 1) {
      wait = std::max(wait, absl::Seconds((1 - w.bucket->tokens) / w.rate));
    }
  }
  if (wait > reserve) return wait;
  // Sent now, or after `wait` with its tokens taken ahead (the balance goes negative).
  for (auto& w : wants) w.bucket->tokens -= 1;
  return wait;
}

}  // namespace genesis::bot
