# Shared by the fault scenarios (sourced after ../e2e/lib.sh and ../e2e/harness.sh).
#
#   fault_redis_start NAME [ARGS]  a private redis-server under $WORK/NAME (REDIS_PORT, REDIS_PID,
#                                  REDIS_URL), extra server options ARGS (e.g. --replicaof H P);
#                                  stopped at exit. Private, so SIGSTOP/kill of it touches no
#                                  other test.
#   fault_pg_start NAME            a private PostgreSQL cluster under $WORK/NAME (PG_PORT, PG_DIR,
#                                  PG_DSN of its `postgres` database); stopped at exit. For
#                                  restarts: fault_pg_restart MODE (fast|immediate) [DOWN_S].
#   fault_report SCENARIO k=v ...  one summary line: `# fault SCENARIO: acknowledged=… lost=…
#                                  duplicated=… codes=… recovery_s=…` (whatever the scenario
#                                  measured), printed for the log and CI.
#   fault_free_port                a free loopback port
#   fault_now_ms                   milliseconds since the epoch
# Every scenario fails on any loss, any unexpected duplicate, any INTERNAL, any hang.

FAULT_CLEANUPS=()
fault_at_exit() { FAULT_CLEANUPS+=("$1"); }
# Runs before the harness stops the servers it started (it calls e2e_before_cleanup).
e2e_before_cleanup() {
  local i
  for ((i = ${#FAULT_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${FAULT_CLEANUPS[$i]}" || true; done
}

fault_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
fault_now_ms() { date +%s%3N; }

fault_redis_start() {
  local dir="$WORK/$1"
  mkdir -p "$dir"
  REDIS_PORT="$(fault_free_port)"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "${@:2}" \
    >/dev/null
  local deadline=$((SECONDS + 10))
  until [ -s "$dir/redis.pid" ] && redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "redis did not start" >&2; return 1; }
    sleep 0.02
  done
  REDIS_PID="$(cat "$dir/redis.pid")"
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  # A stopped (SIGSTOP) server must be continued before it can be killed cleanly.
  fault_at_exit "kill -CONT $REDIS_PID 2>/dev/null; kill -KILL $REDIS_PID 2>/dev/null"
}

FAULT_PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
fault__pg() { (cd / && runuser -u postgres -- "$@"); }
fault__as_pg() { if [ "$(id -u)" = 0 ]; then fault__pg "$@"; else (cd / && "$@"); fi; }

fault_pg_start() {
  PG_DIR="$WORK/$1"
  install -d -m 700 "$PG_DIR"
  [ "$(id -u)" != 0 ] || chown postgres "$PG_DIR" "$WORK"
  PG_PORT="$(fault_free_port)"
  fault__as_pg "$FAULT_PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
    --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  fault__pg_ctl_start
  PG_DSN="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
  fault_at_exit "fault__as_pg $FAULT_PG_BIN/pg_ctl -D $PG_DIR/data -m immediate stop >/dev/null 2>&1"
}
fault__pg_ctl_start() {
  fault__as_pg "$FAULT_PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/pg.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c max_connections=200" \
    start >/dev/null
}
# fault_pg_restart MODE [DOWN_S]: stop with MODE (fast|immediate), stay down DOWN_S, start again.
fault_pg_restart() {
  fault__as_pg "$FAULT_PG_BIN/pg_ctl" -D "$PG_DIR/data" -m "$1" -w stop >/dev/null
  sleep "${2:-0}"
  fault__pg_ctl_start
}

fault_report() {
  local name="$1"
  shift
  echo "# fault $name: $*"
}
