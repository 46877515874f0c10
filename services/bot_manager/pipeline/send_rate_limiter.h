// The outbound rate limits of one process: token buckets per bot and per
// recipient of a bot (sends per second; 0: none). Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/base/token_bucket.h"
#include "services/bot_manager/model.h"

namespace genesis::bot {

class SendRateLimiter {
 public:
  SendRateLimiter(double per_bot, double per_recipient, Clock* clock)
      : per_bot_(per_bot), per_recipient_(per_recipient), clock_(clock) {}

  // How long `row` must wait for the rate limits: zero (its tokens taken), at
  // most `reserve` (its tokens taken ahead: send after that wait), or longer
  // (nothing taken).
  absl::Duration Delay(const OutboxRow& row, absl::Duration reserve);

 private:
  const double per_bot_;
  const double per_recipient_;
  Clock* const clock_;
  std::mutex mu_;
  std::map<std::string, TokenBucket> buckets_;  // "<bot>" and "<bot>/<recipient>"
};

}  // namespace genesis::bot
