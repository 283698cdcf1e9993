#!/usr/bin/env bash
# Does podman's compat /events answer a catch-up call (since= and until=) completely? Counts the container events it
# returns against the container events in its events file, for until=now and for until a little in the future, and
# times each call. Read-only: it only asks podman's API (the socket tools/setup-engines.sh starts) and reads the file.
# Usage: bash bench/Measure-PodmanEventsUntil.sh [socket] [events file]
set -uo pipefail
sock=${1:-/run/podman/podman.sock}
file=${2:-/run/libpod/events/events.log}
filter='%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D'
echo "# podman events catch-up, $(date -u +%FT%TZ); $(podman --version 2>/dev/null); socket $sock; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# events file $file: $(wc -c < "$file") bytes, $(grep -c '"Type":"container"' "$file") container events"
for ahead in 0 0.3 1; do
  for i in 1 2 3; do
    now=$(date +%s.%N); until=$(echo "$now + $ahead" | bc)
    start=$(date +%s%N)
    n=$(curl -s --unix-socket "$sock" "http://d/v1.41/events?since=1&until=$until&filters=$filter" | wc -l)
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "until=now+${ahead}s  run $i: $n container events returned in $ms ms"
  done
done
