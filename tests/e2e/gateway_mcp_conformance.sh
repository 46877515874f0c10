#!/usr/bin/env bash
# The Model Context Protocol's conformance suite (@modelcontextprotocol/conformance,
# the specification project's own test client) against the gateway's /mcp endpoint.
#
# The suite's client sends no credential, so the gateway runs with --auth=off on
# 127.0.0.1 (the suite's DNS-rebinding scenario is meant for exactly such a local,
# unauthenticated server); no backend is needed, the tools come from the descriptors.
# The scenarios that apply to a tools-only server must pass; the others need features
# the gateway does not offer (resources, prompts, sampling, elicitation, logging,
# completions, SSE streams) or fixture tools of the suite's reference server
# (`test_simple_text`, ...), and are listed in gateway/README.md with the reason.
#
# Needs: GENESIS_GATEWAY_BIN (else $GENESIS_BUILD_DIR/gateway/genesis-gateway), node,
# GENESIS_MCP_CONFORMANCE_MODULE (else .genesis/tools/node_modules/@modelcontextprotocol/conformance).
# Exits 77 (skipped) when they are missing, 1 when a scenario fails.

set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

e2e_require_tools node jq
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SUITE="${GENESIS_MCP_CONFORMANCE_MODULE:-$ROOT/.genesis/tools/node_modules/@modelcontextprotocol/conformance}"
[ -f "$SUITE/dist/index.js" ] || e2e_skip "the @modelcontextprotocol/conformance npm package is not at $SUITE"

e2e_init gateway-mcp-conformance

e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 --auth=off --rate_limit=1000/s \
  --log_level=warn
pass "gateway (auth off) at $GW"

# The scenarios of a tools-only server.
APPLICABLE=(server-initialize ping tools-list server-sse-multiple-streams dns-rebinding-protection)

conformance() {
  (cd "$WORK" && node --import "$HERE/mcp_conformance/node20_register.mjs" "$SUITE/dist/index.js" "$@")
}

for scenario in "${APPLICABLE[@]}"; do
  if OUT="$(conformance server --url "$GW/mcp" --scenario "$scenario" 2>&1)"; then
    pass "conformance: $scenario"
  else
    fail "conformance: $scenario" "$(tail -n 30 <<<"$OUT")"
  fi
done

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
