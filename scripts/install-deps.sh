#!/usr/bin/env bash
# Installs what Genesis needs to build, run and test, and nothing else.
# Idempotent: when every package is present it only checks and returns (well under a second).
#   Debian packages via apt-get; the buf CLI via npm into .genesis/tools (no global install).
#   scripts/install-deps.sh --bench   also what the benchmarks drive and compare with
#                                     (bench/run_all.sh runs it so)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

DEB_PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev libpqxx-dev libhiredis-dev libspdlog-dev libfmt-dev libssl-dev libgflags-dev
  nlohmann-json3-dev libcurl4-openssl-dev libboost-dev libgtest-dev libgmock-dev libbenchmark-dev
  postgresql postgresql-contrib redis-server golang-github-gogo-googleapis-dev
  nodejs npm procps iproute2 jq ninja-build curl ccache
  libespeak-ng-dev espeak-ng-data libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
  yamllint libxapian-dev
  python3-grpcio python3-protobuf python3-build python3-venv python3-setuptools python3-wheel
  podman podman-compose runc debootstrap golang-github-containernetworking-plugin-dnsname
  chromium
)
# libxapian-dev: the catalog's search index engine (GPL-2.0-or-later; see THIRD_PARTY_NOTICES.md).
# Python client package (scripts/build-clients.sh python and its test): Debian's grpcio and
# protobuf it runs on, and the offline wheel build (python3 -m build --no-isolation).
# Containers (deploy/compose.yaml and its test): podman with runc, podman-compose, debootstrap
# for a base image without a registry, and the CNI dnsname plugin so that containers find
# each other by service name. Chromium: the gateway's /docs page is tested in a real browser.
BUF_VERSION="${GENESIS_BUF_VERSION:-1.61.0}"
# The OpenAI SDK is the real client the tests drive the gateway's OpenAI-compatible API with.
OPENAI_VERSION="${GENESIS_OPENAI_NPM_VERSION:-4.104.0}"
# Schemas of the Kubernetes objects, checked offline by the manifest test (4.x: Node 20).
# The test also needs kubectl >= 1.22 (kustomize v4+), which Debian 12 does not package
# (its kubernetes-client is 1.20): install it from the Kubernetes project; without it
# the test is skipped.
K8S_MODELS_VERSION="${GENESIS_K8S_MODELS_NPM_VERSION:-4.5.1}"
# The REST documentation: the linter of /openapi.json, the reference page's renderer (copied
# into the build, served by the gateway at /docs), the headless-browser driver of its test,
# and what the typed TypeScript client is generated and compiled with.
REDOCLY_CLI_VERSION="${GENESIS_REDOCLY_CLI_NPM_VERSION:-2.77.0}"
SWAGGER_UI_VERSION="${GENESIS_SWAGGER_UI_NPM_VERSION:-5.35.0}"
PUPPETEER_CORE_VERSION="${GENESIS_PUPPETEER_CORE_NPM_VERSION:-24.43.1}"
OPENAPI_TYPESCRIPT_VERSION="${GENESIS_OPENAPI_TYPESCRIPT_NPM_VERSION:-7.13.0}"
OPENAPI_FETCH_VERSION="${GENESIS_OPENAPI_FETCH_NPM_VERSION:-0.17.0}"
TYPESCRIPT_VERSION="${GENESIS_TYPESCRIPT_NPM_VERSION:-5.9.3}"
# The TypeScript gRPC client package (scripts/build-clients.sh typescript): protoc-gen-es
# generates it, @bufbuild/protobuf and @connectrpc/connect(-node) are its runtime (also what
# tsc compiles it against), @types/node the Node typings of the packages and their users.
PROTOBUF_ES_VERSION="${GENESIS_PROTOBUF_ES_NPM_VERSION:-2.17.0}"
CONNECT_VERSION="${GENESIS_CONNECT_NPM_VERSION:-2.3.0}"
TYPES_NODE_VERSION="${GENESIS_TYPES_NODE_NPM_VERSION:-18.19.130}"
# The Model Context Protocol: the official TypeScript SDK is the client the tests drive the
# gateway's /mcp endpoint with, and the protocol's conformance suite runs against it.
MCP_SDK_VERSION="${GENESIS_MCP_SDK_NPM_VERSION:-1.32.2}"
MCP_CONFORMANCE_VERSION="${GENESIS_MCP_CONFORMANCE_NPM_VERSION:-0.1.16}"

# The benchmarks' load generators (wrk, h2load) and their peers: grpc-gateway built offline
# from Debian's Go packages (bench/gateway); Portkey is installed from npm by bench/door.
BENCH_DEB_PACKAGES=(
  wrk nghttp2-client golang-go golang-grpc-gateway golang-github-grpc-ecosystem-grpc-gateway-dev
  protoc-gen-go-1-3 golang-github-golang-protobuf-1-3-dev golang-google-genproto-dev
  golang-google-grpc-dev
)
for arg in "$@"; do
  case "$arg" in
    --bench) DEB_PACKAGES+=("${BENCH_DEB_PACKAGES[@]}") ;;
    *) echo "install-deps: unknown argument '$arg' (only --bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # A package may be satisfied by an equivalent that provides it (e.g. nodejs/npm from elsewhere).
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# PostgreSQL and Redis are run privately by scripts/lib/infra.sh; stop any system instances
# that the package install may have tried to start is unnecessary (no systemd here).

TOOLS="$ROOT/.genesis/tools"
if [ ! -x "$TOOLS/node_modules/.bin/buf" ]; then
  echo "install-deps: installing buf CLI @bufbuild/buf@$BUF_VERSION (npm) into .genesis/tools"
  mkdir -p "$TOOLS"
  (cd "$TOOLS" && { [ -f package.json ] || echo '{"name":"genesis-tools","private":true}' > package.json; } \
    && npm install --no-audit --no-fund --silent "@bufbuild/buf@$BUF_VERSION" >/dev/null)
fi
if [ ! -f "$TOOLS/node_modules/openai/package.json" ]; then
  echo "install-deps: installing the OpenAI SDK openai@$OPENAI_VERSION (npm) into .genesis/tools"
  mkdir -p "$TOOLS"
  (cd "$TOOLS" && { [ -f package.json ] || echo '{"name":"genesis-tools","private":true}' > package.json; } \
    && npm install --no-audit --no-fund --silent "openai@$OPENAI_VERSION" >/dev/null)
fi
if [ ! -f "$TOOLS/node_modules/kubernetes-models/package.json" ]; then
  echo "install-deps: installing kubernetes-models@$K8S_MODELS_VERSION (npm) into .genesis/tools"
  mkdir -p "$TOOLS"
  (cd "$TOOLS" && { [ -f package.json ] || echo '{"name":"genesis-tools","private":true}' > package.json; } \
    && npm install --no-audit --no-fund --silent "kubernetes-models@$K8S_MODELS_VERSION" >/dev/null)
fi
# name@version, then the file whose presence means it is installed.
npm_tool() {
  if [ ! -e "$TOOLS/node_modules/$2" ]; then
    echo "install-deps: installing $1 (npm) into .genesis/tools"
    mkdir -p "$TOOLS"
    (cd "$TOOLS" && { [ -f package.json ] || echo '{"name":"genesis-tools","private":true}' > package.json; } \
      && npm install --no-audit --no-fund --silent "$1" >/dev/null)
  fi
}
npm_tool "@redocly/cli@$REDOCLY_CLI_VERSION" "@redocly/cli/package.json"
npm_tool "swagger-ui-dist@$SWAGGER_UI_VERSION" "swagger-ui-dist/package.json"
# puppeteer-core downloads no browser: the test drives Debian's /usr/bin/chromium.
npm_tool "puppeteer-core@$PUPPETEER_CORE_VERSION" "puppeteer-core/package.json"
npm_tool "openapi-typescript@$OPENAPI_TYPESCRIPT_VERSION" "openapi-typescript/package.json"
npm_tool "openapi-fetch@$OPENAPI_FETCH_VERSION" "openapi-fetch/package.json"
npm_tool "typescript@$TYPESCRIPT_VERSION" "typescript/package.json"
npm_tool "@bufbuild/protoc-gen-es@$PROTOBUF_ES_VERSION" "@bufbuild/protoc-gen-es/package.json"
npm_tool "@bufbuild/protobuf@$PROTOBUF_ES_VERSION" "@bufbuild/protobuf/package.json"
npm_tool "@connectrpc/connect@$CONNECT_VERSION" "@connectrpc/connect/package.json"
npm_tool "@connectrpc/connect-node@$CONNECT_VERSION" "@connectrpc/connect-node/package.json"
npm_tool "@types/node@$TYPES_NODE_VERSION" "@types/node/package.json"
npm_tool "@modelcontextprotocol/sdk@$MCP_SDK_VERSION" "@modelcontextprotocol/sdk/package.json"
npm_tool "@modelcontextprotocol/conformance@$MCP_CONFORMANCE_VERSION" \
  "@modelcontextprotocol/conformance/package.json"
exit 0
