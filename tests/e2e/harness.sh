# Shared by the end-to-end scripts (sourced after lib.sh): requirements, a fresh database,
# servers started and stopped, and a cleanup that always runs.
#
#   e2e_require_pg                 GENESIS_TEST_PG_DSN and psql (sets PSQL), else skip
#   e2e_require_tools jq curl ...  each on PATH, else skip
#   e2e_bin VAR ENV_NAME RELPATH   VAR := $ENV_NAME, else $GENESIS_BUILD_DIR/RELPATH; skip if absent
#   e2e_init NAME                  WORK dir, EXIT/INT/TERM traps, ENV_UNSET, and the gateway
#                                  secret of the run: E2E_GATEWAY_SECRET (exported, registered
#                                  with e2e_secret) and E2E_ENV (GENESIS_GATEWAY_SECRET=it), given
#                                  to every server e2e_start starts (a command's own `env
#                                  GENESIS_GATEWAY_SECRET=...` or --gateway_secret wins), and
#                                  OPERATOR: buf curl arguments that call as an operator (subject
#                                  e2e-operator, role admin) forwarded with that secret, which
#                                  rpc.sh adds to administrative methods (access.proto)
#   e2e_fresh_db PREFIX            a new database (DB, DB_DSN), dropped at exit; admin_sql SQL
#   e2e_start VAR NAME SED -- CMD  starts CMD (caller's GENESIS_* settings removed), output in
#                                  $WORK/NAME.{out,err}; VAR := what SED prints from its first
#                                  matching stdout line (its address); E2E_PID := its pid
#   e2e_stop PID                   SIGTERM, up to 15 s, then SIGKILL; sets E2E_STOP_STATUS (exit
#                                  status, or "timeout") and E2E_STOP_SECONDS
#   e2e_wait_line FILE PID SED     the first line of FILE that SED prints (servers' addresses)
#   e2e_secret VALUE...            secrets (keys, tokens, webhook secrets) that no Genesis server
#                                  may log: at exit the stdout/stderr of every server started with
#                                  e2e_start (simulators excepted: they stand for the outside
#                                  party that holds the secret) is scanned, and a hit fails the
#                                  script
# A function e2e_before_cleanup, when the script defines one, runs first at exit (with the
# exit status). Servers are stopped in reverse start order at exit; when the script fails, the last lines
# of each server's stderr are printed.
# Exits 77 (ctest: skipped) when the servers or tools are missing.

e2e_skip() {
  echo "skipped: $*"
  exit 77
}

e2e_require_pg() {
  [ -n "${GENESIS_TEST_PG_DSN:-}" ] || e2e_skip "GENESIS_TEST_PG_DSN not set (run scripts/test.sh)"
  PSQL="${GENESIS_PSQL:-$(command -v psql || true)}"
  if [ -z "$PSQL" ]; then
    # shellcheck disable=SC2012  # Debian's fixed /usr/lib/postgresql/<N>/bin
    PSQL="$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1)"
  fi
  if [ -z "$PSQL" ] || [ ! -x "$PSQL" ]; then e2e_skip "psql not found (set GENESIS_PSQL)"; fi
}

e2e_require_tools() {
  local tool
  for tool in "$@"; do command -v "$tool" >/dev/null || e2e_skip "$tool not found"; done
}

e2e_bin() {
  local var="$1" env_name="$2" rel="$3" path
  path="${!env_name:-}"
  if [ -z "$path" ] && [ -n "${GENESIS_BUILD_DIR:-}" ]; then path="$GENESIS_BUILD_DIR/$rel"; fi
  [ -n "$path" ] || e2e_skip "set $env_name or GENESIS_BUILD_DIR"
  [ -x "$path" ] || e2e_skip "binary not found at $path (build it first)"
  printf -v "$var" '%s' "$path"
}

E2E_PIDS=()
E2E_NAMES=()
E2E_DB_CREATED=0
DB=""
E2E_SECRETS=()
e2e_secret() { E2E_SECRETS+=("$@"); }

# e2e_scan_secrets: 0 when no registered secret appears in a Genesis server's output.
e2e_scan_secrets() {
  local i name file secret leaks=0
  for i in "${!E2E_NAMES[@]}"; do
    name="${E2E_NAMES[$i]}"
    case "$name" in *sim*) continue ;; esac
    for file in "$WORK/$name.out" "$WORK/$name.err"; do
      [ -s "$file" ] || continue
      for secret in "${E2E_SECRETS[@]}"; do
        [ "${#secret}" -ge 8 ] || continue # too short to tell from ordinary text
        if grep -qF -- "$secret" "$file"; then
          echo "not ok - secrets never logged: $name's ${file##*.} holds a secret (${secret:0:4}…)"
          leaks=1
        fi
      done
    done
  done
  [ "$leaks" = 0 ] || return 1
  [ "${#E2E_SECRETS[@]}" = 0 ] || echo "ok - secrets never logged (${#E2E_SECRETS[@]} secrets, every server's output)"
}

e2e_init() {
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  trap e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # No GENESIS_* settings nor provider keys from the caller's environment reach the servers.
  ENV_UNSET=()
  local v
  for v in $(compgen -e); do
    case "$v" in
      GENESIS_* | *_API_KEY | OLLAMA_BASE_URL) ENV_UNSET+=(-u "$v") ;;
    esac
  done
  E2E_GATEWAY_SECRET="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  export E2E_GATEWAY_SECRET
  e2e_secret "$E2E_GATEWAY_SECRET"
  E2E_ENV=("GENESIS_GATEWAY_SECRET=$E2E_GATEWAY_SECRET")
  OPERATOR=(-H "x-genesis-gateway-auth: $E2E_GATEWAY_SECRET" -H "x-genesis-subject: e2e-operator"
    -H "x-genesis-roles: admin")
}

admin_sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$GENESIS_TEST_PG_DSN" -c "$1"; }

e2e_fresh_db() {
  DB="$1_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  case "$GENESIS_TEST_PG_DSN" in
    postgres://* | postgresql://*)
      local base query rest
      base="${GENESIS_TEST_PG_DSN%%\?*}"
      query="${GENESIS_TEST_PG_DSN#"$base"}"
      rest="${base#*://}"
      if [[ "$rest" == */* ]]; then base="${base%/*}"; fi
      DB_DSN="$base/$DB$query"
      ;;
    *) DB_DSN="$GENESIS_TEST_PG_DSN dbname=$DB" ;;
  esac
  admin_sql "CREATE DATABASE $DB"
  E2E_DB_CREATED=1
}

e2e_alive() {
  local stat
  [ -n "${1:-}" ] && read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat="${stat##*) }"
  [ "${stat%% *}" != Z ]
}

e2e_stop() {
  local pid="$1" start=$SECONDS deadline=$((SECONDS + 15))
  E2E_STOP_STATUS=0 E2E_STOP_SECONDS=0
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  while e2e_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
  if e2e_alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    E2E_STOP_STATUS=timeout
  else
    wait "$pid" 2>/dev/null || E2E_STOP_STATUS=$?
  fi
  E2E_STOP_SECONDS=$((SECONDS - start))
}

# e2e_wait_line FILE PID SED: the first line of FILE that SED prints, within
# E2E_START_TIMEOUT_S (60) seconds, while PID lives.
e2e_wait_line() {
  local deadline=$((SECONDS + ${E2E_START_TIMEOUT_S:-60})) got=""
  while [ "$SECONDS" -lt "$deadline" ]; do
    got="$(sed -n "$3" "$1" 2>/dev/null)"
    [ -z "$got" ] || break
    e2e_alive "$2" || break
    sleep 0.05
  done
  echo "$got"
}

e2e_start() {
  local var="$1" name="$2" expr="$3" addr
  shift 3
  [ "$1" = -- ] && shift
  env "${ENV_UNSET[@]}" "${E2E_ENV[@]}" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  E2E_PID=$!
  E2E_PIDS+=("$E2E_PID")
  E2E_NAMES+=("$name")
  addr="$(e2e_wait_line "$WORK/$name.out" "$E2E_PID" "$expr")"
  if [ -z "$addr" ]; then
    fail "$name starts" "$(cat "$WORK/$name.out")"
    exit 1
  fi
  printf -v "$var" '%s' "$addr"
}

e2e_cleanup() {
  local status=$? i
  trap - EXIT
  # A script that runs servers of its own (restarts, exit codes) stops them here.
  if declare -F e2e_before_cleanup >/dev/null; then e2e_before_cleanup "$status" || true; fi
  for ((i = ${#E2E_PIDS[@]} - 1; i >= 0; i--)); do e2e_stop "${E2E_PIDS[$i]}"; done
  if [ -n "${WORK:-}" ] && ! e2e_scan_secrets; then [ "$status" -ne 0 ] || status=1; fi
  if [ "$status" -ne 0 ]; then
    for i in "${!E2E_NAMES[@]}"; do
      [ -s "$WORK/${E2E_NAMES[$i]}.err" ] || continue
      echo "# last lines of the ${E2E_NAMES[$i]}'s stderr:"
      tail -n 30 "$WORK/${E2E_NAMES[$i]}.err" | sed 's/^/#   /'
    done
  fi
  if [ "$E2E_DB_CREATED" = 1 ]; then
    admin_sql "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 ||
      echo "# could not drop database $DB" >&2
  fi
  [ -z "${WORK:-}" ] || rm -rf "$WORK"
  exit "$status"
}
