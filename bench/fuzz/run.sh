#!/usr/bin/env bash
# Long fuzz runs: builds the fuzz targets of tests/fuzz/ with clang, libFuzzer,
# ASan and UBSan into build-fuzz/ (only the targets and the few sources they
# compile, not the tree) and runs each, one after another, seeded with its
# committed corpus.
#
#   bench/fuzz/run.sh [TARGET...] [-runs=N] [-max_total_time=S] [-no-merge] [libFuzzer flags]
#
# Fuzzers run at the lowest priority (nice 19): on a machine shared with
# builds they take idle CPU only. Two runs of different targets may go at
# once (they build one after the other).
#
# TARGET is a name of tests/fuzz/<name>_fuzz.cc (all of them when none is
# given). Each runs for N executions (default 10 000 000) or S seconds,
# whichever ends first. New inputs go to build-fuzz/corpus/<name>/; unless
# -no-merge, `-merge=1` then picks those that add coverage and, when they are
# few and small (at most 20 files of at most 4 KiB), copies them into
# tests/fuzz/corpus/<name>/ as merged-<sha1> for review and commit. A crash
# leaves its input in build-fuzz/artifacts/ and fails the script; commit it
# as tests/fuzz/corpus/<name>/regress-<what> with the fix. The figures of
# every run are appended to build-fuzz/results.tsv and printed at the end.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUILD="$ROOT/build-fuzz"

runs=10000000
merge=1
targets=()
flags=()
for arg in "$@"; do
  case "$arg" in
    -runs=*) runs="${arg#-runs=}" ;;
    -no-merge) merge=0 ;;
    -*) flags+=("$arg") ;;
    *) targets+=("$arg") ;;
  esac
done
if [ "${#targets[@]}" -eq 0 ]; then
  for f in tests/fuzz/*_fuzz.cc; do
    name="$(basename "$f" _fuzz.cc)"
    targets+=("$name")
  done
fi
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/${t}_fuzz.cc" ] || { echo "fuzz: no target '$t' (tests/fuzz/${t}_fuzz.cc)" >&2; exit 2; }
done

command -v clang++ >/dev/null || { echo "fuzz: clang++ is needed (libFuzzer)" >&2; exit 1; }
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
mkdir -p "$BUILD"
# Two runs side by side (two cores) configure and build one after the other.
exec 9>"$BUILD/.build.lock"
flock 9
if [ ! -f "$BUILD/build.ninja" ]; then
  if ! CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DGENESIS_FUZZ=ON -DGENESIS_BUILD_BENCH=OFF "${launcher[@]}" >"$BUILD/configure.log" 2>&1; then
    cat "$BUILD/configure.log" >&2
    echo "fuzz: CMake configure failed (log: build-fuzz/configure.log)" >&2
    exit 1
  fi
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=("${t}_fuzz"); done
cmake --build "$BUILD" --target "${build_targets[@]}" -j"${GENESIS_FUZZ_JOBS:-2}"
flock -u 9

mkdir -p "$BUILD/artifacts"
[ -f "$BUILD/results.tsv" ] ||
  printf 'date\ttarget\texecutions\texec_per_s\tcoverage\tfeatures\tcorpus\tseconds\tcrash\n' >"$BUILD/results.tsv"
failed=()
summary=()
for t in "${targets[@]}"; do
  scratch="$BUILD/corpus/$t"
  seeds="$ROOT/tests/fuzz/corpus/$t"
  mkdir -p "$scratch" "$seeds"
  log="$BUILD/$t.log"
  echo "== $t: up to $runs executions ${flags[*]:-}"
  start=$(date +%s)
  status=0
  nice -n 19 "$BUILD/tests/fuzz/${t}_fuzz" -runs="$runs" -print_final_stats=1 \
    -artifact_prefix="$BUILD/artifacts/$t-" "${flags[@]}" "$scratch" "$seeds" >"$log" 2>&1 || status=$?
  seconds=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
  crash="-"
  if [ "$status" -ne 0 ]; then
    crash=$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/Test unit written to //' || true)
    crash="${crash:-exit $status}"
    failed+=("$t")
    grep -E 'ERROR|invariant|runtime error|SUMMARY' "$log" | head -5 || true
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$seconds" "$crash" >>"$BUILD/results.tsv"
  summary+=("$(printf '%-24s %12s execs %8s/s  cov %-6s ft %-6s %5ss  crash: %s' "$t" "${execs:-?}" \
    "${rate:-?}" "${cov:-?}" "${ft:-?}" "$seconds" "$crash")")

  if [ "$merge" -eq 1 ] && [ "$status" -eq 0 ]; then
    # -merge=1 into an empty directory, from the committed corpus first: what
    # lands there beyond the committed inputs is what the run added.
    merged="$BUILD/merge/$t"
    rm -rf "$merged" && mkdir -p "$merged"
    nice -n 19 "$BUILD/tests/fuzz/${t}_fuzz" -merge=1 -use_counters=0 "$merged" "$seeds" "$scratch" >"$BUILD/$t.merge.log" 2>&1 || true
    new=()
    for f in "$merged"/*; do
      [ -f "$f" ] || continue
      sum=$(sha1sum "$f" | cut -d' ' -f1)
      if ! sha1sum "$seeds"/* 2>/dev/null | grep -q "^$sum "; then new+=("$f"); fi
    done
    big=0
    for f in "${new[@]}"; do [ "$(stat -c %s "$f")" -le 4096 ] || big=1; done
    if [ "${#new[@]}" -eq 0 ]; then
      echo "   merge: nothing new"
    elif [ "${#new[@]}" -le 20 ] && [ "$big" -eq 0 ]; then
      for f in "${new[@]}"; do cp "$f" "$seeds/merged-$(sha1sum "$f" | cut -c1-16)"; done
      echo "   merge: ${#new[@]} new inputs copied to tests/fuzz/corpus/$t/ (review and commit)"
    else
      echo "   merge: ${#new[@]} new inputs, too many or too large to commit (left in $merged)"
    fi
  fi
done

echo
echo "== results (also in build-fuzz/results.tsv)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]} (inputs in build-fuzz/artifacts/, logs in build-fuzz/<target>.log)" >&2
  exit 1
fi
