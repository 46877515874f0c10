#!/usr/bin/env bash
# Podman for Genesis' scripts, with its state under the project (sourced):
#   . scripts/lib/podman.sh; genesis_podman_env   exports CONTAINERS_CONF and
#   CONTAINERS_STORAGE_CONF pointing at files in $GENESIS_CONTAINERS_DIR (default
#   .genesis/containers): runc with cgroupfs and explicit ulimits (crun's setrlimit and
#   hybrid cgroups fail on machines of some kinds), overlay storage.
# Images are kept in podman's own storage (root: /var/lib/containers/storage), not under
# the checkout: the base image, the PostgreSQL and Redis images and podman's layer cache
# then outlive a clean clone, so a second checkout's image build reuses them.
# GENESIS_CONTAINERS_STORAGE moves it (e.g. under .genesis/ for a throw-away state).
genesis_podman_env() {
  local root dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  dir="${GENESIS_CONTAINERS_DIR:-$root/.genesis/containers}"
  # podman records both roots in its database: every checkout must use the same pair.
  local graph="${GENESIS_CONTAINERS_STORAGE:-}" run
  if [ -n "$graph" ]; then
    run="$graph/run"
  elif [ "$(id -u)" = 0 ]; then
    graph=/var/lib/containers/storage run=/run/containers/storage
  else
    graph="${XDG_DATA_HOME:-$HOME/.local/share}/containers/storage"
    run="${XDG_RUNTIME_DIR:-/tmp/containers-$(id -u)}/containers"
  fi
  mkdir -p "$dir" "$graph" "$run"
  cat >"$dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  cat >"$dir/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$graph"
runroot = "$run"
CONF
  export CONTAINERS_CONF="$dir/containers.conf" CONTAINERS_STORAGE_CONF="$dir/storage.conf"
}
