# Replicas of Genesis services for the scale-out tests (sourced after lib.sh, harness.sh and
# ../faults/lib.sh): each replica keeps its ports across restarts, as a pod keeps its address
# behind a Service, so the gateway and the other services find it again.
#
#   replica_define NAME BIN ARGS...  a replica NAME of the service BIN (its gRPC and metrics
#                                    ports fixed now: REPLICA_ADDR[NAME] host:port,
#                                    REPLICA_OPS[NAME] http://host:port); ARGS are its flags
#                                    besides the ports (an `env K=V ...` prefix may come first:
#                                    replica_define NAME env K=V BIN ARGS...)
#   replica_start NAME               starts it (again), waits for its address line, then for
#                                    /readyz 200 (30 s); REPLICA_PID[NAME]
#   replica_kill9 NAME               kill -9, reaped
#   replica_term NAME                SIGTERM, waits for the exit (30 s, then kill -9):
#                                    REPLICA_EXIT[NAME] (its status, or "timeout"),
#                                    REPLICA_STOP_MS[NAME]
#   replica_calls NAME               gRPC calls it has handled since it started (its metrics)
#   replica_targets NAME...          "ipv4:h:p,h:p" over those replicas (a mesh channel target)
# Every replica still running is stopped at exit. Output goes to $WORK/NAME.{out,err}
# (appended across restarts).

# A free port below the kernel's ephemeral range: a port from that range may be taken, while a
# replica is down, as the local end of some outgoing connection, and its restart would fail.
replica__port() {
  python3 -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
while True:
    port = random.randrange(min(20000, low // 2), low)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(port)
        break
    except OSError:
        pass
    finally:
        s.close()'
}

declare -A REPLICA_CMD REPLICA_ADDR REPLICA_OPS REPLICA_PID REPLICA_EXIT REPLICA_STOP_MS
REPLICA_NAMES=()
fault_at_exit 'replica__stop_all'

replica_define() {
  local name="$1" grpc metrics
  shift
  grpc="$(replica__port)"
  metrics="$(replica__port)"
  REPLICA_ADDR[$name]="127.0.0.1:$grpc"
  REPLICA_OPS[$name]="http://127.0.0.1:$metrics"
  REPLICA_CMD[$name]="$(printf '%q ' "$@") --grpc_port=$grpc --metrics_port=$metrics"
  REPLICA_PID[$name]=""
  REPLICA_NAMES+=("$name")
}

replica_start() {
  local name="$1" line deadline
  : >"$WORK/$name.out"
  # exec: the pid is the server's own, so a signal reaches it.
  eval "exec env ${ENV_UNSET[*]} ${E2E_ENV[*]@Q} ${REPLICA_CMD[$name]}" \
    >"$WORK/$name.out" 2>>"$WORK/$name.err" &
  REPLICA_PID[$name]=$!
  line="$(e2e_wait_line "$WORK/$name.out" "${REPLICA_PID[$name]}" '/^genesis-[a-z-]* grpc=/p')"
  if [ -z "$line" ]; then
    fail "replica $name starts" "$(tail -n 20 "$WORK/$name.err")"
    exit 1
  fi
  deadline=$((SECONDS + 30))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${REPLICA_OPS[$name]}/readyz")" = 200 ]; do
    if [ "$SECONDS" -ge "$deadline" ] || ! e2e_alive "${REPLICA_PID[$name]}"; then
      fail "replica $name turns ready" "$(tail -n 20 "$WORK/$name.err")"
      exit 1
    fi
    sleep 0.05
  done
}

replica_kill9() {
  local pid="${REPLICA_PID[$1]}"
  [ -n "$pid" ] || return 0
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  REPLICA_PID[$1]=""
}

replica_term() {
  local name="$1" pid="${REPLICA_PID[$1]}" t0 deadline status=0
  [ -n "$pid" ] || return 0
  t0="$(fault_now_ms)"
  deadline=$((SECONDS + 30))
  kill -TERM "$pid" 2>/dev/null || true
  while e2e_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.02; done
  if e2e_alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    status=timeout
  else
    wait "$pid" 2>/dev/null || status=$?
  fi
  REPLICA_EXIT[$name]="$status"
  REPLICA_STOP_MS[$name]=$(($(fault_now_ms) - t0))
  REPLICA_PID[$name]=""
}

replica_calls() {
  curl -s --max-time 5 "${REPLICA_OPS[$1]}/metrics" |
    awk '/^genesis_grpc_server_handled_total/ { n += $NF } END { print n + 0 }'
}

replica_targets() {
  local out="" name
  for name in "$@"; do out="${out:+$out,}${REPLICA_ADDR[$name]}"; done
  echo "ipv4:$out"
}

replica__stop_all() {
  local name
  for name in "${REPLICA_NAMES[@]}"; do
    [ -z "${REPLICA_PID[$name]}" ] || replica_term "$name"
  done
}
