#!/usr/bin/env bash
# The Compose stack of deploy/compose.yaml with podman-compose, on this machine's build:
#   scripts/compose.sh up       secrets and certificates (scripts/compose-env.sh), the images
#                               (localhost/genesis:dev from build/ by scripts/image.sh, and
#                               PostgreSQL 15 and Redis 7 from Debian's packages when
#                               missing), then every service with the simulators; returns
#                               when every container is healthy, fails naming the one that
#                               is not (with its last log lines)
#   scripts/compose.sh down     stops and removes the containers and the network (data
#                               volumes are kept; `down --volumes` drops them too)
#   scripts/compose.sh ps|logs SERVICE
# GENESIS_COMPOSE_PROJECT (default genesis) names the containers (<project>_<service>_1);
# GENESIS_COMPOSE_HTTP_PORT, _CHANNEL_SIM_PORT, _WYOMING_PORT the host ports (127.0.0.1).
# GENESIS_IMAGE, GENESIS_POSTGRES_IMAGE, GENESIS_REDIS_IMAGE: images to use instead.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source-path=SCRIPTDIR source=lib/podman.sh
source scripts/lib/podman.sh
genesis_podman_env
project="${GENESIS_COMPOSE_PROJECT:-genesis}"
compose=(podman-compose -p "$project" -f deploy/compose.yaml)
# podman-compose 1.0.3 ignores `profiles`: the services to start are named.
services=(postgres redis llm-simulator channel-simulator wyoming-simulator
  catalog llm-router reasoning bot-manager voice gateway)
export GENESIS_IMAGE="${GENESIS_IMAGE:-localhost/genesis:dev}"
export GENESIS_POSTGRES_IMAGE="${GENESIS_POSTGRES_IMAGE:-localhost/genesis-postgres:15}"
export GENESIS_REDIS_IMAGE="${GENESIS_REDIS_IMAGE:-localhost/genesis-redis:7}"

base_image() {
  if [ -n "${GENESIS_BASE_IMAGE:-}" ]; then echo "$GENESIS_BASE_IMAGE"; return; fi
  scripts/container-base.sh >&2
  echo localhost/debian:bookworm-min
}

# The image named NAME from deploy/images/DIR, unless it exists already.
debian_image() { # NAME DIR
  podman image exists "$1" && return 0
  echo "compose: building $1 from Debian's packages" >&2
  podman build -q --build-arg BASE_IMAGE="$(base_image)" -t "$1" "deploy/images/$2" >/dev/null
}

container() { echo "${project}_$1_1"; }

wait_healthy() {
  local deadline=$((SECONDS + ${GENESIS_COMPOSE_WAIT_S:-180})) s c state pending
  while :; do
    pending=()
    for s in "${services[@]}"; do
      c="$(container "$s")"
      state="$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}' "$c" 2>/dev/null || echo missing)"
      case "$state" in
        running*) ;;
        *) unhealthy "$s" "container is ${state%% *} (exit code $(cut -d' ' -f2 <<<"$state"))" ;;
      esac
      # Health checks are run here: podman runs them from systemd timers, which a
      # container host without systemd does not have.
      podman healthcheck run "$c" >/dev/null 2>&1 || pending+=("$s")
    done
    [ "${#pending[@]}" -gt 0 ] || return 0
    [ "$SECONDS" -lt "$deadline" ] || unhealthy "${pending[0]}" "not healthy after ${GENESIS_COMPOSE_WAIT_S:-180} s (also waiting: ${pending[*]:1})"
    sleep 2
  done
}

unhealthy() { # SERVICE REASON
  echo "compose: $1: $2; its last log lines:" >&2
  podman logs --tail 30 "$(container "$1")" >&2 2>&1 || true
  exit 1
}

case "${1:-}" in
  up)
    for t in podman podman-compose; do
      command -v "$t" >/dev/null || { echo "compose: $t missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
    done
    scripts/compose-env.sh
    base="$(base_image)"
    debian_image "$GENESIS_POSTGRES_IMAGE" postgres
    debian_image "$GENESIS_REDIS_IMAGE" redis
    if [ "${GENESIS_COMPOSE_BUILD_IMAGE:-1}" = 1 ]; then GENESIS_BASE_IMAGE="$base" scripts/image.sh >&2; fi
    "${compose[@]}" up -d "${services[@]}" >"$ROOT/.genesis/compose/up.log" 2>&1 \
      || { tail -n 30 "$ROOT/.genesis/compose/up.log" >&2; exit 1; }
    wait_healthy
    echo "compose: $project is up: gateway http://127.0.0.1:${GENESIS_COMPOSE_HTTP_PORT:-8080}," \
      "channel simulator http://127.0.0.1:${GENESIS_COMPOSE_CHANNEL_SIM_PORT:-8091}," \
      "Wyoming tcp://127.0.0.1:${GENESIS_COMPOSE_WYOMING_PORT:-10700}"
    ;;
  down)
    shift
    "${compose[@]}" down "$@" >"$ROOT/.genesis/compose/down.log" 2>&1 || { tail -n 30 "$ROOT/.genesis/compose/down.log" >&2; exit 1; }
    # podman-compose 1.0.3 leaves the project's network behind.
    podman network rm -f "${project}_default" >/dev/null 2>&1 || true
    ;;
  ps) podman ps -a --filter "label=io.podman.compose.project=$project" ;;
  logs) podman logs "$(container "${2:?usage: compose.sh logs SERVICE}")" ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
