#!/usr/bin/env bash
# Builds the client packages other teams use Genesis through (proto/clients/README.md):
#   scripts/build-clients.sh [--out DIR] [--no-build] [PART...]
# PART (default: all four):
#   bundle      build/clients/genesis-protos-<version>.tar.gz: the protos, every import they
#               need and a descriptor set (CMake target genesis_proto_bundle)
#   cpp         DIR/cpp: `cmake --install --component clients`, the CMake package Genesis
#               (find_package(Genesis CONFIG) -> Genesis::clients)
#   python      DIR/genesis_clients-<version>-py3-none-any.whl (protoc + grpc_python_plugin,
#               built offline with Debian's python3-build and python3-setuptools)
#   typescript  DIR/genesis-clients-<version>.tgz (protoc-gen-es, tsc --strict, npm pack)
# DIR defaults to build/clients. The python and typescript packages are generated from the
# unpacked bundle alone, so they carry exactly what the bundle does. --no-build: use the
# build tree as it is (the test command has built it) instead of building the targets.
# Prints the path of each artefact. Nothing generated is written into the source tree.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GENESIS_BUILD_DIR:-$ROOT/build}"
TOOLS="${GENESIS_TOOLS:-$ROOT/.genesis/tools}"
# Debian's interpreter, whatever python3 comes first on PATH: its python3-grpcio,
# python3-protobuf and python3-build are what the package is built and tested with.
PYTHON="${GENESIS_PYTHON:-/usr/bin/python3}"
OUT="$BUILD/clients"
build=1
parts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    bundle | cpp | python | typescript) parts+=("$1"); shift ;;
    *) echo "usage: $0 [--out DIR] [--no-build] [bundle|cpp|python|typescript]..." >&2; exit 2 ;;
  esac
done
[ "${#parts[@]}" -gt 0 ] || parts=(bundle cpp python typescript)
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

die() { echo "build-clients: $*" >&2; exit 1; }

if [ "$build" = 1 ] && [ ! -f "$BUILD/build.ninja" ]; then
  GENESIS_SKIP_INSTALL="${GENESIS_SKIP_INSTALL:-0}" "$ROOT/scripts/build.sh" >&2
fi
[ -f "$BUILD/CMakeCache.txt" ] || die "no build tree at $BUILD (run scripts/build.sh)"
VERSION="$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")"
[ -n "$VERSION" ] || die "no project version in $BUILD/CMakeCache.txt"
BUNDLE_DIR="$BUILD/clients/genesis-protos-$VERSION"
BUNDLE="$BUNDLE_DIR.tar.gz"

need_bundle() {
  if [ "$build" = 1 ]; then cmake --build "$BUILD" --target genesis_proto_bundle >&2; fi
  [ -f "$BUNDLE" ] || die "$BUNDLE missing (cmake --build $BUILD --target genesis_proto_bundle)"
}

# Work in a scratch copy; removed at exit.
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
# The bundle unpacked from its tarball: what another team gets.
unpack_bundle() {
  if [ ! -d "$STAGE/bundle" ]; then
    mkdir -p "$STAGE/bundle"
    tar -xzf "$BUNDLE" -C "$STAGE/bundle" --strip-components=1
  fi
  echo "$STAGE/bundle"
}

build_bundle() {
  need_bundle
  if [ "$OUT" != "$BUILD/clients" ]; then cp "$BUNDLE" "$OUT/"; fi
  echo "$OUT/$(basename "$BUNDLE")"
}

build_cpp() {
  if [ "$build" = 1 ]; then cmake --build "$BUILD" --target genesis_proto >&2; fi
  rm -rf "$OUT/cpp"
  cmake --install "$BUILD" --component clients --prefix "$OUT/cpp" >/dev/null
  echo "$OUT/cpp"
}

build_python() {
  need_bundle
  local b src
  b="$(unpack_bundle)"
  src="$STAGE/python"
  mkdir -p "$src/protos"
  cp -r "$ROOT/proto/clients/python/genesis_clients" "$ROOT/proto/clients/python/README.md" "$src/"
  sed "s/@VERSION@/$VERSION/" "$ROOT/proto/clients/python/pyproject.toml.in" >"$src/pyproject.toml"
  # Health and reflection as grpcio-health-checking and grpcio-reflection lay them out
  # (grpc_health.v1, grpc_reflection.v1alpha): the grpc package itself belongs to grpcio.
  cp -r "$b/genesis" "$b/google" "$src/protos/"
  mkdir -p "$src/protos/grpc_health/v1" "$src/protos/grpc_reflection/v1alpha"
  cp "$b/grpc/health/v1/health.proto" "$src/protos/grpc_health/v1/"
  cp "$b/grpc/reflection/v1alpha/reflection.proto" "$src/protos/grpc_reflection/v1alpha/"
  local files
  mapfile -t files < <(cd "$src/protos" && find . -name '*.proto' | sed 's|^\./||' | sort)
  protoc -I "$src/protos" --python_out="$src" --pyi_out="$src" \
    --grpc_out="$src" --plugin=protoc-gen-grpc="$(command -v grpc_python_plugin)" "${files[@]}" \
    || die "protoc (python) failed"
  rm -rf "$src/protos"
  # Regular packages everywhere but google/ itself, a namespace shared with Debian's
  # google.protobuf; py.typed: the .pyi stubs are the types (PEP 561).
  local d
  while read -r d; do
    [ "$d" = "$src/google" ] || touch "$d/__init__.py"
  done < <(find "$src/genesis" "$src/google" "$src/grpc_health" "$src/grpc_reflection" -type d)
  for d in genesis google/api google/rpc grpc_health grpc_reflection; do touch "$src/$d/py.typed"; done
  rm -f "$OUT"/genesis_clients-*.whl
  (cd "$src" && "$PYTHON" -m build --no-isolation --wheel --outdir "$OUT" . >"$STAGE/python-build.log" 2>&1) \
    || { cat "$STAGE/python-build.log" >&2; die "python -m build failed"; }
  ls "$OUT"/genesis_clients-"$VERSION"-*.whl
}

build_typescript() {
  need_bundle
  local b src tool
  for tool in protoc-gen-es tsc; do
    [ -x "$TOOLS/node_modules/.bin/$tool" ] \
      || die "$tool not found in $TOOLS (scripts/install-deps.sh installs it)"
  done
  b="$(unpack_bundle)"
  src="$STAGE/typescript"
  mkdir -p "$src"
  cp -r "$ROOT/proto/clients/typescript/"{package.json,tsconfig.json,README.md,src} "$src/"
  # The runtime it was compiled against: the versions scripts/install-deps.sh pinned.
  local deps=() dep
  for dep in @bufbuild/protobuf @connectrpc/connect @connectrpc/connect-node; do
    deps+=("dependencies.$dep=$(node -p "require('$TOOLS/node_modules/$dep/package.json').version")")
  done
  (cd "$src" && npm pkg set version="$VERSION" "${deps[@]}" >/dev/null)
  mkdir -p "$src/src/gen"
  local files
  mapfile -t files < <(cd "$b" && find genesis google grpc -name '*.proto' | sort)
  protoc -I "$b" --plugin=protoc-gen-es="$TOOLS/node_modules/.bin/protoc-gen-es" \
    --es_out="$src/src/gen" --es_opt=target=ts,import_extension=js "${files[@]}" \
    || die "protoc (protoc-gen-es) failed"
  # The compiler resolves @bufbuild/protobuf, @connectrpc/* and @types/node from the tools.
  ln -s "$TOOLS/node_modules" "$src/node_modules"
  (cd "$src" && "$TOOLS/node_modules/.bin/tsc" -p tsconfig.json >&2) || die "tsc --strict failed"
  rm "$src/node_modules"
  rm -f "$OUT"/genesis-clients-*.tgz
  (cd "$src" && npm pack --silent --pack-destination "$OUT" >/dev/null)
  ls "$OUT"/genesis-clients-"$VERSION".tgz
}

for part in "${parts[@]}"; do "build_$part"; done
