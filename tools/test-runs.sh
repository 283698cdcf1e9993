#!/usr/bin/env bash
# The records of the test runs in progress, so that a later run can remove what a run that died left behind.
#
# A run that is killed (a stopped machine, a lost session, a kill of its process group) never reaches its clean-up:
# its previews and sentinels stay in the shared engines, holding the ports the next run's tests expect to be free.
# The rules stand: remove only our own orphans, and only what a run provably created. So each run records, before it
# creates anything, what identifies its containers and the process that owns them; a record is reaped only when that
# very process is gone (another boot, no such pid, or a pid of another start time), and only the containers it names.
#
#   test-runs.sh begin NAME PID [label=RUNID] [prefix=APPID-PREFIX] [name=CONTAINER]... [tmp=FOLDER] [etcd=RUNID]
#       records that process PID owns the containers labelled dyadports.test-run=RUNID (32 hex digits, a run id), the
#       DyadPorts previews (dyadports.managed=true) whose dyadports.app-id starts with APPID-PREFIX (a run's prefix,
#       't' + 6 hex + '-', and more), the containers named CONTAINER (a CI sentinel, or a name with a run's prefix),
#       the run's temporary folder FOLDER (an absolute path ending in dyadports-tests/RUNID, tools/TestEnv.ps1's
#       TempRoot), and the keys run RUNID writes in the test etcd members (the run's prefixes, etcd_prefixes below).
#       Nothing broader is accepted: a record can name only what the project's runs create.
#   test-runs.sh end NAME       the run ended and removed its own: its record goes.
#   test-runs.sh reap           for each record whose process is gone: removes its containers from both test engines
#                               and its temporary folder (a real folder of this user's, never a link), and its etcd keys,
#                               then the record. A record is kept when an engine or an etcd member could not be asked,
#                               when it cannot be read back whole, or when its process ran in another pid namespace (not
#                               judged here).
#
# Records live in $DYADPORTS_TEST_RUNS (default $DYADPORTS_TEST_STATE/runs). Engines: the one table.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/test-engines.sh"   # the table, docker_cli and podman_cli
RUNS=${DYADPORTS_TEST_RUNS:-$DYADPORTS_TEST_STATE/runs}

boot_id() { cat /proc/sys/kernel/random/boot_id; }
# Field 22 of /proc/PID/stat, the process's start time in clock ticks since boot; read after the last ')', since the
# command name in parentheses may hold spaces.
start_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  set -- $stat
  echo "${20}"
}
valid_name() { [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ && $1 != *.tmp ]]; }
# Only what the project's runs create: a run id, a run's AppId prefix (and more after it), a sentinel or prefixed name.
valid_selector() {
  [[ $1 =~ ^((label|etcd)=[0-9a-f]{32}|prefix=t[0-9a-f]{6}-[A-Za-z0-9._-]*|name=(dyad-app-sentinel-[0-9a-f]{6}|t[0-9a-f]{6}-[A-Za-z0-9._-]+))$ ]] && return 0
  # A run's temporary folder: absolute, no '.' or '..' step, ending in dyadports-tests/<run id>.
  [[ $1 =~ ^tmp=(/[A-Za-z0-9._-]+)*/dyadports-tests/[0-9a-f]{32}$ && ! $1 =~ /\.\.?(/|$) ]]
}
# Removes a dead run's temporary folder: only a real folder (not a link, nor under one) that this user owns.
remove_tmp() {
  local folder=$1
  [ -e "$folder" ] || return 0
  if [ -L "$folder" ] || [ -L "$(dirname "$folder")" ] || [ ! -d "$folder" ] || [ ! -O "$folder" ]; then
    echo "test-runs: $folder is not a folder of this user's; left as it is"
    return 1
  fi
  echo "test-runs: removing the temporary folder $folder of a run that is gone"
  rm -rf --one-file-system -- "$folder" || return 1
  rmdir -- "$(dirname "$folder")" 2>/dev/null   # the runs' shared parent (dyadports-tests), once no run has a folder in it
  return 0
}
pid_ns() { readlink "/proc/$1/ns/pid" 2>/dev/null; }

# The test etcd members (tools/test-engines.env), as etcdctl connects to each: the shared cluster, the TLS member with the
# client certificate, the auth member as root. Where run RUNID writes on each (tests/DyadPorts.Tests TestEtcd.NewPrefix,
# tests/pester Fleet.Tests.ps1 New-FleetPrefix, bench/Invoke-Bench.ps1): /dyadports-test/RUNID/ on the shared and TLS
# members, and /dyadports-bench/RUNID/ on the shared one; on the auth member, whose user dyad may write under /dyadports/
# only, /dyadports/dyadports-test/RUNID/ and /dyadports/test-RUNID/.
etcd_members() { printf '%s\n' shared tls auth; }
etcd_prefixes() {
  case $1 in
    shared) printf '%s\n' "/dyadports-test/$2/" "/dyadports-bench/$2/" ;;
    tls) printf '%s\n' "/dyadports-test/$2/" ;;
    auth) printf '%s\n' "/dyadports/dyadports-test/$2/" "/dyadports/test-$2/" ;;
  esac
}
# In a subshell: the root password goes in etcdctl's environment (ETCDCTL_USER, exported there only), never on a command
# line that ps shows.
etcd_cli() (
  member=$1 tls=$DYADPORTS_TEST_STATE/etcd/tls
  shift
  case $member in
    shared) set -- --endpoints "$DYADPORTS_TEST_ETCD" "$@" ;;
    tls) set -- --endpoints "https://$DYADPORTS_TEST_ETCD_TLS" --cacert "$tls/ca.pem" --cert "$tls/client.pem" --key "$tls/client-key.pem" "$@" ;;
    auth) ETCDCTL_USER="root:$(cat "$DYADPORTS_TEST_STATE/etcd/auth/root.password" 2>/dev/null)" || exit 1
          export ETCDCTL_USER
          set -- --endpoints "$DYADPORTS_TEST_ETCD_AUTH" "$@" ;;
  esac
  ETCDCTL_API=3 exec "$DYADPORTS_TEST_ETCD_BIN/etcdctl" --command-timeout=5s "$@" < /dev/null
)
# Members that did not answer in this reap: not asked again for the next dead run.
declare -A etcd_down=()
# Deletes run RUNID's keys from every member; false (and says which) when a member could not be asked.
remove_etcd() {
  local run=$1 member prefix deleted ok=0
  for member in $(etcd_members); do
    for prefix in $(etcd_prefixes "$member" "$run"); do
      if [ -n "${etcd_down[$member]:-}" ] || ! deleted=$(etcd_cli "$member" del --prefix "$prefix" 2>/dev/null) || [[ ! $deleted =~ ^[0-9]+$ ]]; then
        etcd_down[$member]=1
        echo "test-runs: the etcd member $member did not answer; the keys of dead run $run there are kept"
        ok=1; continue 2
      fi
      [ "$deleted" = 0 ] || echo "test-runs: removing $deleted etcd key(s) run $run left under $prefix on the $member member"
    done
  done
  return $ok
}

begin() {
  local name=$1 pid=$2 ticks boot ns
  shift 2
  valid_name "$name" || { echo "test-runs: '$name' is not a record name" >&2; return 2; }
  [[ $pid =~ ^[1-9][0-9]*$ ]] || { echo "test-runs: '$pid' is not a pid" >&2; return 2; }
  local selector
  for selector in "$@"; do
    valid_selector "$selector" || { echo "test-runs: bad selector '$selector'" >&2; return 2; }
  done
  ticks=$(start_ticks "$pid") && ns=$(pid_ns "$pid") || { echo "test-runs: no process $pid to record" >&2; return 2; }
  boot=$(boot_id) && [ -n "$boot" ] || { echo "test-runs: no boot id to record" >&2; return 2; }
  mkdir -p "$RUNS"
  { echo "boot=$boot"; echo "pidns=$ns"; echo "pid=$pid"; echo "start=$ticks"; [ $# -eq 0 ] || printf '%s\n' "$@"; } > "$RUNS/$name.tmp" && mv -f "$RUNS/$name.tmp" "$RUNS/$name"
}

end() {
  valid_name "$1" || { echo "test-runs: '$1' is not a record name" >&2; return 2; }
  rm -f "$RUNS/$1"
}

# The containers of one engine that a record names, one 'ID NAME' line each. The listing's fields are split on '|'
# (not on tabs: read collapses runs of whitespace separators, so an empty label would shift the fields after it).
owned_ids() {
  local cli=$1 record=$2 format
  if [ "$cli" = docker_cli ]; then
    format='{{.ID}}|{{.Names}}|{{.Label "dyadports.test-run"}}|{{.Label "dyadports.managed"}}|{{.Label "dyadports.app-id"}}'
  else
    format='{{.ID}}|{{.Names}}|{{index .Labels "dyadports.test-run"}}|{{index .Labels "dyadports.managed"}}|{{index .Labels "dyadports.app-id"}}'
  fi
  local listing
  listing=$($cli ps -a --no-trunc --format "$format") || return 1
  local labels=() prefixes=() names=() key value
  while IFS='=' read -r key value; do
    case $key in label) labels+=("$value") ;; prefix) prefixes+=("$value") ;; name) names+=("$value") ;; esac
  done < "$record"
  local id cname run managed app x
  while IFS='|' read -r id cname run managed app; do
    [ -n "$id" ] || continue
    for x in "${labels[@]}"; do [ "$run" = "$x" ] && { echo "$id $cname"; continue 2; }; done
    for x in "${names[@]}"; do [ "$cname" = "$x" ] && { echo "$id $cname"; continue 2; }; done
    [ "$managed" = true ] || continue
    for x in "${prefixes[@]}"; do [[ $app == "$x"* ]] && { echo "$id $cname"; continue 2; }; done
  done <<< "$listing"
  return 0   # the listing answered (the loop's status is that of its last test)
}

reap() {
  [ -d "$RUNS" ] || return 0
  local record boot pidns pid start ticks kept=0 now line
  now=$(boot_id) && [ -n "$now" ] || { echo "test-runs: no boot id to judge records by; every record is kept"; return 1; }
  for record in "$RUNS"/*; do
    [ -f "$record" ] || continue
    case $record in *.tmp) continue ;; esac
    # Read back whole, or kept: a record cut short or edited could name more than its run made.
    local whole=true
    boot= pidns= pid= start=
    while IFS= read -r line; do
      case $line in
        boot=*) boot=${line#boot=} ;;
        pidns=*) pidns=${line#pidns=} ;;
        pid=*) pid=${line#pid=} ;;
        start=*) start=${line#start=} ;;
        *) valid_selector "$line" || whole=false ;;
      esac
    done < "$record"
    [[ -n $boot && -n $pidns && $pid =~ ^[1-9][0-9]*$ && $start =~ ^[0-9]+$ ]] || whole=false
    if ! $whole; then
      echo "test-runs: the record $(basename "$record") cannot be read back whole; it is kept, and nothing it names is removed"
      kept=$((kept + 1)); continue
    fi
    if [ "$boot" = "$now" ]; then
      if [ "$pidns" != "$(pid_ns self)" ]; then
        continue   # a run in another pid namespace: its pid means nothing here, so it is not judged
      fi
      if ticks=$(start_ticks "$pid") && [ "$ticks" = "$start" ]; then
        continue   # its process still runs: the run is alive
      fi
    fi
    local complete=true cli owned
    for cli in docker_cli podman_cli; do
      if ! owned=$(owned_ids "$cli" "$record"); then
        echo "test-runs: ${cli%_cli} did not answer; the record of dead run $(basename "$record") is kept"
        complete=false; continue
      fi
      [ -n "$owned" ] || continue
      echo "test-runs: run $(basename "$record") (pid $pid) is gone; removing what it left in ${cli%_cli}: $(cut -d' ' -f2 <<< "$owned" | paste -sd' ')"
      $cli rm -f $(cut -d' ' -f1 <<< "$owned") >/dev/null || complete=false
    done
    local tmp
    while IFS= read -r line; do
      case $line in
        tmp=*) tmp=${line#tmp=}; remove_tmp "$tmp" || complete=false ;;
        etcd=*) remove_etcd "${line#etcd=}" || complete=false ;;
      esac
    done < "$record"
    if $complete; then rm -f "$record"; else kept=$((kept + 1)); fi
  done
  [ "$kept" = 0 ]
}

case ${1:-} in
  begin) [ $# -ge 3 ] || { echo "usage: test-runs.sh begin NAME PID [selector]..." >&2; exit 2; }; shift; begin "$@" ;;
  end) [ $# -eq 2 ] || { echo "usage: test-runs.sh end NAME" >&2; exit 2; }; end "$2" ;;
  reap) reap ;;
  *) echo "usage: test-runs.sh begin|end|reap" >&2; exit 2 ;;
esac
