#!/usr/bin/env bash
# Lays out what the runtime image holds, from a build directory, under OUT_DIR:
#   usr/local/bin/genesis-*                     every service, the gateway, its admin CLI
#                                               and the simulators (stripped)
#   usr/share/genesis/docs/                     the gateway's /docs page, when the build has it
#   usr/local/bin/genesis-healthcheck          the containers' health check (healthcheck.sh)
#   usr/share/genesis/genesis.binpb             the gateway's descriptor set
#   usr/share/genesis/{rbac,models}.json        the default RBAC policy and model registry
#   usr/share/genesis/runtime-packages.txt      the Debian packages they need
# Used inside deploy/Containerfile and, from the host's build/, by scripts/image.sh.
#   deploy/stage.sh BUILD_DIR OUT_DIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$1" out="$2"
bins=(
  gateway/genesis-gateway gateway/genesis-gateway-admin
  services/catalog/genesis-catalog services/llm_router/genesis-llm-router
  services/reasoning/genesis-reasoning services/bot_manager/genesis-bot-manager
  services/voice/genesis-voice
  services/llm_router/simulator/genesis-llm-simulator
  services/bot_manager/simulator/genesis-channel-simulator
  services/voice/simulator/genesis-wyoming-simulator
)
mkdir -p "$out/usr/local/bin" "$out/usr/share/genesis"
for b in "${bins[@]}"; do
  [ -x "$build/$b" ] || { echo "stage: $build/$b missing: build it first" >&2; exit 1; }
  install -m 755 "$build/$b" "$out/usr/local/bin/"
  strip --strip-unneeded "$out/usr/local/bin/${b##*/}"
done
install -m 644 "$build/proto/genesis.binpb" "$out/usr/share/genesis/genesis.binpb"
install -m 644 "$ROOT/gateway/config/rbac.json" "$out/usr/share/genesis/rbac.json"
install -m 644 "$ROOT/services/llm_router/config/models.json" "$out/usr/share/genesis/models.json"
# The gateway's /docs page (Swagger UI, copied into the build from npm's swagger-ui-dist);
# a build without it (no npm) leaves /docs answering 503.
if [ -d "$build/gateway/docs_page" ]; then
  mkdir -p "$out/usr/share/genesis/docs"
  cp -r "$build/gateway/docs_page/." "$out/usr/share/genesis/docs/"
else
  echo "stage: $build/gateway/docs_page missing: the image's /docs will answer 503" >&2
fi
install -m 755 "$ROOT/deploy/healthcheck.sh" "$out/usr/local/bin/genesis-healthcheck"
install -m 644 "$ROOT/deploy/runtime-packages.txt" "$out/usr/share/genesis/runtime-packages.txt"
