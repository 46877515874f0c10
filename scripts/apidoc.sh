#!/usr/bin/env bash
# The Markdown API reference in proto/docs/, generated from the protos
# (build/proto/genesis.binpb) and each service's error reasons (reasons.h).
#
#   scripts/apidoc.sh           regenerate proto/docs/ (builds genesis-apidoc and the descriptor set)
#   scripts/apidoc.sh --check   fail when proto/docs/ is not what the protos generate (ctest
#                               proto_api_docs_current); GENESIS_APIDOC_BIN and
#                               GENESIS_DESCRIPTOR_SET point at built ones
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${GENESIS_APIDOC_BIN:-build/proto/genesis-apidoc}"
SET="${GENESIS_DESCRIPTOR_SET:-build/proto/genesis.binpb}"

# Which reasons header belongs to which package: the one place that says so.
args=(
  --descriptor_set="$SET" --out_dir=proto/docs --common_reasons=common/base/reasons.h
  --reasons=genesis.bot.v1=services/bot_manager/reasons.h
  --reasons=genesis.catalog.v1=services/catalog/reasons.h
  --reasons=genesis.llmrouter.v1=services/llm_router/reasons.h
  --reasons=genesis.reasoning.v1=services/reasoning/reasons.h
  --reasons=genesis.voice.v1=services/voice/reasons.h
)

if [ "${1:-}" = --check ]; then
  exec "$BIN" "${args[@]}" --check
fi
cmake --build build --target genesis-apidoc genesis_descriptor_set >/dev/null
"$BIN" "${args[@]}"
