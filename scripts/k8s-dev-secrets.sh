#!/usr/bin/env bash
# Development secret files for a Kubernetes overlay (deploy/k8s/overlays/OVERLAY/secrets,
# ignored by git): a dev CA and one mesh certificate per process (scripts/lib/certs.sh;
# the CA key is kept in .genesis/k8s/OVERLAY, outside the overlay, so it is never put in a
# Secret), a random JWT secret, DSNs pointing at postgres/redis Services of the namespace,
# and empty provider and channel files. Existing files are kept.
#   scripts/k8s-dev-secrets.sh [OVERLAY] [SECRETS_DIR]     OVERLAY: dev (default) or prod
# For production, write these files yourself (deploy/README.md) with real DSNs and keys.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
overlay="${1:-dev}"
out="${2:-$ROOT/deploy/k8s/overlays/$overlay/secrets}"
ca_dir="$ROOT/.genesis/k8s/$overlay/tls"
names=(gateway catalog llm-router reasoning bot-manager voice)

mkdir -p "$out/tls" "$ca_dir"
chmod 700 "$out" "$ca_dir"
# shellcheck source-path=SCRIPTDIR source=lib/certs.sh
source "$ROOT/scripts/lib/certs.sh"
genesis_certs "$ca_dir" "${names[@]}" admin
cp "$ca_dir/ca.crt" "$out/tls/ca.crt"
for n in "${names[@]}"; do
  install -m 600 "$ca_dir/$n.crt" "$out/tls/$n.crt"
  install -m 600 "$ca_dir/$n.key" "$out/tls/$n.key"
done

umask 077
if [ ! -s "$out/jwt-hs256-secret" ]; then
  od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$out/jwt-hs256-secret"
fi
if [ ! -s "$out/db.env" ]; then
  password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  {
    for n in "${names[@]}"; do
      echo "$n-pg-dsn=postgresql://genesis:$password@postgres:5432/genesis"
    done
    echo "redis-url=redis://redis:6379/0"
  } >"$out/db.env"
fi
[ -e "$out/providers.env" ] || : >"$out/providers.env"
[ -e "$out/channels.env" ] || : >"$out/channels.env"
echo "k8s-dev-secrets: $out (admin certificate for direct calls: $ca_dir/admin.crt)"
