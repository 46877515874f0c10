// RedisClient's breaker against a fake Redis that can hang: a stopped Redis
// (SIGSTOP) still completes TCP handshakes from the kernel's backlog but never
// answers; the fake, while `hung`, takes connections and reads nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/base/metrics.h"
#include "common/storage/redis.h"

namespace genesis {
namespace {

// Answers "+PONG" to whatever arrives, or nothing at all while hung.
class FakeRedis {
 public:
  FakeRedis() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listen_fd_, 128);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeRedis() {
    stop_ = true;
    thread_.join();
    for (int fd : conns_) close(fd);
    close(listen_fd_);
  }
  [[nodiscard]] int port() const { return port_; }
  // Returns once the fake's loop has seen the change (a poll already running
  // with the old setting has ended).
  void set_hung(bool hung) {
    const int seen = iterations_.load();
    hung_ = hung;
    while (iterations_.load() < seen + 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Connections made to it so far.
  [[nodiscard]] int connections() const { return connections_.load(); }

 private:
  void Loop() {
    while (!stop_) {
      ++iterations_;
      std::vector<pollfd> fds;
      // Hung or not, connections complete (a stopped process's kernel does that).
      fds.push_back({listen_fd_, POLLIN, 0});
      for (int fd : conns_) fds.push_back({fd, static_cast<short>(hung_ ? 0 : POLLIN), 0});
      if (poll(fds.data(), fds.size(), 10) <= 0) continue;
      for (const auto& p : fds) {
        if ((p.revents & POLLIN) == 0) continue;
        if (p.fd == listen_fd_) {
          int fd = accept(listen_fd_, nullptr, nullptr);
          if (fd >= 0) {
            conns_.push_back(fd);
            ++connections_;
          }
          continue;
        }
        char buf[4096];
        ssize_t n = read(p.fd, buf, sizeof(buf));
        if (n <= 0) {
          close(p.fd);
          std::erase(conns_, p.fd);
          continue;
        }
        static constexpr char kPong[] = "+PONG\r\n";
        (void)!send(p.fd, kPong, sizeof(kPong) - 1, MSG_NOSIGNAL);
      }
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> hung_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> iterations_{0};
  std::vector<int> conns_;  // the loop thread's
  std::thread thread_;
};

class RedisBreakerTest : public ::testing::Test {
 protected:
  std::unique_ptr<RedisClient> Client() {
    RedisOptions options;
    options.url = "redis://127.0.0.1:" + std::to_string(fake_.port());
    options.pool_size = 4;
    options.connect_timeout = absl::Milliseconds(50);
    options.command_timeout = absl::Milliseconds(50);
    options.breaker_failures = 3;
    options.breaker_open = absl::Milliseconds(200);
    options.breaker_max_open = absl::Milliseconds(400);
    options.name = "test";
    auto client = RedisClient::Create(options, &registry_);
    EXPECT_TRUE(client.ok()) << client.status();
    return std::move(*client);
  }
  static absl::Time Deadline() { return absl::Now() + absl::Seconds(5); }
  static bool PollUntil(const std::function<bool()>& done) {
    const absl::Time until = absl::Now() + absl::Seconds(10);
    while (absl::Now() < until) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return done();
  }

  FakeRedis fake_;
  MetricsRegistry registry_;
};

TEST_F(RedisBreakerTest, AHungRedisCostsOnlyTheFirstFewCallsATimeout) {
  auto client = Client();
  ASSERT_TRUE(client->Ping(Deadline()).ok());
  fake_.set_hung(true);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client->Ping(Deadline()).code(), absl::StatusCode::kDeadlineExceeded) << i;
  }
  EXPECT_EQ(client->breaker_state(), RedisBreakerState::kOpen);
  EXPECT_EQ(client->breaker_trips(), 1);
  // Open: every call fails at once, without a connection or a wait on Redis.
  const int connections = fake_.connections();
  for (int i = 0; i < 50; ++i) {
    const absl::Time start = absl::Now();
    absl::Status st = client->Ping(Deadline());
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(50)) << "waited on the hung Redis";
    if (client->breaker_state() != RedisBreakerState::kOpen) break;  // a probe started
  }
  EXPECT_EQ(fake_.connections(), connections);
  const std::string metrics = registry_.Render();
  EXPECT_NE(metrics.find("genesis_redis_breaker_trips_total{client=\"test\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("genesis_redis_short_circuited_total{client=\"test\"}"),
            std::string::npos);
}

TEST_F(RedisBreakerTest, ProbesWhileHungDoNotCloseTheBreakerAndCallersNeverWait) {
  auto client = Client();
  fake_.set_hung(true);
  for (int i = 0; i < 3; ++i) (void)client->Ping(Deadline());
  ASSERT_EQ(client->breaker_state(), RedisBreakerState::kOpen);
  // Across several probe rounds (each one connect + PING timing out on the
  // client's own thread), callers are answered at once.
  const absl::Time until = absl::Now() + absl::Milliseconds(700);
  int calls = 0;
  while (absl::Now() < until) {
    const absl::Time start = absl::Now();
    EXPECT_EQ(client->Ping(Deadline()).code(), absl::StatusCode::kUnavailable);
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(50));
    ++calls;
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GT(calls, 10);
  EXPECT_NE(client->breaker_state(), RedisBreakerState::kClosed);
  EXPECT_EQ(client->breaker_trips(), 1);
}

TEST_F(RedisBreakerTest, OneProbeClosesTheBreakerWhenRedisAnswersAgain) {
  auto client = Client();
  fake_.set_hung(true);
  for (int i = 0; i < 3; ++i) (void)client->Ping(Deadline());
  ASSERT_EQ(client->breaker_state(), RedisBreakerState::kOpen);
  fake_.set_hung(false);
  ASSERT_TRUE(PollUntil([&] { return client->breaker_state() == RedisBreakerState::kClosed; }));
  EXPECT_TRUE(client->Ping(Deadline()).ok());
  EXPECT_EQ(client->breaker_trips(), 1);
}

TEST_F(RedisBreakerTest, FailuresThatAreNotInARowDoNotOpenTheBreaker) {
  auto client = Client();
  for (int i = 0; i < 5; ++i) {
    fake_.set_hung(true);
    EXPECT_EQ(client->Ping(Deadline()).code(), absl::StatusCode::kDeadlineExceeded);
    fake_.set_hung(false);
    // The timed-out connection was dropped; a fresh one answers.
    ASSERT_TRUE(PollUntil([&] { return client->Ping(Deadline()).ok(); }));
  }
  EXPECT_EQ(client->breaker_state(), RedisBreakerState::kClosed);
  EXPECT_EQ(client->breaker_trips(), 0);
}

TEST_F(RedisBreakerTest, ARefusedConnectionCountsTowardTheBreakerToo) {
  RedisOptions options;
  // A port nobody listens on: take one from the kernel, then close it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  options.url = "redis://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  options.breaker_failures = 2;
  options.breaker_open = absl::Seconds(30);
  auto client = RedisClient::Create(options, nullptr);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Ping(Deadline()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ((*client)->Ping(Deadline()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ((*client)->breaker_state(), RedisBreakerState::kOpen);
}

}  // namespace
}  // namespace genesis
