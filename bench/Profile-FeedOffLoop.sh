#!/usr/bin/env bash
# Where a warm feed-off Request-DyadPort loop spends its CPU (issue 18, docker K=60): runs bench/FeedOffLoop.ps1 with
# the runtime's perf map on, attaches `perf record` to that pwsh (its pid only) for 10 s once it is warm, then prints the
# samples by shared object and the reflection invoke stubs and other dynamic methods the runtime compiled in that pwsh.
# Usage (from the repository root, engines up): bash bench/Profile-FeedOffLoop.sh > docs/bench/feed-off-profile-<date>.txt
set -euo pipefail
cd "$(dirname "$0")/.."
ready=$(mktemp -u /tmp/dyadports-feed-off-loop.XXXXXX)
out=$(mktemp -d)
pid=
trap 'rm -rf "$out"; rm -f "$ready"; [ -n "$pid" ] && rm -f "/tmp/perf-$pid.map" "/tmp/perfinfo-$pid.map"' EXIT
echo "# feed-off loop profile, $(date -u +%FT%TZ); commit $(git rev-parse --short HEAD); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
DOTNET_PerfMapEnabled=1 dotnet pwsh -NoProfile -File bench/FeedOffLoop.ps1 -Ready "$ready" > "$out/loop.txt" 2>&1 &
loop=$!
for _ in $(seq 1 180); do [ -s "$ready" ] && break; sleep 1; done
pid=$(awk '{print $2}' "$ready" 2>/dev/null || true)
if [ -z "$pid" ]; then
  echo "the loop did not get warm within 180 s; stopping it (pid $loop, started here):" >&2
  kill "$loop" 2>/dev/null || true; wait "$loop" || true
  cat "$out/loop.txt" >&2; exit 1
fi
perf record -F 1999 -g -p "$pid" -o "$out/perf.data" -- sleep 10 > /dev/null 2>&1
wait "$loop" || { echo "the loop failed:" >&2; cat "$out/loop.txt" >&2; exit 1; }
cat "$out/loop.txt"
echo "## samples by shared object (perf report --sort dso)"
perf report -i "$out/perf.data" --no-children --sort dso -g none 2>/dev/null | grep '%' | head -12
echo "## kernel: share of samples in sched_yield"
perf report -i "$out/perf.data" --no-children --sort sym -g none 2>/dev/null | grep -E 'finish_task_switch|sched_yield' | head -4
echo "## methods in the perf map of pwsh $pid: $(wc -l < /tmp/perf-$pid.map); reflection invoke stubs among them: $(grep -c 'InvokeStub_' /tmp/perf-$pid.map)"
grep 'InvokeStub_' "/tmp/perf-$pid.map" | sed 's/.*InvokeStub_\([A-Za-z.]*\).*/\1/' | sort | uniq -c | sort -rn | head -8
