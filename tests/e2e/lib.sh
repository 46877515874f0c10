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

