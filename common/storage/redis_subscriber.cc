#include "common/storage/redis_subscriber.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include <hiredis/hiredis.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/runtime/logging.h"

namespace genesis {
namespace {

// Sends what hiredis has buffered; false on a write error.
bool Flush(redisContext* ctx) {
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(ctx, &done) != REDIS_OK) return false;
  }
  return true;
}

bool Append(redisContext* ctx, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAppendCommandArgv(ctx, static_cast<int>(args.size()), args.data(), lens.data()) ==
         REDIS_OK;
}

std::string Str(const redisReply* r) {
  return r != nullptr && r->str != nullptr ? std::string(r->str, r->len) : std::string();
}

}  // namespace

RedisSubscriber::RedisSubscriber(RedisClient* redis, RedisSubscriberOptions options,
                                 Handler handler, MetricsRegistry* registry)
    : redis_(redis), options_(std::move(options)), handler_(std::move(handler)) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (registry != nullptr) {
    const std::vector<std::string> label{options_.name};
    up_ = &registry
               ->AddGauge("genesis_redis_subscriber_up",
                          "1 while the Redis pub/sub subscriber is subscribed and heard from.",
                          {"client"})
               .WithLabels(label);
    lost_ =
        &registry
             ->AddCounter("genesis_redis_subscriber_lost_total",
                          "Times the Redis pub/sub subscriber lost its subscription.", {"client"})
             .WithLabels(label);
  }
}

RedisSubscriber::~RedisSubscriber() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void RedisSubscriber::Start() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (thread_.joinable() || stopping_.load()) return;
  thread_ = std::thread([this] { Run(); });
}

void RedisSubscriber::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  stopping_.store(true);
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
}

bool RedisSubscriber::Live() const {
  if (!subscribed_.load(std::memory_order_acquire)) return false;
  return absl::GetCurrentTimeNanos() - last_heard_ns_.load(std::memory_order_relaxed) <=
         absl::ToInt64Nanoseconds(options_.dead_after);
}

void RedisSubscriber::SetLive(bool subscribed) {
  subscribed_.store(subscribed, std::memory_order_release);
  if (up_ != nullptr) up_->Set(subscribed ? 1 : 0);
}

bool RedisSubscriber::Wait(absl::Duration d) {
  pollfd p{wake_fd_, POLLIN, 0};
  poll(&p, 1, static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(d))));
  return !stopping_.load();
}

void RedisSubscriber::Run() {
  auto log = Logger("redis");
  absl::Duration retry = options_.retry_min;
  bool reported = false;  // the current outage was logged
  while (!stopping_.load()) {
    auto ctx = redis_->OpenDedicated(absl::Now() + absl::Seconds(2));
    if (!ctx.ok()) {
      if (!reported) {
        log->warn("subscriber {}: cannot connect, retrying: {}", options_.name,
                  ctx.status().message());
        reported = true;
      }
      if (!Wait(retry)) break;
      retry = std::min(retry * 2, options_.retry_max);
      continue;
    }
    const int64_t before = subscriptions_.load();
    Listen(ctx->get());
    if (subscriptions_.load() != before) {
      // It was subscribed: reconnect at once, and log the next outage.
      retry = options_.retry_min;
      reported = false;
    } else if (!Wait(retry)) {
      break;
    } else {
      retry = std::min(retry * 2, options_.retry_max);
    }
  }
}

void RedisSubscriber::Listen(redisContext* ctx) {
  auto log = Logger("redis");
  std::vector<std::string> subscribe = {"SUBSCRIBE"};
  subscribe.insert(subscribe.end(), options_.channels.begin(), options_.channels.end());
  size_t confirmed = 0;
  bool subscribed = false;
  std::string why;
  last_heard_ns_.store(absl::GetCurrentTimeNanos());
  absl::Time next_ping = absl::Now() + options_.ping_interval;
  if (!Append(ctx, subscribe) || !Flush(ctx)) {
    why = ctx->errstr;
  } else {
    while (!stopping_.load()) {
      // Every reply already read, in order.
      bool failed = false;
      for (;;) {
        void* raw = nullptr;
        if (redisGetReplyFromReader(ctx, &raw) != REDIS_OK) {
          why = ctx->errstr;
          failed = true;
          break;
        }
        if (raw == nullptr) break;
        auto* r = static_cast<redisReply*>(raw);
        last_heard_ns_.store(absl::GetCurrentTimeNanos());
        if (r->type == REDIS_REPLY_ERROR) {
          why = "error reply: " + Str(r);
          failed = true;
        } else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1) {
          const std::string kind = Str(r->element[0]);
          if (kind == "message" && r->elements >= 3) {
            if (handler_.on_message) handler_.on_message(Str(r->element[1]), Str(r->element[2]));
          } else if (kind == "subscribe" && ++confirmed == options_.channels.size()) {
            if (handler_.on_subscribed) handler_.on_subscribed();
            subscribed = true;
            subscriptions_.fetch_add(1);
            SetLive(true);
          }
        }
        freeReplyObject(r);
        if (failed) break;
      }
      if (failed) break;
      const absl::Time now = absl::Now();
      const absl::Time silent_until =
          absl::FromUnixNanos(last_heard_ns_.load()) + options_.dead_after;
      if (now >= silent_until) {
        why = absl::StrCat("nothing heard for ", absl::FormatDuration(options_.dead_after));
        break;
      }
      if (now >= next_ping) {
        if (!Append(ctx, {"PING"}) || !Flush(ctx)) {
          why = ctx->errstr;
          break;
        }
        next_ping = now + options_.ping_interval;
      }
      const absl::Duration wait = std::min(next_ping, silent_until) - now;
      pollfd fds[2] = {{ctx->fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      const int ready =
          poll(fds, 2, static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(wait) + 1)));
      if (ready > 0 && fds[0].revents != 0 && redisBufferRead(ctx) != REDIS_OK) {
        why = ctx->errstr;
        break;
      }
    }
  }
  if (subscribed) {
    SetLive(false);
    if (lost_ != nullptr) lost_->Inc();
    if (handler_.on_lost) handler_.on_lost();
    if (!stopping_.load()) {
      log->warn("subscriber {}: subscription lost, reconnecting: {}", options_.name,
                why.empty() ? "closed" : why);
    }
  }
}

}  // namespace genesis
