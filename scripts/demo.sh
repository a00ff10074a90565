#!/usr/bin/env bash
# The README's first command: a three-node Elasticsearch cluster that finds itself through etcd,
# on a fresh machine.
#
#   scripts/demo.sh          build what is needed, start etcd + es1..es3 (docker-compose.yml),
#                            wait until the three nodes are one cluster, print the cluster's node
#                            list and the etcd registrations
#   scripts/demo.sh --secure the same cluster secured as in production (docs/security.md): a CA
#                            and node certificates from scripts/certs.sh in ./certs, TLS on
#                            transport and HTTP, a generated elastic password (printed at the
#                            end, kept in ./certs/elastic-password), docker-compose.secure.yml
#   scripts/demo.sh down     remove the demo's containers, network and volumes
#
# Phases, one progress line each on stderr: install (Debian's docker.io and docker-compose via
# scripts/docker-up.sh), bases (official images when present or pullable within a bounded time,
# else the local stand-ins of scripts/base-images.sh: never hangs on an unreachable registry),
# image (scripts/build-image.sh), layout, up, wait (bounded: ESETCD_DEMO_TIMEOUT, 300 s), print.
#
# Layout: where the open-file hard limit is below 65535 (or vm.max_map_count cannot reach
# 262144), Elasticsearch would fail its production-mode bootstrap checks with exit 78 on the
# bridge network; the demo then adds docker-compose.loopback.yml (host network, nodes on
# 127.0.0.2-4, development mode) and says so. ESETCD_DEMO_LAYOUT=bridge|loopback forces one.
# Results go to stdout; the cluster stays up until `scripts/demo.sh down`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=pick-base.sh
source "$ESETCD_ROOT/scripts/pick-base.sh"
load_versions

PROJECT=${ESETCD_DEMO_PROJECT:-es-etcd-demo}
TIMEOUT=${ESETCD_DEMO_TIMEOUT:-300}
ES_VERSION=${ESETCD_DEMO_ES_VERSION:-$ESETCD_ES8_VERSION}
OFFICIAL_ETCD=quay.io/coreos/etcd:v3.7.3
NODES=(es1 es2 es3)
FILES=(-f "$ESETCD_ROOT/docker-compose.yml")
PHASE_START=$SECONDS
SECURE=0
CERTS_DIR=$ESETCD_ROOT/certs # where docker-compose.secure.yml expects them
CURL_AUTH=()                 # extra curl arguments for es1's API: CA and password when secured

phase() {
  say "== $* (previous phase took $((SECONDS - PHASE_START))s)"
  PHASE_START=$SECONDS
}

# ESETCD_COMPOSE picks the compose command ("docker compose", a path to compose v2); default:
# Debian's docker-compose 1.29 when installed, else the docker CLI plugin.
compose() {
  local cmd=()
  if [[ -n ${ESETCD_COMPOSE:-} ]]; then
    read -ra cmd <<<"$ESETCD_COMPOSE"
    "${cmd[@]}" -p "$PROJECT" "${FILES[@]}" "$@"
  elif command -v docker-compose >/dev/null; then
    docker-compose -p "$PROJECT" "${FILES[@]}" "$@"
  else
    docker compose -p "$PROJECT" "${FILES[@]}" "$@"
  fi
}

container_of() { compose ps -q "$1" 2>/dev/null; }

# --- layout ------------------------------------------------------------------------------------

choose_layout() {
  local hard map reason=''
  hard=$(ulimit -Hn)
  map=$(cat /proc/sys/vm/max_map_count)
  if [[ $hard != unlimited ]] && ((hard < 65535)); then
    reason="the open-file hard limit here is $hard (< 65535, not raisable)"
  elif ((map < 262144)); then
    reason="vm.max_map_count is $map (< 262144)"
  fi
  LAYOUT=${ESETCD_DEMO_LAYOUT:-}
  if [[ -z $LAYOUT ]]; then
    if [[ -n $reason ]]; then LAYOUT=loopback; else LAYOUT=bridge; fi
  fi
  if [[ $hard != unlimited ]] && ((hard < 65535)); then
    # Containers cannot be given more than the engine's own limit.
    export ES_NOFILE_LIMIT=$hard
  fi
  case $LAYOUT in
    bridge)
      say "layout: bridge network ${PROJECT}_default, production mode"
      HEALTH_BASE=$SCHEME://localhost:9200
      ETCD_LOCAL_URL=http://127.0.0.1:2379
      ;;
    loopback)
      say "layout: loopback — ${reason:-forced by ESETCD_DEMO_LAYOUT}: Elasticsearch would exit 78 on" \
        "its bootstrap checks, so docker-compose.loopback.yml puts every service on the host network," \
        "es1..es3 on 127.0.0.2..4 (development mode, nothing leaves loopback)"
      FILES+=(-f "$ESETCD_ROOT/docker-compose.loopback.yml")
      HEALTH_BASE=$SCHEME://127.0.0.2:9200
      loopback_ports
      ETCD_LOCAL_URL=http://127.0.0.1:$ETCD_LOOPBACK_PORT
      ;;
    *) die "ESETCD_DEMO_LAYOUT must be bridge or loopback, not '$LAYOUT'" ;;
  esac
}

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Host networking shares the host's ports: they must be free (our own containers from an earlier
# run are removed by `down` first). etcd moves to another port pair when 2379 is taken.
loopback_ports() {
  local ip port
  for ip in 127.0.0.2 127.0.0.3 127.0.0.4; do
    for port in 9200 9300; do
      ! listening "$ip" "$port" || die "$ip:$port is in use: the loopback layout needs it free"
    done
  done
  export ETCD_LOOPBACK_PORT=${ETCD_LOOPBACK_PORT:-2379}
  export ETCD_LOOPBACK_PEER_PORT=${ETCD_LOOPBACK_PEER_PORT:-$((ETCD_LOOPBACK_PORT + 1))}
  while listening 127.0.0.1 "$ETCD_LOOPBACK_PORT" || listening 127.0.0.1 "$ETCD_LOOPBACK_PEER_PORT"; do
    ETCD_LOOPBACK_PORT=$((ETCD_LOOPBACK_PORT + 10)) ETCD_LOOPBACK_PEER_PORT=$((ETCD_LOOPBACK_PORT + 1))
    ((ETCD_LOOPBACK_PORT < 2500)) || die "no free port pair for etcd on 127.0.0.1 (2379-2499)"
  done
  say "etcd on 127.0.0.1:$ETCD_LOOPBACK_PORT"
}

# --- waiting and printing ----------------------------------------------------------------------

# es1's HTTP API, asked from inside its container (curl is in the official image too): nothing is
# published on the host.
es1_get() {
  local c
  c=$(container_of es1)
  [[ -n $c ]] || return 0
  docker exec "$c" curl -s --max-time 5 "${CURL_AUTH[@]}" "$HEALTH_BASE$1" 2>/dev/null || true
}
health() { es1_get "/_cluster/health?timeout=0s"; }
node_count() { sed -nE 's/.*"number_of_nodes":([0-9]+).*/\1/p' <<<"$1"; }

registrations() {
  local etcd
  etcd=$(container_of etcd)
  [[ -n $etcd ]] || return 0
  docker exec -e ETCDCTL_API=3 "$etcd" etcdctl --endpoints "$ETCD_LOCAL_URL" \
    get --prefix /services/elasticsearch 2>/dev/null || true
}

node_states() {
  local n c out=()
  for n in "${NODES[@]}"; do
    c=$(container_of "$n")
    out+=("$n=$(docker inspect --format '{{.State.Status}}/restarts {{.RestartCount}}' "$c" 2>/dev/null || echo missing)")
  done
  printf '%s\n' "${out[*]}"
}

diagnose() {
  local n
  say "diagnostics: health $(health)"
  say "containers: $(node_states)"
  for n in etcd "${NODES[@]}"; do
    printf '\n----- %s (last 25 lines) -----\n' "$n" >&2
    compose logs --no-color --tail 25 "$n" 2>&1 | cut -c1-300 >&2 || true
  done
}

registration_count() { registrations | grep -c '^/services/elasticsearch/' || true; }

# A node registers after its next healthy probe (HEALTH_INTERVAL, 5 s), so the keys may trail the
# cluster by a few seconds.
wait_for_registrations() {
  local deadline=$((SECONDS + 30)) regs
  while regs=$(registration_count) && ((regs < 3)); do
    if ((SECONDS >= deadline)); then
      say "warning: only $regs of 3 nodes registered in etcd after 30 s"
      return 0
    fi
    sleep 1
  done
  say "all three nodes registered in etcd"
}

wait_for_cluster() {
  local deadline=$((SECONDS + TIMEOUT)) next_report=0 h n regs restarts
  while :; do
    h=$(health)
    n=$(node_count "$h")
    if [[ $n == 3 ]]; then
      say "all three nodes are in one cluster ($(sed -nE 's/.*"status":"([a-z]+)".*/\1/p' <<<"$h"))"
      wait_for_registrations
      return 0
    fi
    restarts=$(node_states)
    if [[ $restarts =~ restarts\ ([3-9]|[1-9][0-9]) ]]; then
      diagnose
      die "a node keeps restarting: $restarts"
    fi
    if ((SECONDS >= deadline)); then
      diagnose
      die "the cluster did not reach 3 nodes within ${TIMEOUT}s (it is left running; scripts/demo.sh down removes it)"
    fi
    if ((SECONDS >= next_report)); then
      regs=$(registration_count)
      say "waiting: nodes in es1's cluster ${n:-none yet}/3, registrations in etcd $regs/3, $(node_states)"
      next_report=$((SECONDS + 15))
    fi
    sleep 2
  done
}

print_results() {
  printf '\n# Cluster nodes (GET %s/_cat/nodes?v, from es1)\n' "$HEALTH_BASE"
  es1_get "/_cat/nodes?v&h=ip,name,node.role,master,version&s=name"
  printf '\n# etcd registrations (etcdctl get --prefix /services/elasticsearch, in the etcd container)\n'
  registrations
  if ((SECURE)); then
    printf '\n# Secured: https with the CA %s, user elastic, password %s\n' \
      "$CERTS_DIR/ca.crt" "$ELASTIC_PASSWORD"
  fi
  printf '\n# Tear down: scripts/demo.sh down\n'
}

# --- security ----------------------------------------------------------------------------------

# The layout's addresses go into the certificates, so that the probe and curl verify the host
# name in full: the service names on the bridge network, 127.0.0.2-4 on loopback (127.0.0.1 and
# localhost are in every certificate anyway).
secure_setup() {
  local sans=(es1 es2 es3) pw_file=$CERTS_DIR/elastic-password
  [[ $LAYOUT == loopback ]] && sans=(es1=127.0.0.2 es2=127.0.0.3 es3=127.0.0.4)
  "$ESETCD_ROOT/scripts/certs.sh" "$CERTS_DIR" "${sans[@]}" >&2
  if [[ ! -s $pw_file ]]; then
    (umask 077 && openssl rand -base64 18 | tr -d '/+=\n' >"$pw_file")
  fi
  export ELASTIC_PASSWORD
  ELASTIC_PASSWORD=$(cat "$pw_file")
  export ES_HEALTH_SCHEME=https
  FILES+=(-f "$ESETCD_ROOT/docker-compose.secure.yml")
  # curl runs inside es1, as elastic, trusting the demo's CA.
  CURL_AUTH=(--cacert /usr/share/elasticsearch/config/certs/ca.crt -u "elastic:$ELASTIC_PASSWORD")
  say "security on: CA and node certificates in $CERTS_DIR, elastic password in $pw_file"
}

# --- commands ----------------------------------------------------------------------------------

# Both files: removing host-network containers needs no knowledge of the layout they ran in.
compose_any_layout() {
  local FILES=(-f "$ESETCD_ROOT/docker-compose.yml" -f "$ESETCD_ROOT/docker-compose.loopback.yml")
  compose "$@"
}

remove_previous() {
  if [[ -n $(compose_any_layout ps -q 2>/dev/null) ]]; then
    say "removing the containers and volumes of a previous run"
    compose_any_layout down --volumes --remove-orphans --timeout 30 >/dev/null 2>&1 || true
  fi
}

down() {
  phase "down: removing the demo's containers, network and volumes"
  compose_any_layout down --volumes --remove-orphans --timeout 30 >&2
  say "removed (${SECONDS}s)"
}

up() {
  local etcd_image image
  phase "install: Docker engine and docker-compose"
  "$ESETCD_ROOT/scripts/docker-up.sh"

  phase "bases: official images where present or pullable, local stand-ins otherwise"
  etcd_image=${ETCD_IMAGE:-$(pick_base "$OFFICIAL_ETCD" "$ESETCD_IMAGE_PREFIX/etcd:3.4" etcd)}
  say "etcd image: $etcd_image"

  phase "image: building es-etcd-entrypoint on Elasticsearch $ES_VERSION"
  image=$("$ESETCD_ROOT/scripts/build-image.sh" "$ES_VERSION" | tail -n 1)
  say "image: $image (base $(docker image inspect --format '{{ index .Config.Labels "es-etcd-entrypoint.base-image" }}' "$image"))"

  phase "layout"
  # A previous run's containers would hold the names, the ports and stale data.
  remove_previous
  choose_layout
  ((SECURE)) && secure_setup

  phase "up: etcd and es1..es3 (project $PROJECT)"
  export ES_ETCD_IMAGE=$image ETCD_IMAGE=$etcd_image
  compose up -d --no-build >&2

  phase "wait: until es1's cluster has 3 nodes (at most ${TIMEOUT}s)"
  wait_for_cluster

  phase "print"
  print_results
  say "done in ${SECONDS}s"
}

SCHEME=http
case ${1:-up} in
  up) up ;;
  --secure)
    SECURE=1 SCHEME=https
    up
    ;;
  down) down ;;
  -h | --help) sed -n '2,24p' "$0" ;;
  *) die "usage: scripts/demo.sh [up|--secure|down]" ;;
esac
