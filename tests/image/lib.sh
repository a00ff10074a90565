# shellcheck shell=bash
# Harness for the tests in tests/image/ (static binary, image, units, compose). Sourced by each
# test script, never executed. Contract:
#   - every test works in its own temp dir ($T), kept (and named) on failure, removed on success;
#   - every container, network and volume it creates is named "$RUN-..." ($RUN = esetcd-t-<test>-
#     <random>, so parallel runs never clash) and removed on exit, pass or fail; container logs are
#     dumped first when the test failed;
#   - every wait is bounded (wait_for); a missing tool, image or engine FAILS the test, never skips;
#   - each passing check prints "ok N - <what it proves>", the first failing one "FAIL - ..."
#     (tests/checks.sh).
set -euo pipefail

# shellcheck source=../../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
load_versions

TEST_NAME=$(basename "$0" .sh)
RUN=esetcd-t-$TEST_NAME-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
T=$(mktemp -d "${TMPDIR:-/tmp}/$RUN.XXXXXX")
FAILED=1 # cleared by pass_all; any other exit keeps $T and dumps logs
CLEANUPS=()

# The image these tests build and run: the Dockerfile on the local stand-in bases.
ES_VERSION_UNDER_TEST=${ESETCD_TEST_ES_VERSION:-$ESETCD_ES8_VERSION}
ETCD_IMAGE=$ESETCD_IMAGE_PREFIX/etcd:3.4

# ok, fail, check and $CHECKS.
# shellcheck source=../checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

# wait_for SECONDS DESCRIPTION CMD... — polls CMD every 0.5 s; fails after SECONDS. Prints how
# long it took into WAITED (seconds, one decimal).
WAITED=0
wait_for() {
  local limit=$1 what=$2 start now
  shift 2
  start=$(date +%s%N)
  until "$@" >/dev/null 2>&1; do
    now=$(date +%s%N)
    if (((now - start) / 1000000000 >= limit)); then
      fail "$what: not within ${limit}s"
    fi
    sleep 0.5
  done
  # shellcheck disable=SC2034 # read by the test scripts
  WAITED=$(elapsed_since "$start")
}

# elapsed_since START_NS — seconds since START_NS (from `date +%s%N`), one decimal.
elapsed_since() {
  local ms=$((($(date +%s%N) - $1) / 1000000))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

# at_exit CMD — run CMD (a string, eval'ed) on exit, last registered first.
at_exit() { CLEANUPS=("$1" "${CLEANUPS[@]}"); }

dump_container_logs() {
  local c
  for c in $(docker ps -a --filter "name=^$RUN-" --format '{{.Names}}' 2>/dev/null); do
    printf '\n===== docker logs %s (last 60 lines; exit %s) =====\n' "$c" \
      "$(docker inspect --format '{{.State.ExitCode}}' "$c" 2>/dev/null)" >&2
    docker logs --tail 60 "$c" 2>&1 | cut -c1-400 >&2 || true
  done
}

cleanup() {
  local rc=$? c
  set +e
  if ((FAILED)); then
    command -v docker >/dev/null && dump_container_logs
  fi
  for c in "${CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1; done
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    docker ps -aq --filter "name=^$RUN-" | xargs -r docker rm -f >/dev/null 2>&1
    docker network ls -q --filter "name=^$RUN-" | xargs -r docker network rm >/dev/null 2>&1
    docker volume ls -q --filter "name=^$RUN-" | xargs -r docker volume rm >/dev/null 2>&1
  fi
  if ((FAILED)); then
    printf '%s: FAILED after %d passing checks; work dir kept: %s\n' "$TEST_NAME" "$CHECKS" "$T" >&2
    ((rc)) || rc=1
  else
    rm -rf "$T"
  fi
  exit "$rc"
}
trap cleanup EXIT

pass_all() {
  FAILED=0
  printf '%s: all %d checks passed in %ds\n' "$TEST_NAME" "$CHECKS" "$SECONDS"
}

# need_cmd CMD... — a missing tool is a failure of the test, not a skip.
need_cmd() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null || fail "required command '$c' not found"; done
}

# free_port — a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  local p i
  for i in $(seq 1 100); do
    p=$((20000 + (RANDOM * 32768 + RANDOM + i) % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      printf '%s\n' "$p"
      return 0
    fi
  done
  fail "no free port found"
}

# free_loopback_ip — a 127.0.0.x address on which nothing listens on 9200 or 9300 (nodes that bind
# their own loopback address with host networking use the standard ports).
free_loopback_ip() {
  local i ip
  for i in $(seq 1 60); do
    ip=127.0.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 2))
    if ! (exec 3<>"/dev/tcp/$ip/9200") 2>/dev/null && ! (exec 3<>"/dev/tcp/$ip/9300") 2>/dev/null; then
      printf '%s\n' "$ip"
      return 0
    fi
  done
  fail "no free loopback address found"
}

# --- real components ---------------------------------------------------------------------------

# static_binary — builds (cached) and prints the stripped static binary's path.
static_binary() {
  "$ESETCD_ROOT/scripts/build-static.sh" 2>"$T/build-static.err" | tail -n 1 ||
    { cat "$T/build-static.err" >&2; fail "scripts/build-static.sh failed"; }
}

# image_under_test [BUILD-IMAGE-ARGUMENT...] — ensures the engine, the stand-in bases (etcd too)
# and our image (all cached); prints the image name. The arguments go to scripts/build-image.sh
# after --local (default: the Elasticsearch version under test).
image_under_test() {
  local img args=("$@")
  ((${#args[@]})) || args=("$ES_VERSION_UNDER_TEST")
  "$ESETCD_ROOT/scripts/base-images.sh" etcd >/dev/null 2>"$T/base-images.err" ||
    { tail -n 40 "$T/base-images.err" >&2; fail "scripts/base-images.sh etcd failed"; }
  img=$("$ESETCD_ROOT/scripts/build-image.sh" --local "${args[@]}" 2>"$T/build-image.err" |
    tail -n 1) || { tail -n 40 "$T/build-image.err" >&2; fail "scripts/build-image.sh ${args[*]} failed"; }
  if [[ -z $img ]] || ! docker image inspect "$img" >/dev/null 2>&1; then
    fail "no image from scripts/build-image.sh"
  fi
  printf '%s\n' "$img"
}

# etcdctl_in CONTAINER ARGS... — etcdctl (v3) inside the etcd container.
etcdctl_in() {
  local c=$1
  shift
  docker exec -e ETCDCTL_API=3 "$c" etcdctl "$@"
}

# start_host_etcd — an etcd container on the host network, on a free loopback address of its
# own; sets IP and ETCD and defines etcdctl_ip (etcdctl against it).
start_host_etcd() {
  IP=$(free_loopback_ip)
  ETCD=$RUN-etcd
  docker run -d --name "$ETCD" --network host "$ETCD_IMAGE" --name "$ETCD" \
    --data-dir /var/lib/etcd/data \
    --listen-client-urls "http://$IP:2379" --advertise-client-urls "http://$IP:2379" \
    --listen-peer-urls "http://$IP:2380" --initial-advertise-peer-urls "http://$IP:2380" \
    --initial-cluster "$ETCD=http://$IP:2380" >/dev/null
  etcdctl_ip() { etcdctl_in "$ETCD" --endpoints "http://$IP:2379" "$@"; }
  wait_for 30 "etcd container on $IP:2379" etcdctl_ip endpoint health
  ok "etcd container $ETCD on $IP:2379 (host network)"
}

# start_etcd_container NAME NETWORK — etcd 3.4 (v2 API on too) on a network of this test.
start_etcd_container() {
  docker run -d --name "$1" --network "$2" "$ETCD_IMAGE" \
    --name "$1" --data-dir /var/lib/etcd/data --enable-v2=true \
    --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls "http://$1:2379" >/dev/null
  wait_for 30 "etcd container $1 answers" etcdctl_in "$1" endpoint health
}
