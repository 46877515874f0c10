// --pg_dsn alone: the one shared flag the gateway's admin CLI reads (see
// server_flags.h).
#include "common/runtime/server_flags.h"

DEFINE_string(pg_dsn, "", "PostgreSQL connection string (libpq URI or key=value).");
