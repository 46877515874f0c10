#!/usr/bin/env bash
# Scale-out proof 3: a rolling restart of every service while load runs. Two replicas each of
# the catalog, the LLM router, the reasoning service, the bot manager and the voice service
# behind one gateway (one mesh channel per service over its replicas; the reasoning service,
# the bot manager and the voice service reach the routers the same way). Load over REST:
# catalog creates (request_id) and reads, completions and streamed completions (no
# request_id: never repeated), reasoning cases (never repeated), Telegram webhooks, voice
# listings. Each replica in turn gets SIGTERM, must exit 0, is started again on its address
# and taken back into the rotation before the next one goes.
# Expected: 0 client-visible errors (every call 200, every stream complete, no create
# repeated), calls that are never repeated (completions, streams, cases) included: the
# mesh channels stop picking a replica when its health turns NOT_SERVING, during its
# drain delay, before its server stops accepting; every replica exits 0 within its grace
# period. Prints the figures
# (bench/failover/README.md).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=harness.sh
source "$HERE/harness.sh"
# shellcheck source=../faults/lib.sh
source "$HERE/../faults/lib.sh"

e2e_require_pg
e2e_require_tools curl jq python3
e2e_bin CATALOG_BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
e2e_bin DRIVER GENESIS_FAULTS_INFRA_DRIVER tests/faults/faults_infra_driver
e2e_bin ROUTER_BIN GENESIS_LLM_ROUTER_BIN services/llm_router/genesis-llm-router
e2e_bin LSIM_BIN GENESIS_LLM_SIMULATOR_BIN services/llm_router/simulator/genesis-llm-simulator
e2e_bin REASONING_BIN GENESIS_REASONING_BIN services/reasoning/genesis-reasoning
e2e_bin BOT_BIN GENESIS_BOT_MANAGER_BIN services/bot_manager/genesis-bot-manager
e2e_bin CSIM_BIN GENESIS_CHANNEL_SIMULATOR_BIN services/bot_manager/simulator/genesis-channel-simulator
e2e_bin VOICE_BIN GENESIS_VOICE_BIN services/voice/genesis-voice
ROOT="$(cd "$HERE/../.." && pwd)"
BUF="${GENESIS_BUF:-$ROOT/.genesis/tools/node_modules/.bin/buf}"
[ -x "$BUF" ] || e2e_skip "buf not found at $BUF (set GENESIS_BUF)"
command -v redis-server >/dev/null || e2e_skip "redis-server not found"
e2e_init scaleout-rolling-restart
e2e_fresh_db scaleroll
# shellcheck source=replicas.sh
source "$HERE/replicas.sh"
fault_redis_start redis

e2e_start LSIM lsim 's/^genesis-llm-simulator http=\(.*\)$/\1/p' -- "$LSIM_BIN" --http_port=0 --instant
e2e_start CSIM csim 's/^genesis-channel-simulator http=\(.*\)$/http:\/\/\1/p' -- \
  "$CSIM_BIN" --http_port=0
export SCALEOUT_TG_SECRET="tg-secret-$RANDOM-$RANDOM" SCALEOUT_TG_TOKEN="123456:tg-token"
e2e_secret "$SCALEOUT_TG_SECRET" "$SCALEOUT_TG_TOKEN"

# The first replica of each service migrates the schema; the others start after it.
for r in router0 router1; do
  replica_define "$r" "$ROUTER_BIN" --pg_dsn="$DB_DSN" --redis_url="$REDIS_URL" \
    --models_config="$ROOT/services/llm_router/config/models.json" \
    --simulator_url="http://$LSIM" --log_level=warn
done
ROUTERS="$(replica_targets router0 router1)"
for r in cat0 cat1; do
  replica_define "$r" "$CATALOG_BIN" --pg_dsn="$DB_DSN" --redis_url="$REDIS_URL" --log_level=warn
done
for r in reasoning0 reasoning1; do
  replica_define "$r" "$REASONING_BIN" --pg_dsn="$DB_DSN" --llm_router_address="$ROUTERS" \
    --log_level=warn
done
for r in bot0 bot1; do
  replica_define "$r" env SCALEOUT_TG_SECRET="$SCALEOUT_TG_SECRET" \
    SCALEOUT_TG_TOKEN="$SCALEOUT_TG_TOKEN" "$BOT_BIN" --pg_dsn="$DB_DSN" \
    --llm_router_address="$ROUTERS" --telegram_base_url="$CSIM" --whatsapp_base_url="$CSIM" \
    --worker_idle_ms=50 --log_level=warn
done
for r in voice0 voice1; do
  replica_define "$r" "$VOICE_BIN" --pg_dsn="$DB_DSN" --llm_router_address="$ROUTERS" \
    --wyoming_listen_port=-1 --stt_decoders=1 --log_level=warn
done
SERVICES=(router0 router1 cat0 cat1 reasoning0 reasoning1 bot0 bot1 voice0 voice1)
for r in "${SERVICES[@]}"; do replica_start "$r"; done

e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  env GENESIS_CATALOG_ADDR="$(replica_targets cat0 cat1)" GENESIS_LLMROUTER_ADDR="$ROUTERS" \
  GENESIS_REASONING_ADDR="$(replica_targets reasoning0 reasoning1)" \
  GENESIS_BOT_ADDR="$(replica_targets bot0 bot1)" \
  GENESIS_VOICE_ADDR="$(replica_targets voice0 voice1)" "$GATEWAY_BIN" --http_port=0 \
  --metrics_port=-1 --auth=off --rate_limit=100000/s --log_level=warn
pass "two replicas each of router, catalog, reasoning, bot manager, voice behind the gateway $GW"

"$DRIVER" type "${REPLICA_ADDR[cat0]}" lead >/dev/null
READ_ITEMS=()
for k in 1 2; do READ_ITEMS+=("$("$DRIVER" put "${REPLICA_ADDR[cat0]}" lead "read-$k")"); done
"$BUF" curl --protocol grpc --http2-prior-knowledge --timeout 20s "${OPERATOR[@]}" -d '{"bot_id": "tg",
  "bot": {"channel": "CHANNEL_TELEGRAM", "webhook_secret_env": "SCALEOUT_TG_SECRET",
  "access_token_env": "SCALEOUT_TG_TOKEN"}}' \
  "http://${REPLICA_ADDR[bot0]}/genesis.bot.v1.BotManagerService/CreateBot" >/dev/null

python3 "$HERE/scaleout_load.py" --gateway="http://$GW" --stop="$WORK/stop" --acks="$WORK/writes" \
  --catalog_writers=2 --catalog_readers=1 --read_items="$(IFS=,; echo "${READ_ITEMS[*]}")" \
  --complete=2 --stream=1 --cases=1 --voices=1 --webhooks=100000 --webhook_concurrency=2 \
  --rate=40 >"$WORK/load.json" &
LOAD_PID=$!
fault_at_exit "touch $WORK/stop; kill $LOAD_PID 2>/dev/null"

# until replica NAME has handled calls since its restart (the gateway and the other
# services took it back; 20 s)
wait_serves() {
  local deadline=$((SECONDS + 20))
  while [ "$(replica_calls "$1")" -lt 5 ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
for r in "${SERVICES[@]}"; do wait_serves "$r" || fail "$r takes calls before the restart"; done

STOPS=()
for r in "${SERVICES[@]}"; do
  replica_term "$r"
  check_eq "$r exits 0 on SIGTERM" 0 "${REPLICA_EXIT[$r]}"
  STOPS+=("$r:${REPLICA_STOP_MS[$r]}")
  replica_start "$r"
  if ! wait_serves "$r"; then
    fail "$r takes calls again after its restart"
    break
  fi
done
touch "$WORK/stop"
wait "$LOAD_PID" || fail "the load ends cleanly"
L="$(cat "$WORK/load.json")"

codes() { jq -r --arg k "$1" '(.kinds[$k].codes // {}) | to_entries | map("\(.key):\(.value)") | join(",")' <<<"$L"; }
errors() { jq -r --arg k "$1" '(.kinds[$k].codes // {}) | to_entries | map(select(.key != "200") | .value) | add // 0' <<<"$L"; }
calls() { jq -r --arg k "$1" '[(.kinds[$k].codes // {}) | .[]] | add // 0' <<<"$L"; }
FIGURES=()
for kind in create read complete stream case voices webhook; do
  n="$(calls "$kind")"
  e="$(errors "$kind")"
  check "$kind calls were made during the restarts ($n)" [ "$n" -gt 0 ]
  check_eq "$kind: no client-visible error ($(codes "$kind"))" 0 "$e"
  [ "$e" = 0 ] || echo "# failed $kind calls: $(jq -c --arg k "$kind" '.kinds[$k].examples' <<<"$L")"
  FIGURES+=("$kind=$n/$e")
done
check_eq "no create had to be repeated" 0 "$(calls create_retried)"
check_eq "no webhook had to be redelivered" 0 "$(calls webhook_redelivered)"
echo "# e2e scaleout_rolling_restart: restarts=${#SERVICES[@]} calls/errors: ${FIGURES[*]}" \
  "stop_ms: ${STOPS[*]}"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
