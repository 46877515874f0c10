#!/usr/bin/env bash
# The proto bundle (build/clients/genesis-protos-<version>.tar.gz, CMake target
# genesis_proto_bundle) as another team uses it: unpacked alone, it holds every contract of
# proto/genesis and the third-party protos as Debian ships them (google/api, google/rpc,
# health, reflection; httpbody.proto vendored), and protoc compiles all of it to C++, gRPC
# C++ and Python with the bundle as its only include path; its descriptor set describes every
# contract; buf builds it as a module. Without one import the same compile fails.
#
# Needs: GENESIS_PROTO_BUNDLE (ctest passes it), protoc, grpc_cpp_plugin; buf (GENESIS_BUF)
# for its check. Exits 77 (skipped) when something is missing, 1 when a check fails.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
skip() { echo "skipped: $*"; exit 77; }
TARBALL="${GENESIS_PROTO_BUNDLE:-}"
[ -f "$TARBALL" ] || skip "GENESIS_PROTO_BUNDLE not set or missing (cmake --build build --target genesis_proto_bundle)"
command -v protoc >/dev/null || skip "protoc not found"
GRPC_CPP="$(command -v grpc_cpp_plugin || true)"
[ -n "$GRPC_CPP" ] || skip "grpc_cpp_plugin not found"
GOOGLEAPIS="${GENESIS_GOOGLEAPIS_DIR:-/usr/share/gocode/src/github.com/gogo/googleapis}"
GRPC_PROTO="${GENESIS_GRPC_PROTO_DIR:-/usr/share/grpc-proto}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
tar -xzf "$TARBALL" -C "$WORK"
name="$(basename "$TARBALL" .tar.gz)"
check_eq "the tarball unpacks into one directory, $name" "$name" "$(ls "$WORK")"
B="$WORK/$name"

missing=()
while read -r f; do
  cmp -s "$ROOT/proto/$f" "$B/$f" || missing+=("$f")
done < <(cd "$ROOT/proto" && find genesis google -name '*.proto')
check_eq "every proto of proto/genesis and proto/google is in the bundle, unchanged" "" "${missing[*]}"
differ=()
for f in google/api/annotations.proto google/api/http.proto google/rpc/status.proto \
  google/rpc/error_details.proto google/rpc/code.proto; do
  [ -f "$ROOT/proto/$f" ] || cmp -s "$GOOGLEAPIS/$f" "$B/$f" || differ+=("$f")
done
for f in grpc/health/v1/health.proto grpc/reflection/v1/reflection.proto \
  grpc/reflection/v1alpha/reflection.proto; do
  cmp -s "$GRPC_PROTO/$f" "$B/$f" || differ+=("$f")
done
check_eq "google/api, google/rpc, health and reflection are Debian's copies" "" "${differ[*]}"
check "a README, a buf.yaml and the descriptor set genesis.binpb come with it" \
  test -s "$B/README.md" -a -s "$B/buf.yaml" -a -s "$B/genesis.binpb"

# protoc with the bundle as its only -I, run from an empty directory.
mapfile -t all < <(cd "$B" && find . -name '*.proto' | sed 's|^\./||' | sort)
mapfile -t own < <(cd "$B" && find genesis -name '*.proto' | sort)
mkdir -p "$WORK/empty" "$WORK/cpp" "$WORK/py"
compile() { (cd "$WORK/empty" && protoc -I "$1" "${@:2}" >"$WORK/protoc.out" 2>&1); }
if compile "$B" --cpp_out="$WORK/cpp" --python_out="$WORK/py" "${all[@]}" \
  && compile "$B" --grpc_out="$WORK/cpp" --plugin=protoc-gen-grpc="$GRPC_CPP" "${own[@]}"; then
  pass "protoc -I <bundle> alone compiles all ${#all[@]} protos to C++, gRPC C++ and Python"
else
  fail "protoc -I <bundle> alone compiles the bundle" "$(head -20 "$WORK/protoc.out")"
fi
check "C++ and gRPC C++ code came out for the catalog" \
  test -s "$WORK/cpp/genesis/catalog/v1/catalog.pb.cc" -a -s "$WORK/cpp/genesis/catalog/v1/catalog.grpc.pb.h"

described="$(cd "$WORK/empty" && protoc --decode=google.protobuf.FileDescriptorSet \
  google/protobuf/descriptor.proto <"$B/genesis.binpb" | sed -n 's/^  name: "\(.*\)"$/\1/p' | sort)"
absent=()
for f in "${all[@]}"; do grep -qx "$f" <<<"$described" || absent+=("$f"); done
check_eq "genesis.binpb describes every proto of the bundle" "" "${absent[*]}"
check "genesis.binpb keeps the comments (source info)" \
  bash -c 'cd "$1" && protoc --decode=google.protobuf.FileDescriptorSet google/protobuf/descriptor.proto \
    <"$2" | grep -q "leading_comments"' _ "$WORK/empty" "$B/genesis.binpb"

BUF="${GENESIS_BUF:-$ROOT/.genesis/tools/node_modules/.bin/buf}"
if [ -x "$BUF" ]; then
  if (cd "$B" && "$BUF" build -o "$WORK/image.binpb" >"$WORK/buf.out" 2>&1); then
    pass "buf build: the bundle is a module with no dependency"
  else
    fail "buf build: the bundle is a module with no dependency" "$(head -20 "$WORK/buf.out")"
  fi
else
  echo "# buf not found: its check is left out"
fi

# The check can fail: the same compile without one of the copied imports.
rm "$B/google/api/http.proto"
if compile "$B" --descriptor_set_out="$WORK/x.binpb" "${own[@]}"; then
  fail "without google/api/http.proto the bundle does not compile"
else
  pass "without google/api/http.proto the bundle does not compile"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
