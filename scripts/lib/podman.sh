#!/usr/bin/env bash
# Podman for Genesis' scripts, with its state under the project (sourced):
#   . scripts/lib/podman.sh; genesis_podman_env   exports CONTAINERS_CONF and
#   CONTAINERS_STORAGE_CONF pointing at files in $GENESIS_CONTAINERS_DIR (default
#   .genesis/containers): image storage there, runc with cgroupfs and explicit ulimits
#   (crun's setrlimit and hybrid cgroups fail on machines of this kind; STACK.md).
genesis_podman_env() {
  local root dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  dir="${GENESIS_CONTAINERS_DIR:-$root/.genesis/containers}"
  mkdir -p "$dir/storage" "$dir/run"
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
graphroot = "$dir/storage"
runroot = "$dir/run"
CONF
  export CONTAINERS_CONF="$dir/containers.conf" CONTAINERS_STORAGE_CONF="$dir/storage.conf"
}
