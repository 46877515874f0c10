#!/usr/bin/env bash
# Runs the whole Genesis mesh on this machine: builds (Release), starts a private PostgreSQL
# and Redis in .genesis/run (data kept between runs), migrates and starts every service in
# build/services/*/genesis-* (and build/gateway/genesis-gateway when it exists), prints the
# endpoints, then waits. Ctrl-C or SIGTERM stops everything and exits 0.
# Ports are remembered in .genesis/run/ports.env, so endpoints stay the same between runs
# while those ports are free.
# The services talk mutual TLS: a dev CA and one certificate per process are made in
# .genesis/run/tls (scripts/lib/certs.sh), every gRPC port requires a client certificate
# of that CA, and the services trust caller identities only from the gateway's certificate.
# GENESIS_MTLS=0 runs them in plaintext instead (the gateway then proves itself with
# GENESIS_GATEWAY_SECRET).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source-path=SCRIPTDIR source=lib/infra.sh
source scripts/lib/infra.sh

GENESIS_BUILD_TYPE=Release scripts/build.sh

STATE="$ROOT/.genesis/run"
LOGS="$STATE/logs"
mkdir -p "$LOGS"
# A second run.sh would share the servers and then stop them under the first one's feet.
exec 9>"$STATE/run.lock"
flock -n 9 || { echo "run: another scripts/run.sh is already running" >&2; exit 1; }

names=() pids=() ports=() urls=() metrics=() logs=()

stopped=0
stop_all() {
  [ "$stopped" = 0 ] || return 0
  stopped=1
  trap '' INT TERM # a second Ctrl-C must not cut the shutdown short
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    genesis__poll 15 genesis__dead "$pid" || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true # reap it
  done
  rm -f "$STATE/services.pids"
  genesis_redis_stop "$STATE" || true
  genesis_pg_stop "$STATE" || true
}
trap stop_all EXIT
trap 'stop_all; exit 0' INT TERM

fail() { # NAME LOG MESSAGE
  echo "run: $1: $3; last lines of ${2#"$ROOT"/}:" >&2
  tail -n 30 "$2" >&2
  exit 1 # the EXIT trap stops everything else
}

# Services orphaned by a run.sh that was killed outright would hold their ports and
# connections. The command-line check guards against a recycled pid.
while read -r pid; do
  if genesis__alive "$pid" && [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" == *build/*genesis-* ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    genesis__poll 15 genesis__dead "$pid" || kill -KILL "$pid" 2>/dev/null || true
  fi
done < <(cat "$STATE/services.pids" 2>/dev/null)
: >"$STATE/services.pids"

# `9>&-` everywhere below: daemons and services must not inherit the lock, or they would
# keep it after this script dies.
# Dev secrets, generated once and never committed: the gateway's JWT secret and the
# secret it forwards caller identities to the services with.
SECRETS="$STATE/secrets.env"
if [ ! -s "$SECRETS" ]; then
  (umask 077 && {
    echo "GENESIS_JWT_HS256_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
    echo "GENESIS_GATEWAY_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
  } >"$SECRETS")
fi
# Dev channel secrets for bots tried against the channel simulator: a bot names these
# variables (webhook_secret_env, access_token_env, verify_token_env); the values never
# reach the database. Added once to an older secrets file too.
if ! grep -q '^GENESIS_DEV_TELEGRAM_WEBHOOK_SECRET=' "$SECRETS"; then
  (umask 077 && for v in WHATSAPP_APP_SECRET WHATSAPP_ACCESS_TOKEN WHATSAPP_VERIFY_TOKEN \
    TELEGRAM_WEBHOOK_SECRET TELEGRAM_BOT_TOKEN MATTERMOST_WEBHOOK_TOKEN MATTERMOST_BOT_TOKEN; do
    echo "GENESIS_DEV_$v=dev-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  done >>"$SECRETS")
fi
# The JWT issuer and audience the gateway requires, as production must: a token minted for
# another issuer or API is refused. Not secret, but kept with the JWT secret so that a
# shell that sources this file mints tokens the gateway accepts. Added once to an older file.
if ! grep -q '^GENESIS_JWT_ISSUER=' "$SECRETS"; then
  (umask 077 && printf 'GENESIS_JWT_ISSUER=%s\nGENESIS_JWT_AUDIENCE=%s\n' \
    genesis-dev genesis-api >>"$SECRETS")
fi
chmod 600 "$SECRETS"
set -a
# shellcheck source=/dev/null
source "$SECRETS"
set +a

# Mutual TLS inside the mesh (default): per-process certificates of a dev CA, kept while
# valid. With it the shared gateway secret is not used (the services refuse it).
MTLS="${GENESIS_MTLS:-1}"
CERTS="$STATE/tls"  # one dev CA for the mesh and the gateway's HTTPS
if [ "$MTLS" = 1 ]; then
  # shellcheck source-path=SCRIPTDIR source=lib/certs.sh
  source scripts/lib/certs.sh
  genesis_certs "$CERTS" gateway catalog llm-router reasoning bot-manager voice admin 9>&-
  unset GENESIS_GATEWAY_SECRET
fi
# tls_flags NAME: the --tls_* flags of process NAME (none in plaintext).
tls_flags() {
  [ "$MTLS" = 1 ] || return 0
  printf '%s\n' "--tls_cert=$CERTS/$1.crt" "--tls_key=$CERTS/$1.key" "--tls_ca=$CERTS/ca.crt"
}

export GENESIS_PERSIST=1
genesis_pg_start "$STATE" 9>&-
genesis_redis_start "$STATE" 9>&-

# start NAME BINARY ENDPOINT_KIND PORT_FLAG [FLAGS...]: starts one program in the background.
start() {
  local name="$1" bin="$2" kind="$3" flag="$4" key port mport log="$LOGS/$1.log"
  shift 4
  key="$(tr 'a-z-' 'A-Z_' <<<"$name")"
  port="$(genesis_port_for "$STATE" "${key}_${kind^^}_PORT")"
  mport="$(genesis_port_for "$STATE" "${key}_METRICS_PORT")"
  local tls=()
  mapfile -t tls < <(tls_flags "$name")
  "$bin" "$flag=$port" --metrics_port="$mport" "${tls[@]}" "$@" >>"$log" 2>&1 9>&- &
  pids+=("$!") names+=("$name") ports+=("$port") metrics+=("$mport") logs+=("$log")
  echo "$!" >>"$STATE/services.pids"
  if [ "$kind" = grpc ]; then
    urls+=("127.0.0.1:$port")
    first_grpc="${first_grpc:-127.0.0.1:$port}"
    # For the gateway, started after the services: it looks for GENESIS_<PACKAGE>_ADDR of
    # package genesis.<package>.v1 ("llmrouter" for the binary genesis-llm-router).
    export "GENESIS_${key}_ADDR=127.0.0.1:$port" "GENESIS_${key//_/}_ADDR=127.0.0.1:$port"
  else
    urls+=("http://127.0.0.1:$port")
  fi
}

# The LLM provider simulator, started before the services: the router's simulated models
# answer through it, so the mesh works with no provider keys (real providers switch on
# when their keys or URLs are set, see services/llm_router/README.md).
simulator=build/services/llm_router/simulator/genesis-llm-simulator
if [ -x "$simulator" ]; then
  sim_port="$(genesis_port_for "$STATE" LLM_SIMULATOR_HTTP_PORT)"
  sim_log="$LOGS/llm-simulator.log"
  : >"$sim_log"
  "$simulator" --http_port="$sim_port" >>"$sim_log" 2>&1 9>&- &
  pids+=("$!") names+=(llm-simulator) ports+=("$sim_port") metrics+=("") logs+=("$sim_log")
  urls+=("http://127.0.0.1:$sim_port")
  echo "$!" >>"$STATE/services.pids"
  export GENESIS_SIMULATOR_URL="http://127.0.0.1:$sim_port" # read by genesis-llm-router
fi

# The channel simulator: WhatsApp's Graph API, Telegram's Bot API and Mattermost's posts
# API in one local server, so the bot manager's replies land somewhere visible
# (GET /_sim/sent) with no real channel account. Real channels: set the bot manager's
# --whatsapp_base_url / --telegram_base_url / --mattermost_base_url (services/bot_manager/README.md).
channel_sim=build/services/bot_manager/simulator/genesis-channel-simulator
if [ -x "$channel_sim" ]; then
  csim_port="$(genesis_port_for "$STATE" CHANNEL_SIMULATOR_HTTP_PORT)"
  csim_log="$LOGS/channel-simulator.log"
  : >"$csim_log"
  "$channel_sim" --http_port="$csim_port" >>"$csim_log" 2>&1 9>&- &
  pids+=("$!") names+=(channel-simulator) ports+=("$csim_port") metrics+=("") logs+=("$csim_log")
  urls+=("http://127.0.0.1:$csim_port")
  echo "$!" >>"$STATE/services.pids"
  CHANNEL_SIM_URL="http://127.0.0.1:$csim_port"
  # It also plays Alexa: requests signed with its own CA, whose certificate chain it serves.
  for _ in $(seq 1 100); do
    curl -sf --max-time 1 -o "$STATE/alexa-simulator-ca.pem" "$CHANNEL_SIM_URL/_sim/alexa/ca.pem" && break
    sleep 0.1
  done
fi

db_flags=(--pg_dsn="$GENESIS_PG_DSN" --redis_url="$GENESIS_REDIS_URL")
# The LLM router first: the services that call it (reasoning's assist, bots, voice) are
# started with its address in GENESIS_LLM_ROUTER_ADDRESS (their --llm_router_address).
router=build/services/llm_router/genesis-llm-router
service_bins=()
[ ! -x "$router" ] || service_bins+=("$router")
for bin in build/services/*/genesis-*; do
  [ "$bin" = "$router" ] || service_bins+=("$bin")
done
for bin in "${service_bins[@]}"; do
  name="${bin##*/}"
  name="${name#genesis-}"
  if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
  case "$name" in *_test | *-test | *_tests | *_bench | *_benchmark | *-simulator) continue ;; esac
  log="$LOGS/$name.log"
  : >"$log"
  timeout --foreground 120 "$bin" --migrate_only "${db_flags[@]}" >>"$log" 2>&1 9>&- \
    || fail "$name" "$log" "--migrate_only failed"
  extra=()
  case "$name" in
    # The Wyoming facade (Home Assistant's Wyoming integration points at host:port).
    voice)
      wyoming_port="$(genesis_port_for "$STATE" VOICE_WYOMING_PORT)"
      extra=(--wyoming_listen_port="$wyoming_port")
      ;;
    # Replies go to the channel simulator unless real base URLs are configured.
    bot-manager)
      if [ -n "${CHANNEL_SIM_URL:-}" ]; then
        [ -n "${GENESIS_WHATSAPP_BASE_URL:-}" ] || extra+=(--whatsapp_base_url="$CHANNEL_SIM_URL")
        [ -n "${GENESIS_TELEGRAM_BASE_URL:-}" ] || extra+=(--telegram_base_url="$CHANNEL_SIM_URL")
        [ -n "${GENESIS_MATTERMOST_BASE_URL:-}" ] || extra+=(--mattermost_base_url="$CHANNEL_SIM_URL")
        if [ -s "$STATE/alexa-simulator-ca.pem" ] && [ -z "${GENESIS_ALEXA_TRUSTED_CA_FILE:-}" ]; then
          extra+=(--alexa_cert_url_prefixes="https://s3.amazonaws.com/echo.api/,$CHANNEL_SIM_URL/echo.api/"
            --alexa_trusted_ca_file="$STATE/alexa-simulator-ca.pem")
        fi
      fi
      ;;
  esac
  start "$name" "$bin" grpc --grpc_port "${db_flags[@]}" --audit_log_file="$LOGS/$name.audit.jsonl" "${extra[@]}"
  if [ "$name" = llm-router ]; then export GENESIS_LLM_ROUTER_ADDRESS="$GENESIS_LLM_ROUTER_ADDR"; fi
  # The gateway finds a backend by its proto package (genesis.bot.v1 -> GENESIS_BOT_ADDR).
  if [ "$name" = bot-manager ]; then export GENESIS_BOT_ADDR="$GENESIS_BOT_MANAGER_ADDR"; fi
done
[ "${#pids[@]}" -gt 0 ] || { echo "run: no service binaries in build/services/*/genesis-*" >&2; exit 1; }

gateway=build/gateway/genesis-gateway
# ---- Gateway HTTPS (self-contained block) -----------------------------------------------
# The gateway serves HTTPS beside plain HTTP with a dev certificate (CN gateway-https, SAN
# localhost and 127.0.0.1) signed by the dev CA of .genesis/run/tls (scripts/lib/certs.sh);
# `kill -HUP` on the gateway re-reads it. Without openssl it serves plain HTTP only.
gateway_https=() https_url=""
if [ -x "$gateway" ]; then
  # shellcheck source=lib/certs.sh
  source scripts/lib/certs.sh
  if genesis_certs "$STATE/tls" gateway-https 9>&-; then
    https_port="$(genesis_port_for "$STATE" GATEWAY_HTTPS_PORT)"
    gateway_https=(--https_port="$https_port" --https_cert="$STATE/tls/gateway-https.crt"
      --https_key="$STATE/tls/gateway-https.key")
    https_url="https://localhost:$https_port"
  else
    echo "run: no dev certificate for the gateway (openssl?): plain HTTP only" >&2
  fi
fi
# ---- end of gateway HTTPS ---------------------------------------------------------------
if [ -x "$gateway" ]; then
  : >"$LOGS/gateway.log"
  start gateway "$gateway" http --http_port "${db_flags[@]}" "${gateway_https[@]}"
fi

# Ready means the process itself listens on its port (ss shows the owning pid to root and
# to the owner), not merely that something does.
listening() { ss -ltnpH "sport = :$2" | grep -q "pid=$1,"; }
for i in "${!pids[@]}"; do
  deadline=$((SECONDS + 30))
  until listening "${pids[$i]}" "${ports[$i]}"; do
    genesis__alive "${pids[$i]}" || fail "${names[$i]}" "${logs[$i]}" "exited during start-up"
    [ "$SECONDS" -lt "$deadline" ] || fail "${names[$i]}" "${logs[$i]}" "not listening on ${ports[$i]} after 30 s"
    sleep 0.05
  done
done

row='%-18s %-24s %-38s %s\n'
echo
# shellcheck disable=SC2059  # the format is ours
printf "$row" SERVICE ENDPOINT METRICS LOG
for i in "${!pids[@]}"; do
  # shellcheck disable=SC2059
  m="-"
  [ -z "${metrics[$i]}" ] || m="http://127.0.0.1:${metrics[$i]}/metrics"
  printf "$row" "${names[$i]}" "${urls[$i]}" "$m" "${logs[$i]#"$ROOT"/}"
done
echo
echo "PostgreSQL  $GENESIS_PG_DSN  (log: .genesis/run/pg/pg.log)"
echo "Redis       $GENESIS_REDIS_URL  (log: .genesis/run/redis/redis.log)"
[ -z "$https_url" ] || echo "Gateway     ${urls[-1]} (plain HTTP) and $https_url (HTTPS, CA: .genesis/run/tls/ca.crt)"
[ -z "${wyoming_port:-}" ] || echo "Wyoming     tcp://127.0.0.1:$wyoming_port  (voice: speech-to-text and text-to-speech for Home Assistant)"
echo
if [ "$MTLS" = 1 ]; then
  echo "Mutual TLS inside the mesh: certificates in .genesis/run/tls (admin.crt: an operator's, for direct gRPC calls)"
  echo "Try: .genesis/tools/node_modules/.bin/buf curl --protocol grpc --cacert .genesis/run/tls/ca.crt \\"
  echo "       --cert .genesis/run/tls/admin.crt --key .genesis/run/tls/admin.key https://${first_grpc:-}/grpc.health.v1.Health/Check"
else
  echo "Try: .genesis/tools/node_modules/.bin/buf curl --protocol grpc --http2-prior-knowledge http://${first_grpc:-}/grpc.health.v1.Health/Check"
fi
if [ -x build/gateway/genesis-gateway-admin ] && [ -x "$gateway" ]; then
  token="$(build/gateway/genesis-gateway-admin mint-token --subject=dev --roles=admin --ttl=12h 9>&-)"
  echo "     curl -s -H 'Authorization: Bearer $token' ${urls[-1]}/v1/types"
  [ -z "$https_url" ] || echo "     curl -s --cacert .genesis/run/tls/ca.crt -H 'Authorization: Bearer $token' $https_url/v1/types"
  echo "     (an admin dev token for 12 h; more: build/gateway/genesis-gateway-admin mint-token --subject=S --roles=viewer,"
  echo "      with GENESIS_JWT_HS256_SECRET, GENESIS_JWT_ISSUER ($GENESIS_JWT_ISSUER) and"
  echo "      GENESIS_JWT_AUDIENCE ($GENESIS_JWT_AUDIENCE) from .genesis/run/secrets.env)"
fi
echo "Ctrl-C stops everything."

# Wake up when any service exits on its own: that is a crash as far as the mesh goes.
while :; do
  wait -n || true
  for i in "${!pids[@]}"; do
    genesis__alive "${pids[$i]}" || fail "${names[$i]}" "${logs[$i]}" "exited unexpectedly"
  done
done
