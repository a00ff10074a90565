#!/usr/bin/env bash
# The image (Dockerfile on the local stand-in bases, scripts/build-image.sh --local) under
# `docker run`, against an etcd container:
#   - the entrypoint is our binary: --version, a bad setting exits 2, a command's status passes
#     through;
#   - a real Elasticsearch node starts with es-etcd-entrypoint as PID 1 and Elasticsearch as its
#     child, bootstraps a cluster of one through etcd (ES_BOOTSTRAP_EXPECT=1) and registers itself
#     under /services/elasticsearch/<its address>;
#   - `docker stop` deregisters first, then the container exits 143 (Elasticsearch's status after
#     SIGTERM, passed on) well within STOP_GRACE; the key is gone when `docker stop` returns;
#   - a document written to the data volume is still there, under the same node id, after the
#     container is replaced by a new one on the same volume;
#   - `docker kill -s KILL` leaves the key behind, and etcd expires it at the TTL;
#   - a command that ignores SIGTERM is SIGKILLed by PID 1 after STOP_GRACE, before docker's own
#     stop timeout: exit 137.
# The loopback layout (docs/image.md): etcd and the node on the host network, bound to a free
# 127.0.x.y, which keeps Elasticsearch in development mode (no bootstrap checks, which this
# machine's 20000-fd cap would fail) and every packet on loopback.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TTL=10
STOP_GRACE=20
STOP_TIMEOUT=30
START_LIMIT=180

need_cmd docker
IMG=$(image_under_test)
ok "image $IMG built from the Dockerfile ($(docker image inspect --format '{{.Size}}' "$IMG" | numfmt --to=iec))"
printf 'size: image %s = %s bytes\n' "$IMG" "$(docker image inspect --format '{{.Size}}' "$IMG")"

check "ENTRYPOINT is the static binary alone, CMD empty" \
  test "$(docker image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.User}}' "$IMG")" \
  = '["/usr/local/bin/es-etcd-entrypoint"] [] 1000:0'

out=$(docker run --rm --name "$RUN-version" "$IMG" --version)
check "docker run IMAGE --version: $out" grep -qE '^es-etcd-entrypoint [0-9]' <<<"$out"
rc=0
docker run --rm --name "$RUN-bad" -e ETCD_TTL=1 "$IMG" >"$T/bad.out" 2>&1 || rc=$?
check "docker run with ETCD_TTL=1 exits 2 (got $rc)" test "$rc" = 2
rc=0
docker run --rm --name "$RUN-status" -e ETCD_ENDPOINTS=http://127.0.0.1:1 -e ETCD_START_TIMEOUT=0 \
  "$IMG" -- sh -c 'exit 7' >"$T/status.out" 2>&1 || rc=$?
check "the command's exit status passes through docker run (sh -c 'exit 7' → $rc)" test "$rc" = 7

start_host_etcd

PREFIX=/services/elasticsearch
VOLUME=$RUN-data
# run_node NAME — an Elasticsearch node on the test network with the data volume. Security is
# what the secured e2e tests prove; here it is off through the explicit opt-out.
run_node() {
  docker run -d --name "$1" --network host --stop-timeout "$STOP_TIMEOUT" \
    -v "$VOLUME:/usr/share/elasticsearch/data" \
    -e "ETCD_ENDPOINTS=http://$IP:2379" -e ETCD_TTL=$TTL -e HEALTH_INTERVAL=2s \
    -e HEALTH_TIMEOUT=2s -e STOP_GRACE=${STOP_GRACE}s -e ES_NODE_NAME=es1 \
    -e "network.host=$IP" -e "ES_PUBLISH_HOST=$IP" -e "ES_HEALTH_URL=http://$IP:9200" \
    -e ES_BOOTSTRAP_EXPECT=1 -e "ES_JAVA_OPTS=-Xms256m -Xmx256m" \
    -e xpack.security.enabled=false "$IMG" >/dev/null
}
key_value() { etcdctl_ip get --print-value-only "$PREFIX/$1"; }
key_present() { [[ -n $(key_value "$1") ]]; }
key_absent() { [[ -z $(key_value "$1") ]]; }
es() { docker exec "$NODE" curl -fsS --max-time 5 "$@"; }
running() { [[ $(docker inspect --format '{{.State.Running}}' "$1") == true ]]; }

# --- PID 1 and registration --------------------------------------------------------------------
NODE=$RUN-es1
run_node "$NODE"
wait_for "$START_LIMIT" "node $NODE registered at $PREFIX/$IP" key_present "$IP"
ok "node registered at $PREFIX/$IP after ${WAITED}s: $(key_value "$IP")"
check "the registration names the node and its ports" \
  grep -q '"node_name":"es1".*"transport_port":9300\|"http_port":9200.*"node_name":"es1"' <<<"$(key_value "$IP")"

pid1=$(docker exec "$NODE" sh -c 'tr "\0" " " </proc/1/cmdline')
check "PID 1 is es-etcd-entrypoint ($pid1)" test "${pid1% }" = /usr/local/bin/es-etcd-entrypoint
# Every process with its parent: Elasticsearch (the JVM, via docker-entrypoint.sh's exec) must be
# a child of PID 1, not of tini or a shell.
docker exec "$NODE" sh -c 'for p in /proc/[0-9]*; do
  printf "%s %s %s\n" "${p#/proc/}" "$(cut -d" " -f4 "$p/stat")" "$(tr "\0" " " <"$p/cmdline" | cut -c1-120)"
done' >"$T/processes.txt" 2>/dev/null || true
# shellcheck disable=SC2016 # awk's own $2
check "Elasticsearch's JVM is a child of PID 1 (see processes.txt)" \
  awk '$2 == 1 && /java/ { found = 1 } END { exit !found }' "$T/processes.txt"
check "no tini in the container's process list" bash -c "! grep -q tini '$T/processes.txt'"

# The image's HEALTHCHECK asks PID 1 at STATUS_ADDR (default: the publish host, port 9911).
health_is() { [[ $(docker inspect --format '{{.State.Health.Status}}' "$1") == "$2" ]]; }
wait_for 60 "docker reports $NODE healthy (HEALTHCHECK runs es-etcd-entrypoint health)" \
  health_is "$NODE" healthy
ok "docker's health status of $NODE is healthy ${WAITED}s after it registered"
rc=0
out=$(docker exec "$NODE" /usr/local/bin/es-etcd-entrypoint health 2>&1) || rc=$?
check "es-etcd-entrypoint health in the running node: exit $rc, one line: $out" \
  test "$rc" = 0 -a "$(wc -l <<<"$out")" = 1
check "its line says healthy and names the key" grep -q "healthy.*$PREFIX/$IP" <<<"$out"

wait_for 60 "cluster health green/yellow" es "http://$IP:9200/_cluster/health?wait_for_status=yellow&timeout=1s"
es -XPUT "http://$IP:9200/survivor/_doc/1?refresh=true" -H 'Content-Type: application/json' \
  -d '{"written_by":"image test"}' >/dev/null
NODE_ID=$(es "http://$IP:9200/_cat/nodes?h=id&full_id=true" | tr -d ' \n')
ok "document survivor/1 written on node $NODE_ID"

# --- docker stop -------------------------------------------------------------------------------
start=$(date +%s%N)
docker stop --time "$STOP_TIMEOUT" "$NODE" >/dev/null
took=$(elapsed_since "$start")
code=$(docker inspect --format '{{.State.ExitCode}}' "$NODE")
check "docker stop: exit status $code = 143 (Elasticsearch's own after SIGTERM)" test "$code" = 143
check "docker stop took ${took}s, within STOP_GRACE=${STOP_GRACE}s" test "${took%.*}" -lt "$STOP_GRACE"
check "the key is gone when docker stop returns" key_absent "$IP"
docker logs "$NODE" >"$T/es1.log" 2>&1
check "the log shows deregistration before Elasticsearch exited" \
  awk '/deregistered/ { d = NR } /exited; exiting with status/ { e = NR } END { exit !(d && e && d < e) }' "$T/es1.log"

# --- the data volume survives a new container ----------------------------------------------------
docker rm "$NODE" >/dev/null
NODE=$RUN-es1b
run_node "$NODE"
wait_for "$START_LIMIT" "replacement node $NODE registered" key_present "$IP"
ok "replacement container registered at $PREFIX/$IP after ${WAITED}s"
wait_for 60 "cluster health yellow after restart" es "http://$IP:9200/_cluster/health?wait_for_status=yellow&timeout=1s"
check "same node id on the same volume ($NODE_ID)" \
  test "$(es "http://$IP:9200/_cat/nodes?h=id&full_id=true" | tr -d ' \n')" = "$NODE_ID"
check "document survivor/1 is still there" \
  grep -q '"written_by":"image test"' <<<"$(es "http://$IP:9200/survivor/_doc/1")"

# --- docker kill -s KILL: the key outlives the node by at most one TTL -----------------------------
docker kill -s KILL "$NODE" >/dev/null
start=$(date +%s%N)
check "right after SIGKILL the key is still there (nobody deregistered it)" key_present "$IP"
wait_for $((TTL + 5)) "key expires after SIGKILL" key_absent "$IP"
# The last refresh came at most HEALTH_INTERVAL (2 s) before the kill.
check "the key expired ${WAITED}s after SIGKILL: between TTL-3 and TTL+2 (TTL=${TTL}s)" \
  test "${WAITED%.*}" -ge $((TTL - 3)) -a "${WAITED%.*}" -le $((TTL + 2))
code=$(docker inspect --format '{{.State.ExitCode}}' "$NODE")
check "the killed container's status is 137" test "$code" = 137

# --- STOP_GRACE is enforced by PID 1 -------------------------------------------------------------
docker run -d --name "$RUN-grace" -e ETCD_ENDPOINTS=http://127.0.0.1:1 -e ETCD_START_TIMEOUT=0 \
  -e STOP_GRACE=3s "$IMG" -- sh -c 'trap "" TERM; while :; do sleep 1; done' >/dev/null
wait_for 30 "the stubborn command runs" running "$RUN-grace"
sleep 1
start=$(date +%s%N)
docker stop --time 20 "$RUN-grace" >/dev/null
took=$(elapsed_since "$start")
code=$(docker inspect --format '{{.State.ExitCode}}' "$RUN-grace")
check "a command that ignores SIGTERM is killed after STOP_GRACE=3s: stop took ${took}s (< 20s docker timeout), status $code = 137" \
  test "${took%.*}" -ge 2 -a "${took%.*}" -lt 10 -a "$code" = 137

pass_all
