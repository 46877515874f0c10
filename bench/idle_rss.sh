#!/usr/bin/env bash
# Idle memory of the whole mesh as scripts/run.sh starts it: waits until every
# process is up, leaves it idle for IDLE_S seconds (default 10), then prints the
# resident memory (VmRSS) of each process and the total of the services and the
# gateway (simulators listed apart, not counted), and stops the mesh.
#
#   bench/idle_rss.sh [IDLE_S]
#   GENESIS_SKIP_INSTALL=1   passed on to scripts/run.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
idle_s="${1:-10}"
log="$(mktemp)"
setsid scripts/run.sh >"$log" 2>&1 &
run_pid=$!
stop() {
  kill -TERM "$run_pid" 2>/dev/null || true
  wait "$run_pid" 2>/dev/null || true
  rm -f "$log"
}
trap stop EXIT

# run.sh builds first (Release), then starts and checks every process.
for _ in $(seq 1 1200); do
  grep -q "Ctrl-C stops everything" "$log" && break
  kill -0 "$run_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 1
done
grep -q "Ctrl-C stops everything" "$log" || { echo "idle_rss: the mesh did not start" >&2; exit 1; }
sleep "$idle_s"

total=0
printf '%-28s %10s\n' process "VmRSS kB"
while read -r pid; do
  [ -r "/proc/$pid/status" ] || continue
  name="$(basename "$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -1)")"
  rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")"
  case "$name" in
    *simulator*) printf '%-28s %10s  (simulator, not counted)\n' "$name" "$rss" ;;
    *) printf '%-28s %10s\n' "$name" "$rss"; total=$((total + rss)) ;;
  esac
done <.genesis/run/services.pids
printf '%-28s %10s  (%s MB) after %s s idle\n' "services + gateway" "$total" \
  "$(awk -v k="$total" 'BEGIN { printf "%.0f", k / 1000 }')" "$idle_s"
# shellcheck source-path=SCRIPTDIR source=lib/figures.sh
source bench/lib/figures.sh
bench_figure "mesh: idle RSS of the services and the gateway" \
  "$(awk -v k="$total" 'BEGIN { printf "%.0f", k / 1000 }')" - le 200 MB
