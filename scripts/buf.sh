#!/usr/bin/env bash
# buf over the Genesis contracts, offline (google/api and google/rpc come
# from Debian's golang-github-gogo-googleapis-dev, not from a registry).
#
#   scripts/buf.sh lint                 lint proto/genesis with proto/buf.yaml
#   scripts/buf.sh breaking [GIT_REF]   wire/source compatibility against GIT_REF (default: the latest
#                                       release tag v*, else HEAD~1 — the previous commit of main)
#   scripts/buf.sh image OUT.binpb      write a descriptor set of proto/ (with imports)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUF="${GENESIS_BUF:-$ROOT/.genesis/tools/node_modules/.bin/buf}"
GOOGLEAPIS="${GENESIS_GOOGLEAPIS_DIR:-/usr/share/gocode/src/github.com/gogo/googleapis}"

# image PROTO_ROOT OUT: a FileDescriptorSet of every genesis/*.proto under PROTO_ROOT.
image() {
  local proto_root="$1" out="$2"
  (cd "$proto_root" && protoc -I . -I "$GOOGLEAPIS" --include_imports --include_source_info \
    --descriptor_set_out="$out" $(find genesis -name '*.proto' | sort))
}

cmd="${1:-lint}"
case "$cmd" in
  lint)
    tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
    image "$ROOT/proto" "$tmp/current.binpb"
    "$BUF" lint "$tmp/current.binpb" --path genesis --config "$ROOT/proto/buf.yaml"
    echo "buf lint: proto/genesis is clean"
    ;;
  breaking)
    ref="${2:-}"
    if [ -z "$ref" ]; then
      ref="$(git -C "$ROOT" describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null || true)"
      if [ -z "$ref" ]; then
        git -C "$ROOT" rev-parse -q --verify HEAD~1 >/dev/null || { echo "buf breaking: no release tag and no previous commit; nothing to compare"; exit 0; }
        ref=HEAD~1
      fi
    fi
    tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/old"
    if ! git -C "$ROOT" archive "$ref" proto | tar -x -C "$tmp/old" 2>/dev/null || [ ! -d "$tmp/old/proto/genesis" ]; then
      echo "buf breaking: $ref has no proto/genesis; nothing to compare"; exit 0
    fi
    image "$tmp/old/proto" "$tmp/old.binpb"
    image "$ROOT/proto" "$tmp/current.binpb"
    "$BUF" breaking "$tmp/current.binpb" --against "$tmp/old.binpb" --path genesis --config "$ROOT/proto/buf.yaml"
    echo "buf breaking: no breaking changes against $ref"
    ;;
  image)
    image "$ROOT/proto" "$(realpath -m "${2:?usage: scripts/buf.sh image OUT.binpb}")"
    ;;
  *)
    echo "usage: scripts/buf.sh lint | breaking [GIT_REF] | image OUT.binpb" >&2; exit 2 ;;
esac
