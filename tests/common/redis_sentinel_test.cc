// RedisClient behind Redis Sentinel (redis-sentinel://) against scripted fake
// servers that speak RESP: a sentinel that names a master, masters and
// replicas that answer ROLE and commands as told. The real failover (real
// Redis, real sentinels, kill -9) is tests/faults/infra_redis_sentinel.sh.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/metrics.h"
#include "common/storage/redis.h"

namespace genesis {
namespace {

using Argv = std::vector<std::string>;

std::string Bulk(const std::string& s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }
std::string Array(const std::vector<std::string>& items) {
  std::string out = absl::StrCat("*", items.size(), "\r\n");
  for (const auto& i : items) out += Bulk(i);
  return out;
}

// A RESP server on 127.0.0.1 whose every reply comes from `handler` (raw
// RESP), and which records the commands it received.
class FakeServer {
 public:
  FakeServer() {
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
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    for (auto& [fd, buf] : conns_) close(fd);
    close(listen_fd_);
  }
  [[nodiscard]] int port() const { return port_; }
  void set_handler(std::function<std::string(const Argv&)> handler) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(handler);
  }
  // How many commands named `name` (e.g. "SENTINEL") arrived so far.
  int Count(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& argv : seen_) n += !argv.empty() && argv[0] == name;
    return n;
  }
  std::vector<Argv> Seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  // Parses one "*N\r\n$len\r\narg\r\n..." command from the front of `buf`.
  static bool TakeCommand(std::string* buf, Argv* argv) {
    size_t pos = 0;
    auto line = [&](std::string* out) {
      size_t end = buf->find("\r\n", pos);
      if (end == std::string::npos) return false;
      *out = buf->substr(pos, end - pos);
      pos = end + 2;
      return true;
    };
    std::string head;
    int n = 0;
    if (!line(&head) || head.empty() || head[0] != '*' || !absl::SimpleAtoi(head.substr(1), &n)) {
      return false;
    }
    argv->clear();
    for (int i = 0; i < n; ++i) {
      std::string len_line;
      size_t len = 0;
      if (!line(&len_line) || !absl::SimpleAtoi(len_line.substr(1), &len)) return false;
      if (buf->size() < pos + len + 2) return false;
      argv->push_back(buf->substr(pos, len));
      pos += len + 2;
    }
    buf->erase(0, pos);
    return true;
  }

  void Loop() {
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (auto& [fd, buf] : conns_) fds.push_back({fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), 10) <= 0) continue;
      for (const auto& p : fds) {
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        if (p.fd == listen_fd_) {
          int fd = accept(listen_fd_, nullptr, nullptr);
          if (fd >= 0) conns_[fd] = "";
          continue;
        }
        char chunk[4096];
        ssize_t n = read(p.fd, chunk, sizeof(chunk));
        if (n <= 0) {
          close(p.fd);
          conns_.erase(p.fd);
          continue;
        }
        std::string& buf = conns_[p.fd];
        buf.append(chunk, static_cast<size_t>(n));
        Argv argv;
        while (TakeCommand(&buf, &argv)) {
          std::string reply;
          {
            std::lock_guard<std::mutex> lock(mu_);
            seen_.push_back(argv);
            reply = handler_ ? handler_(argv) : "-ERR no handler\r\n";
          }
          (void)!write(p.fd, reply.data(), reply.size());
        }
      }
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::map<int, std::string> conns_;  // fd -> unparsed input (loop thread only)
  std::mutex mu_;
  std::function<std::string(const Argv&)> handler_;
  std::vector<Argv> seen_;
};

// A Redis server: ROLE answers `role`; SET answers +OK, or -READONLY when
// `role` is "slave"; GET answers `value`; anything else +OK.
std::function<std::string(const Argv&)> Server(std::string role, std::string value = "v") {
  return [role, value](const Argv& argv) -> std::string {
    if (argv[0] == "ROLE") {
      return role == "master" ? "*3\r\n" + Bulk("master") + ":0\r\n*0\r\n"
                              : "*5\r\n" + Bulk("slave") + Bulk("127.0.0.1") + ":1\r\n" +
                                    Bulk("connected") + ":0\r\n";
    }
    if (argv[0] == "SET" && role != "master") {
      return "-READONLY You can't write against a read only replica.\r\n";
    }
    if (argv[0] == "GET") return Bulk(value);
    return "+OK\r\n";
  };
}

// A sentinel naming `*port` as the master of "m".
std::function<std::string(const Argv&)> Sentinel(std::atomic<int>* port) {
  return [port](const Argv& argv) -> std::string {
    if (argv.size() == 3 && argv[0] == "SENTINEL" && argv[1] == "get-master-addr-by-name") {
      if (argv[2] != "m") return "*-1\r\n";
      return Array({"127.0.0.1", std::to_string(port->load())});
    }
    return "+OK\r\n";
  };
}

int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);  // nothing listens there now
  return ntohs(addr.sin_port);
}

std::unique_ptr<RedisClient> Client(const std::string& url, MetricsRegistry* registry,
                                    int breaker_failures = 3) {
  RedisOptions options;
  options.url = url;
  options.name = "test";
  options.breaker_failures = breaker_failures;
  options.breaker_open = absl::Milliseconds(50);
  options.breaker_max_open = absl::Milliseconds(50);
  auto client = RedisClient::Create(options, registry);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(*client) : nullptr;
}

absl::Time Soon() { return absl::Now() + absl::Seconds(2); }

TEST(RedisSentinelTest, FindsTheMasterAskingTheSentinelsInTurn) {
  FakeServer master, sentinel;
  std::atomic<int> master_port{master.port()};
  master.set_handler(Server("master", "hello"));
  sentinel.set_handler(Sentinel(&master_port));
  MetricsRegistry registry;
  // The first sentinel refuses connections; the second names the master.
  auto client = Client(absl::StrCat("redis-sentinel://:pw@127.0.0.1:", ClosedPort(),
                                    ",127.0.0.1:", sentinel.port(), "/m/3"),
                       &registry);
  auto value = client->Get("k", Soon());
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->value_or(""), "hello");
  EXPECT_EQ(client->master_epoch(), 1u);
  // The master got AUTH and SELECT, and was checked with ROLE before use.
  const auto seen = master.Seen();
  ASSERT_GE(seen.size(), 4u);
  EXPECT_EQ(seen[0], (Argv{"AUTH", "pw"}));
  EXPECT_EQ(seen[1], (Argv{"SELECT", "3"}));
  EXPECT_EQ(seen[2], (Argv{"ROLE"}));
  EXPECT_EQ(seen[3], (Argv{"GET", "k"}));
  // The sentinel was not sent the master's password.
  EXPECT_EQ(sentinel.Count("AUTH"), 0);
}

TEST(RedisSentinelTest, SentinelPasswordGoesToTheSentinelsOnly) {
  FakeServer master, sentinel;
  std::atomic<int> master_port{master.port()};
  master.set_handler(Server("master"));
  sentinel.set_handler(Sentinel(&master_port));
  MetricsRegistry registry;
  auto client = Client(
      absl::StrCat("redis-sentinel://127.0.0.1:", sentinel.port(), "/m?sentinel_password=s3cret"),
      &registry);
  ASSERT_TRUE(client->Ping(Soon()).ok());
  const auto seen = sentinel.Seen();
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[0], (Argv{"AUTH", "s3cret"}));
  EXPECT_EQ(master.Count("AUTH"), 0);
}

TEST(RedisSentinelTest, AServerThatIsNotTheMasterIsNeverUsed) {
  FakeServer replica, sentinel;
  std::atomic<int> named{replica.port()};
  replica.set_handler(Server("slave"));
  sentinel.set_handler(Sentinel(&named));
  MetricsRegistry registry;
  auto client =
      Client(absl::StrCat("redis-sentinel://127.0.0.1:", sentinel.port(), "/m"), &registry);
  auto value = client->Get("k", Soon());
  EXPECT_EQ(value.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(value.status().message().find("says its role is 'slave'"), absl::string_view::npos)
      << value.status();
  EXPECT_EQ(replica.Count("GET"), 0);
}

TEST(RedisSentinelTest, AStormOfFailuresAsksTheSentinelsAtMostOncePerInterval) {
  FakeServer replica, sentinel;
  std::atomic<int> named{replica.port()};
  replica.set_handler(Server("slave"));
  sentinel.set_handler(Sentinel(&named));
  MetricsRegistry registry;
  // A breaker that never opens: only the sentinels' own limit holds the storm back.
  auto client = Client(absl::StrCat("redis-sentinel://127.0.0.1:", sentinel.port(), "/m"),
                       &registry, /*breaker_failures=*/1000000);
  const absl::Time start = absl::Now();
  int calls = 0;
  while (absl::Now() - start < absl::Milliseconds(600)) {
    EXPECT_EQ(client->Ping(Soon()).code(), absl::StatusCode::kUnavailable);
    ++calls;
  }
  const absl::Duration elapsed = absl::Now() - start;
  // One round at once, then one per 250 ms (the default interval).
  const int allowed = 1 + static_cast<int>(elapsed / absl::Milliseconds(250)) + 1;
  EXPECT_GE(calls, 50);
  EXPECT_LE(sentinel.Count("SENTINEL"), allowed) << calls << " calls in " << elapsed;
  EXPECT_GE(sentinel.Count("SENTINEL"), 2);
}

TEST(RedisSentinelTest, FollowsAFailoverOnReadOnly) {
  FakeServer a, b, sentinel;
  std::atomic<int> named{a.port()};
  a.set_handler(Server("master", "from-a"));
  b.set_handler(Server("master", "from-b"));
  sentinel.set_handler(Sentinel(&named));
  MetricsRegistry registry;
  auto client =
      Client(absl::StrCat("redis-sentinel://127.0.0.1:", sentinel.port(), "/m"), &registry);
  ASSERT_TRUE(client->Set("k", "1", absl::Seconds(10), Soon()).ok());
  EXPECT_EQ(client->master_epoch(), 1u);

  // A is demoted and B promoted: the pooled connection to A is told READONLY.
  a.set_handler(Server("slave", "from-a"));
  named = b.port();
  auto st = client->Set("k", "2", absl::Seconds(10), Soon());
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("READONLY"), absl::string_view::npos) << st;

  // The next call (after the sentinels' interval) goes to B.
  absl::StatusOr<std::optional<std::string>> value;
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  do {
    absl::SleepFor(absl::Milliseconds(20));
    value = client->Get("k", Soon());
  } while (!value.ok() && absl::Now() < give_up);
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->value_or(""), "from-b");
  EXPECT_EQ(client->master_epoch(), 2u);
  EXPECT_EQ(a.Count("GET"), 0);
}

TEST(RedisSentinelTest, UnknownMasterNameIsUnavailableNamingIt) {
  FakeServer master, sentinel;
  std::atomic<int> port{master.port()};
  master.set_handler(Server("master"));
  sentinel.set_handler(Sentinel(&port));
  MetricsRegistry registry;
  auto client =
      Client(absl::StrCat("redis-sentinel://127.0.0.1:", sentinel.port(), "/other"), &registry);
  auto st = client->Ping(Soon());
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("does not know master other"), absl::string_view::npos) << st;
}

}  // namespace
}  // namespace genesis
