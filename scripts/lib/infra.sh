# shellcheck shell=bash
# Private PostgreSQL and Redis instances for run.sh and test.sh, each living in a state dir:
#   STATE_DIR/pg/{data,pg.log,initdb.log}  STATE_DIR/redis/{redis.pid,redis.log,appendonlydir}
#   STATE_DIR/ports.env                    KEY=PORT lines, so a second run reuses the same ports
# Sourced, not executed. Functions print errors on stderr and return non-zero; the callers
# run with `set -euo pipefail`, so a failure stops them.
# Persistence: GENESIS_PERSIST=1 (default) keeps Redis data in an append-only file;
# GENESIS_PERSIST=0 (tests) keeps nothing and also turns PostgreSQL fsync off for speed.

genesis__log() { echo "genesis: $*" >&2; }

# True while PID runs. Not `kill -0`: an exited child or an orphan that nobody reaps
# (PID 1 here may not reap) stays a zombie, and kill -0 succeeds on zombies.
genesis__alive() {
  local stat
  if [ -z "${1:-}" ] || ! read -r stat 2>/dev/null <"/proc/$1/stat"; then return 1; fi
  stat="${stat##*) }" # the state letter follows the command name in parentheses
  [ "${stat%% *}" != Z ]
}
genesis__dead() { ! genesis__alive "$1"; }

# Busy: any TCP socket on it, listening or connected.
genesis__port_busy() { [ -n "$(ss -tanH "sport = :$1")" ]; }

# genesis_pick_port [PORT_TO_AVOID...]: a port nothing listens on. Ports handed out but not
# yet bound by their future owner can be passed in to avoid giving them twice.
genesis_pick_port() {
  local port tries low high=45000
  # Below the kernel's ephemeral range: a port in it may be taken at any moment by an
  # outgoing connection (and a connected socket on a port makes a listener's bind fail).
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  [ "$low" -le 21000 ] || high=$((low - 1))
  for tries in $(seq 100); do
    port="$(shuf -i "20000-$high" -n 1)"
    case " $* " in *" $port "*) continue ;; esac
    genesis__port_busy "$port" || { echo "$port"; return 0; }
  done
  genesis__log "no free port found after $tries tries"
  return 1
}

genesis__port_get() { sed -n "s/^$2=\([0-9][0-9]*\)\$/\1/p" "$1/ports.env" 2>/dev/null | tail -1; }

genesis__port_set() {
  local file="$1/ports.env"
  { grep -v "^$2=" "$file" 2>/dev/null || true; echo "$2=$3"; } >"$file.tmp"
  mv "$file.tmp" "$file"
}

# genesis_port_for STATE_DIR KEY: the port remembered under KEY if it is still free, else a
# new one (never one remembered under another key), remembered for the next run.
genesis_port_for() {
  local port
  port="$(genesis__port_get "$1" "$2")"
  if [ -z "$port" ] || genesis__port_busy "$port"; then
    # shellcheck disable=SC2046  # one word per remembered port
    port="$(genesis_pick_port $(sed -n 's/^[A-Za-z0-9_]*=\([0-9][0-9]*\)$/\1/p' "$1/ports.env" 2>/dev/null))"
    genesis__port_set "$1" "$2" "$port"
  fi
  echo "$port"
}

# Waits up to $1 seconds for the command after it to succeed, polling every 50 ms.
genesis__poll() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# The newest installed major version, so a Debian upgrade does not break the scripts.
# shellcheck disable=SC2012  # the paths are Debian's fixed /usr/lib/postgresql/<N>/bin
genesis__pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

# PostgreSQL refuses to run as root: as root run its tools as `postgres`, otherwise as
# ourselves. From / because postgres may be unable to enter the caller's directory.
genesis__as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

genesis__pg_running() { # ABSOLUTE_STATE_DIR
  [ -f "$1/pg/data/postmaster.pid" ] && genesis__as_pg "$(genesis__pg_bin)/pg_ctl" status -D "$1/pg/data" >/dev/null 2>&1
}

# genesis_pg_start STATE_DIR [PORT]: exports GENESIS_PG_PORT and GENESIS_PG_DSN (database
# `genesis`, created if missing). Reuses a server already running from STATE_DIR.
genesis_pg_start() {
  local state pg bin port
  state="$(mkdir -p "$1" && cd "$1" && pwd)"
  pg="$state/pg"
  bin="$(genesis__pg_bin)"
  if [ "$(id -u)" -eq 0 ]; then
    install -d -o postgres -m 700 "$pg"
    runuser -u postgres -- test -w "$pg" || {
      genesis__log "user postgres cannot reach $pg: make its parent directories world-searchable"
      return 1
    }
  else
    install -d -m 700 "$pg"
  fi

  if [ ! -f "$pg/data/PG_VERSION" ]; then
    rm -rf "$pg/data" # a half-made cluster from an interrupted initdb
    genesis__as_pg "$bin/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$pg/initdb.log" 2>&1 || { genesis__log "initdb failed:"; tail -n 20 "$pg/initdb.log" >&2; return 1; }
  fi

  if genesis__pg_running "$state"; then
    port="$(sed -n 4p "$pg/data/postmaster.pid")" # line 4 of postmaster.pid is the port
  else
    port="${2:-$(genesis_port_for "$state" PG_PORT)}"
    local opts="-c listen_addresses=127.0.0.1 -p $port -k '$pg'"
    [ "${GENESIS_PERSIST:-1}" = 1 ] || opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    genesis__as_pg "$bin/pg_ctl" start -s -w -t 60 -D "$pg/data" -l "$pg/pg.log" -o "$opts" || {
      genesis__log "PostgreSQL did not start:"; tail -n 20 "$pg/pg.log" >&2; return 1
    }
  fi
  genesis__port_set "$state" PG_PORT "$port"

  local psql=("$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -tA)
  if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'genesis'")" ]; then
    "${psql[@]}" -c "CREATE DATABASE genesis"
  fi
  export GENESIS_PG_PORT="$port"
  export GENESIS_PG_DSN="postgresql://postgres@127.0.0.1:$port/genesis"
}

# genesis_pg_stop STATE_DIR: fast shutdown (rolls back open transactions); no-op if not running.
genesis_pg_stop() {
  local state
  state="$(cd "$1" 2>/dev/null && pwd)" || return 0 # absolute: pg_ctl runs from /
  genesis__pg_running "$state" || return 0
  genesis__as_pg "$(genesis__pg_bin)/pg_ctl" stop -s -w -t 60 -m fast -D "$state/pg/data"
}

genesis__redis_pid() {
  local pid
  pid="$(cat "$1/redis/redis.pid" 2>/dev/null)" || return 1
  # The pid must still be a redis-server, not a recycled pid.
  genesis__alive "$pid" && grep -q '^redis-server' "/proc/$pid/comm" 2>/dev/null && echo "$pid"
}

genesis__redis_pong() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }

# genesis_redis_start STATE_DIR [PORT]: exports GENESIS_REDIS_PORT and GENESIS_REDIS_URL.
# Reuses a server already running from STATE_DIR.
genesis_redis_start() {
  local state dir port=""
  state="$(mkdir -p "$1" && cd "$1" && pwd)"
  dir="$state/redis"
  mkdir -p "$dir"
  if genesis__redis_pid "$state" >/dev/null; then
    port="$(genesis__port_get "$state" REDIS_PORT)"
    [ -n "$port" ] || genesis_redis_stop "$state" # running, but on a port we forgot
  fi
  if [ -z "$port" ]; then
    port="${2:-$(genesis_port_for "$state" REDIS_PORT)}"
    local persist=(--appendonly yes --save '')
    [ "${GENESIS_PERSIST:-1}" = 1 ] || persist=(--appendonly no --save '')
    rm -f "$dir/redis.pid"
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --dir "$dir" \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "${persist[@]}"
  fi
  genesis__port_set "$state" REDIS_PORT "$port"
  # Loading a large append-only file can take a while; ping answers LOADING until done.
  genesis__poll 30 genesis__redis_pong "$port" || {
    genesis__log "Redis did not answer on port $port:"; tail -n 20 "$dir/redis.log" >&2; return 1
  }
  export GENESIS_REDIS_PORT="$port"
  export GENESIS_REDIS_URL="redis://127.0.0.1:$port"
}

# genesis_redis_stop STATE_DIR: SIGTERM is Redis's clean shutdown (flushes the append-only
# file, saves nothing else since --save ''); SIGKILL after 10 s; no-op if not running.
genesis_redis_stop() {
  local pid
  pid="$(genesis__redis_pid "$1")" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  genesis__poll 10 genesis__dead "$pid" || kill -KILL "$pid" 2>/dev/null || true
}
