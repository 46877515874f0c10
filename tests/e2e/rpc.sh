# Shared by the end-to-end scripts that call one gRPC service with buf curl
# (sourced after lib.sh). The script sets BUF (the buf CLI), URL (the server,
# http://host:port) and SVC (the full service name), and OPS for metrics.
#
#   rpc FULL_METHOD JSON [BUF_ARGS...]   sets OUT (stdout + stderr of buf curl) and RC
#                                        (BUF_ARGS: e.g. -H "x-hub-signature-256: ...")
#   call METHOD JSON                     must succeed; response in R
#   expect_code CODE METHOD JSON [DESC]  fails with CODE (buf curl's name, e.g. not_found)
#   expect_status CODE FULL_METHOD JSON DESC [BUF_ARGS...]
#                                        the same for any service, with buf curl arguments
#   expect_invalid FIELD METHOD JSON     INVALID_ARGUMENT naming FIELD in message and BadRequest
#   metrics / metric_value NAME          the server's /metrics, one value of it
# jq filters are single-quoted on purpose: their $names are jq variables.
# shellcheck disable=SC2016

# The administrative methods of the protos (option genesis.api.v1.administrative): called
# with OPERATOR's identity (harness.sh) unless the call passes its own x-genesis-* headers
# or OPERATOR is emptied.
RPC_ADMIN_METHODS=" $(awk '/^ *rpc /{m=$2; sub(/\(.*/, "", m)} /genesis\.api\.v1\.administrative/{print m}' \
  "$(dirname "${BASH_SOURCE[0]}")"/../../proto/genesis/*/v1/*.proto | tr '\n' ' ')"

# rpc FULL_METHOD JSON [BUF_ARGS...]: sets OUT (stdout + stderr of buf curl) and RC.
rpc() {
  RC=0
  local method="$1" body="$2" identity=()
  shift 2
  if [[ "$RPC_ADMIN_METHODS" == *" ${method##*/} "* && " $* " != *x-genesis-* ]]; then
    identity=(${OPERATOR[@]+"${OPERATOR[@]}"})
  fi
  OUT="$("$BUF" curl --protocol grpc --http2-prior-knowledge --timeout 30s "$@" \
    ${identity[@]+"${identity[@]}"} -d "$body" "$URL/$method" 2>&1)" || RC=$?
}

# expect_status CODE FULL_METHOD JSON DESC [BUF_ARGS...]: the call fails with CODE;
# the error JSON is left in R.
expect_status() {
  local want="$1" method="$2" req="$3" desc="$4" got
  shift 4
  rpc "$method" "$req" "$@"
  R="$OUT"
  got="$(jq -r '.code // empty' <<<"$OUT" 2>/dev/null || true)"
  if [ "$RC" -ne 0 ] && [ "$got" = "$want" ]; then
    pass "$desc -> $want"
  else
    fail "$desc -> $want" "request: $req" "exit $RC: $OUT"
  fi
}

# call METHOD JSON: a call that must succeed; its response is in R. A failure
# is reported (and R is `{}`) so the checks on R fail too.
call() {
  rpc "$SVC/$1" "$2"
  if [ "$RC" -eq 0 ]; then
    R="$OUT"
  else
    R='{}'
    fail "$1 succeeds" "request: $2" "exit $RC: $OUT"
  fi
}

# expect_code CODE METHOD JSON [DESC]: the call fails with CODE (as buf curl
# prints it, e.g. "not_found"). The error JSON is left in R.
expect_code() {
  local want="$1" method="$2" req="$3" desc="${4:-}"
  [ -n "$desc" ] || desc="$(head -c 100 <<<"$req")"
  rpc "$SVC/$method" "$req"
  R="$OUT"
  local got
  got="$(jq -r '.code // empty' <<<"$OUT" 2>/dev/null || true)"
  if [ "$RC" -ne 0 ] && [ "$got" = "$want" ]; then
    pass "$method $desc -> $want"
  else
    fail "$method $desc -> $want" "request: $req" "exit $RC: $OUT"
  fi
}

# The field names of the google.rpc.BadRequest detail of the error in R.
# buf curl prints details as unpadded base64; field names are plain bytes in it.
bad_request_bytes() {
  local b64
  b64="$(jq -r '.details[]? | select(.type == "google.rpc.BadRequest") | .value' <<<"$R" 2>/dev/null |
    head -1 | tr -- '-_' '+/')"
  while [ $((${#b64} % 4)) -ne 0 ]; do b64+="="; done
  base64 -d <<<"$b64" 2>/dev/null | tr -c '[:print:]' ' '
}

# expect_invalid FIELD METHOD JSON [DESC]: INVALID_ARGUMENT whose message and
# BadRequest field violation name FIELD.
expect_invalid() {
  local field="$1"
  expect_code invalid_argument "$2" "$3" "${4:-}"
  local message
  message="$(jq -r '.message // empty' <<<"$R" 2>/dev/null || true)"
  if [[ "$message" == *"$field: "* ]] && [[ "$(bad_request_bytes)" == *"$field"* ]]; then
    pass "  ... its message and BadRequest name $field"
  else
    fail "  ... its message and BadRequest name $field" "error: $R" \
      "BadRequest bytes: $(bad_request_bytes)"
  fi
}

metrics() { curl -sf --max-time 10 "$OPS/metrics"; }
# metric_value NAME_WITH_LABELS: its value in /metrics, 0 when absent.
metric_value() {
  { metrics || true; } | awk -v m="$1" '$1 == m { v = $2 } END { print (v == "" ? 0 : v) }'
}
