# shellcheck shell=bash
# The figures a benchmark reports to bench/run_all.sh. Each benchmark calls bench_figure for
# every target it measures; when GENESIS_BENCH_FIGURES names a file the line is appended
# there (run_all.sh then prints one table), and it is printed to stderr either way.
#
#   bench_figure NAME OURS PEER KIND TARGET UNIT
#     NAME    what was measured ("catalog search p95 at 1 caller, ms")
#     OURS    our figure; PEER the peer's in the same run, or "-" when there is none
#     KIND    how the target reads: ratio_le / ratio_ge (OURS/PEER at most / at least TARGET),
#             le / ge (OURS at most / at least TARGET)
#     UNIT    of OURS and PEER ("ms", "req/s", "µs", "MB", ...)
bench_figure() {
  local name="$1" ours="$2" peer="$3" kind="$4" target="$5" unit="$6"
  printf 'figure: %s = %s %s (peer %s; target %s %s)\n' "$name" "$ours" "$unit" "$peer" "$kind" \
    "$target" >&2
  if [ -n "${GENESIS_BENCH_FIGURES:-}" ]; then
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$ours" "$peer" "$kind" "$target" "$unit" \
      >>"$GENESIS_BENCH_FIGURES"
  fi
}
