# shellcheck shell=bash disable=SC2034  # sets variables for the sourcing script
# Shared by the client package tests (clients_{cpp,python,typescript}_e2e.sh; sourced after
# lib.sh and harness.sh): the Genesis services as scripts/run.sh runs them, with mutual TLS
# from a fresh dev CA (scripts/lib/certs.sh), on one fresh database.
#
#   clients_mesh_bins    the binaries, from GENESIS_<NAME>_BIN or GENESIS_BUILD_DIR (else skip)
#   clients_mesh_start   e2e_init and e2e_fresh_db first; starts the LLM provider simulator,
#                        the LLM router, catalog, reasoning, bot manager and voice; sets
#                        CATALOG_ADDR ROUTER_ADDR REASONING_ADDR BOT_ADDR VOICE_ADDR (host:port)
#                        and MESH_CA MESH_CERT MESH_KEY: the CA and an operator's certificate
#                        (CN admin, the administrator certificate of the mesh), PEM files
#   clients_check_calls OUTPUT REQUEST_ID_RE INVALID_CODE [health]
#                        checks the lines every example (examples/*) prints for its calls:
#                        REQUEST_ID_RE is the x-request-id the example sends, INVALID_CODE
#                        how its language spells INVALID_ARGUMENT; "health" when it also
#                        calls grpc.health.v1
#
# The clients under test get only these addresses and files, as another team would.

clients_mesh_bins() {
  e2e_bin CATALOG_BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog
  e2e_bin ROUTER_BIN GENESIS_LLM_ROUTER_BIN services/llm_router/genesis-llm-router
  e2e_bin SIM_BIN GENESIS_LLM_SIMULATOR_BIN services/llm_router/simulator/genesis-llm-simulator
  e2e_bin REASONING_BIN GENESIS_REASONING_BIN services/reasoning/genesis-reasoning
  e2e_bin BOT_BIN GENESIS_BOT_MANAGER_BIN services/bot_manager/genesis-bot-manager
  e2e_bin VOICE_BIN GENESIS_VOICE_BIN services/voice/genesis-voice
  e2e_require_tools openssl
}

clients_mesh_start() {
  local root certs
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  certs="$WORK/tls"
  # shellcheck source=../../scripts/lib/certs.sh
  source "$root/scripts/lib/certs.sh"
  genesis_certs "$certs" catalog llm-router reasoning bot-manager voice admin >/dev/null
  for k in "$certs"/*.key; do e2e_secret "$(sed -n 2p "$k")"; done
  MESH_CA="$certs/ca.crt" MESH_CERT="$certs/admin.crt" MESH_KEY="$certs/admin.key"
  # No shared secret: with mTLS the certificates are the proof (a secret too is refused).
  E2E_ENV=(GENESIS_GATEWAY_SECRET=)
  tls() { echo "--tls_cert=$certs/$1.crt" "--tls_key=$certs/$1.key" "--tls_ca=$certs/ca.crt"; }
  grpc_line() { echo "s/^genesis-$1 grpc=\([0-9.]*:[0-9]*\).*\$/\1/p"; }

  local sim
  e2e_start sim llmsim 's/^genesis-llm-simulator http=\([0-9.]*:[0-9]*\)$/http:\/\/\1/p' -- \
    "$SIM_BIN" --http_port=0
  # shellcheck disable=SC2046  # tls prints separate flags
  e2e_start ROUTER_ADDR router "$(grpc_line llm-router)" -- \
    "$ROUTER_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" $(tls llm-router) \
    --models_config="$root/services/llm_router/config/models.json" --simulator_url="$sim" \
    --log_level=warn
  # shellcheck disable=SC2046
  e2e_start CATALOG_ADDR catalog "$(grpc_line catalog)" -- \
    "$CATALOG_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" $(tls catalog)
  # shellcheck disable=SC2046
  e2e_start REASONING_ADDR reasoning "$(grpc_line reasoning)" -- \
    "$REASONING_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" $(tls reasoning)
  # shellcheck disable=SC2046
  e2e_start BOT_ADDR bot-manager "$(grpc_line bot-manager)" -- \
    "$BOT_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" $(tls bot-manager) \
    --llm_router_address="$ROUTER_ADDR" --log_level=warn
  # shellcheck disable=SC2046
  e2e_start VOICE_ADDR voice "$(grpc_line voice)" -- \
    "$VOICE_BIN" --grpc_port=0 --metrics_port=-1 --wyoming_listen_port=-1 --pg_dsn="$DB_DSN" \
    $(tls voice) --stt_decoders=1 --log_level=warn
  pass "mesh (mTLS): catalog $CATALOG_ADDR, llm router $ROUTER_ADDR, reasoning $REASONING_ADDR, bot manager $BOT_ADDR, voice $VOICE_ADDR"
}

clients_check_calls() {
  local out="$1" rid="$2" invalid="$3" health="${4:-}" item
  has() { grep -qE "$1" <<<"$out"; }
  check "catalog CreateItemType -> types/lead" has '^catalog CreateItemType: types/lead$'
  check "catalog CreateItem -> items/..., the x-request-id sent back" \
    has "^catalog CreateItem: items/[^ ]+ \\(x-request-id $rid\\)\$"
  item="$(sed -n 's/^catalog CreateItem: \(items\/[^ ]*\) .*$/\1/p' <<<"$out")"
  check_eq "a retried CreateItem with the same request_id returns the same item" \
    "catalog CreateItem retried: $item" "$(grep '^catalog CreateItem retried: ' <<<"$out")"
  check "catalog GetItem read the item back" \
    has '^catalog GetItem: items/[^ ]+ "Ana from Recife" \(types/lead\)$'
  check "an invalid CreateItem -> $invalid" has "^catalog CreateItem \\(invalid\\): $invalid: "
  check "... with a BadRequest naming item.type" has '^  BadRequest violations: (.*, )?item\.type(,|;|$)'
  check "... and item.title" has '^  BadRequest violations: (.*, )?item\.title(,|;|$)'
  check "llmrouter ListModels answered with models" has '^llmrouter ListModels: [1-9][0-9]* models'
  check "reasoning ListCases answered" has '^reasoning ListCases: 0 cases$'
  check "bot ListBots answered" has '^bot ListBots: 0 bots$'
  check "voice ListVoices answered with voices" has '^voice ListVoices: [1-9][0-9]* voices'
  if [ "$health" = health ]; then
    check "health Check -> SERVING" has '^health Check: SERVING$'
  fi
}
