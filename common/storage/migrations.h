// Schema migrations: each service owns one PostgreSQL schema and a numbered
// list of SQL files (services/<svc>/migrations/NNNN_name.sql) compiled into its
// binary. ApplyMigrations() creates the schema and its `schema_migrations`
// table, takes an advisory lock keyed by the schema (so replicas starting
// together apply each file once), applies the missing files in order, each in
// its own transaction (search_path set to the schema, so unqualified names
// land in it), and refuses to start when an applied file was edited.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
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

}  // namespace genesis
