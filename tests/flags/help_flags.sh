#!/usr/bin/env bash
# Each binary's --helpfull lists the flags it reads and not the shared flags it
# never reads (common/runtime/server_flags.h): the services list the PostgreSQL, Redis,
# gRPC and TLS flags; the gateway lists only the shared flags it reads (no
# --grpc_port, no worker pool); its admin CLI only --pg_dsn of them; the
# simulators none. A malformed --redis_url stops the catalog and the gateway at start-up.
#
# Binaries come from the environment (ctest sets them): GENESIS_<NAME>_BIN for
# CATALOG, REASONING, VOICE, LLM_ROUTER, BOT_MANAGER, GATEWAY, GATEWAY_ADMIN,
# CHANNEL_SIMULATOR, LLM_SIMULATOR, WYOMING_SIMULATOR; a binary that is not set
# is not checked. Prints `ok - ...` / `not ok - ...` per check.
set -uo pipefail

passed=0
failed=0

# flags_of BIN: the flag names its --helpfull lists, one per line.
flags_of() {
  "$1" --helpfull 2>&1 | sed -n 's/^    -\([a-z0-9_]*\) .*/\1/p' | sort -u
}

# check NAME VAR +flag... -flag...: +flag must be listed, -flag must not.
check() {
  local name="$1" var="$2"
  shift 2
  local bin="${!var:-}"
  if [ -z "$bin" ]; then
    echo "# $name: $var not set, skipped"
    return
  fi
  local listed
  listed="$(flags_of "$bin")"
  if [ -z "$listed" ]; then
    echo "not ok - $name: --helpfull listed no flags"
    failed=$((failed + 1))
    return
  fi
  local want flag
  for want in "$@"; do
    flag="${want:1}"
    if grep -qx "$flag" <<<"$listed"; then
      if [ "${want:0:1}" = "+" ]; then
        passed=$((passed + 1))
      else
        echo "not ok - $name lists --$flag, which it does not read"
        failed=$((failed + 1))
      fi
    elif [ "${want:0:1}" = "+" ]; then
      echo "not ok - $name does not list --$flag"
      failed=$((failed + 1))
    else
      passed=$((passed + 1))
    fi
  done
  echo "ok - $name: --helpfull checked ($#)"
}

service_flags=(+pg_dsn +pg_pool_size +pg_statement_timeout_ms +pg_unready_after_failures +redis_url +redis_breaker_failures
  +grpc_port +metrics_port +worker_threads +liveness_stall_ms +migrate +migrate_only
  +gateway_secret +log_level +tls_cert +tls_trusted_peers)
check genesis-catalog GENESIS_CATALOG_BIN "${service_flags[@]}" +purge_interval_s
check genesis-reasoning GENESIS_REASONING_BIN "${service_flags[@]}" +llm_router_address
check genesis-voice GENESIS_VOICE_BIN "${service_flags[@]}" +wyoming_probe_interval_s
check genesis-llm-router GENESIS_LLM_ROUTER_BIN "${service_flags[@]}" +accounting_mode
check genesis-bot-manager GENESIS_BOT_MANAGER_BIN "${service_flags[@]}" +inbox_workers

# Flags only the services read.
service_only=(-grpc_port -worker_threads -max_queued_calls -liveness_stall_ms -keepalive_time_ms
  -shutdown_drain_delay_ms -migrate_only -pg_statement_timeout_ms -pg_acquire_timeout_ms -pg_unready_after_failures
  -redis_pool_size -redis_breaker_failures -redis_breaker_open_ms)
check genesis-gateway GENESIS_GATEWAY_BIN "${service_only[@]}" +http_port +host +metrics_port \
  +pg_dsn +pg_pool_size +migrate +redis_url +redis_timeout_ms +gateway_secret +log_format \
  +max_call_deadline_ms +max_message_bytes +shutdown_grace_ms +tls_cert +jwt_issuer
check genesis-gateway-admin GENESIS_GATEWAY_ADMIN_BIN "${service_only[@]}" +pg_dsn +subject \
  +jwt_hs256_secret -host -metrics_port -redis_url -pg_pool_size -migrate -gateway_secret \
  -log_level -tls_cert -http_port

# The simulators read none of the shared flags (their --host is their own).
shared=("${service_only[@]}" -pg_dsn -pg_pool_size -migrate -redis_url -redis_timeout_ms
  -metrics_port -gateway_secret -log_format -log_level -max_call_deadline_ms -max_message_bytes
  -shutdown_grace_ms -tls_cert -tls_key -tls_ca)
check genesis-channel-simulator GENESIS_CHANNEL_SIMULATOR_BIN "${shared[@]}" +host +http_port
check genesis-llm-simulator GENESIS_LLM_SIMULATOR_BIN "${shared[@]}" +host +http_port
check genesis-wyoming-simulator GENESIS_WYOMING_SIMULATOR_BIN "${shared[@]}" +host +port

# A malformed --redis_url stops start-up (status 2) with a message that names the flag and
# the part at fault, and never the password in it (checked before anything is connected).
bad_redis_url() {
  local name="$1" var="$2"
  local bin="${!var:-}"
  [ -n "$bin" ] || return
  local out status=0
  out="$(env -u GENESIS_REDIS_URL -u GENESIS_PG_DSN "$bin" --pg_dsn=postgresql://127.0.0.1:1/x \
    --redis_url='redis-sentinel://:hunter2@127.0.0.1:26379' 2>&1 >/dev/null)" || status=$?
  if [ "$status" = 2 ] && [[ "$out" == *--redis_url* ]] && [[ "$out" == *"needs the master's name"* ]] &&
    [[ "$out" != *hunter2* ]]; then
    echo "ok - $name: a redis-sentinel:// URL without a master name stops start-up naming --redis_url"
    passed=$((passed + 1))
  else
    echo "not ok - $name: a redis-sentinel:// URL without a master name stops start-up naming --redis_url"
    echo "#   exit $status: $out"
    failed=$((failed + 1))
  fi
}
bad_redis_url genesis-catalog GENESIS_CATALOG_BIN
bad_redis_url genesis-gateway GENESIS_GATEWAY_BIN

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
