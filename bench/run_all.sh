#!/usr/bin/env bash
# Every benchmark with its peer, in one run, and one table of the figures with their targets:
#
#   bench/run_all.sh                 # installs what is missing, builds, runs everything
#   bench/run_all.sh door gateway    # only those parts (names below)
#
# Parts, in the order they run: idle (bench/idle_rss.sh: the mesh's idle RSS), door
# (bench/door/run.sh: the OpenAI door vs Portkey), gateway (bench/gateway/run.sh: the REST
# gateway vs grpc-gateway), catalog (bench/run_catalog_bench.sh: search and GetItem at
# GENESIS_BENCH_ITEMS items, 1,000,000 by default, with the Xapian search index; the items and
# the index are kept and reused; its report is printed, its figures are not yet in the table),
# bots (bench/bot_manager/run.sh).
# Environment:
#   GENESIS_SKIP_INSTALL=1   do not run scripts/install-deps.sh (with --bench)
#   GENESIS_BENCH_SKIP_BUILD=1  do not build
#   GENESIS_BENCH_ITEMS      items of the catalog part (default 1000000)
#   GENESIS_BENCH_ALL_OUT    where the logs go (default build/bench-all/<time>)
# Each part prints its own report (kept in the out dir as <part>.log); the table at the end
# has one row per figure: ours, the peer's in the same run, the ratio, the target, met or not.
# A part that fails is reported as failed and the others still run; the exit status is 1
# then.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
ALL=(idle door gateway catalog bots)
PARTS=("$@")
[ "${#PARTS[@]}" -gt 0 ] || PARTS=("${ALL[@]}")
for p in "${PARTS[@]}"; do
  case " ${ALL[*]} " in *" $p "*) ;; *) echo "run_all: unknown part '$p' (parts: ${ALL[*]})" >&2; exit 2 ;; esac
done

if [ "${GENESIS_SKIP_INSTALL:-0}" != 1 ]; then
  scripts/install-deps.sh --bench || exit 1
fi
if [ "${GENESIS_BENCH_SKIP_BUILD:-0}" != 1 ]; then
  GENESIS_SKIP_INSTALL=1 GENESIS_BUILD_TYPE=Release scripts/build.sh || exit 1
fi

OUT="${GENESIS_BENCH_ALL_OUT:-$ROOT/build/bench-all/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
export GENESIS_BENCH_FIGURES="$OUT/figures.tsv"
: >"$GENESIS_BENCH_FIGURES"
export GENESIS_BENCH_SKIP_BUILD=1 GENESIS_SKIP_INSTALL=1

declare -A STATUS LOAD
run_part() {
  local part="$1"
  shift
  LOAD[$part]="$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "=== $part: $* (load average ${LOAD[$part]})" >&2
  if "$@" >"$OUT/$part.log" 2>&1; then
    STATUS[$part]=ok
  else
    STATUS[$part]="failed (exit $?; see $OUT/$part.log)"
    tail -15 "$OUT/$part.log" >&2
  fi
}

for part in "${PARTS[@]}"; do
  case "$part" in
    idle) run_part idle bench/idle_rss.sh ;;
    door) run_part door bench/door/run.sh ;;
    gateway) run_part gateway bench/gateway/run.sh ;;
    catalog)
      items="${GENESIS_BENCH_ITEMS:-1000000}"
      # The search index (kept across runs beside the items), and the 16-caller search load.
      args=(--items="$items" "--concurrency=1,16,64"
        --service_flags="--search_engine=xapian --search_index_dir=$ROOT/.genesis/bench/index")
      # The loaded items are reused when the last load was of the same size.
      if [ "$(cat .genesis/bench/catalog.items 2>/dev/null)" = "$items" ]; then args+=(--skip_load); fi
      run_part catalog bench/run_catalog_bench.sh "${args[@]}"
      [ "${STATUS[catalog]}" = ok ] && echo "$items" >.genesis/bench/catalog.items
      ;;
    bots) run_part bots bench/bot_manager/run.sh ;;
  esac
done

# --------------------------------------------------------------------------
# The table

echo
echo "Genesis benchmarks, $(date -u +%FT%TZ), $(nproc) CPU(s); logs in $OUT"
for part in "${PARTS[@]}"; do
  printf '  %-8s load average before %-16s %s\n' "$part" "${LOAD[$part]}" "${STATUS[$part]}"
done
echo
awk -F'\t' '
  function ratio(a, b) { return (b == "-" || b + 0 == 0) ? "" : sprintf("%.2f", a / b) }
  BEGIN { printf "%-58s %10s %10s %7s %10s %5s\n", "figure", "ours", "peer", "ratio", "target", "met?" }
  {
    name = $1; ours = $2; peer = $3; kind = $4; target = $5; unit = $6
    r = ratio(ours, peer)
    if (kind == "ratio_le") { t = "<= " target "x"; met = (r != "" && r + 0 <= target + 0) }
    else if (kind == "ratio_ge") { t = ">= " target "x"; met = (r != "" && r + 0 >= target + 0) }
    else if (kind == "le") { t = "<= " target; met = (ours + 0 <= target + 0) }
    else { t = ">= " target; met = (ours + 0 >= target + 0) }
    printf "%-58s %10s %10s %7s %10s %5s\n", name " (" unit ")", ours, peer, r, t, met ? "yes" : "no"
  }' "$GENESIS_BENCH_FIGURES"

for part in "${PARTS[@]}"; do [ "${STATUS[$part]}" = ok ] || exit 1; done
