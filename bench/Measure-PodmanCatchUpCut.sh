#!/usr/bin/env bash
# Does podman cut a catch-up short? For a catch-up (since= long ago, until= a little ahead), podman 4.3 reads its whole
# events file from the start and stops at until=, wherever it is. Counts the container events returned for windows from
# 10 ms to 250 ms ahead, against the count for a window of 2 s (the whole file), idle and then with the machine's cores
# kept busy by loops this script starts (and stops, by their pids). Read-only: it only asks podman's API (the socket
# tools/setup-engines.sh starts) and reads the events file's size.
# Usage: bash bench/Measure-PodmanCatchUpCut.sh [socket] [events file]
set -uo pipefail
sock=${1:-/run/podman/podman.sock}
file=${2:-/run/libpod/events/events.log}
filter='%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D'
ask() { # $1: seconds ahead; prints "returned ms"
  local now until start n
  now=$(date +%s.%N); until=$(echo "$now + $1" | bc)
  start=$(date +%s%N)
  n=$(curl -s --unix-socket "$sock" "http://d/v1.41/events?since=1&until=$until&filters=$filter" | wc -l)
  echo "$n $(( ($(date +%s%N) - start) / 1000000 ))"
}
run() { # $1: label
  local whole
  whole=$(ask 2 | cut -d' ' -f1)
  echo "## $1: the whole file (until=now+2s) returns $whole container events"
  for ahead in 0.01 0.02 0.03 0.05 0.1 0.25; do
    for i in 1 2 3; do
      read -r n ms < <(ask "$ahead")
      echo "$1 until=now+${ahead}s run $i: $n of $whole container events in $ms ms"
    done
  done
}
echo "# podman catch-up cut, $(date -u +%FT%TZ); $(podman --version 2>/dev/null); socket $sock; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# events file $file: $(wc -c < "$file") bytes"
run idle
pids=()
for _ in $(seq 1 $(( $(nproc) * 2 ))); do (while :; do :; done) & pids+=($!); done
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
sleep 1
run "busy($(( $(nproc) * 2 )) loops)"
kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null; trap - EXIT
echo "# load after $(cut -d' ' -f1-3 /proc/loadavg)"
