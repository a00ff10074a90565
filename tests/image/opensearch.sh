#!/usr/bin/env bash
# The image on OpenSearch (scripts/build-image.sh --opensearch, on the local stand-ins laid out as
# the official opensearchproject/opensearch image: home /usr/share/opensearch, no
# /usr/share/elasticsearch, its start script opensearch-docker-entrypoint.sh there), under
# `docker run` against an etcd container (issue 8):
#   - the image's DEFAULT command, with no ES_HOME, no command and no setting but where etcd is and
#     where the node is reached (the loopback layout of docs/image.md: network.host,
#     ES_PUBLISH_HOST, ES_HEALTH_URL) and a cluster of one: the entrypoint detects the OpenSearch
#     layout, runs `/usr/share/opensearch/opensearch-docker-entrypoint.sh opensearch` with its
#     settings, the node forms a cluster through etcd, goes healthy and registers; the JVM is the
#     child of PID 1 (the script execs it), `docker stop` deregisters and ends with 143;
#   - the start script's own contract, through our PID 1, on the stand-in with the security
#     plugin: DISABLE_SECURITY_PLUGIN=true starts a plain-HTTP node that registers; as root
#     (--user 0) the script refuses as the official one does and its status 1 is the container's;
#     the plugin's demo installer without OPENSEARCH_INITIAL_ADMIN_PASSWORD refuses, status 1.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START_LIMIT=180
STOP_TIMEOUT=30
OS_HOME=/usr/share/opensearch
SCRIPT=$OS_HOME/opensearch-docker-entrypoint.sh

need_cmd docker
IMG=$(image_under_test --opensearch "$ESETCD_OS2_VERSION")
ok "image $IMG on the OpenSearch stand-in"
SEC_IMG=$(image_under_test --opensearch --security "$ESETCD_OS_SECURITY_VERSION")
ok "image $SEC_IMG on the OpenSearch stand-in with its security plugin"

# The base is laid out as the official image: what the entrypoint has to find by itself.
base=$(docker image inspect --format '{{ index .Config.Labels "es-etcd-entrypoint.base-image" }}' "$IMG")
check "the base $base: ENTRYPOINT/CMD/USER/WORKDIR as the official image" \
  test "$(docker image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.User}} {{.Config.WorkingDir}}' "$base")" \
  = '["./opensearch-docker-entrypoint.sh"] ["opensearch"] 1000 /usr/share/opensearch'
check "the base has no /usr/share/elasticsearch, no docker-entrypoint.sh, no tini; its script is in the home" \
  docker run --rm --entrypoint /bin/sh "$base" -c \
  "! test -e /usr/share/elasticsearch && ! test -e /usr/local/bin/docker-entrypoint.sh && ! command -v tini && test -x $SCRIPT && test \"\$(id -u):\$(id -g)\" = 1000:1000"
check "ENTRYPOINT is the static binary alone, CMD empty" \
  test "$(docker image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$IMG")" \
  = '["/usr/local/bin/es-etcd-entrypoint"] []'

start_host_etcd

# Each part is a cluster of its own, under its own prefix ($PREFIX, set per part).
key_value() { etcdctl_ip get --print-value-only "$PREFIX/$IP"; }
key_present() { [[ -n $(key_value) ]]; }
key_absent() { [[ -z $(key_value) ]]; }
# os_opts — the node's `docker run` options: where etcd is, the loopback layout and a cluster of
# one; nothing about the installation or the command.
os_opts() {
  printf '%s\n' --network host -e "ETCD_ENDPOINTS=http://$IP:2379" -e "ETCD_PREFIX=$PREFIX" \
    -e "ES_PUBLISH_HOST=$IP" -e "network.host=$IP" -e "ES_HEALTH_URL=http://$IP:9200" \
    -e ES_BOOTSTRAP_EXPECT=1
}
# run_os NAME IMAGE [DOCKER-RUN-OPTION...] — detached, with the image's default command.
run_os() {
  local name=$1 image=$2 opts
  shift 2
  mapfile -t opts < <(os_opts)
  docker run -d --name "$name" --stop-timeout "$STOP_TIMEOUT" "${opts[@]}" "$@" "$image" >/dev/null
}

# --- the default command, no settings ------------------------------------------------------------
PREFIX=/services/elasticsearch
NODE=$RUN-os
run_os "$NODE" "$IMG"
wait_for "$START_LIMIT" "node $NODE registered at $PREFIX/$IP" key_present
ok "the default command started a node that registered after ${WAITED}s: $(key_value)"
check "the registration says opensearch $ESETCD_OS2_VERSION" \
  grep -q "\"distribution\":\"opensearch\".*\"version\":\"$ESETCD_OS2_VERSION\"" <<<"$(key_value)"
docker logs "$NODE" >"$T/os.log" 2>&1
check "the entrypoint logged the OpenSearch layout and why" \
  grep -q "layout: home $OS_HOME ($OS_HOME/bin/opensearch exists; /usr/share/elasticsearch does not exist), config $OS_HOME/config" "$T/os.log"
check "it started the image's own script: $SCRIPT opensearch, with our settings" \
  grep -qE "started $SCRIPT opensearch -Enode.name=.* as pid" "$T/os.log"
# processes NODE — every process in the container: pid, parent pid, whole command line.
processes() {
  docker exec "$1" sh -c 'for p in /proc/[0-9]*; do
    printf "%s %s %s\n" "${p#/proc/}" "$(cut -d" " -f4 "$p/stat")" "$(tr "\0" " " <"$p/cmdline")"
  done' 2>/dev/null || true
}
processes "$NODE" >"$T/processes.txt"
# shellcheck disable=SC2016 # awk's own $2
check "OpenSearch's JVM is the child of PID 1 (the script exec'd it; see processes.txt)" \
  awk '$2 == 1 && /org\.opensearch\.bootstrap\.OpenSearch/ { found = 1 } END { exit !found }' "$T/processes.txt"
check "our settings reached OpenSearch through the script (-Enetwork.publish_host=$IP on the JVM's command line)" \
  grep -q "org.opensearch.bootstrap.OpenSearch.*-Enetwork.publish_host=$IP" "$T/processes.txt"
check "the script's env translation too (network.host=$IP → -Enetwork.host=$IP)" \
  grep -q "org.opensearch.bootstrap.OpenSearch.*-Enetwork.host=$IP" "$T/processes.txt"
check "the cluster is green or yellow" \
  docker exec "$NODE" curl -fsS --max-time 5 "http://$IP:9200/_cluster/health?wait_for_status=yellow&timeout=5s"
docker stop --time "$STOP_TIMEOUT" "$NODE" >/dev/null
check "docker stop: the key is gone when it returns" key_absent
check "docker stop: exit status 143 (OpenSearch's own after SIGTERM)" \
  test "$(docker inspect --format '{{.State.ExitCode}}' "$NODE")" = 143
docker rm "$NODE" >/dev/null

# --- the script's contract, with the security plugin installed -----------------------------------
PREFIX=/image-test/opensearch/no-security
NODE=$RUN-os-nosec
run_os "$NODE" "$SEC_IMG" -e DISABLE_SECURITY_PLUGIN=true
wait_for "$START_LIMIT" "DISABLE_SECURITY_PLUGIN=true: node $NODE registered" key_present
ok "DISABLE_SECURITY_PLUGIN=true: the node registered after ${WAITED}s over plain HTTP"
processes "$NODE" >"$T/processes-nosec.txt"
check "the script turned the plugin off (-Eplugins.security.disabled=true on the JVM's command line)" \
  grep -q 'org.opensearch.bootstrap.OpenSearch.*-Eplugins.security.disabled=true' "$T/processes-nosec.txt"
docker stop --time "$STOP_TIMEOUT" "$NODE" >/dev/null
wait_for 10 "deregistered after docker stop" key_absent
docker rm "$NODE" >/dev/null

PREFIX=/image-test/opensearch/root
mapfile -t opts < <(os_opts)
rc=0
docker run --name "$RUN-root" --user 0 "${opts[@]}" -e DISABLE_SECURITY_PLUGIN=true "$SEC_IMG" \
  >"$T/root.log" 2>&1 || rc=$?
check "as root the image refuses like the official one, status 1 passed through (got $rc)" \
  test "$rc" = 1
check "… with the official script's message" \
  grep -q "OpenSearch cannot run as root. Please start your container as another user." "$T/root.log"
check "… and the entrypoint's exit line" grep -q "exiting with status 1" "$T/root.log"

PREFIX=/image-test/opensearch/demo
mapfile -t opts < <(os_opts)
rc=0
docker run --name "$RUN-demo" "${opts[@]}" "$SEC_IMG" >"$T/demo.log" 2>&1 || rc=$?
check "no OPENSEARCH_INITIAL_ADMIN_PASSWORD: the plugin's demo installer refuses, status 1 passed through (got $rc)" \
  test "$rc" = 1 -a -n "$(grep -i 'OPENSEARCH_INITIAL_ADMIN_PASSWORD' "$T/demo.log")"
check "no registration is left behind by the refused start" key_absent

pass_all
