# Shared by the faults_infra_* scenarios (sourced after ./lib.sh).
#
#   infra_init NAME              requirements, WORK, the driver (DRIVER) and catalog binary
#   infra_catalog_start ARGS...  genesis-catalog on fixed free ports (the same after a
#                                restart), extra flags ARGS; sets CATALOG (host:port),
#                                OPS (http://host:port), CATALOG_PID
#   infra_catalog_kill9          kill -9 of the catalog
#   infra_metric NAME_AND_LABELS the value of one metric line on OPS (0 when absent)
#   infra_readyz                 the HTTP status of OPS/readyz
#   infra_summary FILE KEY       KEY's value on the driver's "summary" line in FILE

infra_init() {
  e2e_require_tools curl
  e2e_bin DRIVER GENESIS_FAULTS_INFRA_DRIVER tests/faults/faults_infra_driver
  e2e_bin CATALOG_BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog
  [ -n "$FAULT_PG_BIN" ] || e2e_skip "PostgreSQL binaries not found"
  command -v redis-server >/dev/null || e2e_skip "redis-server not found"
  e2e_init "$1"
  INFRA_GRPC_PORT="$(fault_free_port)"
  INFRA_METRICS_PORT="$(fault_free_port)"
  CATALOG="127.0.0.1:$INFRA_GRPC_PORT"
  OPS="http://127.0.0.1:$INFRA_METRICS_PORT"
  CATALOG_PID=""
  fault_at_exit 'infra__catalog_stop'
}

infra__catalog_stop() {
  [ -n "$CATALOG_PID" ] || return 0
  kill -TERM "$CATALOG_PID" 2>/dev/null || true
  local deadline=$((SECONDS + 15))
  while e2e_alive "$CATALOG_PID" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
  kill -KILL "$CATALOG_PID" 2>/dev/null || true
  wait "$CATALOG_PID" 2>/dev/null || true
  CATALOG_PID=""
}

infra_catalog_start() {
  : >"$WORK/catalog.out"
  env "${ENV_UNSET[@]}" "${E2E_ENV[@]}" "$CATALOG_BIN" --grpc_port="$INFRA_GRPC_PORT" \
    --metrics_port="$INFRA_METRICS_PORT" --log_format=text "$@" \
    >"$WORK/catalog.out" 2>>"$WORK/catalog.err" &
  CATALOG_PID=$!
  local line
  line="$(e2e_wait_line "$WORK/catalog.out" "$CATALOG_PID" '/^genesis-catalog grpc=/p')"
  if [ -z "$line" ]; then
    fail "the catalog starts" "$(tail -n 20 "$WORK/catalog.err")"
    exit 1
  fi
}

infra_catalog_kill9() {
  kill -KILL "$CATALOG_PID" 2>/dev/null || true
  wait "$CATALOG_PID" 2>/dev/null || true
  CATALOG_PID=""
}

infra_metric() {
  local v
  v="$(curl -s --max-time 5 "$OPS/metrics" | grep -v "^#" | grep -F "$1 " | head -1 | awk '{print $2}')"
  echo "${v:-0}"
}

infra_readyz() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$OPS/readyz"; }

infra_summary() { sed -n "s/^summary .*\b$2=\([^ ]*\).*/\1/p" "$1" | tail -1; }

# Milliseconds from microseconds, for reports.
infra_ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
