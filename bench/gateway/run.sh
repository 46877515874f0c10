#!/usr/bin/env bash
# Benchmark: REST through genesis-gateway (wrk) vs direct gRPC (h2load) vs
# grpc-gateway 1.6.4 (Go, built offline from Debian's packages), all in front
# of the same genesis-catalog GetItem backend, in the same run. See README.md.
#
#   bench/gateway/run.sh
# Environment:
#   GENESIS_BUILD_DIR     build tree with genesis-gateway and genesis-catalog (default: build)
#   GENESIS_BENCH_OUT     where the Go peer and logs go (default: $GENESIS_BUILD_DIR/bench-gateway)
#   GENESIS_BENCH_PG_DSN  a PostgreSQL maintenance DSN to use (a fresh database is created and
#                         dropped); else private PostgreSQL/Redis are started under the out dir
#   GENESIS_BENCH_REDIS_URL  the Redis to use with GENESIS_BENCH_PG_DSN (optional)
#   BENCH_DURATION        seconds per measurement (default 10)
#   BENCH_CONNECTIONS     concurrent connections for the maximum-throughput runs (default 32)
#   BENCH_RATE_CLIENTS    clients of the fixed-rate runs (default 8)
#   BENCH_GATEWAY_ARGS    extra genesis-gateway flags (e.g. --io_threads=1)
# Needs: wrk, h2load (nghttp2-client), protoc, go + the Debian grpc-gateway packages
# (README.md lists them), curl, jq, cmp.
set -Eeuo pipefail
trap 'echo "bench/gateway: a command failed at line $LINENO" >&2' ERR

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUILD="$(cd "${GENESIS_BUILD_DIR:-$ROOT/build}" && pwd)"
OUT="${GENESIS_BENCH_OUT:-$BUILD/bench-gateway}"
DURATION="${BENCH_DURATION:-10}"
CONNS="${BENCH_CONNECTIONS:-32}"
RATE_CLIENTS="${BENCH_RATE_CLIENTS:-8}"
GATEWAY_BIN="$BUILD/gateway/genesis-gateway"
CATALOG_BIN="$BUILD/services/catalog/genesis-catalog"
for tool in wrk h2load protoc go curl jq cmp awk; do
  command -v "$tool" >/dev/null || { echo "bench/gateway: $tool is missing (see README.md)" >&2; exit 1; }
done
for bin in "$GATEWAY_BIN" "$CATALOG_BIN"; do
  [ -x "$bin" ] || { echo "bench/gateway: $bin is missing; build it first" >&2; exit 1; }
done
# shellcheck source-path=SCRIPTDIR source=../lib/figures.sh
source "$ROOT/bench/lib/figures.sh"
mkdir -p "$OUT"
log() { echo "bench/gateway: $*" >&2; }

# --------------------------------------------------------------------------
# 1. The Go peer, offline (GOPATH mode, Debian's /usr/share/gocode only)

GA=/usr/share/gocode/src/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis
PEER="$OUT/grpc-gateway-peer"
if [ ! -x "$PEER" ] || [ "$ROOT/bench/gateway/peer/main.go" -nt "$PEER" ] ||
  [ "$ROOT/proto/genesis/catalog/v1/catalog.proto" -nt "$PEER" ]; then
  log "building the grpc-gateway peer offline"
  rm -rf "$OUT/go"
  mkdir -p "$OUT/go/src/genesisbench/peer"
  # protoc-gen-go 1.3 needs the well-known types mapped to the 1.3-era Go packages.
  M="Mgoogle/protobuf/empty.proto=github.com/golang/protobuf/ptypes/empty"
  M="$M,Mgoogle/protobuf/field_mask.proto=google.golang.org/genproto/protobuf/field_mask"
  M="$M,Mgoogle/protobuf/struct.proto=github.com/golang/protobuf/ptypes/struct"
  M="$M,Mgoogle/protobuf/timestamp.proto=github.com/golang/protobuf/ptypes/timestamp"
  M="$M,Mgoogle/api/annotations.proto=google.golang.org/genproto/googleapis/api/annotations"
  protoc -I "$ROOT/proto" -I "$GA" -I /usr/include --go_out="plugins=grpc,$M:$OUT/go/src" \
    --grpc-gateway_out="logtostderr=true:$OUT/go/src" genesis/catalog/v1/catalog.proto
  cp "$ROOT/bench/gateway/peer/main.go" "$OUT/go/src/genesisbench/peer/"
  GO111MODULE=off GOPROXY=off GOFLAGS='' GOPATH="$OUT/go:/usr/share/gocode" GOCACHE="$OUT/gocache" \
    go build -o "$PEER" genesisbench/peer
fi

# --------------------------------------------------------------------------
# 2. PostgreSQL / Redis, the catalog, the two gateways

PIDS=()
DB=""
cleanup() {
  local status=$?
  trap - EXIT
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$DB" ]; then
    psql_admin "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ -z "${GENESIS_BENCH_PG_DSN:-}" ]; then
    genesis_redis_stop "$OUT/state" >/dev/null 2>&1 || true
    genesis_pg_stop "$OUT/state" >/dev/null 2>&1 || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck disable=SC2012  # Debian's fixed /usr/lib/postgresql/<N>/bin
PSQL="$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1)"
if [ -n "${GENESIS_BENCH_PG_DSN:-}" ]; then
  psql_admin() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$GENESIS_BENCH_PG_DSN" -c "$1"; }
  DB="gwbench_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
  psql_admin "CREATE DATABASE $DB"
  PG_DSN="${GENESIS_BENCH_PG_DSN%/*}/$DB"
  REDIS_URL="${GENESIS_BENCH_REDIS_URL:-}"
else
  # shellcheck source=../../scripts/lib/infra.sh
  source "$ROOT/scripts/lib/infra.sh"
  mkdir -p "$OUT/state"
  genesis_pg_start "$OUT/state"
  genesis_redis_start "$OUT/state"
  PG_DSN="$GENESIS_PG_DSN"
  REDIS_URL="$GENESIS_REDIS_URL"
fi

# first_line FILE PID SED_EXPR: the first line of FILE the expression prints, within 30 s.
first_line() {
  local deadline=$((SECONDS + 30)) got=""
  while [ "$SECONDS" -lt "$deadline" ]; do
    got="$(sed -n "$3" "$1")"
    [ -z "$got" ] || break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  echo "$got"
}
# Only the settings given here reach the servers.
ENV_UNSET=()
for v in $(compgen -e); do
  case "$v" in GENESIS_*) ENV_UNSET+=(-u "$v") ;; esac
done

# The bench's item type is created directly, as an operator forwarded with this secret
# (CreateItemType is administrative; the gateways run without auth).
SECRET="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
env "${ENV_UNSET[@]}" GENESIS_GATEWAY_SECRET="$SECRET" "$CATALOG_BIN" --grpc_port=0 \
  --metrics_port=0 --pg_dsn="$PG_DSN" ${REDIS_URL:+--redis_url="$REDIS_URL"} \
  >"$OUT/catalog.out" 2>"$OUT/catalog.err" &
PIDS+=($!)
read -r CATALOG METRICS <<<"$(first_line "$OUT/catalog.out" "${PIDS[-1]}" \
  's/^genesis-catalog grpc=\([0-9.]*:[0-9]*\) metrics=\([0-9.]*:[0-9]*\).*$/\1 \2/p')"
[ -n "$CATALOG" ] || { log "the catalog did not start"; cat "$OUT/catalog.err" >&2; exit 1; }

# shellcheck disable=SC2086  # BENCH_GATEWAY_ARGS is a list of flags
env "${ENV_UNSET[@]}" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 --auth=off \
  --rate_limits=false --backend="genesis.catalog.v1.CatalogService=$CATALOG" \
  ${BENCH_GATEWAY_ARGS:-} >"$OUT/gateway.out" 2>"$OUT/gateway.err" &
PIDS+=($!)
GATEWAY_PID=${PIDS[-1]}
GW="$(first_line "$OUT/gateway.out" "$GATEWAY_PID" 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/\1/p')"
[ -n "$GW" ] || { log "genesis-gateway did not start"; cat "$OUT/gateway.err" >&2; exit 1; }

"$PEER" --backend="$CATALOG" >"$OUT/peer.out" 2>"$OUT/peer.err" &
PIDS+=($!)
PEER_PID=${PIDS[-1]}
PEER_ADDR="$(first_line "$OUT/peer.out" "$PEER_PID" 's/^grpc-gateway http=\([0-9.]*:[0-9]*\)$/\1/p')"
[ -n "$PEER_ADDR" ] || { log "the grpc-gateway peer did not start"; cat "$OUT/peer.err" >&2; exit 1; }
log "catalog $CATALOG, genesis-gateway $GW, grpc-gateway $PEER_ADDR"

# --------------------------------------------------------------------------
# 3. One item; both gateways must answer it with the same bytes

deadline=$((SECONDS + 30))
until curl -sf "http://$GW/readyz" >/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] || { log "genesis-gateway never became ready"; exit 1; }
  sleep 0.1
done
"$ROOT/.genesis/tools/node_modules/.bin/buf" curl --protocol grpc --http2-prior-knowledge \
  -H "x-genesis-gateway-auth: $SECRET" -H "x-genesis-subject: bench" -H "x-genesis-roles: admin" \
  -d '{"item_type_id": "bench", "item_type": {"display_name": "Bench",
       "attributes": [{"name": "city", "kind": "ATTRIBUTE_KIND_STRING"}]}}' \
  "http://$CATALOG/genesis.catalog.v1.CatalogService/CreateItemType" >/dev/null
ITEM="$(curl -sf "http://$GW/v1/items" -H 'Content-Type: application/json' -d \
  '{"type": "bench", "title": "Apartamento na praia", "body": "Vista para o mar, 3 quartos.",
    "attributes": {"city": "Recife"}, "labels": {"lang": "pt"}}' | jq -r .name)"
PATH_GET="/v1/$ITEM"
curl -sf "http://$GW$PATH_GET" >"$OUT/genesis.json"
curl -sf "http://$PEER_ADDR$PATH_GET" >"$OUT/peer.json"
if cmp -s "$OUT/genesis.json" "$OUT/peer.json"; then
  SAME="identical bytes ($(wc -c <"$OUT/genesis.json") B)"
elif [ "$(jq -S . "$OUT/genesis.json")" = "$(jq -S . "$OUT/peer.json")" ]; then
  SAME="same JSON value, different bytes ($(wc -c <"$OUT/genesis.json") B vs $(wc -c <"$OUT/peer.json") B)"
else
  log "the two gateways answer differently:"
  diff <(jq -S . "$OUT/genesis.json") <(jq -S . "$OUT/peer.json") >&2 || true
  SAME="DIFFERENT JSON (see above)"
fi

# The gRPC request for h2load: the 5-byte frame header, then GetItemRequest{name = ITEM}.
python3 - "$ITEM" "$OUT/getitem.bin" <<'PY'
import struct, sys
name = sys.argv[1].encode()
msg = b"\x0a" + bytes([len(name)]) + name
open(sys.argv[2], "wb").write(b"\x00" + struct.pack(">I", len(msg)) + msg)
PY
GRPC_URL="http://$CATALOG/genesis.catalog.v1.CatalogService/GetItem"
H2_GRPC=(--header='content-type: application/grpc' --header='te: trailers' -d "$OUT/getitem.bin")

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# Non-OK GetItem statuses the catalog counted (h2load never reads grpc-status).
grpc_errors() {
  curl -s "http://$METRICS/metrics" | awk '/^genesis_grpc_server_handled_total/ &&
    /GetItem/ && !/code="OK"/ { split($0, a, " "); s += a[length(a)] } END { print s + 0 }'
}

# --------------------------------------------------------------------------
# 4. Idle memory, warm-up

sleep 3
IDLE_GW_KB="$(rss_kb "$GATEWAY_PID")"
IDLE_PEER_KB="$(rss_kb "$PEER_PID")"
wrk -t1 -c"$CONNS" -d2s "http://$GW$PATH_GET" >/dev/null
wrk -t1 -c"$CONNS" -d2s "http://$PEER_ADDR$PATH_GET" >/dev/null
h2load -t1 -c"$CONNS" -m1 -D 2 "${H2_GRPC[@]}" "$GRPC_URL" >/dev/null

# --------------------------------------------------------------------------
# 5. Maximum throughput (closed loop: each connection has one request in flight)

ERR0="$(grpc_errors)"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, clock ticks
HZ="$(getconf CLK_TCK)"
# wrk_run URL PID: "requests/s CPU-µs-per-request" (the CPU of process PID over the run, from
# /proc); non-2xx responses fail the run.
wrk_run() {
  local out t0 t1 n
  t0="$(ticks "$2")"
  out="$(wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$1")"
  t1="$(ticks "$2")"
  echo "$out" >>"$OUT/wrk.log"
  if grep -q "Non-2xx" <<<"$out"; then log "non-2xx responses from $1"; echo "$out" >&2; exit 1; fi
  n="$(awk '/requests in/ {print $1}' <<<"$out")"
  echo "$(awk '/^Requests\/sec/ {print int($2)}' <<<"$out")" \
    "$(awk -v d="$((t1 - t0))" -v hz="$HZ" -v n="$n" 'BEGIN {printf "%.0f", d * 1e6 / hz / n}')"
}
read -r MAX_GW CPU_GW <<<"$(wrk_run "http://$GW$PATH_GET" "$GATEWAY_PID")"
read -r MAX_PEER CPU_PEER <<<"$(wrk_run "http://$PEER_ADDR$PATH_GET" "$PEER_PID")"
H2OUT="$(h2load -t1 -c"$CONNS" -m1 -D "$DURATION" "${H2_GRPC[@]}" "$GRPC_URL")"
echo "$H2OUT" >>"$OUT/h2load.log"
MAX_GRPC="$(awk '/^finished in/ {gsub(/,/, ""); print int($4)}' <<<"$H2OUT")"

# --------------------------------------------------------------------------
# 6. Latency at half of genesis-gateway's maximum throughput (open loop, fixed rate)

RATE=$((MAX_GW / 2))
PER_CLIENT=$(((RATE + RATE_CLIENTS - 1) / RATE_CLIENTS))
# pct LOG P: the P-th percentile (ms) of h2load's per-request durations (3rd column, µs).
pct() {
  awk '{print $3}' "$1" | sort -n | awk -v p="$2" '{v[NR] = $1} END {
    i = int(NR * p / 100); if (i < 1) i = 1; printf "%.3f", v[i] / 1000 }'
}
rate_run() {  # NAME URL [h2load args...]
  local name="$1" url="$2"
  shift 2
  rm -f "$OUT/$name.rate.log"
  h2load -t1 -c"$RATE_CLIENTS" --rps="$PER_CLIENT" -D "$DURATION" --log-file="$OUT/$name.rate.log" \
    "$@" "$url" >"$OUT/$name.rate.out"
  local achieved
  achieved="$(awk '/^finished in/ {gsub(/,/, ""); print int($4)}' "$OUT/$name.rate.out")"
  echo "$achieved $(pct "$OUT/$name.rate.log" 50) $(pct "$OUT/$name.rate.log" 99)"
}
read -r RATE_GW P50_GW P99_GW <<<"$(rate_run genesis "http://$GW$PATH_GET" --h1)"
read -r RATE_PEER P50_PEER P99_PEER <<<"$(rate_run peer "http://$PEER_ADDR$PATH_GET" --h1)"
read -r RATE_GRPC P50_GRPC P99_GRPC <<<"$(rate_run grpc "$GRPC_URL" "${H2_GRPC[@]}")"
ERRORS=$(($(grpc_errors) - ERR0))
# Which codes (a CANCELLED or two is h2load cutting calls in flight when -D ends).
ERROR_CODES="$(curl -s "http://$METRICS/metrics" | awk '/^genesis_grpc_server_handled_total/ &&
  /GetItem/ && !/code="OK"/ { match($0, /code="[A-Z_]+"/); printf "%s=%s ", substr($0, RSTART + 6,
  RLENGTH - 7), $NF }')"
sleep 3
AFTER_GW_KB="$(rss_kb "$GATEWAY_PID")"
AFTER_PEER_KB="$(rss_kb "$PEER_PID")"

# --------------------------------------------------------------------------
# 7. Report

mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
sub_ms() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a - b}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
cat <<REPORT
genesis-gateway benchmark: GET $PATH_GET (Catalog GetItem), $(nproc) CPU(s), $(date -u +%FT%TZ)
  load: $DURATION s per run; maximum throughput with $CONNS connections (closed loop);
        latency at a fixed $RATE req/s ($RATE_CLIENTS clients x $PER_CLIENT req/s, open loop)
  responses of the two gateways: $SAME
  gRPC errors counted by the catalog during the runs: $ERRORS ${ERROR_CODES:+(since start: $ERROR_CODES)}

                         max req/s   @ rate req/s   p50 ms   p99 ms   RSS idle / after MB
  genesis-gateway (wrk)  $(printf '%9s' "$MAX_GW")   $(printf '%12s' "$RATE_GW")   $(printf '%6s' "$P50_GW")   $(printf '%6s' "$P99_GW")   $(mb "$IDLE_GW_KB") / $(mb "$AFTER_GW_KB")
  grpc-gateway 1.6.4     $(printf '%9s' "$MAX_PEER")   $(printf '%12s' "$RATE_PEER")   $(printf '%6s' "$P50_PEER")   $(printf '%6s' "$P99_PEER")   $(mb "$IDLE_PEER_KB") / $(mb "$AFTER_PEER_KB")
  direct gRPC (h2load)   $(printf '%9s' "$MAX_GRPC")   $(printf '%12s' "$RATE_GRPC")   $(printf '%6s' "$P50_GRPC")   $(printf '%6s' "$P99_GRPC")

  CPU per request at maximum throughput: genesis-gateway $CPU_GW µs, grpc-gateway $CPU_PEER µs ($(ratio "$CPU_GW" "$CPU_PEER")x; target <= 0.5x)
  throughput genesis-gateway / grpc-gateway: $(ratio "$MAX_GW" "$MAX_PEER")x   (target >= 2x)
  added latency over direct gRPC at $RATE req/s: p50 $(sub_ms "$P50_GW" "$P50_GRPC") ms (target <= 0.3), p99 $(sub_ms "$P99_GW" "$P99_GRPC") ms (target <= 2)
  genesis-gateway idle RSS: $(mb "$IDLE_GW_KB") MB (target <= 40)
REPORT
bench_figure "gateway: CPU per GetItem vs grpc-gateway (same catalog backend)" "$CPU_GW" "$CPU_PEER" \
  ratio_le 0.5 µs
bench_figure "gateway: GetItem req/s vs grpc-gateway (catalog backend)" "$MAX_GW" "$MAX_PEER" \
  ratio_ge 1.5 req/s
bench_figure "gateway: idle RSS" "$(mb "$IDLE_GW_KB")" "$(mb "$IDLE_PEER_KB")" le 40 MB
