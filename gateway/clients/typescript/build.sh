#!/usr/bin/env bash
# Builds the client package from a gateway's OpenAPI document and packs it:
#   gateway/clients/typescript/build.sh OPENAPI.json OUT_DIR
# OPENAPI.json: a live gateway's /openapi.json, or `genesis-gateway --print_openapi`'s.
# Generates src/schema.ts with openapi-typescript, compiles with tsc --strict and runs
# `npm pack`; prints the tarball's path. Works in a scratch copy: nothing generated is
# written into the source tree. Tools: the pinned openapi-typescript, typescript and
# openapi-fetch in .genesis/tools (scripts/install-deps.sh), or GENESIS_TOOLS.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
TOOLS="${GENESIS_TOOLS:-$ROOT/.genesis/tools}"
[ $# -eq 2 ] || { echo "usage: $0 OPENAPI.json OUT_DIR" >&2; exit 2; }
DOC="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
mkdir -p "$2"
OUT="$(cd "$2" && pwd)"
for tool in openapi-typescript tsc; do
  [ -x "$TOOLS/node_modules/.bin/$tool" ] || {
    echo "build: $tool not found in $TOOLS (scripts/install-deps.sh installs it)" >&2
    exit 1
  }
done

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp -r "$HERE/package.json" "$HERE/tsconfig.json" "$HERE/README.md" "$HERE/src" "$STAGE/"
# The compiler resolves openapi-fetch's types from the tools' node_modules.
ln -s "$TOOLS/node_modules" "$STAGE/node_modules"
"$TOOLS/node_modules/.bin/openapi-typescript" "$DOC" -o "$STAGE/src/schema.ts" >/dev/null
(cd "$STAGE" && "$TOOLS/node_modules/.bin/tsc" -p tsconfig.json)
rm "$STAGE/node_modules"
(cd "$STAGE" && npm pack --silent --pack-destination "$OUT" >/dev/null)
ls "$OUT"/genesis-gateway-client-*.tgz
