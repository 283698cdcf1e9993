#!/usr/bin/env bash
# Installs and starts the real engines the tests use, and imports the project's own test image into both.
# Idempotent: a second run only checks. Facts behind each step: ../shared/notes/engines.md
#
# Rules (issue 10): an engine that already answers on its socket is used as it is, never restarted or
# reconfigured. A service this script starts runs with working directory '/', logs under the state directory,
# and (podman) reads the project's own configuration, $STATE/containers.conf, through CONTAINERS_CONF;
# /etc/containers/containers.conf is never written. Not root: nothing is installed or started; with CI=true
# that is a failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The one table (tools/test-engines.env); the environment wins over its lines.
. "$here/test-engines.sh"

STATE=$DYADPORTS_TEST_STATE
PODMAN_SOCK=${DYADPORTS_TEST_PODMAN#unix://}
DOCKER_SOCK=${DYADPORTS_TEST_DOCKER#unix://}
CONF=$STATE/containers.conf
LOGS=$STATE/logs
IMAGE_ROOT=$STATE/image-root
log() { printf '[engines] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  if [ "${CI:-}" = true ]; then
    log "CI=true and not root: the engines cannot be installed or started, and engine tests would not run. Run as root."
    exit 1
  fi
  log "not root: nothing installed or started; the tests use whatever answers at $DYADPORTS_TEST_DOCKER and $DYADPORTS_TEST_PODMAN"
  exit 0
fi

need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v dockerd >/dev/null || need+=(docker.io)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v curl >/dev/null || need+=(curl)
# The second Docker host of the remote-engine tests: a network namespace (iproute2, nsenter), TLS certificates
# (openssl), and dockerd's iptables. The metrics tests validate with promtool (Debian's prometheus package).
command -v ip >/dev/null || need+=(iproute2)
command -v nsenter >/dev/null || need+=(util-linux)
command -v openssl >/dev/null || need+=(openssl)
command -v iptables >/dev/null || need+=(iptables)
command -v promtool >/dev/null || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
mkdir -p "$STATE" "$LOGS"

# The project's podman configuration: crun refuses hybrid cgroups and the machine's hard nofile limit is
# below podman's default. Every podman this project starts or calls reads this file, and only this file.
want_conf='# DyadPorts tests: podman configuration for the services and CLI calls the project starts (CONTAINERS_CONF).
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"'
conf_changed=0
if [ "$(cat "$CONF" 2>/dev/null)" != "$want_conf" ]; then
  printf '%s\n' "$want_conf" > "$CONF.tmp" && mv "$CONF.tmp" "$CONF"
  conf_changed=1
fi
export CONTAINERS_CONF=$CONF
unset CONTAINER_HOST   # the podman CLI below must run locally, not as a remote client

sock_answers() { curl -sf --max-time 2 --unix-socket "$1" http://d/_ping >/dev/null 2>&1; }
wait_sock() {
  for _ in $(seq 1 60); do sock_answers "$1" && return 0; sleep 0.5; done
  log "socket $1 did not answer"; return 1
}
# The last lines of a service's log, when it did not come up: the CI output is all anyone sees of the run.
show_log() { log "last lines of $1:"; tail -n 25 "$1" | cut -c1-300 >&2 || true; }
# A pid this script recorded, still the same program: only such a process is ever stopped here.
own_pid() {
  local file=$1 program=$2 pid
  pid=$(cat "$file" 2>/dev/null) || return 1
  [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "$program" && echo "$pid"
}

# A podman service that this script started earlier with an older configuration is restarted, by its pid.
if [ $conf_changed = 1 ] && pid=$(own_pid "$STATE/podman.pid" 'podman system service'); then
  log "restarting the podman service this script started (pid $pid): its configuration changed"
  kill "$pid"; for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
fi

if sock_answers "$PODMAN_SOCK"; then
  log "podman answers at unix://$PODMAN_SOCK: used as it is"
else
  log "starting podman API on unix://$PODMAN_SOCK (cwd /, CONTAINERS_CONF=$CONF, log $LOGS/podman-service.log)"
  mkdir -p "$(dirname "$PODMAN_SOCK")"
  (cd / && exec setsid nohup podman system service --time=0 "unix://$PODMAN_SOCK") >>"$LOGS/podman-service.log" 2>&1 </dev/null &
  echo $! > "$STATE/podman.pid"
  wait_sock "$PODMAN_SOCK" || { show_log "$LOGS/podman-service.log"; exit 1; }
fi
if sock_answers "$DOCKER_SOCK"; then
  log "dockerd answers at unix://$DOCKER_SOCK: used as it is"
else
  # dockerd 20.10 takes its containerd's pid file at its word: if that pid is alive, whatever it now runs, it
  # waits for a containerd that is not there and gives up ("timeout waiting for containerd to start"). When the
  # machine's processes were stopped without dockerd's own shutdown, the pid is free for reuse, and the podman
  # service just started above can hold it (a CI run: pid file 14160, podman 14153). Such a file names no
  # containerd, so it is dockerd's own stale record and is removed; a file naming a live containerd is left alone.
  cpid_file=/var/run/docker/containerd/containerd.pid
  if cpid=$(cat "$cpid_file" 2>/dev/null) && [ -n "$cpid" ] && [ -e "/proc/$cpid" ] \
     && [ "$(cat "/proc/$cpid/comm" 2>/dev/null)" != containerd ]; then
    log "removing dockerd's stale $cpid_file: pid $cpid is not containerd ($(tr '\0' ' ' < "/proc/$cpid/cmdline" 2>/dev/null | cut -c1-80))"
    rm -f "$cpid_file"
  fi
  log "starting dockerd on unix://$DOCKER_SOCK (cwd /, log $LOGS/dockerd.log)"
  (cd / && exec setsid nohup dockerd --host "unix://$DOCKER_SOCK" --pidfile "$STATE/dockerd.pid") >>"$LOGS/dockerd.log" 2>&1 </dev/null &
  wait_sock "$DOCKER_SOCK" || { show_log "$LOGS/dockerd.log"; exit 1; }
fi

# The test image: no registry is reachable, so it is built from busybox-static. Its name carries the hash of
# its tar, so an image of another name or content (say a 'busybox:local' without /www) never changes results.
rm -rf "$IMAGE_ROOT"; mkdir -p "$IMAGE_ROOT/bin" "$IMAGE_ROOT/www" "$IMAGE_ROOT/tmp"
cp /bin/busybox "$IMAGE_ROOT/bin/busybox"
for l in sh httpd sleep echo cat ls nc true false; do ln -s busybox "$IMAGE_ROOT/bin/$l"; done
echo 'dyadports-test' > "$IMAGE_ROOT/www/index.html"
chmod 1777 "$IMAGE_ROOT/tmp"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$IMAGE_ROOT" -cf "$STATE/image.tar.new" .
hash=$(sha256sum "$STATE/image.tar.new" | cut -c1-12)
mv "$STATE/image.tar.new" "$STATE/image.tar"
IMAGE=localhost/dyadports-test:$hash
label="dyadports.test-image=$hash"

docker_cli() { docker -H "unix://$DOCKER_SOCK" "$@"; }
podman_cli() { podman "$@"; }   # CONTAINERS_CONF is exported above
for cli in podman_cli docker_cli; do
  if [ "$($cli image inspect --format '{{index .Config.Labels "dyadports.test-image"}}' "$IMAGE" 2>/dev/null)" != "$hash" ]; then
    $cli rmi -f "$IMAGE" >/dev/null 2>&1 || true   # our own name only: a stale or foreign image under it
    log "importing $IMAGE into ${cli%_cli}"
    $cli import $( [ $cli = podman_cli ] && echo -q ) --change "LABEL $label" "$STATE/image.tar" "$IMAGE" >/dev/null
  fi
  # Content check: the image serves what the tests expect, whatever else exists on the machine.
  got=$($cli run --rm --network none --label dyadports.test-run=setup "$IMAGE" cat /www/index.html 2>&1 || true)
  if [ "$got" != 'dyadports-test' ]; then
    log "${cli%_cli}: $IMAGE does not serve /www/index.html as expected (got: $got)"; exit 1
  fi
done
printf '%s\n' "$IMAGE" > "$STATE/image"
log "ready: podman=unix://$PODMAN_SOCK docker=unix://$DOCKER_SOCK image=$IMAGE (in $STATE/image) CONTAINERS_CONF=$CONF"
