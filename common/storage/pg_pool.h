// A bounded pool of PostgreSQL connections (libpqxx 6.4).
//
// At most `size` connections exist; a caller waits for one until its deadline
// (or acquire_timeout) and then gets DEADLINE_EXCEEDED/UNAVAILABLE instead of
// piling up. Connections are opened lazily, so a service starts (and reports
// NOT_SERVING) while its database is down, and broken ones are dropped and
// reopened. Every transaction runs with a statement_timeout bounded by the
// caller's deadline: each connection's session value is `statement_timeout`,
// and a transaction whose caller has less time left sets its own (SET LOCAL),
// so the common case costs no extra round trip.
//
// A hung server (a backend that is stopped, or a network path that drops
// packets) cannot enforce statement_timeout and libpq would wait forever, so a
// watchdog thread shuts down the socket of any connection still leased
// `hang_margin` after its caller's deadline: the call returns
// DEADLINE_EXCEEDED, the connection is discarded and the next caller opens a
// fresh one (genesis_pg_pool_hung_total{pool} counts these).
//
// Failover. The DSN may list several servers (libpq: `host=a,b port=5432,5433
// target_session_attrs=read-write`, or `postgresql://a:5432,b:5433/db?
// target_session_attrs=read-write`): each new connection goes to the one that
// accepts writes. When the primary dies, calls running on it fail UNAVAILABLE
// and their connections are dropped; a connection that went stale while idle
// fails before the caller's work was sent, so the call is tried again on
// another (no call fails for it); a write that reached a read-only server
// (SQLSTATE 25006: a standby, or a DSN without target_session_attrs) fails
// UNAVAILABLE and its connection is dropped. New connections then find the
// promoted standby by themselves. A connection that lands on a standby anyway
// (a single-server DSN, or one without target_session_attrs) serves its one
// call and is closed, so the pool follows a name that moves to the new primary. libpqxx's own
// silent reconnection is turned off: it would lose the session's statement_timeout and leave the
// watchdog a stale socket.
//
// Whether the pool has a writable primary is derived from its own connection
// outcomes, with no query of its own (PrimaryStatus(), what readiness reads):
// lost after `unready_after_failures` attempts in a row found none (refused,
// timed out, only standbys, a write refused as read-only), back at the first
// connection opened to a primary. A call that completes on a pooled primary
// connection counts as finding one, so failed connects beside working
// connections (the server's max_connections reached) do not add up.
//
// libpqxx exceptions become absl::Status here, once:
//   broken_connection -> UNAVAILABLE     query canceled (57014) -> DEADLINE_EXCEEDED
//   read_only_sql_transaction (25006), admin/crash shutdown (57P01/57P02),
//   cannot connect now (57P03), connection errors (class 08) -> UNAVAILABLE
//   unique_violation  -> ALREADY_EXISTS  foreign_key/restrict   -> FAILED_PRECONDITION
//   check/not_null/data_exception (class 22) -> INVALID_ARGUMENT
//   serialization_failure/deadlock, lock not available (55P03) -> ABORTED
//   insufficient resources (class 53: connections, memory, disk) -> UNAVAILABLE
//   other -> INTERNAL
// with a stable message that says what kind of value was refused (by SQLSTATE)
// and never the database's own text: that echoes values of other callers (a
// group-committed batch), SQL and server addresses. The text is logged instead
// (without the values data errors echo), on a line with the request id.
// Stores may catch specific exceptions first to give a more precise message,
// but never put e.what() in a status (tests/lint/error_text.sh checks it).
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/metrics.h"

namespace genesis {

struct PgPoolOptions {
  std::string dsn;
  int size = 8;
  absl::Duration acquire_timeout = absl::Seconds(2);
  absl::Duration connect_timeout = absl::Seconds(3);
  absl::Duration statement_timeout = absl::Seconds(5);
  // How long past a caller's deadline a connection that still has not
  // answered is given before its socket is shut down (see above).
  absl::Duration hang_margin = absl::Milliseconds(250);
  // Connection attempts in a row that found no writable primary after which
  // PrimaryStatus() fails (see above); 0: it never does.
  int unready_after_failures = 3;
  // Label for metrics (e.g. the service name).
  std::string name = "default";
};

// What libpq makes of a DSN, parsed without connecting (libpq's own parser,
// both syntaxes).
struct PgDsnInfo {
  int hosts = 1;                     // servers listed (host=a,b or a:1,b:2 in a URI)
  std::string target_session_attrs;  // as written; empty when absent
};
// INVALID_ARGUMENT when libpq cannot parse `dsn`, when target_session_attrs
// is not a value libpq knows, or when the ports match neither one server nor
// each. The message never holds the DSN (it may hold a password).
absl::StatusOr<PgDsnInfo> ParsePgDsn(const std::string& dsn);
// `dsn` with libpq's connect_timeout (whole seconds, at least 1) unless it
// sets one, in either syntax. libpq applies it to each server of a
// multi-server DSN, so a dead one (packets dropped) costs that long, not the
// kernel's two minutes of TCP retries, before the next is tried.
std::string PgDsnWithConnectTimeout(const std::string& dsn, absl::Duration timeout);
// Whether new connections can only land on a writable server: one host, or
// target_session_attrs=read-write (or primary).
bool PgDsnFindsThePrimary(const PgDsnInfo& info);

class PgPool {
 public:
  // Never connects; `registry` may be null. Pool gauges:
  // genesis_pg_pool_{size,in_use,idle,waiting}{pool=name}.
  PgPool(PgPoolOptions options, MetricsRegistry* registry);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Runs `fn(pqxx::work&)` in one transaction and commits when it returns OK.
  // `fn` returns absl::Status or absl::StatusOr<T>; a non-OK result rolls back.
  template <typename Fn>
  auto Transaction(absl::Time deadline, Fn&& fn) -> std::invoke_result_t<Fn, pqxx::work&>;

  // Like Transaction() but read-only (pqxx::read_transaction).
  template <typename Fn>
  auto ReadOnly(absl::Time deadline, Fn&& fn) -> std::invoke_result_t<Fn, pqxx::read_transaction&>;

  // Runs `fn(pqxx::transaction_base&)` outside a transaction block: every
  // statement commits on its own, in one round trip (no BEGIN / COMMIT). For
  // work that is a single statement (atomic by itself). When the caller's
  // deadline is nearer than the session's statement_timeout it runs as a
  // Transaction instead (a nearer bound needs SET LOCAL).
  template <typename Fn>
  auto Autocommit(absl::Time deadline, Fn&& fn)
      -> std::invoke_result_t<Fn, pqxx::transaction_base&>;

  // SELECT 1 within `deadline`: OK when the database answers.
  absl::Status Ping(absl::Time deadline);

  // OK while the pool has a writable primary as far as its recent connection
  // outcomes tell (see above); UNAVAILABLE saying since when it has none.
  // No I/O: cheap enough to ask every few hundred milliseconds.
  [[nodiscard]] absl::Status PrimaryStatus() const;

  // Maps a libpqxx/std exception to a status (see the table above) and logs
  // the database's reason; the status's message never holds e.what().
  static absl::Status StatusFromException(const std::exception& e);

  [[nodiscard]] const PgPoolOptions& options() const { return options_; }

 private:
  struct Lease {
    std::unique_ptr<pqxx::connection> conn;
    bool reused = false;   // taken idle from the pool, not opened for this call
    bool standby = false;  // opened to a read-only server: used once, never pooled
  };
  absl::StatusOr<Lease> Acquire(absl::Time deadline);
  void Release(std::unique_ptr<pqxx::connection> conn, bool broken);
  // One outcome of looking for a writable primary: a connection opened to one
  // or a call completed on one (true), or an attempt that found none (false).
  // Lock-free in the common case (found, nothing failing).
  void NotePrimary(bool found);
  static bool IsReadOnlyError(const std::exception& e);
  // "SET LOCAL statement_timeout = N" when the deadline is nearer than `max`
  // (the session's value), else empty.
  static std::string StatementTimeoutSql(absl::Time deadline, absl::Duration max);

  template <typename Tx, typename Fn>
  auto Run(absl::Time deadline, Fn&& fn) -> std::invoke_result_t<Fn, Tx&>;

  // The watchdog: Watch() registers a leased connection until Unwatch(),
  // which says whether its socket was shut down because it hung.
  int64_t Watch(const pqxx::connection& conn, absl::Time deadline);
  bool Unwatch(int64_t id);
  void WatchdogLoop();
  struct Watched {
    int fd = -1;
    absl::Time at;
    bool fired = false;
  };

  const PgPoolOptions options_;
  std::string dsn_with_timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;     // connections that exist (idle + leased + being opened)
  int waiting_ = 0;  // callers waiting for a connection
  int in_use_ = 0;

  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  std::map<int64_t, Watched> watched_;
  int64_t next_watch_ = 0;
  bool stopping_ = false;
  std::atomic<int64_t> hung_{0};
  std::thread watchdog_;

  std::mutex primary_mu_;
  std::atomic<int> primary_failures_{0};  // attempts in a row that found no primary
  absl::Time primary_failing_since_ = absl::InfinitePast();
  std::atomic<bool> primary_ok_{true};
  std::atomic<int64_t> primary_lost_at_unix_ms_{0};
};

template <typename Tx, typename Fn>
auto PgPool::Run(absl::Time deadline, Fn&& fn) -> std::invoke_result_t<Fn, Tx&> {
  using Result = std::invoke_result_t<Fn, Tx&>;
  for (;;) {
    auto lease = Acquire(deadline);
    if (!lease.ok()) return Result(lease.status());
    pqxx::connection& conn = *lease->conn;
    bool broken = false;
    bool started = false;  // fn ran: the caller's work may have reached the server
    Result result = absl::UnknownError("transaction did not run");
    const int64_t watch = Watch(conn, deadline);
    try {
      Tx tx(conn);
      if (std::string sql = StatementTimeoutSql(deadline, options_.statement_timeout);
          !sql.empty()) {
        tx.exec0(sql);
      }
      started = true;
      result = fn(tx);
      bool ok;
      if constexpr (std::is_same_v<Result, absl::Status>) {
        ok = result.ok();
      } else {
        ok = result.ok();
      }
      if (ok) tx.commit();
    } catch (const pqxx::broken_connection& e) {
      broken = true;
      result = Result(StatusFromException(e));
    } catch (const std::exception& e) {
      // A write refused as read-only: the server is (now) a standby.
      const bool read_only = IsReadOnlyError(e);
      if (read_only) NotePrimary(false);
      broken = read_only || !conn.is_open();
      result = Result(StatusFromException(e));
    }
    const bool hung = Unwatch(watch);
    if (hung) {
      broken = true;
      result = Result(absl::DeadlineExceededError(
          "the database did not answer before the call's deadline; connection replaced"));
    }
    // The server answered on a primary connection: it is still the primary (a
    // primary becomes a standby only through a restart, which breaks it).
    if (!broken && !lease->standby) NotePrimary(true);
    const bool stale = broken && !hung && !started && lease->reused;
    Release(std::move(lease->conn), broken || lease->standby);
    // An idle connection that broke meanwhile (the server restarted or failed
    // over) fails before any of the caller's work was sent: try another. Each
    // pass drops one idle connection, so this ends with a fresh one at most.
    if (stale && absl::Now() < deadline) continue;
    return result;
  }
}

template <typename Fn>
auto PgPool::Transaction(absl::Time deadline, Fn&& fn) -> std::invoke_result_t<Fn, pqxx::work&> {
  return Run<pqxx::work>(deadline, std::forward<Fn>(fn));
}

template <typename Fn>
auto PgPool::ReadOnly(absl::Time deadline, Fn&& fn)
    -> std::invoke_result_t<Fn, pqxx::read_transaction&> {
  return Run<pqxx::read_transaction>(deadline, std::forward<Fn>(fn));
}

template <typename Fn>
auto PgPool::Autocommit(absl::Time deadline, Fn&& fn)
    -> std::invoke_result_t<Fn, pqxx::transaction_base&> {
  if (!StatementTimeoutSql(deadline, options_.statement_timeout).empty()) {
    return Run<pqxx::work>(deadline, std::forward<Fn>(fn));
  }
  return Run<pqxx::nontransaction>(deadline, std::forward<Fn>(fn));
}

}  // namespace genesis
