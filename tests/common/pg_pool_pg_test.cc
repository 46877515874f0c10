// PgPool against a real PostgreSQL: a statement never outlives the caller's
// deadline nor the pool's statement_timeout; real database errors become the
// most specific code with a stable message that holds none of the server's
// text; array literals survive any bytes; failover: a multi-server DSN finds
// the writable one, a write on a read-only server is UNAVAILABLE and drops
// its connection, an idle connection lost meanwhile costs no call.
#include "common/storage/pg_pool.h"

#include "common/storage/migrations.h"
#include "common/storage/pg_array.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <latch>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include "tests/testing/test_database.h"

namespace genesis {
namespace {

class PgPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing::TestDatabase::Create();
    if (db_ == nullptr) GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set";
  }
  std::unique_ptr<PgPool> Pool(absl::Duration statement_timeout) {
    PgPoolOptions options;
    options.dsn = db_->dsn();
    options.size = 2;
    options.statement_timeout = statement_timeout;
    return std::make_unique<PgPool>(options, nullptr);
  }
  // Runs pg_sleep(seconds) with the caller's `deadline`; how long it took.
  static std::pair<absl::Status, absl::Duration> Sleep(PgPool& pool, absl::Duration deadline,
                                                       double seconds) {
    const absl::Time start = absl::Now();
    absl::Status st = pool.Transaction(absl::Now() + deadline, [&](pqxx::work& tx) {
      tx.exec_params("SELECT pg_sleep($1)", seconds);
      return absl::OkStatus();
    });
    return {st, absl::Now() - start};
  }
  std::unique_ptr<testing::TestDatabase> db_;
};

TEST_F(PgPoolTest, TheStatementTimeoutBoundsAStatementWhenTheCallerHasMoreTime) {
  auto pool = Pool(absl::Milliseconds(300));
  auto [st, took] = Sleep(*pool, absl::Seconds(30), 5);
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_LT(took, absl::Seconds(3));
  // The same connection, reused: still bounded.
  auto [again, took_again] = Sleep(*pool, absl::Seconds(30), 5);
  EXPECT_EQ(again.code(), absl::StatusCode::kDeadlineExceeded) << again;
  EXPECT_LT(took_again, absl::Seconds(3));
}

TEST_F(PgPoolTest, TheCallersNearerDeadlineBoundsAStatementThenTheSessionBoundIsBack) {
  auto pool = Pool(absl::Seconds(30));
  auto [st, took] = Sleep(*pool, absl::Milliseconds(300), 5);
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_LT(took, absl::Seconds(3));
  // A later call with time to spare is not cut short by the earlier one's bound.
  auto [ok, took_ok] = Sleep(*pool, absl::Seconds(30), 0.5);
  EXPECT_TRUE(ok.ok()) << ok;
  EXPECT_GE(took_ok, absl::Milliseconds(450));
}

TEST_F(PgPoolTest, AutocommitStatementsCommitEachOnTheirOwnWithinTheBounds) {
  auto pool = Pool(absl::Seconds(30));
  auto later = absl::Now() + absl::Seconds(60);  // more than the session bound
  ASSERT_TRUE(pool->Autocommit(later,
                               [](pqxx::transaction_base& tx) {
                                 tx.exec("CREATE TABLE t (v int PRIMARY KEY)");
                                 return absl::OkStatus();
                               })
                  .ok());
  // The first insert stays even though the second statement fails: no transaction block.
  absl::Status st = pool->Autocommit(later, [](pqxx::transaction_base& tx) {
    tx.exec("INSERT INTO t VALUES (1)");
    tx.exec("INSERT INTO t VALUES (1)");
    return absl::OkStatus();
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  auto count = pool->ReadOnly(later, [](pqxx::read_transaction& tx) -> absl::StatusOr<int> {
    return tx.exec("SELECT count(*) FROM t")[0][0].as<int>();
  });
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 1);
  // A caller with less time than the session bound is still cut short.
  const absl::Time start = absl::Now();
  absl::Status slow =
      pool->Autocommit(absl::Now() + absl::Milliseconds(300), [](pqxx::transaction_base& tx) {
        tx.exec("SELECT pg_sleep(5)");
        return absl::OkStatus();
      });
  EXPECT_EQ(slow.code(), absl::StatusCode::kDeadlineExceeded) << slow;
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

// A backend that is stopped (SIGSTOP) cannot enforce statement_timeout: the
// pool's watchdog must give the caller its answer at its deadline and replace
// the connection.
TEST_F(PgPoolTest, AHungBackendCostsTheCallerItsDeadlineAndIsReplaced) {
  auto pool = Pool(absl::Seconds(30));
  const absl::Time later = absl::Now() + absl::Seconds(10);
  auto pid = pool->ReadOnly(later, [](pqxx::read_transaction& tx) -> absl::StatusOr<int> {
    return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
  });
  ASSERT_TRUE(pid.ok()) << pid.status();
  // The pool now holds that one connection idle; the next call takes it.
  if (::kill(*pid, SIGSTOP) != 0) GTEST_SKIP() << "cannot signal the backend (not root?)";
  struct Continue {
    int pid;
    ~Continue() { ::kill(pid, SIGCONT); }
  } resume{*pid};
  const absl::Time start = absl::Now();
  auto hung = pool->ReadOnly(absl::Now() + absl::Milliseconds(500),
                             [](pqxx::read_transaction& tx) -> absl::StatusOr<int> {
                               return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
                             });
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(hung.status().code(), absl::StatusCode::kDeadlineExceeded) << hung.status();
  EXPECT_LT(took, absl::Seconds(5)) << "the call hung on the stopped backend";
  // Still stopped: the next call gets a new connection (a new backend).
  auto fresh = pool->ReadOnly(absl::Now() + absl::Seconds(10),
                              [](pqxx::read_transaction& tx) -> absl::StatusOr<int> {
                                return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
                              });
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_NE(*fresh, *pid);
}

TEST_F(PgPoolTest, ArrayLiteralsComeBackAsTheValuesTheyWereMadeOf) {
  auto pool = Pool(absl::Seconds(30));
  const std::vector<std::string> texts = {
      "", "NULL", "a,b", "{x}", "say \"hi\"", "back\\slash", "ação ✓", " spaced ", "line\nbreak"};
  const std::vector<int64_t> ints = {0, -1, 9007199254740993};
  const std::vector<bool> bools = {true, false};
  absl::Status st = pool->Transaction(absl::Now() + absl::Seconds(10), [&](pqxx::work& tx) {
    auto r =
        tx.exec_params("SELECT t, n FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n",
                       PgArray(texts));
    EXPECT_EQ(r.size(), texts.size());
    for (size_t i = 0; i < r.size() && i < texts.size(); ++i) {
      EXPECT_FALSE(r[i][0].is_null()) << i;
      EXPECT_EQ(r[i][0].as<std::string>(), texts[i]) << i;
    }
    auto n =
        tx.exec_params("SELECT array_length($1::bigint[], 1), ($1::bigint[])[3]", PgArray(ints));
    EXPECT_EQ(n[0][0].as<int>(), 3);
    EXPECT_EQ(n[0][1].as<int64_t>(), 9007199254740993);
    auto b = tx.exec_params("SELECT ($1::boolean[])[1], ($1::boolean[])[2]", PgArray(bools));
    EXPECT_TRUE(b[0][0].as<bool>());
    EXPECT_FALSE(b[0][1].as<bool>());
    auto e = tx.exec_params("SELECT cardinality($1::text[])", PgArray(std::vector<std::string>{}));
    EXPECT_EQ(e[0][0].as<int>(), 0);
    return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TEST_F(PgPoolTest, AnArrayWithNulOrInvalidUtf8KeepsEveryOtherValueExactly) {
  using namespace std::string_literals;
  auto pool = Pool(absl::Seconds(30));
  const std::vector<std::string> texts = {"meu CPF é 123.456.789-00", "x\0y"s, "caf\xC3",
                                          "\xFF\xFE", "último \"ok\""};
  auto back = pool->ReadOnly(
      absl::Now() + absl::Seconds(10),
      [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<std::string>> {
        std::vector<std::string> out;
        for (const auto& row : tx.exec_params(
                 "SELECT t FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n",
                 PgArray(texts))) {
          out.push_back(row[0].as<std::string>());
        }
        return out;
      });
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, (std::vector<std::string>{"meu CPF é 123.456.789-00", "x\xEF\xBF\xBDy",
                                             "caf\xEF\xBF\xBD", "\xEF\xBF\xBD\xEF\xBF\xBD",
                                             "último \"ok\""}));
}

// The text of the error the server gives for `sql` (first line, without "ERROR:").
std::string ServerText(const std::string& dsn, const std::string& sql) {
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  try {
    tx.exec(sql);
  } catch (const std::exception& e) {
    absl::string_view what = e.what();
    what = what.substr(0, what.find('\n'));
    absl::ConsumePrefix(&what, "ERROR:");
    return std::string(absl::StripAsciiWhitespace(what));
  }
  return "";
}

TEST_F(PgPoolTest, DatabaseErrorsBecomeSpecificCodesWithoutTheServersText) {
  auto pool = Pool(absl::Seconds(30));
  const std::string secret = "segredo-de-outro-cliente";
  const std::string setup =
      "CREATE TEMP TABLE parent (id text PRIMARY KEY); "
      "CREATE TEMP TABLE child (id text PRIMARY KEY, parent text REFERENCES parent, "
      "v text NOT NULL CHECK (v <> '" +
      secret +
      "'), code varchar(3));"
      "INSERT INTO parent VALUES ('" +
      secret + "'); ";
  struct Case {
    std::string sql;
    absl::StatusCode code;
  };
  const std::vector<Case> cases = {
      // The literal of a group-committed batch that a NUL cut short.
      {"SELECT '{\"" + secret + "\",\"meu CPF'::text[]", absl::StatusCode::kInvalidArgument},
      {"SELECT convert_from('\\xff'::bytea, 'UTF8') || '" + secret + "'",
       absl::StatusCode::kInvalidArgument},
      {"SELECT ('{\"a\": \"" + secret + "\\u0000\"}'::jsonb)->>'a'",
       absl::StatusCode::kInvalidArgument},
      {"SELECT '" + secret + "'::int", absl::StatusCode::kInvalidArgument},
      {"SELECT 1 / 0 FROM parent WHERE id = '" + secret + "'", absl::StatusCode::kInvalidArgument},
      {"INSERT INTO child VALUES ('a', NULL, '" + secret + "', NULL)",
       absl::StatusCode::kInvalidArgument},
      {"INSERT INTO child VALUES ('a', NULL, NULL, NULL)", absl::StatusCode::kInvalidArgument},
      {"INSERT INTO child VALUES ('a', NULL, 'v', '" + secret + "')",
       absl::StatusCode::kInvalidArgument},
      {"INSERT INTO parent VALUES ('" + secret + "')", absl::StatusCode::kAlreadyExists},
      {"INSERT INTO child VALUES ('a', '" + secret + "x', 'v', NULL)",
       absl::StatusCode::kFailedPrecondition},
      {"SELEKT '" + secret + "'", absl::StatusCode::kInternal},
      {"SELECT * FROM " + secret.substr(0, 7) + "_table", absl::StatusCode::kInternal},
      {"DO $$ BEGIN RAISE EXCEPTION '" + secret + "'; END $$", absl::StatusCode::kInternal},
  };
  for (const auto& c : cases) {
    const std::string server = ServerText(db_->dsn(), setup + c.sql);
    ASSERT_FALSE(server.empty()) << c.sql << " did not fail";
    absl::Status st =
        pool->Transaction(absl::Now() + absl::Seconds(10), [&](pqxx::work& tx) -> absl::Status {
          tx.exec(setup);
          tx.exec(c.sql);
          return absl::OkStatus();
        });
    EXPECT_EQ(st.code(), c.code) << c.sql << " -> " << st;
    EXPECT_FALSE(absl::StrContains(st.message(), secret)) << st;
    EXPECT_FALSE(absl::StrContains(st.message(), server)) << st;
    // Nothing of the server's wording either (its words of five letters or more).
    for (absl::string_view word : absl::StrSplit(server, ' ')) {
      word = absl::StripAsciiWhitespace(absl::StripSuffix(word, ":"));
      if (word.size() >= 5 && word != "value" && word != "input" && word != "error") {
        EXPECT_FALSE(absl::StrContains(st.message(), word))
            << "'" << word << "' of \"" << server << "\" in: " << st;
      }
    }
  }
  // A failed client-side conversion (a library error, not the server's).
  absl::Status conv =
      pool->ReadOnly(absl::Now() + absl::Seconds(10), [&](pqxx::read_transaction& tx) {
        (void)tx.exec("SELECT '" + secret + "'")[0][0].as<int>();
        return absl::OkStatus();
      });
  EXPECT_EQ(conv.code(), absl::StatusCode::kInternal) << conv;
  EXPECT_FALSE(absl::StrContains(conv.message(), secret)) << conv;
}

TEST_F(PgPoolTest, AnUnreachableDatabaseIsUnavailableWithoutItsAddress) {
  PgPoolOptions options;
  options.dsn = "postgresql://genesis_nobody@127.0.0.1:1/nowhere";
  options.size = 1;
  PgPool pool(options, nullptr);
  absl::Status st = pool.Ping(absl::Now() + absl::Seconds(5));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_FALSE(absl::StrContains(st.message(), "127.0.0.1")) << st;
  EXPECT_FALSE(absl::StrContains(st.message(), "genesis_nobody")) << st;
  EXPECT_FALSE(absl::StrContains(st.message(), "nowhere")) << st;
}

// The backend pid of a connection `pool` gives.
absl::StatusOr<int> BackendPid(PgPool& pool) {
  return pool.ReadOnly(absl::Now() + absl::Seconds(10),
                       [](pqxx::read_transaction& tx) -> absl::StatusOr<int> {
                         return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
                       });
}

absl::Status Exec(PgPool& pool, const std::string& sql) {
  return pool.Transaction(absl::Now() + absl::Seconds(10), [&](pqxx::work& tx) {
    tx.exec0(sql);
    return absl::OkStatus();
  });
}

// What a write gets on a connection that landed on a standby (SQLSTATE 25006,
// read_only_sql_transaction): a session made read-only stands in for one.
TEST_F(PgPoolTest, AWriteOnAReadOnlyServerIsUnavailableAndItsConnectionIsDropped) {
  PgPoolOptions options;
  options.dsn = db_->dsn();
  options.size = 1;
  options.unready_after_failures = 1;
  PgPool pool(options, nullptr);
  ASSERT_TRUE(Exec(pool, "CREATE TABLE t (v int)").ok());
  // Committed, so the session stays read-only: every later write is refused.
  ASSERT_TRUE(Exec(pool, "SET SESSION default_transaction_read_only = on").ok());
  auto read_only_pid = BackendPid(pool);
  ASSERT_TRUE(read_only_pid.ok()) << read_only_pid.status();
  EXPECT_TRUE(pool.PrimaryStatus().ok());

  absl::Status st = Exec(pool, "INSERT INTO t VALUES (1)");
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "retry")) << st;
  EXPECT_FALSE(absl::StrContains(st.message(), "read-only transaction")) << st;  // server's text
  // The refusal says the server is no writable primary.
  EXPECT_EQ(pool.PrimaryStatus().code(), absl::StatusCode::kUnavailable);

  // The connection was dropped: the next call gets a new session, which writes.
  auto fresh_pid = BackendPid(pool);
  ASSERT_TRUE(fresh_pid.ok()) << fresh_pid.status();
  EXPECT_NE(*fresh_pid, *read_only_pid);
  EXPECT_TRUE(Exec(pool, "INSERT INTO t VALUES (2)").ok());
  // ... and the first connection opened to a primary restores it.
  EXPECT_TRUE(pool.PrimaryStatus().ok()) << pool.PrimaryStatus();
}

// Failures in a row count, not failures: a call that completes on a pooled
// primary connection in between shows the primary is there.
TEST_F(PgPoolTest, ACallCompletedOnThePrimaryResetsTheFailuresInARow) {
  PgPoolOptions options;
  options.dsn = db_->dsn();
  options.size = 2;
  options.unready_after_failures = 2;
  PgPool pool(options, nullptr);
  ASSERT_TRUE(Exec(pool, "CREATE TABLE t (v int)").ok());
  // Two pooled connections, both made read-only (each write on one is a failure).
  std::latch both(2);
  auto make_read_only = [&] {
    return pool.Transaction(absl::Now() + absl::Seconds(10), [&](pqxx::work& tx) {
      tx.exec0("SET SESSION default_transaction_read_only = on");
      both.arrive_and_wait();  // so the two run on two connections
      return absl::OkStatus();
    });
  };
  absl::Status first, second;
  std::thread other([&] { second = make_read_only(); });
  first = make_read_only();
  other.join();
  ASSERT_TRUE(first.ok() && second.ok()) << first << " " << second;

  EXPECT_EQ(Exec(pool, "INSERT INTO t VALUES (1)").code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(BackendPid(pool).ok());  // completes on the other pooled connection
  EXPECT_EQ(Exec(pool, "INSERT INTO t VALUES (2)").code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(pool.PrimaryStatus().ok()) << pool.PrimaryStatus();
}

TEST_F(PgPoolTest, ReadOnlyRefusalsMapToUnavailable) {
  const pqxx::sql_error read_only("ERROR:  cannot execute INSERT in a read-only transaction",
                                  "INSERT INTO t VALUES (1)", "25006");
  absl::Status st = PgPool::StatusFromException(read_only);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  const pqxx::sql_error crash("FATAL:  terminating connection because of crash of another server",
                              "", "57P02");
  EXPECT_EQ(PgPool::StatusFromException(crash).code(), absl::StatusCode::kUnavailable);
}

TEST_F(PgPoolTest, ExhaustedServerResourcesAreUnavailableAndLocksAborted) {
  for (const char* state : {"53300", "53200", "53100"}) {
    const pqxx::sql_error e("FATAL:  sorry, too many clients already", "", state);
    absl::Status st = PgPool::StatusFromException(e);
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << state << " " << st;
    EXPECT_EQ(std::string(st.message()).find("sorry"), std::string::npos) << st;
  }
  const pqxx::sql_error locked("ERROR:  canceling statement due to lock timeout",
                               "UPDATE t SET x = 1", "55P03");
  EXPECT_EQ(PgPool::StatusFromException(locked).code(), absl::StatusCode::kAborted);
}

// libpqxx would reopen a broken connection by itself, without the session's
// statement_timeout; the pool drops it and tries the call on another instead.
TEST_F(PgPoolTest, AnIdleConnectionLostMeanwhileCostsNoCallAndKeepsItsBounds) {
  auto pool = Pool(absl::Milliseconds(300));
  auto pid = BackendPid(*pool);
  ASSERT_TRUE(pid.ok()) << pid.status();
  {
    pqxx::connection admin(db_->dsn());
    pqxx::nontransaction tx(admin);
    tx.exec_params("SELECT pg_terminate_backend($1)", *pid);
  }
  auto again = BackendPid(*pool);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE(*again, *pid);
  auto [st, took] = Sleep(*pool, absl::Seconds(30), 5);
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_LT(took, absl::Seconds(3));
}

// host:port of the test server and its database, from its URI
// (postgresql://user@host:port/db).
struct Server {
  std::string user, host, port, db;
};
Server ServerOf(const std::string& uri) {
  absl::string_view rest = uri;
  absl::ConsumePrefix(&rest, "postgresql://") || absl::ConsumePrefix(&rest, "postgres://");
  Server s;
  if (auto at = rest.find('@'); at != absl::string_view::npos) {
    s.user = std::string(rest.substr(0, at));
    rest.remove_prefix(at + 1);
  }
  const auto slash = rest.find('/');
  absl::string_view hostport = rest.substr(0, slash);
  s.db = std::string(rest.substr(slash + 1, rest.find('?') - slash - 1));
  const auto colon = hostport.rfind(':');
  s.host = std::string(hostport.substr(0, colon));
  s.port = colon == absl::string_view::npos ? "5432" : std::string(hostport.substr(colon + 1));
  return s;
}

// Port 1 refuses at once: the first server listed is down, the second is the
// primary, in both DSN syntaxes; the pool and the migrations find it.
TEST_F(PgPoolTest, AMultiServerDsnReachesTheWritableServerInEitherSyntax) {
  const Server s = ServerOf(db_->dsn());
  const std::string user = s.user.empty() ? "" : s.user + "@";
  const std::vector<std::string> dsns = {
      absl::StrCat("host=", s.host, ",", s.host, " port=1,", s.port, " dbname=", s.db,
                   s.user.empty() ? "" : " user=" + s.user, " target_session_attrs=read-write"),
      absl::StrCat("postgresql://", user, s.host, ":1,", s.host, ":", s.port, "/", s.db,
                   "?target_session_attrs=read-write"),
  };
  int n = 0;
  for (const auto& dsn : dsns) {
    auto info = ParsePgDsn(dsn);
    ASSERT_TRUE(info.ok()) << dsn << ": " << info.status();
    EXPECT_EQ(info->hosts, 2) << dsn;
    EXPECT_TRUE(PgDsnFindsThePrimary(*info)) << dsn;
    const std::string schema = absl::StrCat("multi", n++);
    ASSERT_TRUE(ApplyMigrations(dsn, schema, {{1, "0001_t.sql", "CREATE TABLE t (v int);"}}).ok())
        << dsn;
    PgPoolOptions options;
    options.dsn = dsn;
    options.size = 1;
    PgPool pool(options, nullptr);
    EXPECT_TRUE(pool.Ping(absl::Now() + absl::Seconds(10)).ok()) << dsn;
    EXPECT_TRUE(Exec(pool, "INSERT INTO " + schema + ".t VALUES (1)").ok()) << dsn;
    EXPECT_TRUE(pool.PrimaryStatus().ok()) << dsn;
  }
}

// A server that takes the TCP connection and never answers (a host whose
// packets vanish acts the same, for longer): start-up must reach the next
// server of the DSN after a bounded wait, not hang in libpq.
TEST_F(PgPoolTest, MigrationsGoPastAServerThatNeverAnswers) {
  const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ASSERT_EQ(::listen(silent, 16), 0);  // never accepted, never answered
  const Server s = ServerOf(db_->dsn());
  const std::string dsn =
      absl::StrCat("postgresql://", s.user.empty() ? "" : s.user + "@",
                   "127.0.0.1:", ntohs(addr.sin_port), ",", s.host, ":", s.port, "/", s.db);
  // On its own thread: without a bound it would never return.
  auto done = std::make_shared<std::promise<absl::Status>>();
  auto applied = done->get_future();
  std::thread([done, dsn] {
    done->set_value(
        ApplyMigrations(dsn, "past_silent", {{1, "0001_t.sql", "CREATE TABLE t (v int);"}}));
  }).detach();
  ASSERT_EQ(applied.wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "ApplyMigrations still waits on the silent server";
  EXPECT_TRUE(applied.get().ok());
  ::close(silent);
}

TEST_F(PgPoolTest, NoWritablePrimaryAfterTheConfiguredFailuresInARow) {
  PgPoolOptions options;
  options.dsn =
      "postgresql://postgres@127.0.0.1:1,127.0.0.1:1/nowhere?target_session_attrs=read-write";
  options.size = 1;
  options.unready_after_failures = 3;
  PgPool pool(options, nullptr);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(pool.PrimaryStatus().ok()) << "after " << i - 1 << " failure(s)";
    EXPECT_EQ(pool.Ping(absl::Now() + absl::Seconds(5)).code(), absl::StatusCode::kUnavailable);
  }
  absl::Status st = pool.PrimaryStatus();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "no writable PostgreSQL primary")) << st;
  EXPECT_FALSE(absl::StrContains(st.message(), "127.0.0.1")) << st;
}

}  // namespace
}  // namespace genesis
