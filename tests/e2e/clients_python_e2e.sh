#!/usr/bin/env bash
# End-to-end test of the Python client package: scripts/build-clients.sh builds the wheel
# offline from the proto bundle (protoc + grpc_python_plugin, Debian's python3-build), it is
# installed into a fresh virtual environment (--system-site-packages: grpcio and protobuf
# are Debian's python3-grpcio and python3-protobuf; pip gets --no-index, so nothing comes
# from a registry), and examples/python/main.py calls every service of a live mesh over
# mutual TLS: CreateItemType, CreateItem, GetItem, an invalid CreateItem read as a
# BadRequest with genesis_clients.error_details, one call on the LLM router, reasoning, the
# bot manager and voice, and the standard health check.
#
# Needs: GENESIS_TEST_PG_DSN (scripts/test.sh), /usr/bin/python3 with venv, grpcio,
# protobuf and build (scripts/install-deps.sh), protoc and grpc_python_plugin; the service
# binaries (clients_mesh.sh) and GENESIS_BUILD_DIR holding the proto bundle.
# Exits 77 (skipped) when something is missing, 1 when a check fails.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
# shellcheck source=clients_mesh.sh
source "$(dirname "${BASH_SOURCE[0]}")/clients_mesh.sh"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY=/usr/bin/python3

e2e_require_pg
e2e_require_tools protoc grpc_python_plugin
clients_mesh_bins
[ -n "${GENESIS_BUILD_DIR:-}" ] || e2e_skip "GENESIS_BUILD_DIR not set"
"$PY" -c 'import grpc, google.protobuf, build, venv' 2>/dev/null \
  || e2e_skip "Debian's python3-grpcio, python3-protobuf, python3-build, python3-venv (scripts/install-deps.sh)"

e2e_init clients-python-e2e
e2e_fresh_db clientspy
clients_mesh_start

if WHEEL="$(bash "$ROOT/scripts/build-clients.sh" --no-build --out "$WORK/out" python 2>"$WORK/build.err")"; then
  pass "build-clients.sh python built $(basename "$WHEEL")"
else
  fail "build-clients.sh python built the wheel" "$(tail -30 "$WORK/build.err")"
  echo "$PASSED passed, $FAILED failed"
  exit 1
fi
check "the wheel carries messages, stubs and .pyi of genesis, google.api, google.rpc and health" \
  bash -c 'l="$(unzip -Z1 "$1")"; for f in genesis/catalog/v1/catalog_pb2.py genesis/catalog/v1/catalog_pb2_grpc.py \
    genesis/catalog/v1/catalog_pb2.pyi google/api/annotations_pb2.py google/api/httpbody_pb2.py \
    google/rpc/error_details_pb2.pyi grpc_health/v1/health_pb2_grpc.py genesis_clients/errors.py \
    genesis/py.typed; do grep -qx "$f" <<<"$l" || { echo "missing $f"; exit 1; }; done
    ! grep -q "^google/__init__.py$\|^google/protobuf/" <<<"$l"' _ "$WHEEL"

VENV="$WORK/venv"
if "$PY" -m venv --system-site-packages "$VENV" >"$WORK/venv.out" 2>&1 \
  && "$VENV/bin/pip" install --no-index --quiet "$WHEEL" >>"$WORK/venv.out" 2>&1; then
  pass "pip installed the wheel into a fresh virtual environment, offline"
else
  fail "pip installed the wheel into a fresh virtual environment" "$(tail -20 "$WORK/venv.out")"
fi
check "google.protobuf still comes from Debian beside the package's google.api" \
  "$VENV/bin/python" -c 'import google.protobuf, google.api.annotations_pb2 as a, sys
sys.exit(not (google.protobuf.__file__.startswith("/usr/lib/python3/") and "/venv/" in a.__file__))'

if OUT="$(cd "$WORK" && "$VENV/bin/python" "$ROOT/examples/python/main.py" --ca "$MESH_CA" \
  --cert "$MESH_CERT" --key "$MESH_KEY" --catalog "$CATALOG_ADDR" --llm-router "$ROUTER_ADDR" \
  --reasoning "$REASONING_ADDR" --bot "$BOT_ADDR" --voice "$VOICE_ADDR" --type lead 2>&1)"; then
  pass "examples/python/main.py ran against the mesh (exit 0)"
else
  fail "examples/python/main.py ran against the mesh (exit 0)" "$OUT"
fi
echo "$OUT" | sed 's/^/#   /'
clients_check_calls "$OUT" '[0-9a-f-]{36}' INVALID_ARGUMENT health

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
