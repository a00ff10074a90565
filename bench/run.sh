#!/usr/bin/env bash
# Performance budgets of es-etcd-entrypoint against baselines measured in the same invocation
# (bench/README.md explains every figure). One run, on loopback only, about 2 minutes once built
# (the first build of the static dependencies, scripts/static-deps.sh, takes much longer):
#   1. start-to-exec of `tini -s -- CHILD`, of the floor (bench/floor.c: one etcd v3 range on a new
#      connection, then exec), of the 2014 seed's ExecStart pipeline and of ours, with 3 and with
#      10,000 registrations in etcd (median and p90 of BENCH_RUNS interleaved runs)
#   2. peak RSS of each (/usr/bin/time -v "Maximum resident set size")
#   3. steady RSS of our supervisor while it supervises a healthy stand-in node at HEALTH_INTERVAL=5s
#   4. its idle CPU over BENCH_IDLE_SECONDS, against one iteration of the seed's sidecar loop body
#   5. the CPU of one health probe over https (TLS, basic auth) against one over plain http, and
#      the connections (TLS handshakes) the https probes open: one, reused by every later probe
# Prints a table (metric, baseline, ours, ratio, budget, PASS/FAIL) and exits 1 when a budget
# fails, after printing everything.
#
# Environment:
#   BENCH_RUNS=31          timed runs per wrapper and data set (>= 30 for a stable p90)
#   BENCH_IDLE_SECONDS=60  length of the idle-CPU window (>= 60: the tick is 10 ms)
#   BENCH_STATIC=always    also measure the static binary (scripts/build-static.sh), the one the
#                          image ships: a failed static build fails the bench; never = skip it
#   BENCH_KEEP=1           keep the temp dir (logs, raw samples) for inspection
#   BENCH_BUILD_DIR, BENCH_STATIC_BUILD_DIR
#                          where the Release and the static build go (default build-bench and
#                          build-bench-static in the repository)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

RUNS=${BENCH_RUNS:-31}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-60}
STATIC_MODE=${BENCH_STATIC:-always}
[[ $STATIC_MODE == always || $STATIC_MODE == never ]] ||
  die "BENCH_STATIC must be always or never, not '$STATIC_MODE'"
BUILD_DIR=${BENCH_BUILD_DIR:-$ESETCD_ROOT/build-bench}
STATIC_BUILD_DIR=${BENCH_STATIC_BUILD_DIR:-$ESETCD_ROOT/build-bench-static}
PREFIX=/services/elasticsearch
VALUE='{"http_port":9200,"transport_port":9300}'
# Budgets from the issue.
BUDGET_EXEC_RATIO=1.25   # ours / tini, start-to-exec, 3 entries
BUDGET_FLOOR_RATIO=1.15  # ours-static / floor, start-to-exec, 3 entries
BUDGET_SEED_SPEEDUP=10   # seed / ours, start-to-exec, 3 entries (what 1.25x tini implies)
BUDGET_EXEC_10K_MS=50    # ours, start-to-exec with 10,000 entries
BUDGET_RSS_KIB=3072      # steady VmRSS of the supervisor (issue 13: 3 MiB)
BUDGET_IDLE_PCT=0.05     # idle CPU, % of one core, at HEALTH_INTERVAL=5s
BUDGET_TLS_PROBE_RATIO=2 # CPU of an https probe / an http probe, on a reused connection
PROBES=${BENCH_PROBES:-500} # probes per round of the probe-cost measurement

PIDS=()      # every background process this script started, stopped by pid in cleanup
WORK=""
ROWS=()      # table rows: metric|baseline|ours|ratio|budget|verdict
FAILED=0

# ---------------------------------------------------------------- plumbing

cleanup() {
  local pid
  # Only processes that are still this shell's children: a pid that ended long ago may have been
  # reused by something else.
  for pid in "${PIDS[@]}"; do
    [[ $(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null) == "$$" ]] && stop_pid "$pid" 5
  done
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  fi
}

# stop_pid PID SECONDS — SIGTERM, then SIGKILL when it is still there after SECONDS.
stop_pid() {
  local pid=$1 limit=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# wait_for SECONDS CMD... — poll CMD every 0.1 s; fail after SECONDS.
wait_for() {
  local limit=$1 i
  shift
  for ((i = 0; i < limit * 10; i++)); do
    "$@" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# stats FILE COLUMN — "median p90" of a column of microseconds, in ms (nearest-rank p90).
stats() {
  sort -n -k "$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          p = int(NR * 0.9); if (p < NR * 0.9) p++
          printf "%.2f %.2f\n", m / 1000, v[p] / 1000 }'
}

median_of() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { printf \"%.${1}f\", $2 }"; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# row METRIC BASELINE OURS RATIO BUDGET VERDICT — VERDICT is PASS, FAIL or "-" (information).
row() {
  ROWS+=("$1|$2|$3|$4|$5|$6")
  [[ $6 == FAIL ]] && FAILED=1
  return 0
}
verdict() { if le "$1" "$2"; then echo PASS; else echo FAIL; fi; }
# judged NAME VERDICT — the budgets are the shipped binary's: the static one when it is measured.
# The dynamic build (the tests' build, which also pays the dynamic loader for Poco, curl, OpenSSL
# and their dependencies) is then shown for information.
judged() { if [[ $1 == ours && -n $OURS_STATIC ]]; then echo -; else echo "$2"; fi; }

# ---------------------------------------------------------------- setup

install_and_build() {
  need_apt g++ gcc libc6-dev cmake ninja-build pkg-config libpoco-dev libcurl4-openssl-dev \
    nlohmann-json3-dev catch2 tini etcd-server etcd-client curl time procps file coreutils
  say "building (Release) in $BUILD_DIR"
  cmake -S "$ESETCD_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$WORK/cmake.log"
  # Only what is run here; the test binaries are not needed for a benchmark.
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target es-etcd-entrypoint standin_es probe_cost \
    >>"$WORK/cmake.log"
  PROBE_COST=$BUILD_DIR/bench/probe_cost
  OURS_DYN=$BUILD_DIR/es-etcd-entrypoint
  STANDIN=$BUILD_DIR/tests/scenario/standin_es

  OURS_STATIC="" PROBE_COST_STATIC=""
  if [[ $STATIC_MODE != never && -x $ESETCD_ROOT/scripts/build-static.sh ]]; then
    say "building the static binary in $STATIC_BUILD_DIR (scripts/build-static.sh)"
    if OURS_STATIC=$(ESETCD_STATIC_BUILD_DIR=$STATIC_BUILD_DIR \
      "$ESETCD_ROOT/scripts/build-static.sh" 2>"$WORK/static.log" | tail -n 1) &&
      [[ -x $OURS_STATIC ]]; then
      say "static binary: $OURS_STATIC"
      # The probe tool on the static deps: the TLS cost of the shipped binary's stack.
      cmake -DESETCD_BENCH_TOOLS=ON "$STATIC_BUILD_DIR" >>"$WORK/static.log" &&
        cmake --build "$STATIC_BUILD_DIR" --target probe_cost >>"$WORK/static.log" ||
        die "probe_cost on the static deps failed (log $WORK/static.log)"
      PROBE_COST_STATIC=$STATIC_BUILD_DIR/bench/probe_cost
    else
      tail -n 20 "$WORK/static.log" >&2
      die "scripts/build-static.sh failed: the static binary was asked for (BENCH_STATIC=never skips it)"
    fi
  elif [[ $STATIC_MODE == always ]]; then
    die "BENCH_STATIC=always but scripts/build-static.sh is missing"
  fi

  # The helpers: a static child whose first act is to stamp the clock, the launcher and the
  # floor wrapper (static as well: no dynamic loader in its start).
  gcc -O2 -Wall -Wextra -static -o "$WORK/stamp_child" "$ESETCD_ROOT/bench/stamp_child.c"
  gcc -O2 -Wall -Wextra -o "$WORK/benchtool" "$ESETCD_ROOT/bench/benchtool.c"
  gcc -O2 -Wall -Wextra -static -o "$WORK/floor" "$ESETCD_ROOT/bench/floor.c"
  FLOOR=$WORK/floor
  CHILD=$WORK/stamp_child
  TOOL=$WORK/benchtool
  STAMP=$WORK/stamp
}

start_etcd() {
  local client peer
  client=$("$TOOL" freeport)
  peer=$("$TOOL" freeport)
  ETCD=http://127.0.0.1:$client
  say "starting etcd on $ETCD"
  etcd --name bench --data-dir "$WORK/etcd" \
    --listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "bench=http://127.0.0.1:$peer" --enable-v2=true \
    --logger zap --log-level warn >"$WORK/etcd.log" 2>&1 &
  PIDS+=($!)
  wait_for 20 curl -sf -o /dev/null "$ETCD/health" || {
    tail -n 20 "$WORK/etcd.log" >&2
    die "etcd did not become healthy within 20 s"
  }
  # The seed's etcdctl is the v2 one; these apply to every etcdctl call below.
  export ETCDCTL_API=2 ETCDCTL_ENDPOINTS=$ETCD
}

# load_entries N — N registrations under $PREFIX in both keyspaces: v3 for ours (ETCD_API=auto
# picks the gateway), v2 for the seed's `etcdctl ls`. Keys 127.10.<i/250>.<i%250+1>.
load_entries() {
  local n=$1 f v3count v2count prefix64 end64 args=() first=1 hi lo
  say "writing $n entries to the v3 and v2 keyspaces"
  rm -f "$WORK"/txn.*.json
  "$TOOL" txn "$PREFIX" "$n" 128 "$WORK/txn" "$VALUE"
  # One curl process, one keep-alive connection, one txn of <= 128 puts (--max-txn-ops) per body.
  for f in "$WORK"/txn.*.json; do
    ((first)) || args+=(--next)
    first=0
    args+=(-sf -o /dev/null -H 'Content-Type: application/json' --data-binary "@$f" "$ETCD/v3/kv/txn")
  done
  curl "${args[@]}"
  # v2 has no batches: a URL glob gives all the PUTs to one curl process, 16 at a time.
  hi=$(((n - 1) / 250))
  lo=$((n < 250 ? n : 250))
  ((n % 250 == 0 || n < 250)) || die "load_entries wants N < 250 or a multiple of 250"
  # (curl 7.88 draws its parallel progress meter despite -s: hence --no-progress-meter.)
  curl -sf --no-progress-meter -o /dev/null -Z --parallel-max 16 -X PUT \
    --data-urlencode "value=$VALUE" "$ETCD/v2/keys$PREFIX/127.10.[0-$hi].[1-$lo]"

  prefix64=$(printf '%s/' "$PREFIX" | base64 -w0)
  end64=$(printf '%s0' "$PREFIX" | base64 -w0)
  v3count=$(curl -sf -H 'Content-Type: application/json' \
    -d "{\"key\":\"$prefix64\",\"range_end\":\"$end64\",\"count_only\":true}" "$ETCD/v3/kv/range" |
    sed -n 's/.*"count":"\([0-9]*\)".*/\1/p')
  v2count=$(etcdctl ls --recursive "$PREFIX" | wc -l)
  [[ $v3count == "$n" && $v2count == "$n" ]] ||
    die "expected $n entries, found v3=$v3count v2=$v2count"
}

# ---------------------------------------------------------------- 1 + 2: start-to-exec, peak RSS

# The 2014 ExecStart, with the child in place of `docker run … elasticsearch`. At 10,000 entries
# the list (~190 KiB) is longer than one argument may be (MAX_ARG_STRLEN, 128 KiB), so the seed
# itself would fail with E2BIG there; passing the first 131,000 characters keeps it running and
# only flatters the seed.
# shellcheck disable=SC2016 # expanded by the bash -c that runs it, as in the unit file
SEED_SCRIPT='curl -f "$SEED_ETCD/v2/keys/services/elasticsearch"; \
  if [ "$?" = "0" ]; then \
      UNICAST_HOSTS=$(etcdctl ls --recursive /services/elasticsearch \
                      | sed "s/\/services\/elasticsearch\///g" \
                      | sed "s/$/:9300/" \
                      | paste -s -d","); \
  else \
      UNICAST_HOSTS=""; \
  fi; \
  exec "$BENCH_CHILD" "$BENCH_STAMP" --discovery.zen.ping.unicast.hosts="${UNICAST_HOSTS:0:131000}"'

# set_cmd NAME — CMD = the command line of wrapper NAME around the stamping child.
set_cmd() {
  case $1 in
    direct) CMD=("$CHILD" "$STAMP") ;;
    # -s: child subreaper, what tini needs when it is not PID 1 (ours does the same by itself).
    tini) CMD=(tini -s -- "$CHILD" "$STAMP") ;;
    # The listing ours makes at start (at most 1,000 keys), on a new connection, then the exec.
    floor) CMD=("$FLOOR" "$ETCD" "$PREFIX" "$CHILD" "$STAMP") ;;
    seed) CMD=(bash -c "$SEED_SCRIPT") ;;
    ours) CMD=("$OURS_DYN" -- "$CHILD" "$STAMP") ;;
    ours-static) CMD=("$OURS_STATIC" -- "$CHILD" "$STAMP") ;;
    *) die "unknown wrapper $1" ;;
  esac
}

# The environment every wrapper inherits (the others ignore ours' variables): setting it in the
# launcher's environment rather than with env(1) keeps an extra exec out of the timed path.
export_wrapper_env() {
  # DISCOVERY=on: the child is no Elasticsearch start command, and the full path is what is timed.
  export DISCOVERY=on ETCD_ENDPOINTS=$ETCD ES_VERSION=8.15.0 ES_PUBLISH_HOST=127.0.0.1 ES_PASS_SETTINGS=never \
    ES_PATH_CONF=$WORK/conf STATE_DIR=$WORK/state SEED_ETCD=${ETCD#http://} \
    BENCH_CHILD=$CHILD BENCH_STAMP=$STAMP
  # Nothing listens there: the monitor thread's first probe must not find a node and register.
  ES_HTTP_PORT=$("$TOOL" freeport)
  export ES_HTTP_PORT
  mkdir -p "$WORK/conf" "$WORK/state"
}

# measure_exec LABEL — one checked run of each wrapper (it also warms the page cache and etcd),
# then BENCH_RUNS rounds in rotating order so that drift hits every wrapper alike.
measure_exec() {
  local label=$1 name line i j k n=${#WRAPPERS[@]} f
  for name in "${WRAPPERS[@]}"; do
    set_cmd "$name"
    rm -f "$STAMP"
    "${CMD[@]}" >"$WORK/check.$label.$name.log" 2>&1 ||
      die "$name failed; log $WORK/check.$label.$name.log"
    [[ -s $STAMP ]] || die "$name never ran the child"
    : >"$WORK/exec.$label.$name"
  done
  # Proof that ours really read etcd through the v3 gateway.
  if ! grep -q "registrations from etcd (v3)" "$WORK/check.$label.ours.log" ||
    ! grep -q 'seed hosts \[.*127\.10\.0\.1:9300' "$WORK/check.$label.ours.log"; then
    die "ours did not read the peers through etcd v3; log $WORK/check.$label.ours.log"
  fi
  say "start-to-exec, $label: $RUNS rounds of ${WRAPPERS[*]}"
  for ((i = 0; i < RUNS; i++)); do
    for ((j = 0; j < n; j++)); do
      k=$(((i + j) % n))
      name=${WRAPPERS[k]}
      set_cmd "$name"
      line=$(timeout -k 5 120 "$TOOL" launch "$STAMP" -- "${CMD[@]}" </dev/null 2>/dev/null) ||
        die "$name: launcher failed"
      read -r -a f <<<"$line"
      [[ ${f[0]} -ge 0 && ${f[3]} == 0 ]] || die "$name: bad run ($line)"
      echo "$line" >>"$WORK/exec.$label.$name"
    done
  done
}

# peak_rss LABEL — median of 5 runs of /usr/bin/time -v's "Maximum resident set size" (KiB).
peak_rss() {
  local label=$1 name i
  for name in "${WRAPPERS[@]}"; do
    set_cmd "$name"
    for ((i = 0; i < 5; i++)); do
      /usr/bin/time -v -o "$WORK/time.out" "${CMD[@]}" >/dev/null 2>&1 </dev/null
      sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.out"
    done | median_of >"$WORK/peak.$label.$name"
  done
}

report_exec() {
  local label=$1 name base_t seed_t floor_t ours_t ours_p90 r em ep wm wp v
  printf '\nstart-to-exec, %s entries (ms over %d runs; wall = until the wrapper exited)\n' "$label" "$RUNS"
  printf '  %-12s %9s %9s %10s %10s %12s\n' wrapper median p90 wall-med wall-p90 peak-RSS-KiB
  for name in "${WRAPPERS[@]}"; do
    read -r em ep <<<"$(stats "$WORK/exec.$label.$name" 1)"
    read -r wm wp <<<"$(stats "$WORK/exec.$label.$name" 2)"
    printf '  %-12s %9s %9s %10s %10s %12s\n' "$name" "$em" "$ep" "$wm" "$wp" "$(cat "$WORK/peak.$label.$name")"
  done
  read -r base_t _ <<<"$(stats "$WORK/exec.$label.tini" 1)"
  read -r seed_t _ <<<"$(stats "$WORK/exec.$label.seed" 1)"
  read -r floor_t _ <<<"$(stats "$WORK/exec.$label.floor" 1)"
  for name in "${OURS[@]}"; do
    read -r ours_t ours_p90 <<<"$(stats "$WORK/exec.$label.$name" 1)"
    if [[ $label == 3 ]]; then
      r=$(calc 2 "$ours_t / $base_t")
      row "start-to-exec 3 entries, median ms ($name/tini)" "$base_t" "$ours_t" "${r}x" \
        "<= ${BUDGET_EXEC_RATIO}x" "$(judged "$name" "$(verdict "$r" "$BUDGET_EXEC_RATIO")")"
      r=$(calc 1 "$seed_t / $ours_t")
      row "start-to-exec 3 entries, median ms (seed/$name)" "$seed_t" "$ours_t" "${r}x faster" \
        ">= ${BUDGET_SEED_SPEEDUP}x" "$(judged "$name" "$(verdict "$BUDGET_SEED_SPEEDUP" "$r")")"
      r=$(calc 2 "$ours_t / $floor_t")
      row "start-to-exec 3 entries, median ms ($name/floor)" "$floor_t" "$ours_t" "${r}x" \
        "<= ${BUDGET_FLOOR_RATIO}x" "$(judged "$name" "$(verdict "$r" "$BUDGET_FLOOR_RATIO")")"
    else
      row "start-to-exec 10k entries, median ms (p90 $ours_p90)" "$seed_t (seed)" "$ours_t" \
        "$(calc 2 "$ours_t / $seed_t")x seed, $(calc 2 "$ours_t / $floor_t")x floor" \
        "<= ${BUDGET_EXEC_10K_MS} ms" "$(judged "$name" "$(verdict "$ours_t" "$BUDGET_EXEC_10K_MS")")"
    fi
    row "peak RSS, $label entries, KiB ($name vs seed)" "$(cat "$WORK/peak.$label.seed")" \
      "$(cat "$WORK/peak.$label.$name")" \
      "$(calc 2 "$(cat "$WORK/peak.$label.$name") / $(cat "$WORK/peak.$label.seed")")x seed" \
      "-" "-"
  done
}

# ---------------------------------------------------------------- context: the floors

# Not budgets: what the start-to-exec figures are made of, measured here so that a failing budget
# can be explained from the same run. FLOORS collects "label|value" lines.
FLOORS=()

# floor_startup — wall time of `BINARY --version` (process start, static initialisers, exit; no
# etcd, no child), median of 21.
floor_startup() {
  local name bin i
  for name in tini "${OURS[@]}"; do
    case $name in
      tini) bin=tini ;;
      ours) bin=$OURS_DYN ;;
      ours-static) bin=$OURS_STATIC ;;
    esac
    for ((i = 0; i < 21; i++)); do
      "$TOOL" launch "$STAMP" -- "$bin" --version </dev/null | awk '{ print $2 }'
    done | median_of >"$WORK/startup.$name"
    FLOORS+=("process start+exit of $name (--version), median ms|$(calc 2 "$(cat "$WORK/startup.$name") / 1000")")
  done
}

# floor_request BODY_KEY — the cost of one tiny v3 range: on a new connection each time (what the
# entrypoint does per request) and on one kept-alive connection. Median of 15, by curl -w.
floor_request() {
  local key64 i args=()
  key64=$(printf '%s' /bench/nothing | base64 -w0)
  for ((i = 0; i < 15; i++)); do
    curl -s -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' \
      -d "{\"key\":\"$key64\"}" "$ETCD/v3/kv/range"
  done | median_of >"$WORK/req.fresh"
  for ((i = 0; i < 15; i++)); do
    ((i == 0)) || args+=(--next)
    args+=(-s -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json'
      -d "{\"key\":\"$key64\"}" "$ETCD/v3/kv/range")
  done
  curl "${args[@]}" | tail -n 14 | median_of >"$WORK/req.keepalive"
  FLOORS+=("one tiny etcd v3 request, new connection / kept alive, median ms|$(calc 2 "$(cat "$WORK/req.fresh") * 1000") / $(calc 2 "$(cat "$WORK/req.keepalive") * 1000")")
}

# floor_listing — etcd's own time to answer one listing of the whole prefix, v3 gateway vs v2,
# median of 5: the part of a start with N entries that no client can avoid.
floor_listing() {
  local n=$1 prefix64 end64 i
  prefix64=$(printf '%s/' "$PREFIX" | base64 -w0)
  end64=$(printf '%s0' "$PREFIX" | base64 -w0)
  for ((i = 0; i < 5; i++)); do
    curl -s -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' \
      -d "{\"key\":\"$prefix64\",\"range_end\":\"$end64\"}" "$ETCD/v3/kv/range"
  done | median_of >"$WORK/list.v3.$n"
  for ((i = 0; i < 5; i++)); do
    curl -s -o /dev/null -w '%{time_total}\n' "$ETCD/v2/keys$PREFIX?recursive=true"
  done | median_of >"$WORK/list.v2.$n"
  FLOORS+=("one listing of $n entries by curl, v3 gateway / v2, median ms|$(calc 1 "$(cat "$WORK/list.v3.$n") * 1000") / $(calc 1 "$(cat "$WORK/list.v2.$n") * 1000")")
}

report_floors() {
  local f
  printf '\ncontext (not budgets): what start-to-exec is made of\n'
  for f in "${FLOORS[@]}"; do printf '  %-66s %s\n' "${f%%|*}" "${f#*|}"; done
  printf '  load average before / after the run: %s / %s (%s CPUs)\n' "$LOAD0" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
}

# ---------------------------------------------------------------- 4: the seed's sidecar iteration

# One iteration of the 2014 sidecar's loop body, without its `sleep 45`: curl -f the node, then
# etcdctl set --ttl 60. Ten iterations in one bash amortise bash's own start and the 10 ms
# resolution of /usr/bin/time; the healthy path (set, not rm) is the steady state.
measure_sidecar() {
  local port state n=10 u s
  port=$("$TOOL" freeport)
  state=$WORK/sidecar.state
  echo healthy >"$state"
  "$STANDIN" "$port" "$state" >"$WORK/sidecar-standin.log" 2>&1 &
  local standin=$!
  PIDS+=("$standin")
  wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/_cluster/state/master_node?local=true" ||
    die "stand-in node did not answer"
  # The node's root answers 503 on the stand-in; its health path is what "up" means here.
  # shellcheck disable=SC2016 # expanded by the bash -c below
  local body='curl -f "http://127.0.0.1:$NODE_PORT/_cluster/state/master_node?local=true"; \
    if [ "$?" = "0" ]; then \
      etcdctl set /services/elasticsearch/127.0.0.1 '"'"'{"http_port": 9200, "transport_port": 9300}'"'"' --ttl 60; \
    else \
      etcdctl rm /services/elasticsearch/127.0.0.1; \
    fi'
  NODE_PORT=$port /usr/bin/time -f '%U %S' -o "$WORK/sidecar.time" \
    bash -c "for ((i = 0; i < $n; i++)); do $body; done" >/dev/null 2>&1
  # The last line: time(1) puts "Command exited with non-zero status" before it on a failure.
  read -r u s < <(tail -n 1 "$WORK/sidecar.time")
  SIDECAR_MS=$(calc 1 "($u + $s) * 1000 / $n")
  stop_pid "$standin" 5
  # Leave the v2 data set as it was for the 10,000-entry round.
  etcdctl rm /services/elasticsearch/127.0.0.1 >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- 3 + 4: steady RSS, idle CPU

# start_steady NAME BINARY PUBLISH_HOST — ours supervising a healthy stand-in node; sets
# STEADY_PID[NAME]. Own node name, port and directories, so both builds can run side by side.
declare -A STEADY_PID CPU0 CPU1 NS0 NS1 TIDS0 TIDS1 RSS_MAX RSS_LAST ROLLUP
start_steady() {
  local name=$1 bin=$2 host=$3 port dir
  port=$("$TOOL" freeport)
  dir=$WORK/steady.$name
  mkdir -p "$dir/conf" "$dir/state"
  echo healthy >"$dir/health"
  DISCOVERY=on ETCD_ENDPOINTS=$ETCD ES_VERSION=8.15.0 ES_PUBLISH_HOST=$host ES_NODE_NAME=bench-$name \
    ES_HTTP_PORT=$port ES_PATH_CONF=$dir/conf STATE_DIR=$dir/state ES_PASS_SETTINGS=never \
    HEALTH_INTERVAL=5s STOP_GRACE=5s \
    "$bin" -- "$STANDIN" "$port" "$dir/health" >"$dir/log" 2>&1 &
  STEADY_PID[$name]=$!
  PIDS+=($!)
}

# cpu_ticks PID — utime + stime from /proc/PID/stat (fields 14 and 15, counted after the comm).
cpu_ticks() {
  local stat rest
  stat=$(<"/proc/$1/stat")
  read -r -a rest <<<"${stat##*) }"
  echo $((rest[11] + rest[12]))
}

# sched_ns PID — nanoseconds on CPU of the live threads (/proc/PID/task/*/schedstat): finer than
# the 10 ms tick, but blind to threads that ended, so it is reported only when the thread set did
# not change during the window.
sched_ns() {
  local t total=0 ns
  for t in /proc/"$1"/task/*/schedstat; do
    { read -r ns _ <"$t"; } 2>/dev/null || continue # the thread ended meanwhile
    total=$((total + ns))
  done
  echo "$total"
}
tids() {
  local t out=""
  for t in /proc/"$1"/task/*; do out+="${t##*/} "; done
  echo "$out"
}
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

measure_steady() {
  local name t pid rss start_ts
  STEADY=(ours)
  [[ -n $OURS_STATIC ]] && STEADY+=(ours-static)
  start_steady ours "$OURS_DYN" 127.0.0.1
  [[ -n $OURS_STATIC ]] && start_steady ours-static "$OURS_STATIC" 127.0.0.2
  start_ts=$SECONDS
  for name in "${STEADY[@]}"; do
    wait_for 20 grep -q "registered $PREFIX/" "$WORK/steady.$name/log" || {
      tail -n 20 "$WORK/steady.$name/log" >&2
      die "$name did not register within 20 s"
    }
  done
  say "steady state: both registered; settling 5 s, then ${IDLE_SECONDS} s of sampling"
  sleep 5
  for name in "${STEADY[@]}"; do
    pid=${STEADY_PID[$name]}
    CPU0[$name]=$(cpu_ticks "$pid")
    NS0[$name]=$(sched_ns "$pid")
    TIDS0[$name]=$(tids "$pid")
    RSS_MAX[$name]=0
  done
  for ((t = 0; t < IDLE_SECONDS; t += 5)); do
    sleep 5
    for name in "${STEADY[@]}"; do
      pid=${STEADY_PID[$name]}
      kill -0 "$pid" 2>/dev/null || die "$name exited during the steady run"
      rss=$(status_kib "$pid" VmRSS)
      ((rss > RSS_MAX[$name])) && RSS_MAX[$name]=$rss
    done
  done
  for name in "${STEADY[@]}"; do
    pid=${STEADY_PID[$name]}
    CPU1[$name]=$(cpu_ticks "$pid")
    NS1[$name]=$(sched_ns "$pid")
    TIDS1[$name]=$(tids "$pid")
    RSS_LAST[$name]="$(status_kib "$pid" VmRSS) $(status_kib "$pid" RssAnon) $(status_kib "$pid" RssFile) $(status_kib "$pid" VmHWM) $(status_kib "$pid" Threads)"
    # Pss and Private (= Private_Clean + Private_Dirty): the memory that is this process's own,
    # against VmRSS, which also counts clean file pages shared with the page cache.
    ROLLUP[$name]=$(awk '$1 == "Pss:" { p = $2 } $1 ~ /^Private_(Clean|Dirty):$/ { q += $2 }
      END { print p, q }' "/proc/$pid/smaps_rollup")
    # The biggest mappings by resident size: where the memory is, for the analysis.
    awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "") ? "[anon]" : $6 }
         $1 == "Rss:" { rss[name] += $2 } END { for (n in rss) print rss[n], n }' \
      "/proc/$pid/smaps" | sort -rn | head -n 8 >"$WORK/steady.$name/smaps.top"
  done
  STEADY_WALL=$((SECONDS - start_ts))
  for name in "${STEADY[@]}"; do
    stop_pid "${STEADY_PID[$name]}" 10
    grep -q "deregistered" "$WORK/steady.$name/log" || say "warning: $name logged no deregistration"
  done
}

report_steady() {
  local name hz vmrss anon file hwm threads ticks pct ns_note per45 per5 pss private
  hz=$(getconf CLK_TCK)
  per45=$(calc 3 "$SIDECAR_MS / 45000 * 100")
  per5=$(calc 3 "$SIDECAR_MS / 5000 * 100")
  printf '\nsteady state at HEALTH_INTERVAL=5s (ran %d s; CPU window %d s)\n' "$STEADY_WALL" "$IDLE_SECONDS"
  for name in "${STEADY[@]}"; do
    read -r vmrss anon file hwm threads <<<"${RSS_LAST[$name]}"
    read -r pss private <<<"${ROLLUP[$name]}"
    ticks=$((CPU1[$name] - CPU0[$name]))
    pct=$(calc 4 "$ticks / $hz / $IDLE_SECONDS * 100")
    if [[ ${TIDS0[$name]} == "${TIDS1[$name]}" ]]; then
      ns_note="$(calc 4 "(${NS1[$name]} - ${NS0[$name]}) / 1e9 / $IDLE_SECONDS * 100") % (schedstat, ns)"
    else
      ns_note="n/a (threads came and went)"
    fi
    printf '  %-12s VmRSS %s KiB (max %s), RssAnon %s, RssFile %s, VmHWM %s, Pss %s, Private %s, threads %s\n' \
      "$name" "$vmrss" "${RSS_MAX[$name]}" "$anon" "$file" "$hwm" "$pss" "$private" "$threads"
    printf '  %-12s CPU %d ticks of 1/%d s in %d s = %s %% of a core; %s\n' \
      "$name" "$ticks" "$hz" "$IDLE_SECONDS" "$pct" "$ns_note"
    printf '  %-12s largest mappings by Rss (KiB):\n' "$name"
    sed 's/^/      /' "$WORK/steady.$name/smaps.top"
    row "steady VmRSS KiB, max over ${IDLE_SECONDS} s ($name)" "-" "${RSS_MAX[$name]}" \
      "$(calc 2 "${RSS_MAX[$name]} / $BUDGET_RSS_KIB")x budget" "<= $BUDGET_RSS_KIB" \
      "$(judged "$name" "$(verdict "${RSS_MAX[$name]}" "$BUDGET_RSS_KIB")")"
    row "idle CPU % of a core ($name vs seed sidecar per 5 s)" "$per5" "$pct" \
      "$(calc 1 "$per5 / ($pct > 0 ? $pct : 0.0001)")x less" "<= $BUDGET_IDLE_PCT" \
      "$(judged "$name" "$(verdict "$pct" "$BUDGET_IDLE_PCT")")"
  done
  printf '  seed sidecar: one iteration (curl -f + etcdctl set --ttl 60) = %s ms CPU;' "$SIDECAR_MS"
  printf ' every 45 s = %s %% of a core, every 5 s = %s %%\n' "$per45" "$per5"
}

# ---------------------------------------------------------------- 5: the health probe over TLS

# start_standin SCHEME — a healthy stand-in node on a free port: plain, or HTTPS with a
# certificate of the bench's own CA (scripts/certs.sh) and basic auth, like a secured node.
# Sets STANDIN_URL. Not run in a command substitution: the stand-in must be this shell's child,
# in PIDS, for cleanup to stop it.
start_standin() {
  local scheme=$1 port state
  port=$("$TOOL" freeport)
  state=$WORK/probe-$scheme.state
  echo healthy >"$state"
  if [[ $scheme == https ]]; then
    STANDIN_TLS_CERT=$WORK/pki/standin.crt STANDIN_TLS_KEY=$WORK/pki/standin.key \
      STANDIN_AUTHORIZATION="$PROBE_AUTH" "$STANDIN" "$port" "$state" >/dev/null 2>&1 &
  else
    "$STANDIN" "$port" "$state" >/dev/null 2>&1 &
  fi
  PIDS+=($!)
  wait_for 10 test -s "$state.env" || die "standin_es ($scheme) did not start"
  STANDIN_URL=$scheme://127.0.0.1:$port
}

# Rounds alternate the schemes (and the two builds) so that all see the same load; the median of
# the rounds. STACKS: "dyn" (the tests' build: Debian's libcurl on OpenSSL) and, when the static
# binary is built, "static" (the shipped stack: libcurl on mbedTLS).
measure_probe_cost() {
  local http https round stack tool
  say "probe cost: $PROBES probes per round, http and https"
  "$ESETCD_ROOT/scripts/certs.sh" "$WORK/pki" standin=127.0.0.1 >"$WORK/certs.log" 2>&1 ||
    die "scripts/certs.sh failed: $(tail -n 5 "$WORK/certs.log")"
  PROBE_AUTH="Basic $(printf 'elastic:bench-password' | base64)"
  start_standin http
  http=$STANDIN_URL
  start_standin https
  https=$STANDIN_URL
  PROBE_STACKS=(dyn)
  [[ -n $PROBE_COST_STATIC ]] && PROBE_STACKS+=(static)
  for round in 1 2 3 4 5; do
    for stack in "${PROBE_STACKS[@]}"; do
      tool=$PROBE_COST
      [[ $stack == static ]] && tool=$PROBE_COST_STATIC
      "$tool" "$http" "$PROBES" >>"$WORK/probe.$stack.http" ||
        die "probe_cost ($stack) over http failed"
      "$tool" "$https" "$PROBES" "$WORK/pki/ca.crt" "$PROBE_AUTH" >>"$WORK/probe.$stack.https" ||
        die "probe_cost ($stack) over https failed"
    done
  done
}

# The budget is the shipped stack's (static, when built); the other is shown for information.
report_probe_cost() {
  local stack http_us https_us ratio connects label v
  for stack in "${PROBE_STACKS[@]}"; do
    http_us=$(awk '{ print $3 }' "$WORK/probe.$stack.http" | median_of)
    https_us=$(awk '{ print $3 }' "$WORK/probe.$stack.https" | median_of)
    # New connections over all https rounds (each round is a new process: one handshake each at
    # most, made by its warm-up probe, which is not counted).
    connects=$(awk '{ n += $4 } END { print n + 0 }' "$WORK/probe.$stack.https")
    ratio=$(calc 2 "$https_us / $http_us")
    label=ours-static
    [[ $stack == dyn ]] && label=ours
    v=$(judged "$label" "$(verdict "$ratio" "$BUDGET_TLS_PROBE_RATIO")")
    row "health probe CPU, https+auth vs http, us per probe ($label)" "$http_us" "$https_us" \
      "${ratio}x" "<= ${BUDGET_TLS_PROBE_RATIO}x" "$v"
    row "new TLS connections in $((5 * PROBES)) steady https probes ($label)" "-" "$connects" \
      "-" "0 (reused)" "$(judged "$label" "$(verdict "$connects" 0)")"
  done
}

print_table() {
  local r m b o q g v
  printf '\n%-58s | %-14s | %-9s | %-26s | %-10s | %s\n' metric baseline ours ratio budget result
  printf '%s\n' "$(printf '%.0s-' {1..140})"
  for r in "${ROWS[@]}"; do
    IFS='|' read -r m b o q g v <<<"$r"
    printf '%-58s | %-14s | %-9s | %-26s | %-10s | %s\n' "$m" "$b" "$o" "$q" "$g" "$v"
  done
}

main() {
  local base=/tmp
  # tmpfs when there is one: etcd's fsyncs then cost nothing while the 10,000 entries load.
  [[ -d /dev/shm && -w /dev/shm ]] && base=/dev/shm
  WORK=$(mktemp -d "$base/esetcd-bench.XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  install_and_build
  start_etcd
  export_wrapper_env
  OURS=(ours)
  [[ -n $OURS_STATIC ]] && OURS+=(ours-static)
  WRAPPERS=(direct tini floor seed "${OURS[@]}")

  LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
  load_entries 3
  floor_startup
  floor_request
  floor_listing 3
  measure_exec 3
  peak_rss 3
  measure_sidecar
  measure_steady
  measure_probe_cost
  load_entries 10000
  floor_listing 10000
  measure_exec 10000
  peak_rss 10000

  say "done; results follow on stdout"
  # The tree measured: the entrypoint's sources may differ from HEAD while someone works on them.
  printf 'es-etcd-entrypoint bench: tree %s, kernel %s, %s CPUs, etcd %s, tini %s\n' \
    "$(git -C "$ESETCD_ROOT" describe --always --dirty 2>/dev/null || echo unknown)" "$(uname -r)" \
    "$(nproc)" "$(etcd --version | sed -n 's/^etcd Version: //p')" "$(tini --version | awk '{print $3}')"
  printf 'ours: %s (%s)\n' "$OURS_DYN" "$(file -b "$OURS_DYN" | cut -d, -f1-2,4)"
  [[ -n $OURS_STATIC ]] && printf 'ours-static: %s (%s)\n' "$OURS_STATIC" "$(file -b "$OURS_STATIC" | cut -d, -f1-2,4)"
  report_exec 3
  report_exec 10000
  report_steady
  report_probe_cost
  report_floors
  print_table
  if ((FAILED)); then
    printf '\nRESULT: at least one budget FAILED\n'
    exit 1
  fi
  printf '\nRESULT: all budgets met\n'
}

main "$@"
