#!/usr/bin/env bash
# Builds Genesis into ./build with Ninja.
#   GENESIS_BUILD_TYPE   CMake build type (default Release)
#   GENESIS_SKIP_INSTALL=1  skip scripts/install-deps.sh (already run, or no apt access)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# ccache (when installed) hashes paths relative to the checkout, so every clone of the
# project on this machine shares one cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
cd "$ROOT"

[ "${GENESIS_SKIP_INSTALL:-0}" = 1 ] || scripts/install-deps.sh

type="${GENESIS_BUILD_TYPE:-Release}"
cache=build/CMakeCache.txt

# Configure only when needed: an unchanged cache lets Ninja re-run CMake by itself when a
# CMakeLists.txt changes, and skipping configure saves seconds on every run.
if ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$cache" 2>/dev/null \
  || ! grep -qx "CMAKE_BUILD_TYPE:[A-Z]*=$type" "$cache"; then
  # CMake refuses to switch generators in an existing build dir; a build type change alone
  # only needs a re-configure.
  if [ -f "$cache" ] && ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$cache"; then
    rm -rf "$cache" build/CMakeFiles
  fi
  mkdir -p build
  # Configure output is noise when it works; keep it in a file and show it when it fails.
  # ccache, when installed, makes rebuilds after a clean or a branch switch cheap.
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  if ! cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$type" "${launcher[@]}" \
    >build/configure.log 2>&1; then
    cat build/configure.log >&2
    echo "build: CMake configure failed (log: build/configure.log)" >&2
    exit 1
  fi
fi

cmake --build build -j"$(nproc)"
