// The outbound rate limits of one process: token buckets per bot and per
// recipient of a bot (sends per second; 0: none). Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "services/bot_manager/model.h"

namespace genesis::bot {

class SendRateLimiter {
 public:
  SendRateLimiter(double per_bot, double per_recipient, std::function<absl::Time()> now)
      : per_bot_(per_bot), per_recipient_(per_recipient), now_(std::move(now)) {}

  // How long `row` must wait for the rate limits: zero (its tokens taken), at
  // most `reserve` (its tokens taken ahead: send after that wait), or longer
  // (nothing taken).
  absl::Duration Delay(const OutboxRow& row, absl::Duration reserve);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time refill;
  };
  const double per_bot_;
  const double per_recipient_;
  const std::function<absl::Time()> now_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;  // "<bot>" and "<bot>/<recipient>"
};

}  // namespace genesis::bot
