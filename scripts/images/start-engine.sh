#!/usr/bin/env bash
# Starts what the image tier needs when it is not already running: dockerd, and a registry on
# 127.0.0.1:5000 (Debian's docker-registry with scripts/images/registry.yml). Idempotent.
# dockerd is started without iptables/ip-forward changes (containers get no outside network;
# builds use --network host) and publishes ports on 127.0.0.1 unless told otherwise.
# Exits non-zero, saying why, when the engine cannot be had.
set -euo pipefail
cd "$(dirname "$0")/../.."
LOG_DIR=${GKEBG_LOG_DIR:-/var/log}

wait_for() { # wait_for SECONDS CMD...
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || { echo "dockerd is not installed" >&2; exit 1; }
  [ "$(id -u)" -eq 0 ] || { echo "dockerd is not running and starting it needs root" >&2; exit 1; }
  echo "starting dockerd (log: $LOG_DIR/gkebg-dockerd.log)"
  setsid nohup dockerd --ip=127.0.0.1 --iptables=false --ip-forward=false \
    </dev/null >"$LOG_DIR/gkebg-dockerd.log" 2>&1 &
  wait_for 30 docker info || {
    tail -20 "$LOG_DIR/gkebg-dockerd.log" >&2
    echo "dockerd did not come up within 30 s" >&2
    exit 1
  }
fi

registry_up() { curl -fs -o /dev/null http://127.0.0.1:5000/v2/; }
if ! registry_up; then
  command -v docker-registry >/dev/null || { echo "docker-registry is not installed" >&2; exit 1; }
  mkdir -p /var/lib/gkebg-registry
  echo "starting docker-registry on 127.0.0.1:5000 (log: $LOG_DIR/gkebg-registry.log)"
  setsid nohup docker-registry serve scripts/images/registry.yml \
    </dev/null >"$LOG_DIR/gkebg-registry.log" 2>&1 &
  wait_for 15 registry_up || {
    tail -20 "$LOG_DIR/gkebg-registry.log" >&2
    echo "docker-registry did not answer on 127.0.0.1:5000 within 15 s" >&2
    exit 1
  }
fi
