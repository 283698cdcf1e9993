#!/usr/bin/env bash
# What a one-shot process could ask an engine instead of one whole list (issue 18): the cost of the container list with
# each server-side option that shortens the answer, against K created containers, on one engine. For each K it times,
# median of 7 (curl's time_total, ms), with how many containers each answer held:
#   all          GET /containers/json?all=1                       (what a one-shot asks today)
#   limit=1,8,64 the N newest (docker and podman: sorted by creation, newest first)
#   since=ID     the containers created after the newest one      (none, here)
#   id=8 ids     eight containers named by id
#   label=X      a label no container has                         (none)
#   info         GET /info, whose Containers counts them
#   ping         GET /_ping                                       (the round trip's floor)
# The K containers run the test image (tools/setup-engines.sh), are never started, publish host ports 26000.. (below
# the range and below Linux's ephemeral range), carry the label dyadports.test-run=<this run's id>, and are removed at
# the end, found by that label only. Over the engine's API (curl on its socket), 4 calls at a time.
# Usage: bash bench/Measure-ListOptions.sh <socket> <image> [K...]     e.g. /run/podman/podman.sock localhost/dyadports-test:2e481c2ae82c 60 240 1000
set -uo pipefail
sock=$1; image=$2; shift 2
ks=("${@:-60 240 1000}")
run="bench$(tr -d - < /proc/sys/kernel/random/uuid)"
api="http://d/v1.40"
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
label_filter=$(enc "{\"label\":[\"dyadports.test-run=$run\"]}")
ours() { curl -s --unix-socket "$sock" "$api/containers/json?all=1&filters=$label_filter" | python3 -c 'import json, sys; print("\n".join(c["Id"] for c in json.load(sys.stdin)))'; }
cleanup() {
  local n
  n=$(ours | tee >(xargs -r -P 4 -I{} curl -s -o /dev/null --unix-socket "$sock" -X DELETE "$api/containers/{}?force=1") | wc -l)
  wait
  echo "# removed $n container(s) labelled dyadports.test-run=$run"
}
trap cleanup EXIT
create() { # $1: port
  curl -s -o /dev/null -w '%{http_code}\n' --unix-socket "$sock" -H 'Content-Type: application/json' -X POST "$api/containers/create" \
    -d "{\"Image\":\"$image\",\"Cmd\":[\"httpd\",\"-f\",\"-p\",\"$1\",\"-h\",\"/www\"],\"Labels\":{\"dyadports.test-run\":\"$run\"},\"ExposedPorts\":{\"$1/tcp\":{}},\"HostConfig\":{\"PortBindings\":{\"$1/tcp\":[{\"HostPort\":\"$1\"}]}}}"
}
export -f create; export sock image run api
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
time_of() { # $1: path; prints "median_ms count"
  local i n=0 times=()
  for i in 1 2 3 4 5 6 7; do
    times+=("$(curl -s -o /tmp/list-options.$$ -w '%{time_total}' --unix-socket "$sock" "$api$1" | awk '{printf "%.1f", $1 * 1000}')")
  done
  n=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(len(d) if isinstance(d, list) else d.get("Containers", "-") if isinstance(d, dict) else "-")' /tmp/list-options.$$ 2>/dev/null || echo -)
  rm -f /tmp/list-options.$$
  echo "$(printf '%s\n' "${times[@]}" | median) $n"
}
echo "# list options, $(date -u +%FT%TZ); socket $sock; $(curl -s --unix-socket "$sock" "$api/version" | python3 -c 'import json, sys; v = json.load(sys.stdin); print(v.get("Version"), [c["Name"] for c in v.get("Components", [])][:1])'); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# K created containers of this run (no others on the engine: $(curl -s --unix-socket "$sock" "$api/containers/json?all=1" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))') before it); median of 7, ms; count = containers in the answer"
have=0
for k in ${ks[*]}; do
  seq $((26000 + have)) $((26000 + k - 1)) | xargs -r -P 4 -I{} bash -c 'create {}' | sort | uniq -c | sed 's/^/# create answers: /'
  have=$k
  newest=$(curl -s --unix-socket "$sock" "$api/containers/json?all=1&limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["Id"])')
  eight=$(ours | python3 -c 'import json, sys; print(json.dumps({"id": sys.stdin.read().split()[:8]}))')
  printf '%-6s %-14s %8s %6s\n' K option ms count
  for opt in "all|/containers/json?all=1" "limit=1|/containers/json?all=1&limit=1" "limit=8|/containers/json?all=1&limit=8" \
             "limit=64|/containers/json?all=1&limit=64" "since=newest|/containers/json?all=1&filters=$(enc "{\"since\":[\"$newest\"]}")" \
             "id=8|/containers/json?all=1&filters=$(enc "$eight")" "label=none|/containers/json?all=1&filters=$(enc '{"label":["dyadports.bench-none=1"]}')" \
             "info|/info" "ping|/_ping"; do
    read -r ms n < <(time_of "${opt#*|}")
    printf '%-6s %-14s %8s %6s\n' "$k" "${opt%%|*}" "$ms" "$n"
  done
done
echo "# load after $(cut -d' ' -f1-3 /proc/loadavg)"
