#!/usr/bin/env bash
# The Compose stack end to end, as a user brings it up: builds the runtime image from the
# binaries the test command built (scripts/image.sh), PostgreSQL 15 and Redis 7 images from
# Debian's packages (kept in podman's storage between runs, as the debootstrapped base),
# starts deploy/compose.yaml with the simulators under its own project name and ports
# (scripts/compose.sh up waits until every container is healthy), then, through the
# gateway on the host port:
#   - a REST call to the catalog (create an item type and an item, read it back),
#   - an OpenAI-compatible chat completion (router -> LLM provider simulator),
#   - a signed Telegram webhook (channel simulator -> gateway -> bot manager), answered at
#     the channel simulator,
# and fails if any container exited or restarted (podman-compose's `up` exits 0 even when
# one does). The stack and its volumes are removed at the end, pass or fail.
# Skipped (77) without podman and podman-compose (scripts/install-deps.sh installs them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
for t in podman podman-compose curl jq; do
  command -v "$t" >/dev/null || { echo "compose_e2e: SKIP: $t missing (scripts/install-deps.sh)" >&2; exit 77; }
done
ADMIN_BIN="${GENESIS_BIN_GATEWAY_ADMIN:-$ROOT/build/gateway/genesis-gateway-admin}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export GENESIS_COMPOSE_PROJECT=genesis-e2e
export GENESIS_COMPOSE_HTTP_PORT GENESIS_COMPOSE_CHANNEL_SIM_PORT GENESIS_COMPOSE_WYOMING_PORT
GENESIS_COMPOSE_HTTP_PORT="$(free_port)"
GENESIS_COMPOSE_CHANNEL_SIM_PORT="$(free_port)"
GENESIS_COMPOSE_WYOMING_PORT="$(free_port)"
GW="http://127.0.0.1:$GENESIS_COMPOSE_HTTP_PORT"
CSIM="http://127.0.0.1:$GENESIS_COMPOSE_CHANNEL_SIM_PORT"
WORK="$(mktemp -d)"

failures=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1" >&2; failures=$((failures + 1)); }
check_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi; }
check_jq() { if jq -e "$3" >/dev/null 2>&1 <<<"$2"; then pass "$1"; else fail "$1: $3 does not hold for: ${2:0:400}"; fi; }

finish() {
  local rc=$?
  if [ "$rc" != 0 ] || [ "$failures" != 0 ]; then
    scripts/compose.sh ps >&2 || true
    for s in gateway catalog llm-router bot-manager; do
      echo "---- last log lines of $s" >&2
      scripts/compose.sh logs "$s" 2>&1 | tail -n 15 >&2 || true
    done
  fi
  scripts/compose.sh down --volumes >/dev/null 2>&1 || scripts/compose.sh down >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap finish EXIT

# A stack of an interrupted run goes first.
scripts/compose.sh down --volumes >/dev/null 2>&1 || true
scripts/compose.sh up
pass "every container healthy"

set -a
# shellcheck source=/dev/null
source .genesis/compose/gateway.env
# shellcheck source=/dev/null
source .genesis/compose/channels.env
set +a
TOKEN="$("$ADMIN_BIN" mint-token --subject=compose-e2e --roles=admin --ttl=10m)"

# req METHOD PATH [BODY]: sets CODE and R.
req() {
  local args=(-s --max-time 30 -X "$1" -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN")
  [ $# -lt 3 ] || args+=(-H 'Content-Type: application/json' --data-binary "$3")
  CODE="$(curl "${args[@]}" "$GW$2" || echo 000)"
  R="$(cat "$WORK/body" 2>/dev/null || true)"
}

# ---- REST -> catalog
req POST "/v1/types?item_type_id=property" '{"displayName": "Property",
  "attributes": [{"name": "city", "kind": "ATTRIBUTE_KIND_STRING", "required": true}]}'
check_eq "REST: POST /v1/types -> 200" 200 "$CODE"
req POST /v1/items '{"type": "property", "title": "Casa na praia", "attributes": {"city": "Recife"}}'
check_eq "REST: POST /v1/items -> 200 ($R)" 200 "$CODE"
name="$(jq -r '.name // empty' <<<"$R")"
req GET "/v1/$name"
check_jq "REST: GET /v1/$name returns the item from the catalog's PostgreSQL" "$R" \
  '.title == "Casa na praia" and .attributes.city == "Recife"'

CODE="$(curl -s --max-time 10 -o "$WORK/docs" -w '%{http_code}' "$GW/docs" || echo 000)"
check_eq "REST: the API reference page /docs is served from the image" 200 "$CODE"

# ---- OpenAI-compatible completion -> router -> provider simulator
req POST /v1/chat/completions '{"model": "sim-local", "messages": [{"role": "user", "content": "hello from compose"}]}'
check_eq "OpenAI: POST /v1/chat/completions -> 200" 200 "$CODE"
check_jq "OpenAI: the simulator's answer" "$R" '.choices[0].message.content == "echo: hello from compose" and .usage.total_tokens > 0'

# ---- a signed Telegram webhook, answered at the channel simulator
req POST "/v1/bots?bot_id=tg" '{"channel": "CHANNEL_TELEGRAM", "displayName": "Compose",
  "webhookSecretEnv": "GENESIS_DEV_TELEGRAM_WEBHOOK_SECRET", "accessTokenEnv": "GENESIS_DEV_TELEGRAM_BOT_TOKEN"}'
check_eq "REST: POST /v1/bots (Telegram) -> 200" 200 "$CODE"
E="$(curl -s --max-time 30 -X POST "$CSIM/_sim/emit" -d "{\"channel\": \"telegram\",
  \"target\": \"http://gateway:8080/v1/webhooks/telegram/tg\", \"secret\": \"$GENESIS_DEV_TELEGRAM_WEBHOOK_SECRET\",
  \"from\": \"4242\", \"chat\": \"4242\", \"text\": \"ola from compose\", \"id\": \"9001\"}")"
check_jq "webhook: signed by the channel simulator, accepted by the gateway" "$E" \
  '.status == 200 and (.body | fromjson | .accepted) == 1'
sent='{}'
for _ in $(seq 1 150); do
  sent="$(curl -s --max-time 5 "$CSIM/_sim/sent" || echo '{}')"
  jq -e '[.sent[]? | select(.channel == "telegram" and (.text | contains("ola from compose")))] | length > 0' \
    >/dev/null 2>&1 <<<"$sent" && break
  sleep 0.2
done
check_jq "webhook: the bot's reply reached the channel simulator's Telegram API" "$sent" \
  '[.sent[]? | select(.channel == "telegram" and (.text | contains("ola from compose")))] | length == 1'

# ---- nothing exited or restarted on the way
names="$(podman ps -a --filter "label=io.podman.compose.project=$GENESIS_COMPOSE_PROJECT" --format '{{.Names}}')"
# shellcheck disable=SC2086  # one name per word
states="$(podman inspect --format '{{.Name}} {{.State.Status}} {{.RestartCount}}' $names)"
check_eq "11 containers" 11 "$(wc -l <<<"$states")"
check_eq "all running" "" "$(awk '$2 != "running"' <<<"$states")"
check_eq "none restarted" "" "$(awk '$3 != 0' <<<"$states")"

[ "$failures" = 0 ] || { echo "compose_e2e: $failures check(s) failed" >&2; exit 1; }
echo "compose_e2e: all checks passed"
