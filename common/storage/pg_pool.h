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
// libpqxx exceptions become absl::Status here, once:
//   broken_connection -> UNAVAILABLE     query canceled (57014) -> DEADLINE_EXCEEDED
//   unique_violation  -> ALREADY_EXISTS  foreign_key/restrict   -> FAILED_PRECONDITION
//   check/not_null/data_exception (class 22) -> INVALID_ARGUMENT
//   serialization_failure/deadlock -> ABORTED                other -> INTERNAL
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
  // Label for metrics (e.g. the service name).
  std::string name = "default";
};

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

  // Maps a libpqxx/std exception to a status (see the table above) and logs
  // the database's reason; the status's message never holds e.what().
  static absl::Status StatusFromException(const std::exception& e);

  [[nodiscard]] const PgPoolOptions& options() const { return options_; }

 private:
  struct Lease {
    std::unique_ptr<pqxx::connection> conn;
  };
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Acquire(absl::Time deadline);
  void Release(std::unique_ptr<pqxx::connection> conn, bool broken);
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
};

template <typename Tx, typename Fn>
auto PgPool::Run(absl::Time deadline, Fn&& fn) -> std::invoke_result_t<Fn, Tx&> {
  using Result = std::invoke_result_t<Fn, Tx&>;
  auto conn = Acquire(deadline);
  if (!conn.ok()) return Result(conn.status());
  bool broken = false;
  Result result = absl::UnknownError("transaction did not run");
  const int64_t watch = Watch(**conn, deadline);
  try {
    Tx tx(**conn);
    if (std::string sql = StatementTimeoutSql(deadline, options_.statement_timeout); !sql.empty()) {
      tx.exec0(sql);
    }
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
    broken = !(*conn)->is_open();
    result = Result(StatusFromException(e));
  }
  if (Unwatch(watch)) {
    broken = true;
    result = Result(absl::DeadlineExceededError(
        "the database did not answer before the call's deadline; connection replaced"));
  }
  Release(std::move(*conn), broken);
  return result;
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
