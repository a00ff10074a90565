# shellcheck shell=bash
# shellcheck disable=SC2034 # globals set here are read by steps.sh and the run.sh scripts
# Harness of the end-to-end tests (tests/e2e/<scenario>/run.sh): real Elasticsearch/OpenSearch
# containers with es-etcd-entrypoint as PID 1, a real etcd, nothing faked. Sourced, never
# executed. The contract (README.md in this directory says the same for humans):
#   - e2e_init NAME FLAVOR VERSION ensures the engine (scripts/docker-up.sh), the image
#     (scripts/build-image.sh --local, cached) and a private etcd (Debian's binary on a free
#     loopback port, data in the test's temp dir); a missing tool, engine or image FAILS;
#   - each test has its own temp dir $T (kept and named on failure), its own run id $RUN that
#     prefixes every container and volume it creates, its own etcd prefix /e2e/$RUN/es, its own
#     cluster name and its own block of loopback addresses 127.0.X.1-5 (X chosen at run time,
#     9200/9300 checked free on each): runs never mix, even side by side;
#   - nodes use host networking, each on its own loopback address (this machine caps open files
#     at 20000, so Elasticsearch must stay in development mode: loopback only); traffic never
#     leaves loopback;
#   - every wait is bounded (wait_until); the first failing check prints "FAIL - ..." and the
#     exit trap prints every node's entrypoint log and the end of its Elasticsearch log, the end
#     of the etcd log and a dump of etcd, then removes every container, volume and process the
#     test made (pass or fail);
#   - ESETCD_E2E_KEEP=1 keeps the work dir (all logs, etcd data) after a passing run too;
#   - measured durations are printed as "METRIC name=value" lines (seconds) and appended to
#     $ESETCD_E2E_METRICS when that is set.
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$E2E_DIR/../../scripts/lib.sh"
load_versions

# Registration timing of every node: short, so that expiries are measured in seconds. They obey
# the entrypoint's rule HEALTH_INTERVAL + 2 x HEALTH_TIMEOUT < ETCD_TTL (1 + 2 < 6).
E2E_TTL=${ESETCD_E2E_TTL:-6}
E2E_INTERVAL=1
E2E_HEALTH_TIMEOUT=1
E2E_FAILURES=3
E2E_STOP_GRACE=20
DOCKER_STOP_TIMEOUT=$((E2E_STOP_GRACE + 10)) # above STOP_GRACE: the entrypoint's own deadline acts first
ETCDCTL_BIN=etcdctl

FAILED=1 # cleared by pass_all; any other exit keeps $T and dumps the logs
ETCD_PID=
WAITED=0

# How the harness and the entrypoint reach a node's HTTP port: plain http by default; e2e_secure
# switches both to https (the harness with the cluster CA and basic auth from a curl config file,
# so that no password shows in a command line).
E2E_SECURE=0
E2E_SCHEME=http
E2E_CURL=()
# Nodes that are in the cluster but deliberately never registered (a node whose probe cannot
# authenticate): `formed` expects them in every node's count, not in etcd.
E2E_UNREGISTERED=0

# --- reporting ---------------------------------------------------------------------------------

note() { printf '# [%4ds] %s\n' "$SECONDS" "$*"; }
# ok, fail, check and $CHECKS.
# shellcheck source=../checks.sh
source "$E2E_DIR/../checks.sh"
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
  if [[ $2 == "$3" ]]; then ok "$1 ($3)"; else fail "$1: expected '$2', got '$3'"; fi
}
# metric NAME SECONDS — one measured duration.
metric() {
  printf 'METRIC %s=%s\n' "$1" "$2"
  printf '%s %s=%s\n' "$TEST_NAME" "$1" "$2" >>"$T/metrics"
  if [[ -n ${ESETCD_E2E_METRICS:-} ]]; then
    printf '%s %s=%s\n' "$TEST_NAME" "$1" "$2" >>"$ESETCD_E2E_METRICS"
  fi
}

now_ms() { date +%s%3N; }
# now_utc — the current time for `docker logs --since` (a container's StartedAt can come after
# its first log lines, so a start is bracketed by our own clock instead).
now_utc() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
# secs_between START_MS END_MS — END - START in seconds with three decimals (may be negative).
secs_between() {
  local d=$(($2 - $1)) sign=''
  if ((d < 0)); then
    sign=- d=$((-d))
  fi
  printf '%s%d.%03d' "$sign" $((d / 1000)) $((d % 1000))
}
# le A B — A <= B for decimal numbers; between LO X HI — LO <= X <= HI.
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
between() { le "$1" "$2" && le "$2" "$3"; }
# contains TEXT REGEX / lacks TEXT REGEX — TEXT has (or has no) line matching the extended REGEX.
contains() { grep -qE -- "$2" <<<"$1"; }
lacks() { ! grep -qE -- "$2" <<<"$1"; }
# fails CMD... — CMD fails (a negative check: the predicate can tell the bad case apart).
fails() { ! "$@"; }

# wait_until SECONDS DESCRIPTION CMD... — polls CMD every 0.2 s until it succeeds; fails after
# SECONDS. WAITED = seconds it took (three decimals), measured from the call.
wait_until() {
  local limit=$1 what=$2 start
  shift 2
  start=$(now_ms)
  until "$@" >/dev/null 2>&1; do
    if (($(now_ms) - start >= limit * 1000)); then
      fail "$what: not within ${limit}s"
    fi
    sleep 0.2
  done
  WAITED=$(secs_between "$start" "$(now_ms)")
  ok "$what (${WAITED}s)"
}

# --- set-up and clean-up -----------------------------------------------------------------------

# e2e_init NAME FLAVOR VERSION [BUILD-IMAGE-OPTION...] — the options go to scripts/build-image.sh
# (e.g. --security for OpenSearch with its security plugin).
e2e_init() {
  # Globals read by the run.sh scripts and steps.sh: TEST_NAME FLAVOR VERSION RUN T PREFIX STATE
  # CLUSTER_NAME MASTERS_SETTING IMAGE NET ETCD_URL.
  TEST_NAME=$1 FLAVOR=$2 VERSION=$3
  shift 3
  RUN=esetcd-e2e-$TEST_NAME-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  T=$(mktemp -d "${TMPDIR:-/tmp}/$RUN.XXXXXX")
  mkdir -p "$T/logs"
  trap e2e_cleanup EXIT
  PREFIX=/e2e/$RUN/es
  STATE=/es-etcd-entrypoint$PREFIX
  CLUSTER_NAME=e2e-${RUN##*-}
  # The node's home: /usr/share/elasticsearch, or /usr/share/opensearch (the OpenSearch image has
  # no /usr/share/elasticsearch).
  HOME_DIR=/usr/share/$FLAVOR
  DATA_DIR=$HOME_DIR/data
  if [[ $FLAVOR == opensearch ]]; then MASTERS_SETTING=cluster.initial_cluster_manager_nodes; else MASTERS_SETTING=cluster.initial_master_nodes; fi
  note "$TEST_NAME: $FLAVOR $VERSION, run $RUN, work dir $T"

  need_tools
  # Both scripts are idempotent and cached; their output goes to the work dir, shown on failure.
  "$ESETCD_ROOT/scripts/docker-up.sh" >"$T/docker-up.log" 2>&1 ||
    { cat "$T/docker-up.log" >&2; fail "scripts/docker-up.sh failed: no Docker engine"; }
  local args=(--local) t0
  t0=$(now_ms)
  [[ $FLAVOR == opensearch ]] && args+=(--opensearch)
  args+=("$@")
  IMAGE=$("$ESETCD_ROOT/scripts/build-image.sh" "${args[@]}" "$VERSION" 2>"$T/build-image.log" | tail -n 1) ||
    { tail -n 40 "$T/build-image.log" >&2; fail "scripts/build-image.sh ${args[*]} $VERSION failed"; }
  if [[ -z $IMAGE ]] || ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    fail "scripts/build-image.sh printed no usable image ('$IMAGE')"
  fi
  ok "image $IMAGE ($(docker image inspect --format '{{.Id}}' "$IMAGE" | cut -c8-19))"
  metric image_ready "$(secs_between "$t0" "$(now_ms)")"

  pick_loopback_block
  start_etcd
}

need_tools() {
  local c
  # etcd and etcdctl: Debian's etcd-server / etcd-client (3.4), the same etcd the image ships.
  command -v etcd >/dev/null || need_apt etcd-server >&2
  command -v etcdctl >/dev/null || need_apt etcd-client >&2
  command -v jq >/dev/null || need_apt jq >&2
  command -v curl >/dev/null || need_apt curl >&2
  command -v openssl >/dev/null || need_apt openssl >&2
  for c in docker etcd etcdctl curl jq awk od openssl; do
    command -v "$c" >/dev/null || fail "required command '$c' not found"
  done
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# A block 127.0.X.1-5 on which nothing listens on 9200 or 9300 (nodes bind their own loopback
# address with the standard ports). NET=127.0.X.
pick_loopback_block() {
  local attempt x n busy
  for attempt in $(seq 1 40); do
    x=$((RANDOM % 200 + 40)) busy=0
    for n in 1 2 3 4 5; do
      if port_open "127.0.$x.$n" 9200 || port_open "127.0.$x.$n" 9300; then busy=1; fi
    done
    if ((!busy)); then
      NET=127.0.$x
      note "loopback block $NET.1-5 (attempt $attempt)"
      return
    fi
  done
  fail "no free loopback block 127.0.X.1-5 found"
}

free_port() {
  local p i
  for i in $(seq 1 100); do
    p=$((20000 + (RANDOM * 32768 + RANDOM + i) % 30000))
    port_open 127.0.0.1 "$p" || {
      printf '%s\n' "$p"
      return 0
    }
  done
  fail "no free port found"
}

start_etcd() {
  local client peer
  client=$(free_port)
  peer=$(free_port)
  [[ $client != "$peer" ]] || peer=$((peer + 1))
  ETCD_URL=http://127.0.0.1:$client
  # setsid: its own process group, so that nothing but our trap (by pid) ends it.
  setsid etcd --name "$RUN" --data-dir "$T/etcd" \
    --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$RUN=http://127.0.0.1:$peer" >"$T/etcd.log" 2>&1 </dev/null &
  ETCD_PID=$!
  wait_until 30 "etcd answers on $ETCD_URL" ectl endpoint health
}

# ectl ARGS... — etcdctl v3 against this test's etcd.
ectl() { ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$ETCD_URL" --command-timeout=3s "$@"; }

e2e_cleanup() {
  local rc=$? c
  set +e
  if ((FAILED)); then
    dump_everything
  elif [[ -n ${T:-} ]]; then
    save_logs
  fi
  if command -v docker >/dev/null && docker info >/dev/null 2>&1 && [[ -n ${RUN:-} ]]; then
    for c in $(docker ps -aq --filter "name=^$RUN-"); do
      # Paused containers cannot be removed; stopped ones need no unpausing.
      docker unpause "$c" >/dev/null 2>&1
      docker rm -f "$c" >/dev/null 2>&1
    done
    docker volume ls -q --filter "name=^$RUN-" | xargs -r docker volume rm >/dev/null 2>&1
  fi
  if [[ -n $ETCD_PID ]]; then
    kill "$ETCD_PID" 2>/dev/null
    wait "$ETCD_PID" 2>/dev/null
  fi
  if ((FAILED)); then
    printf '%s: FAILED after %d passing checks (%ds); work dir kept: %s\n' \
      "${TEST_NAME:-e2e}" "$CHECKS" "$SECONDS" "${T:-none}" >&2
    ((rc)) || rc=1
  elif [[ ${ESETCD_E2E_KEEP:-0} == 1 ]]; then
    printf '%s: work dir kept (ESETCD_E2E_KEEP=1): %s\n' "$TEST_NAME" "$T"
  else
    rm -rf "$T"
  fi
  exit "$rc"
}

pass_all() {
  FAILED=0
  printf '%s: all %d checks passed in %ds\n' "$TEST_NAME" "$CHECKS" "$SECONDS"
}

save_logs() {
  local c
  for c in $(docker ps -a --filter "name=^$RUN-" --format '{{.Names}}' 2>/dev/null); do
    docker logs "$c" >"$T/logs/$c.log" 2>&1
  done
}

dump_everything() {
  local c f
  [[ -n ${T:-} ]] || return 0
  save_logs
  for f in "$T"/logs/*.log; do
    [[ -e $f ]] || continue
    c=$(basename "$f" .log)
    printf '\n===== %s: entrypoint log (state %s, exit %s) =====\n' "$c" \
      "$(docker inspect --format '{{.State.Status}}' "$c" 2>/dev/null)" \
      "$(docker inspect --format '{{.State.ExitCode}}' "$c" 2>/dev/null)" >&2
    grep -a '^es-etcd-entrypoint\[' "$f" | cut -c1-600 >&2
    printf '===== %s: last 50 lines of Elasticsearch output (full log: %s) =====\n' "$c" "$f" >&2
    grep -av '^es-etcd-entrypoint\[' "$f" | tail -n 50 | cut -c1-600 >&2
  done
  if [[ -f $T/etcd.log ]]; then
    printf '\n===== etcd log (last 30 lines of %s) =====\n' "$T/etcd.log" >&2
    tail -n 30 "$T/etcd.log" >&2
  fi
  if [[ -n ${ETCD_URL:-} ]]; then
    printf '\n===== etcdctl get --prefix "" (keys and values) =====\n' >&2
    ectl get --prefix "" >"$T/etcd-dump.txt" 2>&1
    cat "$T/etcd-dump.txt" >&2
  fi
}

# --- secured nodes (issue 7) -------------------------------------------------------------------

# e2e_secure — every node from now on runs secured, the way a production cluster does:
#   - certificates from scripts/certs.sh (one cluster CA; per node a certificate for CN=node-N
#     whose SANs include its loopback address), mounted read-only at config/certs (Elasticsearch
#     only reads TLS files under its config directory);
#   - TLS on transport and HTTP, the entrypoint probing https://<address>:9200 with
#     ES_HEALTH_CA_FILE (full verification: CA and host name);
#   - a random password, from a file mounted read-only at /run/secrets: Elasticsearch's own
#     ELASTIC_PASSWORD_FILE (the entrypoint probes as "elastic" with it, no setting of its own);
#     OpenSearch's "admin" user, whose bcrypt hash (the plugin's tools/hash.sh) is in the
#     internal_users.yml every node mounts, probed with ES_HEALTH_USERNAME/ES_HEALTH_PASSWORD_FILE;
#   - the harness itself talks https with the CA and basic auth (E2E_CURL: a curl config file).
# Globals: CERTS SECRETS E2E_USER E2E_PASSWORD, and E2E_WRONG_PASSWORD_NODE (a node whose probe
# gets a wrong password; empty: none).
E2E_WRONG_PASSWORD_NODE=
E2E_WRONG_PASSWORD=not-the-password
e2e_secure() {
  local n nodes=() hash
  E2E_SECURE=1 E2E_SCHEME=https
  CERTS=$T/certs SECRETS=$T/secrets
  for n in 1 2 3 4 5; do nodes+=("$(node_name "$n")=$(ip_of "$n")"); done
  "$ESETCD_ROOT/scripts/certs.sh" --admin "$CERTS" "${nodes[@]}" >"$T/certs.log" 2>&1 ||
    { cat "$T/certs.log" >&2; fail "scripts/certs.sh failed"; }
  ok "certificates by scripts/certs.sh: $(openssl x509 -noout -subject -nameopt RFC2253 -in "$CERTS/node-1.crt")"

  E2E_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  if [[ $FLAVOR == elasticsearch ]]; then E2E_USER='elastic'; else E2E_USER='admin'; fi
  # The container runs as uid 1000, gid 0; Elasticsearch refuses a password file whose mode is
  # not 400 or 600.
  mkdir -m 0755 "$SECRETS"
  (umask 077 && printf '%s' "$E2E_PASSWORD" >"$SECRETS/password")
  chown 1000:0 "$SECRETS/password"
  (umask 077 && printf 'cacert = "%s"\nuser = "%s:%s"\n' "$CERTS/ca.crt" "$E2E_USER" "$E2E_PASSWORD" >"$T/curl.conf")
  E2E_CURL=(-K "$T/curl.conf")
  [[ $FLAVOR == opensearch ]] && opensearch_security_config
  note "secured nodes: TLS on transport and HTTP, user $E2E_USER, certificates in $CERTS"
}

# opensearch_security_config — what an operator writes for OpenSearch's security plugin with
# their own certificates: the admin password's bcrypt hash, made with the plugin's own
# tools/hash.sh (the password read from the environment, never from a command line), in
# internal_users.yml; the security index is created from the plugin's files at the cluster's
# first start (plugins.security.allow_default_init_securityindex). And opensearch.yml with the
# lists of distinguished names, which cannot be -E settings (their values are split at commas);
# every other setting is per node (secure_node_opts).
opensearch_security_config() {
  local hash
  # shellcheck disable=SC2016 # a literal $2a$ / $2b$ / $2y$ (bcrypt) prefix
  hash=$(E2E_ADMIN_PASSWORD=$E2E_PASSWORD docker run --rm -e E2E_ADMIN_PASSWORD --entrypoint bash "$IMAGE" \
    plugins/opensearch-security/tools/hash.sh -env E2E_ADMIN_PASSWORD 2>"$T/hash.err" | grep -E '^\$2[aby]\$' | tail -n 1)
  [[ -n $hash ]] || { cat "$T/hash.err" >&2; fail "the security plugin's tools/hash.sh printed no bcrypt hash"; }
  mkdir -m 0755 "$T/opensearch"
  cat >"$T/opensearch/internal_users.yml" <<EOF
_meta:
  type: "internalusers"
  config_version: 2
admin:
  hash: "$hash"
  reserved: true
  backend_roles:
  - "admin"
  description: "Cluster administrator (all_access through the admin backend role)"
EOF
  cat >"$T/opensearch/opensearch.yml" <<'EOF'
cluster.name: docker-cluster
network.host: 0.0.0.0
# Transport connections are accepted from certificates with these subjects only.
plugins.security.nodes_dn:
  - "CN=node-*,OU=nodes,O=es-etcd-entrypoint"
# The certificate that may change the security configuration (securityadmin.sh).
plugins.security.authcz.admin_dn:
  - "CN=admin,OU=admins,O=es-etcd-entrypoint"
EOF
  chmod 0644 "$T/opensearch/"*.yml
}

# wrong_password_timing — the wrong-password node's probe timeout: 5 s instead of 1 s (and a TTL
# that keeps the entrypoint's rule interval + 2 x timeout < TTL; it never registers anyway). A
# refused password is checked against the bcrypt hash every time (only successes are cached),
# which took more than 1 s on a loaded 2-core machine: the probe then alternated between "timed
# out" and "authentication failed", each logged as a change of the failure's kind.
wrong_password_timing() { printf '%s\n' -e HEALTH_TIMEOUT=5s -e ETCD_TTL=15; }

# secure_node_opts N — `docker run` options of a secured node, one per line.
secure_node_opts() {
  local n=$1 name conf=$HOME_DIR/config
  name=$(node_name "$n")
  printf '%s\n' -v "$CERTS:$conf/certs:ro" -v "$SECRETS:/run/secrets:ro" \
    -e "ES_HEALTH_CA_FILE=$conf/certs/ca.crt"
  if [[ $FLAVOR == elasticsearch ]]; then
    printf '%s\n' -e xpack.security.enabled=true \
      -e xpack.security.transport.ssl.enabled=true \
      -e xpack.security.transport.ssl.verification_mode=certificate \
      -e "xpack.security.transport.ssl.key=certs/$name.key" \
      -e "xpack.security.transport.ssl.certificate=certs/$name.crt" \
      -e xpack.security.transport.ssl.certificate_authorities=certs/ca.crt \
      -e xpack.security.http.ssl.enabled=true \
      -e "xpack.security.http.ssl.key=certs/$name.key" \
      -e "xpack.security.http.ssl.certificate=certs/$name.crt" \
      -e xpack.security.http.ssl.certificate_authorities=certs/ca.crt \
      -e ELASTIC_PASSWORD_FILE=/run/secrets/password
    # Its own password stays right (it joins the cluster); only its probe's is wrong.
    if [[ $n == "$E2E_WRONG_PASSWORD_NODE" ]]; then
      printf '%s\n' -e ES_HEALTH_USERNAME=elastic -e "ES_HEALTH_PASSWORD=$E2E_WRONG_PASSWORD"
      wrong_password_timing
    fi
  else
    printf '%s\n' -v "$T/opensearch/opensearch.yml:$conf/opensearch.yml:ro" \
      -v "$T/opensearch/internal_users.yml:$conf/opensearch-security/internal_users.yml:ro" \
      -e DISABLE_INSTALL_DEMO_CONFIG=true \
      -e "plugins.security.ssl.transport.pemcert_filepath=certs/$name.crt" \
      -e "plugins.security.ssl.transport.pemkey_filepath=certs/$name.key" \
      -e plugins.security.ssl.transport.pemtrustedcas_filepath=certs/ca.crt \
      -e plugins.security.ssl.transport.enforce_hostname_verification=false \
      -e plugins.security.ssl.http.enabled=true \
      -e "plugins.security.ssl.http.pemcert_filepath=certs/$name.crt" \
      -e "plugins.security.ssl.http.pemkey_filepath=certs/$name.key" \
      -e plugins.security.ssl.http.pemtrustedcas_filepath=certs/ca.crt \
      -e plugins.security.allow_default_init_securityindex=true \
      -e ES_HEALTH_USERNAME=admin
    if [[ $n == "$E2E_WRONG_PASSWORD_NODE" ]]; then
      printf '%s\n' -e "ES_HEALTH_PASSWORD=$E2E_WRONG_PASSWORD"
      wrong_password_timing
    else
      printf '%s\n' -e ES_HEALTH_PASSWORD_FILE=/run/secrets/password
    fi
  fi
}

# --- nodes -------------------------------------------------------------------------------------

ip_of() { printf '%s.%s\n' "$NET" "$1"; }
cname() { printf '%s-n%s\n' "$RUN" "$1"; }
node_name() { printf 'node-%s\n' "$1"; }

# start_node N [DOCKER-RUN-OPTION...] — creates and starts node N (container $RUN-nN, volume
# $RUN-nN-data); the options are added to the node's own (e.g. -e node.roles=data,ingest).
start_node() {
  local n=$1 ip sec=()
  shift
  ip=$(ip_of "$n")
  mapfile -t sec < <(security_opts "$n")
  docker run -d --name "$(cname "$n")" --network host \
    -v "$(cname "$n")-data:$DATA_DIR" \
    -e network.host="$ip" \
    -e ES_PUBLISH_HOST="$ip" \
    -e ES_HEALTH_URL="$E2E_SCHEME://$ip:9200" \
    -e ES_NODE_NAME="$(node_name "$n")" \
    -e ES_CLUSTER_NAME="$CLUSTER_NAME" \
    -e ETCD_ENDPOINTS="$ETCD_URL" \
    -e ETCD_PREFIX="$PREFIX" \
    -e ETCD_TTL="$E2E_TTL" \
    -e HEALTH_INTERVAL="${E2E_INTERVAL}s" \
    -e HEALTH_TIMEOUT="${E2E_HEALTH_TIMEOUT}s" \
    -e HEALTH_FAILURES="$E2E_FAILURES" \
    -e STOP_GRACE="${E2E_STOP_GRACE}s" \
    -e "$(java_opts_var)=-Xms256m -Xmx256m" \
    "${sec[@]}" \
    "$@" \
    "$IMAGE" >/dev/null || fail "docker run of node $n failed"
}

# java_opts_var — the variable the distribution reads JVM options from (OpenSearch ignores ES's).
java_opts_var() { if [[ $FLAVOR == opensearch ]]; then echo OPENSEARCH_JAVA_OPTS; else echo ES_JAVA_OPTS; fi; }

# security_opts N — node N's security options for `docker run`, one per line. Without
# e2e_secure: the explicit opt-outs, since the images (official and stand-in alike) ship with
# security on — Elasticsearch's xpack.security.enabled=false (7.17 accepts it too), and for
# OpenSearch the official image's variables (neither the plugin's demo configuration nor the
# plugin; the plain stand-in has no plugin and ignores them).
security_opts() {
  if ((E2E_SECURE)); then
    secure_node_opts "$1"
  elif [[ $FLAVOR == elasticsearch ]]; then
    printf '%s\n' -e xpack.security.enabled=false
  else
    printf '%s\n' -e DISABLE_INSTALL_DEMO_CONFIG=true -e DISABLE_SECURITY_PLUGIN=true
  fi
}

# in_parallel FUNC N... — FUNC N for every N at the same time; fails when any of them failed.
in_parallel() {
  local func=$1 n pids=() rc=0 p
  shift
  for n in "$@"; do
    "$func" "$n" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  ((rc == 0)) || fail "$func $* failed"
}

docker_start() { docker start "$(cname "$1")" >/dev/null; }
docker_stop() { docker stop -t "$DOCKER_STOP_TIMEOUT" "$(cname "$1")" >/dev/null; }

# When the container started last (RFC 3339), for `docker logs --since`.
started_at() { docker inspect --format '{{.State.StartedAt}}' "$(cname "$1")"; }
running() { [[ $(docker inspect --format '{{.State.Running}}' "$(cname "$1")" 2>/dev/null) == true ]]; }
exited() { [[ $(docker inspect --format '{{.State.Status}}' "$(cname "$1")" 2>/dev/null) == exited ]]; }
exit_code() { docker inspect --format '{{.State.ExitCode}}' "$(cname "$1")"; }

# node_logs N [SINCE] — the container's whole output (entrypoint and Elasticsearch).
node_logs() {
  if [[ -n ${2:-} ]]; then
    docker logs --since "$2" "$(cname "$1")" 2>&1
  else
    docker logs "$(cname "$1")" 2>&1
  fi
}
# entrypoint_log N [SINCE] — the entrypoint's own lines.
entrypoint_log() { node_logs "$@" | grep -a '^es-etcd-entrypoint\[' || true; }

# log_time_ms N REGEX [SINCE] — epoch ms of the first entrypoint line matching REGEX.
log_time_ms() {
  local line
  line=$(entrypoint_log "$1" "${3:-}" | grep -aE -m1 -- "$2") || return 1
  date -d "$(awk '{ print $2 }' <<<"$line")" +%s%3N
}

# es_get N PATH — GET on node N's HTTP port, 3 s at most (https and basic auth once e2e_secure ran).
es_get() { curl -fsS --max-time 3 "${E2E_CURL[@]}" "$E2E_SCHEME://$(ip_of "$1"):9200$2"; }
# nodes_seen N — number_of_nodes in node N's view (needs an elected master).
nodes_seen() { es_get "$1" '/_cluster/health?master_timeout=2s' | jq -er .number_of_nodes; }
has_nodes() { [[ $(nodes_seen "$1") == "$2" ]]; }
cluster_uuid() {
  es_get "$1" '/_cluster/state/metadata?filter_path=metadata.cluster_uuid' | jq -er .metadata.cluster_uuid
}

reg_key() { printf '%s/%s\n' "$PREFIX" "$(ip_of "$1")"; }
registration() { ectl get --print-value-only "$(reg_key "$1")"; }
registered() { [[ -n $(registration "$1") ]]; }
not_registered() { [[ -z $(registration "$1" 2>/dev/null) ]] && ectl endpoint health >/dev/null 2>&1; }
registration_count() { ectl get --prefix --keys-only "$PREFIX/" | grep -c . || true; }
registration_count_is() { [[ $(registration_count) == "$1" ]]; }

# all_of PRED ARG N... — PRED N ARG for every N.
all_of() {
  local pred=$1 arg=$2 n
  shift 2
  for n in "$@"; do "$pred" "$n" "$arg" || return 1; done
}
registered_all() {
  local n
  for n in "$@"; do registered "$n" || return 1; done
}

# formed N... — every node sees exactly these nodes (plus the $E2E_UNREGISTERED ones) and is
# registered.
formed() {
  all_of has_nodes $(($# + E2E_UNREGISTERED)) "$@" && registered_all "$@" && registration_count_is $#
}

seed_file() { docker exec "$(cname "$1")" cat "$HOME_DIR/config/unicast_hosts.txt"; }
seed_file_lists() { seed_file "$1" | grep -qx "$2:9300"; }
seed_file_lacks() { ! seed_file "$1" | grep -qx "$2:9300"; }

# es_server_pid N — host pid of node N's Elasticsearch/OpenSearch server JVM (8.x also runs a
# CLI JVM that launches it).
es_server_pid() {
  docker top "$(cname "$1")" -eo pid,args |
    awk '/org\.(elasticsearch\.bootstrap\.Elasticsearch|opensearch\.bootstrap\.OpenSearch)/ { print $1; exit }'
}

# master_of N... — the number of the elected master, as node N (the first) sees it.
master_of() {
  local name
  name=$(es_get "$1" '/_cat/master?h=node') || return 1
  name=${name//[[:space:]]/}
  [[ $name == node-* ]] || return 1
  printf '%s\n' "${name#node-}"
}
# non_master_of N... — the first of the nodes that is not the elected master.
non_master_of() {
  local master n
  master=$(master_of "$@") || fail "no elected master seen by node $1"
  for n in "$@"; do
    if [[ $n != "$master" ]]; then
      printf '%s\n' "$n"
      return
    fi
  done
  fail "every node of $* is the master?"
}
# others_than K N... — the nodes N... without K.
others_than() {
  local k=$1 n out=()
  shift
  for n in "$@"; do [[ $n == "$k" ]] || out+=("$n"); done
  printf '%s\n' "${out[@]}"
}

# same_uuid_everywhere UUID N... — every node reports UUID.
same_uuid_everywhere() {
  local want=$1 n
  shift
  for n in "$@"; do [[ $(cluster_uuid "$n") == "$want" ]] || return 1; done
}

# mod_revision KEY — etcd's mod_revision of KEY (empty when absent).
mod_revision() { ectl get -w json "$1" | jq -r '.kvs[0].mod_revision // empty'; }
