// Schema migrations: each service owns one PostgreSQL schema and a numbered
// list of SQL files (services/<svc>/migrations/NNNN_name.sql) compiled into its
// binary. ApplyMigrations() creates the schema and its `schema_migrations`
// table, takes an advisory lock keyed by the schema (so replicas starting
// together apply each file once), applies the missing files in order, each in
// its own transaction (search_path set to the schema, so unqualified names
// land in it), and refuses to start when an applied file was edited.
//
// A process that does not migrate (--migrate=false: a release Job or another
// replica does it) checks instead that the schema is not older than its code
// (CheckSchemaCurrent): the highest version in `schema_migrations` must be at
// least the highest version compiled in. A newer schema (a replica rolled
// back after a release migrated) is accepted: migrations only add.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace genesis {

struct Migration {
  int version = 0;
  std::string name;  // file name, e.g. "0001_init.sql"
  std::string sql;
};

// FNV-1a 64 of the SQL text, hex; stored to detect edited migrations.
std::string MigrationChecksum(const std::string& sql);

// Applies `migrations` (any order; sorted by version here) to `schema` over a
// dedicated connection to `dsn`. Returns how many were applied in `applied`.
absl::Status ApplyMigrations(const std::string& dsn, const std::string& schema,
                             std::vector<Migration> migrations, int* applied = nullptr);

// ApplyMigrations, waiting up to `wait` for PostgreSQL to be reachable: while
// the connection fails (UNAVAILABLE: the server is starting, its address does
// not resolve yet, it refuses connections) it logs one line per attempt and
// tries again (0.5 s, doubling to 5 s). Containers and pods start in any
// order; a service started before its database then starts once the database
// does instead of exiting. Any other error returns at once; so does the last
// connection error when `wait` has passed.
absl::Status ApplyMigrationsWhenReachable(const std::string& dsn, const std::string& schema,
                                          std::vector<Migration> migrations, absl::Duration wait,
                                          int* applied = nullptr);
class PgPool;

// The highest version of `migrations`, 0 when there are none: the schema
// version this build needs.
int LatestMigrationVersion(const std::vector<Migration>& migrations);

// The highest version recorded in `schema`.schema_migrations, 0 when the
// schema or the table does not exist yet. Errors: the pool's (UNAVAILABLE,
// DEADLINE_EXCEEDED, ...) when the database cannot be asked by `deadline`.
absl::StatusOr<int> SchemaVersion(PgPool& pool, const std::string& schema, absl::Time deadline);

// OK when `schema` is at version `needed` or newer (its version in *version);
// FAILED_PRECONDITION "schema <schema> is at version V, this build needs N:
// not ready until migrations are applied (run with --migrate or
// --migrate_only)" when older; SchemaVersion's error when it cannot be read.
absl::Status CheckSchemaCurrent(PgPool& pool, const std::string& schema, int needed,
                                absl::Time deadline, int* version = nullptr);

}  // namespace genesis
