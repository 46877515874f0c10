// ApplyMigrations against a real PostgreSQL: files apply once, in order, into
// their schema; an edited applied file stops the start-up.
#include "common/storage/migrations.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <regex>
#include <thread>

#include <pqxx/pqxx>

#include "absl/time/clock.h"
#include "tests/testing/test_database.h"

namespace genesis {
namespace {

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing::TestDatabase::Create();
    if (db_ == nullptr) GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set";
  }
  std::string Query(const std::string& sql) {
    pqxx::connection conn(db_->dsn());
    pqxx::work tx(conn);
    auto row = tx.exec1(sql);
    return row[0].is_null() ? "" : row[0].as<std::string>();
  }
  std::unique_ptr<testing::TestDatabase> db_;
};

TEST_F(MigrationsTest, UnqualifiedNamesLandInTheServiceSchema) {
  int applied = 0;
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "alpha",
                              {{1, "0001_init.sql", "CREATE TABLE things (id int PRIMARY KEY);"},
                               {2, "0002_more.sql", "INSERT INTO things VALUES (7);"}},
                              &applied)
                  .ok());
  EXPECT_EQ(applied, 2);
  EXPECT_EQ(Query("SELECT to_regclass('alpha.things')::text"), "alpha.things");
  EXPECT_EQ(Query("SELECT to_regclass('public.things')::text"), "");
  EXPECT_EQ(Query("SELECT id FROM alpha.things"), "7");
  // The search path was the migration's own: the session's is untouched.
  EXPECT_EQ(Query("SHOW search_path"), "\"$user\", public");
}

TEST_F(MigrationsTest, AppliedFilesAreSkippedAndEditedOnesRefused) {
  std::vector<Migration> files = {{1, "0001_init.sql", "CREATE TABLE t (id int);"}};
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "beta", files).ok());
  int applied = -1;
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "beta", files, &applied).ok());
  EXPECT_EQ(applied, 0);
  files[0].sql = "CREATE TABLE t (id bigint);";
  absl::Status st = ApplyMigrations(db_->dsn(), "beta", files);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("was edited"), std::string::npos) << st.message();
}

TEST_F(MigrationsTest, AFailingFileIsRolledBackAndNamed) {
  absl::Status st = ApplyMigrations(
      db_->dsn(), "gamma",
      {{1, "0001_init.sql", "CREATE TABLE ok (id int);"},
       {2, "0002_bad.sql", "CREATE TABLE half (id int); SELECT * FROM missing_table;"}});
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("0002_bad.sql"), std::string::npos) << st.message();
  EXPECT_EQ(Query("SELECT to_regclass('gamma.half')::text"), "");
  EXPECT_EQ(Query("SELECT max(version)::text FROM gamma.schema_migrations"), "1");
}

// A loopback TCP port that nothing listens on until Open(): then every
// connection to it is relayed to `target_port` (the test PostgreSQL), as a
// database that comes up after the service.
class LateListener {
 public:
  explicit LateListener(int target_port) : target_port_(target_port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);  // bound, not listening: connections are refused
  }
  ~LateListener() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& t : relays_) t.join();
    close(fd_);
  }
  [[nodiscard]] int port() const { return port_; }
  void Open() {
    ASSERT_EQ(listen(fd_, 16), 0);
    acceptor_ = std::thread([this] {
      while (!stop_) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        relays_.emplace_back([this, c] { Relay(c); });
      }
    });
  }

 private:
  void Relay(int client) {
    int server = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(target_port_);
    if (connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      char buf[16384];
      while (!stop_ && poll(fds, 2, 200) >= 0) {
        bool closed = false;
        for (int i = 0; i < 2 && !closed; ++i) {
          if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
          ssize_t n = read(fds[i].fd, buf, sizeof buf);
          closed = n <= 0 || write(fds[1 - i].fd, buf, n) != n;
        }
        if (closed) break;
      }
    }
    close(server);
    close(client);
  }
  int fd_ = -1, port_ = 0, target_port_;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> relays_;
};

// The test database's URI with its port replaced.
std::string WithPort(const std::string& dsn, int port) {
  return std::regex_replace(dsn, std::regex(R"((@[^/:]+):\d+/)"),
                            "$1:" + std::to_string(port) + "/");
}

int PortOf(const std::string& dsn) {
  std::smatch m;
  return std::regex_search(dsn, m, std::regex(R"(@[^/:]+:(\d+)/)")) ? std::stoi(m[1]) : 0;
}

TEST_F(MigrationsTest, StartUpWaitsForADatabaseThatComesUpLater) {
  const int pg_port = PortOf(db_->dsn());
  ASSERT_GT(pg_port, 0) << db_->dsn();
  LateListener late(pg_port);
  const std::string dsn = WithPort(db_->dsn(), late.port());
  // Nothing answers yet: plain ApplyMigrations gives up at once.
  EXPECT_EQ(ApplyMigrations(dsn, "delta", {}).code(), absl::StatusCode::kUnavailable);

  std::thread opener([&] {
    absl::SleepFor(absl::Milliseconds(1200));
    late.Open();
  });
  int applied = 0;
  absl::Status st =
      ApplyMigrationsWhenReachable(dsn, "delta", {{1, "0001_init.sql", "CREATE TABLE t (id int);"}},
                                   absl::Seconds(60), &applied);
  opener.join();
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(Query("SELECT to_regclass('delta.t')::text"), "delta.t");
}

TEST_F(MigrationsTest, StartUpGivesUpWhenTheDatabaseStaysDown) {
  LateListener never(PortOf(db_->dsn()));  // never opened
  absl::Status st = ApplyMigrationsWhenReachable(WithPort(db_->dsn(), never.port()), "epsilon", {},
                                                 absl::Seconds(1));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
}

TEST_F(MigrationsTest, StartUpDoesNotRetryAFailingMigration) {
  absl::Status st = ApplyMigrationsWhenReachable(
      db_->dsn(), "zeta", {{1, "0001_bad.sql", "SELECT * FROM missing_table;"}}, absl::Seconds(60));
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
}

}  // namespace
}  // namespace genesis
