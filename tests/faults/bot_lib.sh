# Shared by the faults_bot_* scenarios (sourced after ./lib.sh).
#
#   bot_fault_init SCENARIO DB_PREFIX  requirements and binaries (BOT_BIN CSIM_BIN DRIVER_BIN
#                                      ROUTER_BIN LSIM_BIN, BUF, MODELS_CONFIG), WORK, a fresh
#                                      database (DB_DSN; `sql`), the webhook driver stopped at exit
#                                      (DRIVER_PID), the LLM simulator (LSIM, --instant), the
#                                      channel simulator recording a repeated send as another
#                                      message, as WhatsApp or Telegram would deliver it (CSIM), and
#                                      the Telegram bot's secret and token (FAULT_TG_SECRET/TOKEN)
#   bot_fault_router NAME PORT         the LLM router on PORT (0: any free one): ROUTER, ROUTER_PID

bot_fault_init() {
  e2e_require_pg
  e2e_require_tools jq curl python3
  ROOT="$(cd "$HERE/../.." && pwd)"
  BUF="${GENESIS_BUF:-$ROOT/.genesis/tools/node_modules/.bin/buf}"
  [ -x "$BUF" ] || e2e_skip "buf not found at $BUF (set GENESIS_BUF)"
  e2e_bin BOT_BIN GENESIS_BOT_MANAGER_BIN services/bot_manager/genesis-bot-manager
  e2e_bin CSIM_BIN GENESIS_CHANNEL_SIMULATOR_BIN services/bot_manager/simulator/genesis-channel-simulator
  e2e_bin DRIVER_BIN GENESIS_BOT_WEBHOOK_DRIVER_BIN services/bot_manager/tests/genesis-bot-webhook-driver
  e2e_bin ROUTER_BIN GENESIS_LLM_ROUTER_BIN services/llm_router/genesis-llm-router
  e2e_bin LSIM_BIN GENESIS_LLM_SIMULATOR_BIN services/llm_router/simulator/genesis-llm-simulator
  MODELS_CONFIG="$ROOT/services/llm_router/config/models.json"

  e2e_init "$1"
  e2e_fresh_db "$2"
  DRIVER_PID=""
  fault_at_exit '[ -z "$DRIVER_PID" ] || e2e_stop "$DRIVER_PID"'
  e2e_start LSIM lsim 's/^genesis-llm-simulator http=\(.*\)$/\1/p' -- "$LSIM_BIN" --http_port=0 --instant
  e2e_start CSIM csim 's/^genesis-channel-simulator http=\(.*\)$/http:\/\/\1/p' -- \
    "$CSIM_BIN" --http_port=0 --collapse_repeats=false
  export FAULT_TG_SECRET="tg-secret-$RANDOM-$RANDOM" FAULT_TG_TOKEN="123456:tg-token"
  e2e_secret "$FAULT_TG_SECRET" "$FAULT_TG_TOKEN" # no Genesis server may log them
}

sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$DB_DSN" -c "$1"; }

bot_fault_router() {
  e2e_start ROUTER "$1" 's/^genesis-llm-router grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
    "$ROUTER_BIN" --grpc_port="$2" --metrics_port=-1 --pg_dsn="$DB_DSN" \
    --models_config="$MODELS_CONFIG" --simulator_url="http://$LSIM" --log_level=warn
  ROUTER_PID="$E2E_PID"
}
