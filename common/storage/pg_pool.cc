#include "common/storage/pg_pool.h"

#include <sys/socket.h>

#include <libpq-fe.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/base/reasons.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"

namespace genesis {

// libpq reads connect_timeout (whole seconds) from the DSN in either syntax.
std::string PgDsnWithConnectTimeout(const std::string& dsn, absl::Duration timeout) {
  if (absl::StrContains(dsn, "connect_timeout")) return dsn;
  const int64_t secs = std::max<int64_t>(1, absl::ToInt64Seconds(timeout));
  if (absl::StartsWith(dsn, "postgres://") || absl::StartsWith(dsn, "postgresql://")) {
    return absl::StrCat(dsn, absl::StrContains(dsn, "?") ? "&" : "?", "connect_timeout=", secs);
  }
  return absl::StrCat(dsn, dsn.empty() ? "" : " ", "connect_timeout=", secs);
}

namespace {

// What of a libpqxx error may be logged: its first line, without the
// "ERROR:" prefix, at most 200 bytes. Data errors (classes 22 and 23) echo the
// refused value after ": " (a customer's message in a malformed array literal,
// a key in a duplicate): only the kind of error before it is kept.
std::string LoggableError(const std::exception& e, const std::string& sqlstate) {
  absl::string_view what = e.what();
  what = what.substr(0, what.find('\n'));
  if (absl::ConsumePrefix(&what, "ERROR:")) what = absl::StripLeadingAsciiWhitespace(what);
  if (absl::StartsWith(sqlstate, "22") || absl::StartsWith(sqlstate, "23")) {
    what = what.substr(0, what.find(": "));
  }
  if (what.size() > 200) what = what.substr(0, 200);
  return std::string(what);
}

// The caller's message for a data error (class 22), by SQLSTATE.
const char* DataErrorMessage(const std::string& sqlstate) {
  if (sqlstate == "22021") return "a text value of the request is not valid UTF-8";
  if (sqlstate == "22P05") {
    return "a text value of the request holds a character the database cannot store (NUL, "
           "U+0000)";
  }
  if (sqlstate == "22001") return "a value of the request is too long";
  if (sqlstate == "22003") return "a number of the request is out of range";
  if (sqlstate == "22007" || sqlstate == "22008") return "a date or time of the request is invalid";
  if (sqlstate == "22P02") return "a value of the request is not in the expected format";
  return "the database refused a value of the request";
}

int CommaSeparatedCount(const char* value) {
  if (value == nullptr || *value == '\0') return 1;
  return static_cast<int>(std::count(value, value + std::strlen(value), ',')) + 1;
}

}  // namespace

absl::StatusOr<PgDsnInfo> ParsePgDsn(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    // libpq's reason quotes the DSN (and so perhaps its password): not repeated.
    if (error != nullptr) PQfreemem(error);
    return absl::InvalidArgumentError(
        "is not a libpq connection string (key=value pairs, or a postgresql:// URI)");
  }
  PgDsnInfo info;
  int hosts = 1, hostaddrs = 1, ports = 1;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    const std::string keyword = o->keyword;
    if (keyword == "host") hosts = CommaSeparatedCount(o->val);
    if (keyword == "hostaddr") hostaddrs = CommaSeparatedCount(o->val);
    if (keyword == "port") ports = CommaSeparatedCount(o->val);
    if (keyword == "target_session_attrs" && o->val != nullptr) info.target_session_attrs = o->val;
  }
  PQconninfoFree(options);
  info.hosts = std::max(hosts, hostaddrs);
  if (ports != 1 && ports != info.hosts) {
    return absl::InvalidArgumentError(absl::StrCat("lists ", info.hosts, " server(s) but ", ports,
                                                   " ports: give one port, or one per server"));
  }
  static const char* const kAttrs[] = {"",        "any",     "read-write",    "read-only",
                                       "primary", "standby", "prefer-standby"};
  if (std::find(std::begin(kAttrs), std::end(kAttrs), info.target_session_attrs) ==
      std::end(kAttrs)) {
    return absl::InvalidArgumentError(
        "target_session_attrs must be one of any, read-write, read-only, primary, standby, "
        "prefer-standby (read-write to find the primary among several servers)");
  }
  return info;
}

bool PgDsnFindsThePrimary(const PgDsnInfo& info) {
  return info.hosts <= 1 || info.target_session_attrs == "read-write" ||
         info.target_session_attrs == "primary";
}

PgPool::PgPool(PgPoolOptions options, MetricsRegistry* registry)
    : options_(std::move(options)),
      dsn_with_timeout_(PgDsnWithConnectTimeout(options_.dsn, options_.connect_timeout)) {
  if (auto info = ParsePgDsn(options_.dsn); info.ok() && !PgDsnFindsThePrimary(*info)) {
    Logger("pg")->warn(
        "pool {}: the DSN lists {} servers without target_session_attrs=read-write: new "
        "connections may land on a standby, whose writes then fail UNAVAILABLE (fine only when "
        "every server listed leads to the primary, e.g. several PgBouncers)",
        options_.name, info->hosts);
  }
  watchdog_ = std::thread([this] { WatchdogLoop(); });
  if (registry == nullptr) return;
  registry->AddCallbackGauge("genesis_pg_pool_primary_up{pool=\"" + options_.name + "\"}",
                             "1 while the pool's recent connection outcomes show a writable "
                             "PostgreSQL primary (what readiness follows), else 0.",
                             [this] { return primary_ok_.load() ? 1.0 : 0.0; });
  registry->AddCallbackGauge("genesis_pg_pool_hung_total{pool=\"" + options_.name + "\"}",
                             "PostgreSQL connections shut down because they did not answer "
                             "before their caller's deadline.",
                             [this] { return static_cast<double>(hung_.load()); });
  const std::string suffix = "{pool=\"" + options_.name + "\"}";
  registry->AddCallbackGauge("genesis_pg_pool_size" + suffix,
                             "Maximum connections in the PostgreSQL pool.",
                             [this] { return options_.size; });
  registry->AddCallbackGauge("genesis_pg_pool_open" + suffix, "Open PostgreSQL connections.",
                             [this] {
                               std::lock_guard<std::mutex> lock(mu_);
                               return static_cast<double>(open_);
                             });
  registry->AddCallbackGauge("genesis_pg_pool_in_use" + suffix,
                             "PostgreSQL connections leased to callers.", [this] {
                               std::lock_guard<std::mutex> lock(mu_);
                               return static_cast<double>(in_use_);
                             });
  registry->AddCallbackGauge("genesis_pg_pool_waiting" + suffix,
                             "Callers waiting for a PostgreSQL connection.", [this] {
                               std::lock_guard<std::mutex> lock(mu_);
                               return static_cast<double>(waiting_);
                             });
}

PgPool::~PgPool() {
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    stopping_ = true;
  }
  watch_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

int64_t PgPool::Watch(const pqxx::connection& conn, absl::Time deadline) {
  std::lock_guard<std::mutex> lock(watch_mu_);
  const int64_t id = next_watch_++;
  const bool earliest =
      watched_.empty() || deadline + options_.hang_margin < std::min_element(
                                                                watched_.begin(), watched_.end(),
                                                                [](const auto& a, const auto& b) {
                                                                  return a.second.at < b.second.at;
                                                                })
                                                                ->second.at;
  watched_[id] = Watched{conn.sock(), deadline + options_.hang_margin, false};
  if (earliest) watch_cv_.notify_one();
  return id;
}

bool PgPool::Unwatch(int64_t id) {
  std::lock_guard<std::mutex> lock(watch_mu_);
  auto it = watched_.find(id);
  if (it == watched_.end()) return false;
  const bool fired = it->second.fired;
  watched_.erase(it);
  return fired;
}

void PgPool::WatchdogLoop() {
  std::unique_lock<std::mutex> lock(watch_mu_);
  while (!stopping_) {
    absl::Time next = absl::InfiniteFuture();
    const absl::Time now = absl::Now();
    for (auto& [id, w] : watched_) {
      if (w.fired) continue;
      if (w.at <= now) {
        // The socket is shut down, not closed: libpq still owns the fd, and
        // its blocked read now returns at once with a broken connection.
        w.fired = true;
        if (w.fd >= 0) ::shutdown(w.fd, SHUT_RDWR);
        ++hung_;
        Logger("pg")->warn(
            "pool {}: a connection did not answer {} after its caller's deadline; "
            "shutting it down",
            options_.name, absl::FormatDuration(options_.hang_margin));
      } else {
        next = std::min(next, w.at);
      }
    }
    if (next == absl::InfiniteFuture()) {
      watch_cv_.wait(lock);
    } else {
      watch_cv_.wait_until(lock, absl::ToChronoTime(next));
    }
  }
}

std::string PgPool::StatementTimeoutSql(absl::Time deadline, absl::Duration max) {
  const absl::Duration left = deadline - absl::Now();
  if (left >= max) return "";  // the session's statement_timeout is `max`
  const int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(left));
  return absl::StrCat("SET LOCAL statement_timeout = ", ms);
}

absl::StatusOr<PgPool::Lease> PgPool::Acquire(absl::Time deadline) {
  const absl::Time wait_until = std::min(deadline, absl::Now() + options_.acquire_timeout);
  std::unique_lock<std::mutex> lock(mu_);
  ++waiting_;
  for (;;) {
    if (!idle_.empty()) {
      Lease lease{std::move(idle_.back()), true, false};
      idle_.pop_back();
      --waiting_;
      ++in_use_;
      return lease;
    }
    if (open_ < options_.size) break;
    if (cv_.wait_until(lock, absl::ToChronoTime(wait_until)) == std::cv_status::timeout &&
        idle_.empty() && open_ >= options_.size) {
      --waiting_;
      if (wait_until >= deadline) {
        return absl::DeadlineExceededError(
            "deadline passed while waiting for a database connection");
      }
      return WithReason(absl::UnavailableError(absl::StrCat("all ", options_.size,
                                                            " database connections are busy; "
                                                            "retry later")),
                        reasons::kDatabaseUnavailable);
    }
  }
  --waiting_;
  ++open_;
  ++in_use_;
  lock.unlock();
  try {
    auto conn = std::make_unique<pqxx::connection>(dsn_with_timeout_);
    // A broken connection must surface as broken_connection (and be dropped),
    // not be reopened silently by libpqxx without the session's settings
    // below and behind the watchdog's back (another socket).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    conn->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    bool standby;
    {
      // The session's bound (transactions with less time left lower it, Run)
      // and whether this is a primary, in the one round trip it always took.
      pqxx::nontransaction tx(*conn);
      auto row = tx.exec1(
          absl::StrCat("SELECT set_config('statement_timeout', '",
                       std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.statement_timeout)),
                       "', false), pg_is_in_recovery()"));
      standby = row[1].as<bool>();
    }
    // A standby (a single-server DSN, or one without target_session_attrs)
    // still serves this call's reads (writes fail UNAVAILABLE, 25006); it is
    // not pooled (Run), so the next call looks for the primary again.
    NotePrimary(!standby);
    return Lease{std::move(conn), false, standby};
  } catch (const std::exception& e) {
    lock.lock();
    --open_;
    --in_use_;
    lock.unlock();
    cv_.notify_one();
    NotePrimary(false);
    // The reason (host, port, role) is the operator's: logged, not returned.
    Logger("pg")->warn("pool {}: cannot connect to the database: {}", options_.name,
                       LoggableError(e, ""));
    return WithReason(absl::UnavailableError("the database is unavailable; retry later"),
                      reasons::kDatabaseUnavailable);
  }
}

void PgPool::NotePrimary(bool found) {
  if (options_.unready_after_failures <= 0) return;
  if (found && primary_failures_.load(std::memory_order_relaxed) == 0 &&
      primary_ok_.load(std::memory_order_relaxed)) {
    return;
  }
  std::lock_guard<std::mutex> lock(primary_mu_);
  if (found) {
    primary_failures_ = 0;
    primary_failing_since_ = absl::InfinitePast();
    if (!primary_ok_.exchange(true)) {
      Logger("pg")->info("pool {}: connected to a writable primary again", options_.name);
    }
    return;
  }
  if (primary_failures_.fetch_add(1) == 0) primary_failing_since_ = absl::Now();
  if (primary_failures_ >= options_.unready_after_failures && primary_ok_.load()) {
    primary_lost_at_unix_ms_ = absl::ToUnixMillis(primary_failing_since_);
    primary_ok_ = false;
    Logger("pg")->warn("pool {}: no writable primary: {} connection attempts in a row found none",
                       options_.name, primary_failures_.load());
  }
}

absl::Status PgPool::PrimaryStatus() const {
  if (primary_ok_.load()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "no writable PostgreSQL primary for ",
      absl::FormatDuration(absl::Trunc(
          absl::Now() - absl::FromUnixMillis(primary_lost_at_unix_ms_.load()), absl::Seconds(1))),
      " (", options_.unready_after_failures, "+ connection attempts in a row found none)"));
}

bool PgPool::IsReadOnlyError(const std::exception& e) {
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  return sql != nullptr && sql->sqlstate() == "25006";
}

void PgPool::Release(std::unique_ptr<pqxx::connection> conn, bool broken) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --in_use_;
    if (broken || !conn || !conn->is_open()) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  cv_.notify_one();
}

absl::Status PgPool::Ping(absl::Time deadline) {
  return ReadOnly(deadline, [](pqxx::read_transaction& tx) -> absl::Status {
    tx.exec1("SELECT 1");
    return absl::OkStatus();
  });
}

absl::Status PgPool::StatusFromException(const std::exception& e) {
  // The caller gets a stable message with the most specific code; the
  // database's own text (values, SQL, server addresses) only goes to the log,
  // where the line carries the request id.
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  const std::string sqlstate = sql != nullptr ? sql->sqlstate() : "";
  absl::Status status;
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    status = absl::UnavailableError("the database connection was lost; retry");
  } else if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    status = absl::UnavailableError(
        "the database connection was lost during a commit whose outcome is unknown; retry "
        "with the same request id");
  } else if (sqlstate == "25006") {
    status = absl::UnavailableError(
        "the database is read-only for now (a standby, or a failover under way); retry");
  } else if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    status = absl::AlreadyExistsError("a resource with the same key already exists");
  } else if (dynamic_cast<const pqxx::foreign_key_violation*>(&e) != nullptr ||
             dynamic_cast<const pqxx::restrict_violation*>(&e) != nullptr) {
    status = absl::FailedPreconditionError(
        "a resource the request refers to does not exist, or one still refers to it");
  } else if (dynamic_cast<const pqxx::check_violation*>(&e) != nullptr) {
    status = absl::InvalidArgumentError("a value of the request breaks a rule of the resource");
  } else if (dynamic_cast<const pqxx::not_null_violation*>(&e) != nullptr) {
    status = absl::InvalidArgumentError("a required value of the request is missing");
  } else if (dynamic_cast<const pqxx::data_exception*>(&e) != nullptr ||
             absl::StartsWith(sqlstate, "22")) {
    status = absl::InvalidArgumentError(DataErrorMessage(sqlstate));
  } else if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    status = absl::AbortedError("the transaction conflicted with another; retry");
  } else if (sqlstate == "57014") {
    status = absl::DeadlineExceededError("the database statement timed out");
  } else if (sqlstate == "55P03") {
    status = absl::AbortedError("a row or table the request needs is locked by another; retry");
  } else if (absl::StartsWith(sqlstate, "53")) {
    status = absl::UnavailableError(
        "the database is out of a resource (connections, memory or disk); retry later");
  } else if (absl::StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" ||
             sqlstate == "57P03") {
    status = absl::UnavailableError("the database is unavailable; retry later");
  } else if (sql != nullptr) {
    status = absl::InternalError("internal database error");
  } else {
    status = absl::InternalError("internal error in the database client");
  }
  Logger("pg")->warn("database error{}{} -> {}: {}", sqlstate.empty() ? "" : " SQLSTATE ", sqlstate,
                     absl::StatusCodeToString(status.code()), LoggableError(e, sqlstate));
  if (status.code() == absl::StatusCode::kUnavailable) {
    return WithReason(std::move(status), reasons::kDatabaseUnavailable);
  }
  return status;
}

}  // namespace genesis
