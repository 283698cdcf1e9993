#!/usr/bin/env bash
# Installs and starts the real engines the tests use: podman (runc, compat API socket),
# dockerd (docker.io) on its own socket, and a local busybox image in both.
# Idempotent: a second run only checks. Facts behind each step: ../shared/notes/engines.md
set -euo pipefail

PODMAN_SOCK=/run/podman/podman.sock
DOCKER_SOCK=/run/docker.sock
IMAGE_DIR=/var/lib/dyadports/busybox
log() { printf '[engines] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "not root: cannot install engines; tests will use whatever sockets already answer"
  exit 0
fi

need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v dockerd >/dev/null || need+=(docker.io)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# crun refuses hybrid cgroups and the hard nofile limit is below podman's default:
# this file must exist before the service starts.
conf=/etc/containers/containers.conf
want_conf='[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"'
restart_podman=0
if [ "$(cat "$conf" 2>/dev/null)" != "$want_conf" ]; then
  mkdir -p /etc/containers
  printf '%s\n' "$want_conf" > "$conf"
  restart_podman=1
fi

sock_answers() { curl -sf --max-time 2 --unix-socket "$1" http://d/_ping >/dev/null 2>&1; }
wait_sock() {
  for _ in $(seq 1 60); do sock_answers "$1" && return 0; sleep 0.5; done
  log "socket $1 did not answer"; return 1
}

if [ $restart_podman = 1 ]; then pkill -f 'podman system service' || true; sleep 0.5; fi
if ! sock_answers "$PODMAN_SOCK"; then
  log "starting podman API on $PODMAN_SOCK"
  mkdir -p /run/podman
  setsid nohup podman system service --time=0 "unix://$PODMAN_SOCK" >/var/log/podman-service.log 2>&1 < /dev/null &
  wait_sock "$PODMAN_SOCK"
fi
if ! sock_answers "$DOCKER_SOCK"; then
  log "starting dockerd on $DOCKER_SOCK"
  setsid nohup dockerd --host "unix://$DOCKER_SOCK" >/var/log/dockerd.log 2>&1 < /dev/null &
  wait_sock "$DOCKER_SOCK"
fi

# No registry is reachable: build busybox:local from the static binary.
if [ ! -f "$IMAGE_DIR.tar" ]; then
  rm -rf "$IMAGE_DIR"; mkdir -p "$IMAGE_DIR/bin" "$IMAGE_DIR/www" "$IMAGE_DIR/tmp"
  cp /bin/busybox "$IMAGE_DIR/bin/busybox"
  for l in sh httpd sleep echo cat ls nc true false; do ln -sf busybox "$IMAGE_DIR/bin/$l"; done
  echo 'dyadports' > "$IMAGE_DIR/www/index.html"
  tar -C "$IMAGE_DIR" -cf "$IMAGE_DIR.tar" .
fi
if ! podman image exists localhost/busybox:local; then
  podman import -q "$IMAGE_DIR.tar" localhost/busybox:local >/dev/null
fi
if ! docker -H "unix://$DOCKER_SOCK" image inspect busybox:local >/dev/null 2>&1; then
  docker -H "unix://$DOCKER_SOCK" import "$IMAGE_DIR.tar" busybox:local >/dev/null
fi
log "ready: podman=unix://$PODMAN_SOCK docker=unix://$DOCKER_SOCK image=busybox:local"
