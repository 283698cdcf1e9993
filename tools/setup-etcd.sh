#!/usr/bin/env bash
# The real etcd the fleet tests (issue 17) run against. Idempotent: a second run only checks.
#
#   tools/setup-etcd.sh          obtain etcd, make the TLS material, start the members that do not answer
#   tools/setup-etcd.sh stop     stop the members this script started (by pidfile), nothing else
#
# etcd is Debian's etcd-server/etcd-client, unpacked, never installed: `apt-get install etcd-server` runs the
# package's script, which starts an etcd on 2379. The binaries live in $DYADPORTS_TEST_ETCD_BIN
# ($STATE/etcd/root/usr/bin). Members (all on 127.0.0.1, data under $STATE/etcd/cluster/<name>, logs in
# $STATE/logs/etcd-<name>.log, pidfiles $STATE/etcd/cluster/<name>.pid, working directory '/'):
#   dp1, dp2, dp3  the shared 3-member cluster: clients 20379/20389/20399, peers 20380/20390/20400
#   dptls          one member, clients https://127.0.0.1:20479 with client-certificate auth (peer 20480);
#                  the material is in $STATE/etcd/tls: ca.pem, server.pem/-key, client.pem/-key, wrong-ca.pem
#                  (an unrelated CA) and wrong-client.pem/-key (a client certificate of that other CA)
#   dpauth         one member, clients http://127.0.0.1:20579 (peer 20580) with etcd auth enabled: user root
#                  (password in $STATE/etcd/auth/root.password) and user dyad, role dyad = readwrite on the
#                  prefix /dyadports/ (password in $STATE/etcd/auth/dyad.password); both files 0600
# A member set that already answers (etcdctl endpoint health) is used as it is, like setup-engines.sh's engines.
# Every member runs with --auto-compaction-retention=1h (periodic compaction keeps one hour of history, so the
# backend does not grow without bound) and the default --quota-backend-bytes (2 GiB).
# Not root: nothing is downloaded or started; with CI=true that is a failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The one table (tools/test-engines.env); the environment wins over its lines.
. "$here/test-engines.sh"

STATE=$DYADPORTS_TEST_STATE
HOME_DIR=$STATE/etcd
BIN=$DYADPORTS_TEST_ETCD_BIN
ETCD=$BIN/etcd
ETCDCTL=$BIN/etcdctl
CLUSTER=$HOME_DIR/cluster
TLS=$HOME_DIR/tls
AUTH=$HOME_DIR/auth
LOGS=$STATE/logs
log() { printf '[etcd] %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }

# name client-url peer-url: the members this script knows (stop acts on these names only).
MEMBERS=(
  "dp1 http://127.0.0.1:20379 http://127.0.0.1:20380"
  "dp2 http://127.0.0.1:20389 http://127.0.0.1:20390"
  "dp3 http://127.0.0.1:20399 http://127.0.0.1:20400"
  "dptls https://127.0.0.1:20479 http://127.0.0.1:20480"
  "dpauth http://127.0.0.1:20579 http://127.0.0.1:20580"
)

# A pid this script recorded that is still our etcd on our data dir: only such a process is ever stopped here.
own_pid() {
  local name=$1 pid cmd
  pid=$(cat "$CLUSTER/$name.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline") || return 1
  [[ $cmd == "$ETCD "* && $cmd == *"--data-dir $CLUSTER/$name "* ]] && echo "$pid"
}

stop_member() {
  local name=$1 pid
  if ! pid=$(own_pid "$name"); then rm -f "$CLUSTER/$name.pid"; return 0; fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do [ -d "/proc/$pid" ] || break; sleep 0.25; done
  if [ -d "/proc/$pid" ] && own_pid "$name" >/dev/null; then
    log "$name (pid $pid) still runs 10 s after SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do [ -d "/proc/$pid" ] || break; sleep 0.25; done
  fi
  rm -f "$CLUSTER/$name.pid"
}

if [ "${1:-}" = stop ]; then
  for m in "${MEMBERS[@]}"; do read -r name _ <<< "$m"; stop_member "$name"; done
  exit 0
fi
[ $# -eq 0 ] || fail "usage: $0 [stop]"

if [ "$(id -u)" != 0 ]; then
  if [ "${CI:-}" = true ]; then
    fail "CI=true and not root: etcd cannot be obtained or started, and the etcd tests would fail. Run as root."
  fi
  log "not root: nothing obtained or started; the tests use whatever answers at $DYADPORTS_TEST_ETCD"
  exit 0
fi
mkdir -p "$HOME_DIR" "$CLUSTER" "$LOGS"

# --- The binaries: Debian's packages, unpacked (never installed). -------------------------------------------
if [ ! -x "$ETCD" ] || [ ! -x "$ETCDCTL" ]; then
  command -v openssl >/dev/null || fail "openssl is missing (tools/setup-engines.sh installs it)"
  debs=$HOME_DIR/debs root=$HOME_DIR/root
  rm -rf "$debs" && mkdir -p "$debs"
  log "downloading etcd-server and etcd-client (apt-get download; not installed)"
  # apt's sandbox user cannot write to a root-owned folder: the download runs as root, into our folder only.
  download() { (cd "$debs" && apt-get -o APT::Sandbox::User=root download -qq etcd-server etcd-client) >/dev/null; }
  if ! download; then
    log "apt-get download failed: apt-get update, then once more"
    apt-get update -qq >/dev/null
    download || fail "apt-get download etcd-server etcd-client failed"
  fi
  rm -rf "$root" && mkdir -p "$root"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  [ -x "$ETCD" ] && [ -x "$ETCDCTL" ] || fail "the packages did not give $ETCD and $ETCDCTL (is DYADPORTS_TEST_ETCD_BIN $root/usr/bin?)"
fi
version=$("$ETCD" --version | sed -n 's/^etcd Version: //p')
log "etcd $version at $BIN"
[ "$version" = 3.4.23 ] || log "note: the tests were written against 3.4.23, this is $version"

# --- TLS material (once). -------------------------------------------------------------------------------------
make_ca() {  # name subject
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$2" \
    -keyout "$TLS/$1-key.pem" -out "$TLS/$1.pem" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
make_cert() {  # name ca subject extensions...
  local name=$1 ca=$2 subject=$3 ext
  ext=$(mktemp)
  shift 3
  printf '%s\n' "$@" > "$ext"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$subject" -keyout "$TLS/$name-key.pem" -out "$TLS/$name.csr" 2>/dev/null
  openssl x509 -req -in "$TLS/$name.csr" -CA "$TLS/$ca.pem" -CAkey "$TLS/$ca-key.pem" -CAcreateserial \
    -days 3650 -extfile "$ext" -out "$TLS/$name.pem" 2>/dev/null
  rm -f "$ext" "$TLS/$name.csr"
}
tls_files=(ca.pem ca-key.pem server.pem server-key.pem client.pem client-key.pem wrong-ca.pem wrong-client.pem wrong-client-key.pem)
tls_complete() { for f in "${tls_files[@]}"; do [ -s "$TLS/$f" ] || return 1; done; }
if ! tls_complete; then
  log "making the TLS material in $TLS"
  rm -rf "$TLS" && mkdir -p "$TLS" && chmod 700 "$TLS"
  make_ca ca 'DyadPorts test etcd CA'
  make_cert server ca 'dyadports-etcd-server' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
    'extendedKeyUsage=serverAuth' 'keyUsage=critical,digitalSignature,keyEncipherment'
  make_cert client ca 'dyadports-etcd-client' 'extendedKeyUsage=clientAuth' 'keyUsage=critical,digitalSignature,keyEncipherment'
  make_ca wrong-ca 'An unrelated CA'
  make_cert wrong-client wrong-ca 'dyadports-etcd-client' 'extendedKeyUsage=clientAuth' 'keyUsage=critical,digitalSignature,keyEncipherment'
  tls_complete || fail "openssl did not make every file in $TLS"
fi
chmod 600 "$TLS"/*-key.pem

# --- Members. ------------------------------------------------------------------------------------------------
ctl() { "$ETCDCTL" --dial-timeout=2s --command-timeout=3s "$@"; }
tls_ctl() { ctl --cacert "$TLS/ca.pem" --cert "$TLS/client.pem" --key "$TLS/client-key.pem" "$@"; }
healthy() { "$@" endpoint health >/dev/null 2>&1; }
# Every host:port of a comma-separated list accepts a connection (a quick look before the slower health check).
listens() {
  local ep IFS=,
  for ep in $1; do (exec 3<>"/dev/tcp/${ep%:*}/${ep##*:}") 2>/dev/null || return 1; done
}
wait_healthy() {  # what command...
  local what=$1; shift
  local deadline=$((SECONDS + 60))  # a restart replays its WAL: over 20 s with a cold page cache and a few hundred MB
  while [ $SECONDS -lt $deadline ]; do healthy "$@" && return 0; sleep 0.25; done
  "$@" endpoint health >&2 || true
  fail "$what did not become healthy within 60 s (logs: $LOGS/etcd-*.log)"
}
# name client-url peer-url initial-cluster token [extra flags...]
start_member() {
  local name=$1 client=$2 peer=$3 initial=$4 token=$5
  shift 5
  if pid=$(own_pid "$name"); then log "$name already runs (pid $pid)"; return 0; fi
  log "starting $name: client $client, peer $peer (cwd /, data $CLUSTER/$name, log $LOGS/etcd-$name.log)"
  mkdir -p "$CLUSTER/$name" && chmod 700 "$CLUSTER/$name"
  # --initial-cluster* are read only when the data dir is new; a restart on the same data dir rejoins.
  (cd / && exec setsid nohup "$ETCD" --name "$name" --data-dir "$CLUSTER/$name" \
    --listen-client-urls "$client" --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "$initial" --initial-cluster-state new --initial-cluster-token "$token" \
    --auto-compaction-mode periodic --auto-compaction-retention=1h \
    --logger zap --log-outputs stderr "$@") >>"$LOGS/etcd-$name.log" 2>&1 </dev/null &
  echo $! > "$CLUSTER/$name.pid"
}

# The shared cluster.
shared=(--endpoints "$DYADPORTS_TEST_ETCD")
if listens "$DYADPORTS_TEST_ETCD" && healthy ctl "${shared[@]}"; then
  log "the shared cluster answers at $DYADPORTS_TEST_ETCD: used as it is"
else
  initial=dp1=http://127.0.0.1:20380,dp2=http://127.0.0.1:20390,dp3=http://127.0.0.1:20400
  for m in "${MEMBERS[@]:0:3}"; do
    read -r name client peer <<< "$m"
    start_member "$name" "$client" "$peer" "$initial" dyadports-test-shared
  done
  wait_healthy "the shared cluster ($DYADPORTS_TEST_ETCD)" ctl "${shared[@]}"
fi

# The TLS member.
tls=(--endpoints "https://$DYADPORTS_TEST_ETCD_TLS")
if listens "$DYADPORTS_TEST_ETCD_TLS" && healthy tls_ctl "${tls[@]}"; then
  log "the TLS member answers at https://$DYADPORTS_TEST_ETCD_TLS: used as it is"
else
  start_member dptls https://127.0.0.1:20479 http://127.0.0.1:20480 dptls=http://127.0.0.1:20480 dyadports-test-tls \
    --client-cert-auth --trusted-ca-file "$TLS/ca.pem" --cert-file "$TLS/server.pem" --key-file "$TLS/server-key.pem"
  wait_healthy "the TLS member (https://$DYADPORTS_TEST_ETCD_TLS)" tls_ctl "${tls[@]}"
fi

# The auth member. etcdctl reads ETCDCTL_USER (user:password) from the environment: no password on a command line.
auth=(--endpoints "$DYADPORTS_TEST_ETCD_AUTH")
as_root() { ETCDCTL_USER="root:$(cat "$AUTH/root.password" 2>/dev/null)" ctl "${auth[@]}" "$@"; }
# With auth on, an anonymous health check is refused ("user name is empty"), so root's is tried too.
auth_ctl() { if healthy ctl "${auth[@]}"; then ctl "${auth[@]}" "$@"; else as_root "$@"; fi; }
if listens "$DYADPORTS_TEST_ETCD_AUTH" && healthy auth_ctl; then
  log "the auth member answers at $DYADPORTS_TEST_ETCD_AUTH: used as it is"
else
  start_member dpauth http://127.0.0.1:20579 http://127.0.0.1:20580 dpauth=http://127.0.0.1:20580 dyadports-test-auth
  wait_healthy "the auth member ($DYADPORTS_TEST_ETCD_AUTH)" auth_ctl
fi
mkdir -p "$AUTH" && chmod 700 "$AUTH"
for user in root dyad; do
  if [ ! -s "$AUTH/$user.password" ]; then
    (umask 077 && openssl rand -hex 16 > "$AUTH/$user.password")
  fi
  chmod 600 "$AUTH/$user.password"
done
# With auth off, an anonymous read works; with auth on it is refused ("user name is empty").
if out=$(ctl "${auth[@]}" get --keys-only --limit 1 /dyadports/ 2>&1); then
  log "enabling auth on $DYADPORTS_TEST_ETCD_AUTH: users root and dyad (role dyad: readwrite on /dyadports/)"
  for user in root dyad; do
    ctl "${auth[@]}" user delete "$user" >/dev/null 2>&1 || true
    ctl "${auth[@]}" user add "$user" --interactive=false < "$AUTH/$user.password" >/dev/null
  done
  for role in root dyad; do
    ctl "${auth[@]}" role delete "$role" >/dev/null 2>&1 || true
    ctl "${auth[@]}" role add "$role" >/dev/null
  done
  ctl "${auth[@]}" role grant-permission dyad readwrite /dyadports/ --prefix=true >/dev/null
  ctl "${auth[@]}" user grant-role root root >/dev/null
  ctl "${auth[@]}" user grant-role dyad dyad >/dev/null
  ctl "${auth[@]}" auth enable >/dev/null
elif [[ $out != *"user name is empty"* && $out != *"permission denied"* ]]; then
  fail "the auth member answered an anonymous read with neither data nor an auth refusal: $out"
fi
as_root user get dyad >/dev/null 2>&1 \
  || fail "auth is on at $DYADPORTS_TEST_ETCD_AUTH but root's password in $AUTH/root.password is refused; run '$0 stop', remove $CLUSTER/dpauth and run $0 again"

log "ready: etcd $version; shared $DYADPORTS_TEST_ETCD; TLS https://$DYADPORTS_TEST_ETCD_TLS ($TLS); auth $DYADPORTS_TEST_ETCD_AUTH ($AUTH)"
