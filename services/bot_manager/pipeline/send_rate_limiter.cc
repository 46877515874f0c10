#include "services/bot_manager/pipeline/send_rate_limiter.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace genesis::bot {

absl::Duration SendRateLimiter::Delay(const OutboxRow& row, absl::Duration reserve) {
  const absl::Time now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (buckets_.size() > 100000) buckets_.clear();
  // Both buckets must have a token; only then are both taken. Burst: one
  // second's worth, at least one send.
  std::vector<TokenBucket*> wants;
  auto want = [&](std::string key, double rate) {
    if (rate <= 0) return;
    const RateLimitPolicy policy{rate, std::max(1.0, rate)};
    wants.push_back(&buckets_.try_emplace(std::move(key), policy, now).first->second);
  };
  want(row.bot_id, per_bot_);
  want(absl::StrCat(row.bot_id, "/", row.recipient), per_recipient_);
  absl::Duration wait = absl::ZeroDuration();
  for (TokenBucket* bucket : wants) wait = std::max(wait, bucket->TimeToToken(now));
  if (wait > reserve) return wait;
  // Sent now, or after `wait` with its tokens taken ahead (the balance goes negative).
  for (TokenBucket* bucket : wants) bucket->TakeAhead();
  return wait;
}

}  // namespace genesis::bot
