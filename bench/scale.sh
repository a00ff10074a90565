#!/usr/bin/env bash
# Scale: N supervised nodes against one etcd 3.6 on loopback (issue 10; bench/README.md "Scale").
# For each N in BENCH_SCALE_NODES, on a fresh etcd:
#   1. etcd's CPU with no client at all over the window (the floor to subtract)
#   2. N real entrypoints, each supervising a healthy stand-in node (tests/scenario/standin_es),
#      default intervals (HEALTH_INTERVAL=5s, ETCD_TTL=20): once all are registered and every
#      seed file lists the N-1 others, etcd's CPU and gRPC calls over the window, and the RSS of
#      the entrypoints (and, apart, of the stand-ins)
#   3. BENCH_SCALE_JOINS joins: one new registration written to etcd, and the time until each of
#      the N seed files lists it (inotify, bench/benchtool.c join); p50/p99/max over all files
#   4. the 2014 sidecar for the same N, nodes stopped: every node renews its key once per 45 s
#      with real etcdctl (v3: `lease grant 60` + `put --lease`, the v3 form of `etcdctl set --ttl
#      60`), spread evenly; etcd's CPU and gRPC calls over the window. Its join needs a restart of
#      every other node (it reads peers only at start): not a latency we can measure here.
# Prints every figure, the ratios ours / sidecar, and the machine load before and after.
#
# Environment:
#   BENCH_SCALE_NODES="50 200"     node counts
#   BENCH_SCALE_IDLE_SECONDS=20    measurement window (etcd CPU, calls) per phase
#   BENCH_SCALE_JOINS=5            joins per N
#   BENCH_BUILD_DIR=build-bench    where es-etcd-entrypoint and standin_es are built (Release)
#   BENCH_KEEP=1                   keep the temp dir (logs of every node and of etcd)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

NODES=${BENCH_SCALE_NODES:-50 200}
WINDOW=${BENCH_SCALE_IDLE_SECONDS:-20}
JOINS=${BENCH_SCALE_JOINS:-5}
BUILD_DIR=${BENCH_BUILD_DIR:-$ESETCD_ROOT/build-bench}
PREFIX=/services/elasticsearch
STATE_PREFIX=/es-etcd-entrypoint/services/elasticsearch
VALUE='{"http_port":9200,"transport_port":9300}'
SIDECAR_PERIOD=45

PIDS=() # every background process this script started, stopped by pid in cleanup
WORK=""

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    [[ $(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null) == "$$" ]] && kill -KILL "$pid" 2>/dev/null
  done
  wait 2>/dev/null || true
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  fi
}

# wait_for SECONDS CMD... — poll CMD every 0.2 s; fail after SECONDS.
wait_for() {
  local limit=$1 i
  shift
  for ((i = 0; i < limit * 5; i++)); do
    "$@" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

calc() { awk "BEGIN { printf \"%.${1}f\", $2 }"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# cpu_ms PID — utime + stime from /proc/PID/stat (fields 14 and 15), in milliseconds.
cpu_ms() {
  local stat rest
  stat=$(<"/proc/$1/stat")
  read -r -a rest <<<"${stat##*) }"
  echo $(((rest[11] + rest[12]) * 1000 / $(getconf CLK_TCK)))
}

# grpc_calls — "METHOD COUNT" lines: gRPC calls etcd started, per method, since it started (the
# JSON gateway forwards every request to etcd's own gRPC server, so ours are counted too).
grpc_calls() {
  curl -sf "$ETCD/metrics" |
    awk -F'[{}]' '$1 == "grpc_server_started_total" {
      match($2, /grpc_method="[^"]*"/); m = substr($2, RSTART + 13, RLENGTH - 14)
      split($3, v, " "); n[m] += v[1] } END { for (m in n) if (n[m] > 0) print m, n[m] }'
}

# calls_between BEFORE AFTER — "total method:count ..." of the calls between two grpc_calls.
calls_between() {
  awk 'NR == FNR { b[$1] = $2; next } { d = $2 - b[$1]; if (d > 0) { t += d; s = s " " $1 ":" d } }
    END { print t + 0 s }' "$1" "$2"
}

# mem_kib FIELD PID... — the sum of FIELD (Rss, Pss) in /proc/PID/smaps_rollup. Rss counts the
# shared libraries' pages in every process; Pss shares them out, so its sum is what N nodes
# cost together.
mem_kib() {
  local field=$1 pid total=0 kib
  shift
  for pid in "$@"; do
    kib=$(awk -v k="$field:" '$1 == k { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null) || kib=0
    total=$((total + ${kib:-0}))
  done
  echo "$total"
}

percentile() { # percentile P < numbers — nearest rank
  sort -n | awk -v p="$1" '{ v[NR] = $1 } END { r = int((p * NR + 99) / 100); if (r < 1) r = 1; print v[r] }'
}

install_and_build() {
  need_apt g++ gcc libc6-dev cmake ninja-build pkg-config libpoco-dev libcurl4-openssl-dev \
    nlohmann-json3-dev catch2 etcd-client curl procps
  if [[ ! -x $BUILD_DIR/es-etcd-entrypoint || ! -x $BUILD_DIR/tests/scenario/standin_es ]] ||
    [[ -z ${BENCH_BUILD_DIR:-} ]]; then
    say "building (Release) in $BUILD_DIR"
    cmake -S "$ESETCD_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$WORK/cmake.log"
    cmake --build "$BUILD_DIR" -j "$(nproc)" --target es-etcd-entrypoint standin_es \
      >>"$WORK/cmake.log"
  fi
  OURS=$BUILD_DIR/es-etcd-entrypoint
  STANDIN=$BUILD_DIR/tests/scenario/standin_es
  gcc -O2 -Wall -Wextra -o "$WORK/benchtool" "$ESETCD_ROOT/bench/benchtool.c"
  TOOL=$WORK/benchtool
  ETCD_BIN=$("$ESETCD_ROOT/scripts/etcd-servers.sh" | awk '$1 ~ /^3\.6\./ { print $2 }')
  [[ -x $ETCD_BIN ]] || die "no etcd 3.6 from scripts/etcd-servers.sh"
  ETCDCTL=$(command -v etcdctl) || die "etcdctl missing (Debian package etcd-client)"
}

# start_etcd DIR — a fresh single-member etcd 3.6, with a clean environment (etcd reads ETCD_*
# variables as flags); sets ETCD, ETCD_PORT, ETCD_PID.
start_etcd() {
  local dir=$1 peer
  ETCD_PORT=$("$TOOL" freeport)
  peer=$("$TOOL" freeport)
  ETCD=http://127.0.0.1:$ETCD_PORT
  mkdir -p "$dir"
  env -i PATH=/usr/bin:/bin "$ETCD_BIN" --name scale --data-dir "$dir/data" \
    --listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "scale=http://127.0.0.1:$peer" --log-level warn >"$dir/etcd.log" 2>&1 &
  ETCD_PID=$!
  PIDS+=("$ETCD_PID")
  wait_for 20 curl -sf -o /dev/null "$ETCD/health" || {
    tail -n 20 "$dir/etcd.log" >&2
    die "etcd did not become healthy within 20 s"
  }
}

stop_pids() { # stop_pids PID... — SIGTERM to all, then wait; SIGKILL after 10 s
  local pid i
  kill -TERM "$@" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    local alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1 && break; done
    ((alive)) || break
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null || true
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

b64() { printf '%s' "$1" | base64 -w0; }
v3() { curl -sf -X POST "$ETCD/v3/$1" -d "$2"; }

# registered_count — keys under $PREFIX/ (count only).
registered_count() {
  local range_end
  range_end=$(b64 "$PREFIX0")
  v3 kv/range "{\"key\":\"$(b64 "$PREFIX/")\",\"range_end\":\"$range_end\",\"count_only\":true}" |
    sed -n 's/.*"count":"\([0-9]*\)".*/\1/p' | grep . || echo 0 # etcd omits a zero count
}
PREFIX0=$PREFIX"0" # the prefix range end of "$PREFIX/": '/' + 1 = '0'

all_registered() { [[ $(registered_count) == "$1" ]]; }

# seeds_complete N — every node's seed file lists the N-1 others.
seeds_complete() {
  local i
  for ((i = 0; i < $1; i++)); do
    [[ $(grep -vc '^#' "$RUN/node$i/conf/unicast_hosts.txt" 2>/dev/null) -ge $(($1 - 1)) ]] ||
      return 1
  done
}

# node_host I — the publish host of node I: 127.20.<I/250>.<I%250+1>.
node_host() { echo "127.20.$(($1 / 250)).$(($1 % 250 + 1))"; }

start_nodes() { # start_nodes N
  local n=$1 i port dir
  NODE_PIDS=()
  for ((i = 0; i < n; i++)); do
    dir=$RUN/node$i
    mkdir -p "$dir/conf" "$dir/state" "$dir/data"
    echo healthy >"$dir/health"
    port=$("$TOOL" freeport)
    # Defaults for the intervals; a cluster already formed (its UUID recorded), so every node
    # joins it and none waits for a first bootstrap.
    env -i PATH=/usr/bin:/bin DISCOVERY=on ETCD_ENDPOINTS="$ETCD" ETCD_API=v3 ES_VERSION=8.15.0 \
      ES_NODE_NAME="node$i" ES_PUBLISH_HOST="$(node_host "$i")" ES_HTTP_PORT="$port" \
      ES_PATH_CONF="$dir/conf" STATE_DIR="$dir/state" ES_PATH_DATA="$dir/data" \
      ES_PASS_SETTINGS=never \
      "$OURS" -- "$STANDIN" "$port" "$dir/health" >"$dir/log" 2>&1 &
    NODE_PIDS+=($!)
    PIDS+=($!)
  done
}

# sidecar_load N SECONDS — the 2014 sidecar of N nodes: each renews its key once per 45 s, the
# renewals spread evenly; every renewal is the v3 form of `etcdctl set KEY VALUE --ttl 60`.
sidecar_load() {
  local n=$1 seconds=$2 i=0 interval start now renewals=()
  interval=$(calc 6 "$SIDECAR_PERIOD / $n")
  start=$EPOCHREALTIME
  while now=$EPOCHREALTIME && awk -v a="$now" -v b="$start" -v s="$seconds" 'BEGIN { exit !(a - b < s) }'; do
    (
      lease=$(ETCDCTL_API=3 "$ETCDCTL" --endpoints="$ETCD" lease grant 60 | awk '{ print $2 }')
      ETCDCTL_API=3 "$ETCDCTL" --endpoints="$ETCD" put --lease="$lease" \
        "$PREFIX/$(node_host $((i % n)))" "$VALUE" >/dev/null
    ) &
    renewals+=($!)
    i=$((i + 1))
    # On a fixed schedule, whatever the forks above cost.
    sleep "$(awk -v b="$start" -v i="$i" -v d="$interval" -v now="$EPOCHREALTIME" \
      'BEGIN { w = b + i * d - now; printf "%.4f", (w > 0 ? w : 0) }')"
  done
  wait "${renewals[@]}" # not etcd, also a child of this shell
  SIDECAR_RENEWALS=$i
}

measure() { # measure N
  local n=$1 c0 c1 floor ours sidecar i seeds=() rss_ours pss_ours pss_standin children=()
  RUN=$WORK/n$n
  mkdir -p "$RUN"
  say "N=$n: load before: $(loadavg)"
  start_etcd "$RUN/etcd"

  # 1. etcd alone.
  c0=$(cpu_ms "$ETCD_PID")
  sleep "$WINDOW"
  c1=$(cpu_ms "$ETCD_PID")
  floor=$((c1 - c0))

  # 2. N nodes, idle.
  v3 kv/put "{\"key\":\"$(b64 "$STATE_PREFIX/cluster_uuid")\",\"value\":\"$(b64 standin-cluster-uuid)\"}" >/dev/null
  local started=$SECONDS
  start_nodes "$n"
  wait_for 120 all_registered "$n" || die "N=$n: only $(registered_count) nodes registered within 120 s"
  wait_for 60 seeds_complete "$n" || die "N=$n: seed files incomplete after 60 s"
  say "N=$n: all registered and every seed file complete after $((SECONDS - started)) s"
  sleep 5 # the last registrations' announcements and watch rounds are over
  grpc_calls >"$RUN/calls0"
  c0=$(cpu_ms "$ETCD_PID")
  sleep "$WINDOW"
  c1=$(cpu_ms "$ETCD_PID")
  grpc_calls >"$RUN/calls1"
  ours=$((c1 - c0))
  read -r OURS_CALLS OURS_CALL_DETAIL < <(calls_between "$RUN/calls0" "$RUN/calls1")
  for pid in "${NODE_PIDS[@]}"; do mapfile -t -O "${#children[@]}" children < <(pgrep -P "$pid"); done
  rss_ours=$(mem_kib Rss "${NODE_PIDS[@]}")
  pss_ours=$(mem_kib Pss "${NODE_PIDS[@]}")
  pss_standin=$(mem_kib Pss "${children[@]}")

  # 3. Joins.
  for ((i = 0; i < n; i++)); do seeds+=("$RUN/node$i/conf/unicast_hosts.txt"); done
  : >"$RUN/joins"
  for ((i = 0; i < JOINS; i++)); do
    "$TOOL" join "$ETCD_PORT" "$PREFIX/127.30.0.$((i + 1))" "$VALUE" "127.30.0.$((i + 1)):9300" 10000 \
      "${seeds[@]}" >>"$RUN/joins" || die "N=$n: join $i failed"
    v3 kv/deleterange "{\"key\":\"$(b64 "$PREFIX/127.30.0.$((i + 1))")\"}" >/dev/null
    sleep 1 # the removal reaches the seed files before the next join
  done
  local missed
  missed=$(grep -c -- '^-1$' "$RUN/joins" || true)
  stop_pids "${NODE_PIDS[@]}"
  wait_for 30 all_registered 0 || say "N=$n: $(registered_count) registrations left after the stop"

  # 4. The 2014 sidecar for the same N.
  grpc_calls >"$RUN/calls2"
  c0=$(cpu_ms "$ETCD_PID")
  sidecar_load "$n" "$WINDOW"
  c1=$(cpu_ms "$ETCD_PID")
  grpc_calls >"$RUN/calls3"
  sidecar=$((c1 - c0))
  read -r SIDECAR_CALLS SIDECAR_CALL_DETAIL < <(calls_between "$RUN/calls2" "$RUN/calls3")
  stop_pids "$ETCD_PID"

  local seen p50 p99 max
  seen=$(grep -v -- '^-1$' "$RUN/joins")
  p50=$(percentile 50 <<<"$seen")
  p99=$(percentile 99 <<<"$seen")
  max=$(percentile 100 <<<"$seen")
  local ours_node sidecar_node
  ours_node=$(calc 3 "($ours - $floor) / $WINDOW / $n")
  sidecar_node=$(calc 3 "($sidecar - $floor) / $WINDOW / $n")
  cat <<EOF

== N=$n nodes, one etcd 3.6 on loopback, windows of $WINDOW s
etcd CPU, no client:           $floor ms
etcd CPU, N idle nodes (ours): $ours ms = $ours_node ms/s per node above the floor ($(calc 2 "($ours - $floor) / $WINDOW / 10") % of a core for all N)
etcd CPU, 2014 sidecar:        $sidecar ms = $sidecar_node ms/s per node above the floor ($SIDECAR_RENEWALS renewals)
  ratio ours / sidecar:        $(calc 2 "($ours - $floor) / ($sidecar - $floor > 0 ? $sidecar - $floor : 1)")
gRPC calls per s per node:     ours $(calc 3 "$OURS_CALLS / $WINDOW / $n") [$OURS_CALL_DETAIL]
                               sidecar $(calc 3 "$SIDECAR_CALLS / $WINDOW / $n") [$SIDECAR_CALL_DETAIL]
join -> every seed file:       p50 $p50 ms, p99 $p99 ms, max $max ms over $JOINS joins x $n files ($missed missed within 10 s)
                               sidecar: never without a restart (peers are read at start only)
memory per node:               entrypoint Pss $((pss_ours / n)) KiB (Rss $((rss_ours / n)) KiB), stand-in Pss $((pss_standin / n)) KiB
load after:                    $(loadavg)
EOF
}

main() {
  local base=${TMPDIR:-/tmp}
  [[ -d /dev/shm && -w /dev/shm ]] && base=/dev/shm # etcd's fsyncs off the disk's noise
  WORK=$(mktemp -d "$base/esetcd-scale.XXXXXX")
  trap cleanup EXIT
  # Bounded: two processes per node, each with a few threads, and etcd with a socket per node.
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  ulimit -u 8192 2>/dev/null || true
  install_and_build
  say "machine: $(nproc) cores, load $(loadavg); etcd $("$ETCD_BIN" --version | head -n 1)"
  local n
  for n in $NODES; do measure "$n"; done
  say "load at the end: $(loadavg)"
}

main "$@"
