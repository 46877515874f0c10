// The shared flags every server process reads, defined in two small
// translation units so that a binary links (and its --help lists) only the
// flags it reads:
//   database_flags.cc  --pg_dsn: every program with a schema (the services,
//                      the gateway, the gateway's admin CLI)
//   server_flags.cc    what the services and the gateway both read
// The flags only the services read are defined in service_config.cc, beside
// ServiceConfigFromFlags, their one reader; --tls_* in tls.cc.
#pragma once

#include <gflags/gflags.h>

// database_flags.cc
DECLARE_string(pg_dsn);

// server_flags.cc
DECLARE_string(host);
DECLARE_int32(metrics_port);
DECLARE_string(log_format);
DECLARE_string(log_level);
DECLARE_int32(max_call_deadline_ms);
DECLARE_int32(max_message_bytes);
DECLARE_int32(shutdown_grace_ms);
DECLARE_string(gateway_secret);
DECLARE_int32(pg_pool_size);
DECLARE_bool(migrate);
DECLARE_int32(db_wait_s);
DECLARE_string(redis_url);
DECLARE_int32(redis_timeout_ms);
