#!/usr/bin/env bash
# End-to-end test of the C++ client package: the build tree is installed
# (`cmake --install --component clients`, what scripts/build-clients.sh cpp does) into a
# scratch prefix, examples/cpp is configured and built on its own against it
# (find_package(Genesis CONFIG) -> Genesis::clients, linked into a shared library), its
# gMock-stub test runs, and its program calls every service of a live mesh over mutual TLS:
# CreateItemType, CreateItem, GetItem, an invalid CreateItem read as a BadRequest, and one
# call on the LLM router, reasoning, the bot manager and voice.
#
# Needs: GENESIS_TEST_PG_DSN (scripts/test.sh), cmake, openssl; the service binaries
# (clients_mesh.sh) and GENESIS_BUILD_DIR (the build tree to install from).
# Exits 77 (skipped) when something is missing, 1 when a check fails.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
# shellcheck source=clients_mesh.sh
source "$(dirname "${BASH_SOURCE[0]}")/clients_mesh.sh"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

e2e_require_pg
e2e_require_tools cmake
clients_mesh_bins
BUILD="${GENESIS_BUILD_DIR:-}"
if [ -z "$BUILD" ] || [ ! -f "$BUILD/proto/libgenesis_proto.a" ]; then
  e2e_skip "GENESIS_BUILD_DIR with a built genesis_proto"
fi

e2e_init clients-cpp-e2e
e2e_fresh_db clientscpp
clients_mesh_start

PREFIX="$WORK/prefix"
if bash "$ROOT/scripts/build-clients.sh" --no-build --out "$WORK/out" cpp >"$WORK/install.out" 2>&1; then
  PREFIX="$WORK/out/cpp"
  pass "build-clients.sh cpp installed the package into a scratch prefix"
else
  fail "build-clients.sh cpp installed the package" "$(tail -20 "$WORK/install.out")"
fi
check "the prefix holds the CMake package, the PIC library, headers with gMock stubs, the descriptor set" \
  test -f "$PREFIX/lib/cmake/Genesis/GenesisConfig.cmake" -a -f "$PREFIX/lib/libgenesis_proto.a" \
  -a -f "$PREFIX/include/genesis-clients/genesis/catalog/v1/catalog_mock.grpc.pb.h" \
  -a -f "$PREFIX/include/genesis-clients/google/rpc/error_details.pb.h" \
  -a -f "$PREFIX/share/genesis/genesis.binpb"

# The example as another team builds it: its own CMake, only the prefix to find Genesis in.
EX="$WORK/example"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
export CCACHE_BASEDIR="$WORK"
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
if cmake -S "$ROOT/examples/cpp" -B "$EX" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PREFIX" "${launcher[@]}" >"$WORK/configure.out" 2>&1 \
  && cmake --build "$EX" -j2 >"$WORK/build.out" 2>&1; then
  pass "examples/cpp configured with find_package(Genesis CONFIG) and built"
else
  fail "examples/cpp configured and built" "$(tail -30 "$WORK/configure.out" "$WORK/build.out" 2>/dev/null)"
  echo "$PASSED passed, $FAILED failed"
  exit 1
fi
check "the example's calls live in a shared library linking Genesis::clients" \
  test -f "$EX/libgenesis_example_calls.so"
if OUT="$("$EX/genesis-example-test" 2>&1)"; then
  pass "the example's gMock-stub test passes ($(grep -c '^\[       OK \]' <<<"$OUT") tests)"
else
  fail "the example's gMock-stub test passes" "$OUT"
fi

if OUT="$("$EX/genesis-example" ca="$MESH_CA" cert="$MESH_CERT" key="$MESH_KEY" \
  catalog="$CATALOG_ADDR" llm_router="$ROUTER_ADDR" reasoning="$REASONING_ADDR" \
  bot="$BOT_ADDR" voice="$VOICE_ADDR" type=lead 2>&1)"; then
  pass "the example ran against the mesh (exit 0)"
else
  fail "the example ran against the mesh (exit 0)" "$OUT"
fi
echo "$OUT" | sed 's/^/#   /'
clients_check_calls "$OUT" 'example-create-item' INVALID_ARGUMENT

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
