#!/usr/bin/env bash
# What one engine view catch-up costs podman's service in CPU: the call EngineView makes while a stream is quiet
# (since= a second or two back, until= CatchUpWindow ahead, type=container), N times, with the service's user+system
# CPU ticks (/proc/<pid>/stat) read before and after. The service is the one tools/setup-engines.sh started (its pid
# file). Read-only: it only asks podman's API and reads /proc.
# Usage: bash bench/Measure-PodmanCatchUpCpu.sh [runs] [socket] [events file]
set -uo pipefail
runs=${1:-20}
sock=${2:-/run/podman/podman.sock}
file=${3:-/run/libpod/events/events.log}
state=${DYADPORTS_TEST_STATE:-/var/lib/dyadports-test}
pid=$(cat "$state/podman.pid")
[ "$(tr '\0' ' ' < "/proc/$pid/cmdline" | grep -c 'system service')" = 1 ] || { echo "pid $pid from $state/podman.pid is not podman's service" >&2; exit 1; }
hz=$(getconf CLK_TCK)
filter='%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D'
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
echo "# podman catch-up CPU, $(date -u +%FT%TZ); $(podman --version 2>/dev/null); service pid $pid; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# events file $file: $(wc -c < "$file") bytes, $(grep -c '"Type":"container"' "$file") container events"
before=$(ticks); start=$(date +%s%N)
for i in $(seq "$runs"); do
  now=$(date +%s.%N)
  since=$(echo "$now - 2" | bc); until=$(echo "$now + 0.25" | bc)
  curl -s --unix-socket "$sock" "http://d/v1.41/events?since=$since&until=$until&filters=$filter" -o /dev/null
done
after=$(ticks); wall=$(( ($(date +%s%N) - start) / 1000000 ))
echo "runs $runs: podman service CPU $(( (after - before) * 1000 / hz )) ms in all, $(( (after - before) * 1000 / hz / runs )) ms per catch-up; wall $wall ms in all"
