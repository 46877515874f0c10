#!/usr/bin/env bash
# The Kubernetes manifests (deploy/k8s) render and are complete: yamllint on the sources,
# the ConfigMaps' copies equal services/llm_router/config/models.json and
# gateway/config/rbac.json, then `kubectl kustomize` renders the dev and prod overlays (and
# prod with the ServiceMonitor component) with placeholder secret files, and k8s_check.cjs
# validates every object and each Deployment's probes, resources, budget, autoscaler,
# network policy and flags. Offline; a few seconds.
# Needs kubectl >= 1.22 (kustomize v4+), yamllint, node and kubernetes-models in
# .genesis/tools (scripts/install-deps.sh); skipped (77) without kubectl or with an older one.
# GENESIS_BIN_<NAME> name the built binaries whose flags the manifests set.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.genesis/tools"
KUBECTL="${GENESIS_KUBECTL:-kubectl}"

if ! command -v "$KUBECTL" >/dev/null; then
  echo "k8s_manifests: SKIP: no kubectl (>= 1.22) on PATH" >&2
  exit 77
fi
kustomize_version="$("$KUBECTL" version --client -o json 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin).get("kustomizeVersion", ""))' || true)"
if [[ ! "$kustomize_version" =~ ^v([4-9]|[1-9][0-9]) ]]; then
  echo "k8s_manifests: SKIP: $KUBECTL's kustomize is '${kustomize_version:-unknown}', v4+ (kubectl >= 1.22) needed" >&2
  exit 77
fi
for tool in yamllint node python3; do
  command -v "$tool" >/dev/null || { echo "k8s_manifests: $tool missing: run scripts/install-deps.sh" >&2; exit 1; }
done
[ -f "$TOOLS/node_modules/kubernetes-models/package.json" ] \
  || { echo "k8s_manifests: kubernetes-models missing in .genesis/tools: run scripts/install-deps.sh" >&2; exit 1; }

K8S="$ROOT/deploy/k8s"
yamllint -s -c "$K8S/.yamllint" "$K8S"

for pair in services/llm_router/config/models.json:models.json gateway/config/rbac.json:rbac.json; do
  cmp -s "$ROOT/${pair%%:*}" "$K8S/base/config/${pair##*:}" || {
    echo "k8s_manifests: deploy/k8s/base/config/${pair##*:} differs from ${pair%%:*}: copy it" >&2
    exit 1
  }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A copy of the tree, so the placeholder secrets never land next to real ones.
cp -r "$K8S" "$work/k8s"
mkdir -p "$work/k8s/overlays/prod-monitoring"
printf '%s\n' 'resources:' '  - ../prod' 'components:' '  - ../../components/servicemonitor' \
  >"$work/k8s/overlays/prod-monitoring/kustomization.yaml"
for overlay in dev prod; do
  s="$work/k8s/overlays/$overlay/secrets"
  rm -rf "$s"
  mkdir -p "$s/tls"
  echo placeholder >"$s/jwt-hs256-secret"
  printf '%s-pg-dsn=postgresql://u:p@postgres/genesis\n' gateway catalog llm-router reasoning bot-manager voice >"$s/db.env"
  echo 'redis-url=redis://redis:6379/0' >>"$s/db.env"
  : >"$s/providers.env"
  : >"$s/channels.env"
  for f in ca.crt gateway.crt gateway.key catalog.crt catalog.key llm-router.crt llm-router.key \
    reasoning.crt reasoning.key bot-manager.crt bot-manager.key voice.crt voice.key; do
    echo placeholder >"$s/tls/$f"
  done
done

status=0
for overlay in dev prod prod-monitoring; do
  "$KUBECTL" kustomize "$work/k8s/overlays/$overlay" >"$work/$overlay.yaml"
  python3 -c 'import json,sys,yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))' \
    <"$work/$overlay.yaml" >"$work/$overlay.json"
  check_as="$overlay"
  [ "$overlay" != prod-monitoring ] || check_as=prod
  node "$ROOT/tests/deploy/k8s_check.cjs" "$check_as" "$TOOLS" <"$work/$overlay.json" || status=1
done
exit "$status"
