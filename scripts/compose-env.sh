#!/usr/bin/env bash
# Generates what deploy/compose.yaml reads and nothing in git holds: the env files of
# .genesis/compose (random passwords and secrets, made once and kept) and the mesh's mutual
# TLS certificates, one directory per container (tls.crt, tls.key, ca.crt; the CA's key
# stays in .genesis/compose/pki). Run again: keeps what exists, renews certificates that
# expire within a day.
#   scripts/compose-env.sh
#   OLLAMA_BASE_URL=http://ollama:11434/v1 scripts/compose-env.sh   adds it to services.env
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/.genesis/compose"
mkdir -p "$DIR"
chmod 700 "$DIR"
rand() { od -An -N"${1:-24}" -tx1 /dev/urandom | tr -d ' \n'; }

# One line per variable, written once: a second run keeps the passwords the volumes hold.
keep() { # FILE NAME VALUE
  touch "$1" && chmod 600 "$1"
  grep -q "^$2=" "$1" || printf '%s=%s\n' "$2" "$3" >>"$1"
}
get() { sed -n "s/^$2=//p" "$1"; }

keep "$DIR/postgres.env" POSTGRES_USER genesis
keep "$DIR/postgres.env" POSTGRES_DB genesis
keep "$DIR/postgres.env" POSTGRES_PASSWORD "$(rand)"
keep "$DIR/redis.env" REDIS_PASSWORD "$(rand)"
pg_password="$(get "$DIR/postgres.env" POSTGRES_PASSWORD)"
redis_password="$(get "$DIR/redis.env" REDIS_PASSWORD)"
# Every service owns a schema of this one database (each could take its own DSN).
keep "$DIR/services.env" GENESIS_PG_DSN "postgresql://genesis:$pg_password@postgres:5432/genesis"
keep "$DIR/services.env" GENESIS_REDIS_URL "redis://:$redis_password@redis:6379"
[ -z "${OLLAMA_BASE_URL:-}" ] || keep "$DIR/services.env" OLLAMA_BASE_URL "$OLLAMA_BASE_URL"
keep "$DIR/gateway.env" GENESIS_JWT_HS256_SECRET "$(rand 32)"
keep "$DIR/gateway.env" GENESIS_JWT_ISSUER genesis-dev
keep "$DIR/gateway.env" GENESIS_JWT_AUDIENCE genesis-api
# Channel secrets of bots tried against the channel simulator (a bot names the variable).
for v in WHATSAPP_APP_SECRET WHATSAPP_ACCESS_TOKEN WHATSAPP_VERIFY_TOKEN \
  TELEGRAM_WEBHOOK_SECRET TELEGRAM_BOT_TOKEN MATTERMOST_WEBHOOK_TOKEN MATTERMOST_BOT_TOKEN; do
  keep "$DIR/channels.env" "GENESIS_DEV_$v" "dev-$(rand 12)"
done

# shellcheck source-path=SCRIPTDIR source=lib/certs.sh
source "$ROOT/scripts/lib/certs.sh"
names=(gateway catalog llm-router reasoning bot-manager voice)
genesis_certs "$DIR/pki" "${names[@]}" admin
for n in "${names[@]}"; do
  out="$DIR/tls/$n"
  mkdir -p "$out"
  install -m 644 "$DIR/pki/$n.crt" "$out/tls.crt"
  install -m 644 "$DIR/pki/ca.crt" "$out/ca.crt"
  install -m 600 "$DIR/pki/$n.key" "$out/tls.key"
  # The containers run as uid 10001: they own their key (as root here; rootless podman
  # maps the invoking user to root in the container, so its files stay readable there).
  if [ "$(id -u)" = 0 ]; then chown -R 10001:10001 "$out"; fi
done
chmod 755 "$DIR" "$DIR/tls"
chmod 600 "$DIR"/*.env
echo "compose-env: secrets in ${DIR#"$ROOT"/}/*.env, certificates in ${DIR#"$ROOT"/}/tls (CA: pki/ca.crt, operator: pki/admin.crt)"
