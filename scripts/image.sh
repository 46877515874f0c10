#!/usr/bin/env bash
# Builds the Genesis runtime image with podman (state under .genesis/containers).
#   scripts/image.sh            from the binaries in build/ (scripts/build.sh first): the
#                               prebuilt variant, deploy/Containerfile.prebuilt; no compiler
#                               runs, only the runtime packages are installed (what CI uses)
#   scripts/image.sh --full     deploy/Containerfile: compiles inside the build stage
#                               (releases; takes as long as a clean build)
# The base is localhost/debian:bookworm-min when scripts/container-base.sh made it, else
# $GENESIS_BASE_IMAGE (default debian:bookworm-slim, which needs a registry).
# GENESIS_IMAGE names the result (default localhost/genesis:dev).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source-path=SCRIPTDIR source=lib/podman.sh
source scripts/lib/podman.sh
genesis_podman_env
image="${GENESIS_IMAGE:-localhost/genesis:dev}"
base="${GENESIS_BASE_IMAGE:-}"
if [ -z "$base" ]; then
  base=debian:bookworm-slim
  ! podman image exists localhost/debian:bookworm-min || base=localhost/debian:bookworm-min
fi

if [ "${1:-}" = --full ]; then
  podman build --build-arg BASE_IMAGE="$base" -f deploy/Containerfile -t "$image" .
else
  stage="$ROOT/.genesis/containers/stage"
  rm -rf "$stage"
  deploy/stage.sh build "$stage"
  podman build --build-arg BASE_IMAGE="$base" -f deploy/Containerfile.prebuilt -t "$image" "$stage"
fi
echo "image: $image ($(podman image inspect --format '{{.Size}}' "$image") bytes, base $base)"
