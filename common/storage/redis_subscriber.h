// A Redis pub/sub subscriber: one connection and one thread of its own
// (RedisClient::OpenDedicated, so the same URL, password, db and Sentinel
// discovery as the client's pool, but never a pooled connection nor the
// client's breaker), subscribed to a fixed set of channels.
//
// What a process that keeps data in memory and drops it on a message needs
// to know is whether it can have missed one. Live() answers that: true only
// while every channel is subscribed and the server was heard from (a message,
// or the reply to the PING sent every `ping_interval`) within `dead_after`,
// so a connection that went silent (a hung or partitioned server) stops
// being Live() within `dead_after` even before the thread notices. The
// handler hears, on the subscriber's thread:
//   * on_subscribed: every channel subscribed, after each (re)connect, just
//     before Live() turns true: messages published while it was not
//     subscribed are lost, so whatever depends on them must be dropped here;
//   * on_message: each message, in the order Redis sent them;
//   * on_lost: after on_subscribed, the connection was lost (closed, broken,
//     an error reply, silent past `dead_after`, or Stop()), just after Live()
//     turned false.
// Reconnects with a wait doubling from `retry_min` to `retry_max` while
// connecting fails. Metrics: genesis_redis_subscriber_up{client},
// genesis_redis_subscriber_lost_total{client}. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "common/base/metrics.h"
#include "common/storage/redis.h"

namespace genesis {

struct RedisSubscriberOptions {
  std::vector<std::string> channels;
  absl::Duration ping_interval = absl::Milliseconds(500);
  absl::Duration dead_after = absl::Milliseconds(1500);
  absl::Duration retry_min = absl::Milliseconds(100);
  absl::Duration retry_max = absl::Seconds(2);
  std::string name = "default";  // metrics label
};

class RedisSubscriber {
 public:
  struct Handler {
    std::function<void(const std::string& channel, const std::string& message)> on_message;
    std::function<void()> on_subscribed;
    std::function<void()> on_lost;
  };

  // `redis` must outlive the subscriber; nothing happens before Start().
  RedisSubscriber(RedisClient* redis, RedisSubscriberOptions options, Handler handler,
                  MetricsRegistry* registry = nullptr);
  ~RedisSubscriber();  // Stop()
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  void Start();
  // Closes the connection (on_lost when it was subscribed) and joins the
  // thread; idempotent. No handler runs after it returns.
  void Stop();

  // Subscribed and heard from within dead_after (above).
  [[nodiscard]] bool Live() const;
  // Times every channel was subscribed since Start().
  [[nodiscard]] int64_t subscriptions() const { return subscriptions_.load(); }

 private:
  void Run();
  // Listens on `ctx` until the connection is lost or Stop().
  void Listen(redisContext* ctx);
  // Waits `d` or until Stop(); false when stopping.
  bool Wait(absl::Duration d);
  void SetLive(bool subscribed);

  RedisClient* redis_;
  const RedisSubscriberOptions options_;
  const Handler handler_;
  std::atomic<bool> subscribed_{false};
  std::atomic<int64_t> last_heard_ns_{0};
  std::atomic<int64_t> subscriptions_{0};
  std::atomic<bool> stopping_{false};
  int wake_fd_ = -1;  // an eventfd Stop() writes to, to end a poll at once
  std::mutex stop_mu_;
  std::thread thread_;
  Gauge* up_ = nullptr;
  Counter* lost_ = nullptr;
};

}  // namespace genesis
