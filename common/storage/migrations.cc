#include "common/storage/migrations.h"

#include <algorithm>
#include <map>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"
#include "common/storage/pg_pool.h"

namespace genesis {

std::string MigrationChecksum(const std::string& sql) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : sql) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrFormat("%016x", h);
}

absl::Status ApplyMigrations(const std::string& dsn, const std::string& schema,
                             std::vector<Migration> migrations, int* applied) {
  if (applied != nullptr) *applied = 0;
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version == migrations[i - 1].version) {
      return absl::FailedPreconditionError(
          absl::StrCat("two migrations have version ", migrations[i].version, ": ",
                       migrations[i - 1].name, " and ", migrations[i].name));
    }
  }
  auto log = Logger("migrations");
  try {
    // Bounded like the pool's connects: a server of the DSN that does not answer
    // must not hold start-up forever.
    pqxx::connection conn(PgDsnWithConnectTimeout(dsn, absl::Seconds(5)));
    const std::string q_schema = conn.quote_name(schema);
    // Session-level lock: held across the per-file transactions below.
    {
      pqxx::nontransaction tx(conn);
      tx.exec_params("SELECT pg_advisory_lock(hashtext('genesis.migrations'), hashtext($1))",
                     schema);
    }
    struct Unlock {
      pqxx::connection& conn;
      const std::string& schema;
      ~Unlock() {
        try {
          pqxx::nontransaction tx(conn);
          tx.exec_params("SELECT pg_advisory_unlock(hashtext('genesis.migrations'), hashtext($1))",
                         schema);
        } catch (const std::exception&) {
          // The lock dies with the session anyway.
        }
      }
    } unlock{conn, schema};
    {
      pqxx::work tx(conn);
      tx.exec0("CREATE SCHEMA IF NOT EXISTS " + q_schema);
      tx.exec0("CREATE TABLE IF NOT EXISTS " + q_schema +
               ".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
               "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
      tx.commit();
    }
    std::map<int, std::pair<std::string, std::string>> done;  // version -> name, checksum
    {
      pqxx::read_transaction tx(conn);
      for (const auto& row :
           tx.exec("SELECT version, name, checksum FROM " + q_schema + ".schema_migrations")) {
        done[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
      }
    }
    for (const auto& m : migrations) {
      const std::string sum = MigrationChecksum(m.sql);
      if (auto it = done.find(m.version); it != done.end()) {
        if (it->second.second != sum) {
          return absl::FailedPreconditionError(
              absl::StrCat("migration ", m.name, " of schema ", schema,
                           " was edited after it was applied (checksum ", it->second.second,
                           " in the database, ", sum,
                           " now); add a new migration instead of editing an applied one"));
        }
        continue;
      }
      try {
        pqxx::work tx(conn);
        // Unqualified names in a migration belong to its schema.
        tx.exec0("SET LOCAL search_path TO " + q_schema + ", public");
        tx.exec0(m.sql);
        tx.exec_params("INSERT INTO " + q_schema +
                           ".schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                       m.version, m.name, sum);
        tx.commit();
      } catch (const std::exception& e) {
        // The server's reason is for the operator's log, like every database error text.
        log->error("schema {}: migration {} failed: {}", schema, m.name,
                   e.what());  // error text: log only
        return absl::FailedPreconditionError(absl::StrCat(
            "migration ", m.name, " of schema ", schema, " failed (the reason is in the log)"));
      }
      log->info("schema {}: applied migration {}", schema, m.name);
      if (applied != nullptr) ++*applied;
    }
  } catch (const std::exception& e) {
    return PgPool::StatusFromException(e);
  }
  return absl::OkStatus();
}

absl::Status ApplyMigrationsWhenReachable(const std::string& dsn, const std::string& schema,
                                          std::vector<Migration> migrations, absl::Duration wait,
                                          int* applied) {
  const absl::Time give_up = absl::Now() + wait;
  absl::Duration pause = absl::Milliseconds(500);
  for (int attempt = 1;; ++attempt) {
    absl::Status st = ApplyMigrations(dsn, schema, migrations, applied);
    if (st.code() != absl::StatusCode::kUnavailable) return st;
    const absl::Duration left = give_up - absl::Now();
    if (left <= absl::ZeroDuration()) return st;
    Logger("migrations")
        ->warn("schema {}: PostgreSQL not reachable yet (attempt {}: {}); trying again for {} s",
               schema, attempt, st.message(), absl::ToInt64Seconds(left));
    absl::SleepFor(std::min(pause, left));
    pause = std::min(pause * 2, absl::Seconds(5));
  }
}

int LatestMigrationVersion(const std::vector<Migration>& migrations) {
  int latest = 0;
  for (const auto& m : migrations) latest = std::max(latest, m.version);
  return latest;
}

absl::StatusOr<int> SchemaVersion(PgPool& pool, const std::string& schema, absl::Time deadline) {
  return pool.ReadOnly(deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<int> {
    const std::string table = tx.quote_name(schema) + ".schema_migrations";
    // to_regclass: NULL (not an error) while the schema or table is missing.
    if (tx.exec_params1("SELECT to_regclass($1) IS NULL", table)[0].as<bool>()) return 0;
    return tx.exec1("SELECT coalesce(max(version), 0) FROM " + table)[0].as<int>();
  });
}

absl::Status CheckSchemaCurrent(PgPool& pool, const std::string& schema, int needed,
                                absl::Time deadline, int* version) {
  GENESIS_ASSIGN_OR_RETURN(const int at, SchemaVersion(pool, schema, deadline));
  if (version != nullptr) *version = at;
  if (at >= needed) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "schema ", schema, " is at version ", at, ", this build needs ", needed,
      ": not ready until migrations are applied (run with --migrate or --migrate_only)"));
}

}  // namespace genesis
