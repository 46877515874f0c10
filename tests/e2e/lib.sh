# Shared by the end-to-end scripts (sourced, not run): TAP-like reporting.
# Each check prints `ok - DESC` or `not ok - DESC` with `# ` diagnostics; a
# script ends with `echo "$PASSED passed, $FAILED failed"`.
# jq filters are single-quoted on purpose: their $names are jq variables.
# shellcheck disable=SC2016

PASSED=0
FAILED=0
pass() {
  PASSED=$((PASSED + 1))
  echo "ok - $1"
}
# fail DESC [DIAGNOSTIC...]: diagnostics are printed as `# ` lines.
fail() {
  FAILED=$((FAILED + 1))
  echo "not ok - $1"
  shift
  local line l
  for line in "$@"; do
    while IFS= read -r l; do echo "#   $l"; done <<<"$line"
  done
}

# check DESC COMMAND...: passes when COMMAND succeeds.
check() {
  local desc="$1"
  shift
  if "$@"; then pass "$desc"; else fail "$desc" "failed: $*"; fi
}

# check_eq DESC WANT GOT
check_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want: $2" "got:  $3"; fi
}

# jq_true JSON [jq args...] FILTER: the filter (last argument) is true on JSON.
jq_true() {
  local json="$1"
  shift
  [ "$(jq -r "$@" <<<"$json" 2>/dev/null)" = true ]
}

# check_jq DESC JSON [jq args...] FILTER: passes when FILTER yields true, e.g.
#   check_jq "has the name" "$R" --arg n "$A" '.name == $n'
check_jq() {
  local desc="$1" json="$2"
  shift 2
  if jq_true "$json" "$@"; then
    pass "$desc"
  else
    fail "$desc" "jq ${*@Q}" "on: $(head -c 1500 <<<"$json")"
  fi
}


# --------------------------------------------------------------------------
# Set-up shared by the scripts that start service binaries.

skip() {
  echo "skipped: $*"
  exit 77
}

# find_psql: sets PSQL (GENESIS_PSQL, else on PATH, else Debian's newest) or skips.
find_psql() {
  PSQL="${GENESIS_PSQL:-$(command -v psql || true)}"
  if [ -z "$PSQL" ]; then
    # shellcheck disable=SC2012  # Debian's fixed /usr/lib/postgresql/<N>/bin
    PSQL="$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1)"
  fi
  if [ -z "$PSQL" ] || [ ! -x "$PSQL" ]; then skip "psql not found (set GENESIS_PSQL)"; fi
}

# find_bin ENV_NAME NAME REL_PATH: sets BIN to $ENV_NAME, else $GENESIS_BUILD_DIR/REL_PATH;
# skips when neither is set, fails (exit 1) when the binary is not built.
find_bin() {
  BIN="${!1:-}"
  if [ -z "$BIN" ]; then
    [ -n "${GENESIS_BUILD_DIR:-}" ] || skip "neither $1 nor GENESIS_BUILD_DIR is set"
    BIN="$GENESIS_BUILD_DIR/$3"
  fi
  if [ ! -x "$BIN" ]; then
    echo "not ok - $2 binary not found at $BIN (build it first)"
    echo "0 passed, 1 failed"
    exit 1
  fi
}

# fresh_database_dsn: picks a new database name DB and its DSN DB_DSN on the
# server of GENESIS_TEST_PG_DSN (the caller creates and drops it).
fresh_database_dsn() {
  DB="e2e_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  case "$GENESIS_TEST_PG_DSN" in
    postgres://* | postgresql://*)
      local base="${GENESIS_TEST_PG_DSN%%\?*}" query rest
      query="${GENESIS_TEST_PG_DSN#"$base"}"
      rest="${base#*://}"
      if [[ "$rest" == */* ]]; then base="${base%/*}"; fi
      DB_DSN="$base/$DB$query"
      ;;
    *) DB_DSN="$GENESIS_TEST_PG_DSN dbname=$DB" ;; # key=value: the last dbname wins
  esac
}
admin_sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$GENESIS_TEST_PG_DSN" -c "$1"; }
db_sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$DB_DSN" -c "$1"; }

# True while PID runs; an exited child stays a zombie until waited for.
alive() {
  local stat
  [ -n "${1:-}" ] && read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat="${stat##*) }"
  [ "${stat%% *}" != Z ]
}
