#!/usr/bin/env bash
# How late podman's compat /events stream delivers container events: follows it with curl for N seconds (with since=,
# as the engine view subscribes) and prints, per event, receipt time minus the engine's timeNano; then percentiles,
# and the lag of each event that was the last before a quiet second (an event stuck until the next one would show
# there). Read-only. Run it while something creates and removes containers (the test suite, say).
# Usage: bash bench/Measure-PodmanStreamLag.sh [seconds] [socket]
set -uo pipefail
secs=${1:-45}
sock=${2:-/run/podman/podman.sock}
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
echo "# podman stream lag, $(date -u +%FT%TZ); $(podman --version 2>/dev/null); $secs s; $(nproc) cores; load before $(cut -d' ' -f1-3 /proc/loadavg)"
since=$(date +%s)
timeout "$secs" curl -sN --unix-socket "$sock" "http://d/v1.41/events?since=$since&filters=%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D" |
  while IFS= read -r line; do echo "$(date +%s.%N) $line"; done > "$raw"
echo "# load after $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$raw" "$since" <<'PY'
import json, sys
rows = []
for l in open(sys.argv[1]):
    r, js = l.split(' ', 1)
    j = json.loads(js)
    rows.append((float(r), j['timeNano'] / 1e9, j.get('status')))
rows = [x for x in rows if x[1] >= float(sys.argv[2])]
lags = sorted(r - t for r, t, s in rows)
if not lags:
    print("no events: nothing created or removed containers meanwhile"); sys.exit(0)
pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]
print(f"{len(lags)} container events; lag p50 {pick(0.5)*1000:.0f} ms, p90 {pick(0.9)*1000:.0f} ms, p99 {pick(0.99)*1000:.0f} ms, max {lags[-1]*1000:.0f} ms")
quiet = [(round((r - t) * 1000), s, round(rows[i + 1][1] - t, 1) if i + 1 < len(rows) else None) for i, (r, t, s) in enumerate(rows) if i + 1 == len(rows) or rows[i + 1][1] - t > 1.0]
print("last event before a quiet second (lag ms, event, seconds to the next):", quiet)
PY
