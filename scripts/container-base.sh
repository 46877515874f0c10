#!/usr/bin/env bash
# Makes the base image localhost/debian:bookworm-min without any image registry: a minimal
# Debian 12 root filesystem from the apt archive (debootstrap, about 2.5 minutes), imported
# into podman's storage under .genesis/containers (scripts/lib/podman.sh). Kept: a second
# run returns at once while the image exists. Needs root, debootstrap and podman.
#   scripts/container-base.sh            then build with --build-arg BASE_IMAGE=localhost/debian:bookworm-min
#   GENESIS_DEBIAN_MIRROR=URL            the archive (default: the first of /etc/apt/sources.list*)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib/podman.sh
source "$ROOT/scripts/lib/podman.sh"
genesis_podman_env
IMAGE="${GENESIS_BASE_IMAGE_NAME:-localhost/debian:bookworm-min}"

if podman image exists "$IMAGE"; then
  echo "container-base: $IMAGE exists"
  exit 0
fi
for tool in debootstrap podman; do
  command -v "$tool" >/dev/null \
    || { echo "container-base: $tool missing (apt-get install podman runc debootstrap)" >&2; exit 1; }
done
mirror="${GENESIS_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
    2>/dev/null | sed -nE 's/^deb +(\[[^]]*\] +)?(https?:[^ ]+) .*/\2/p; s/^URIs: *(https?:[^ ]+).*/\1/p' \
    | head -n1 || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

work="$(mktemp -d "$ROOT/.genesis/containers/rootfs.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "container-base: debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
chroot "$work/rootfs" apt-get clean
# As debian:bookworm-slim: no documentation, manual pages or translations, now or later.
rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/usr/share/man/"* "$work/rootfs/usr/share/info/"*
find "$work/rootfs/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
find "$work/rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
  'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' \
  'path-exclude=/usr/share/locale/*' 'path-include=/usr/share/locale/locale.alias' \
  >"$work/rootfs/etc/dpkg/dpkg.cfg.d/genesis-slim"
tar -C "$work/rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$IMAGE" >/dev/null
echo "container-base: $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE") bytes)"
