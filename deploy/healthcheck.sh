#!/bin/bash
# genesis-healthcheck: the containers' health check, with no HTTP client in the image
# (bash's /dev/tcp).
#   genesis-healthcheck                  GET http://127.0.0.1:9090/readyz answers 200
#   genesis-healthcheck PORT [PATH]      the same on another metrics port or path
#   genesis-healthcheck tcp PORT         the port accepts a connection (the simulators)
set -u
if [ "${1:-}" = tcp ]; then
  exec 3<>"/dev/tcp/127.0.0.1/${2:?usage: genesis-healthcheck tcp PORT}" || exit 1
  exit 0
fi
port="${1:-9090}" path="${2:-/readyz}"
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
read -r -t 3 _ status _ <&3 || exit 1
[ "$status" = 200 ]
