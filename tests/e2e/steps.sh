# shellcheck shell=bash
# shellcheck disable=SC2034 # the E2E_* globals set here are read by lib.sh
# The scenario steps of the e2e tests, shared by the run.sh scripts so that one cluster serves
# several scenarios in a row. Each step states what it proves, asserts with bounded polling and
# prints METRIC lines. Sourced after lib.sh (and e2e_init), never executed.

UUID=
DECISION_REV=

# check_one_cluster N... — the nodes form ONE cluster: same UUID everywhere, the one etcd
# records, one bootstrap decision in etcd, one proposer among the logs.
check_one_cluster() {
  local n decision proposers=0 masters
  UUID=$(cluster_uuid "$1") || fail "node $1 reports no cluster UUID"
  [[ -n $UUID && $UUID != _na_ ]] || fail "node $1 reports cluster UUID '$UUID'"
  check "nodes $* report the same cluster UUID $UUID" same_uuid_everywhere "$UUID" "$@"
  check_eq "etcd records that cluster UUID at $STATE/cluster_uuid" "$UUID" \
    "$(ectl get --print-value-only "$STATE/cluster_uuid")"
  check_eq "cluster name" "$CLUSTER_NAME" "$(es_get "$1" /_cluster/health | jq -r .cluster_name)"
  decision=$(ectl get --print-value-only "$STATE/bootstrap")
  masters=$(jq -r '.initial_master_nodes | join(",")' <<<"$decision") ||
    fail "no bootstrap decision in etcd: '$decision'"
  check_eq "one bootstrap decision in etcd" "node-1,node-2,node-3" "$masters"
  DECISION_REV=$(mod_revision "$STATE/bootstrap")
  for n in "$@"; do
    proposers=$((proposers + $(entrypoint_log "$n" | grep -c 'bootstrap decided' || true)))
  done
  check_eq "exactly one node wrote the decision" 1 "$proposers"
}

# check_registration N — the record's fields are the node's.
check_registration() {
  local n=$1 rec
  rec=$(registration "$n")
  # shellcheck disable=SC2016 # $ip and $name are jq variables
  check "registration of node $n names its host, ports and node name" jq -e \
    --arg ip "$(ip_of "$n")" --arg name "$(node_name "$n")" \
    '.host == $ip and .http_port == 9200 and .transport_port == 9300 and .node_name == $name' \
    <<<"$rec"
}

# check_rejoined_with_data N SINCE — node N's start since SINCE used its existing data and did
# not bootstrap anything. (How the entrypoint words its join decision is its own business: the
# checks are on what reached Elasticsearch.)
check_rejoined_with_data() {
  local n=$1 since=$2 log
  log=$(entrypoint_log "$n" "$since")
  check "node $n: entrypoint saw existing data" grep -q 'existing data' <<<"$log"
  check "node $n: no first formation on restart" lacks "$log" 'first formation'
  check "node $n: started without $MASTERS_SETTING" lacks "$log" "I started .*$MASTERS_SETTING"
}

# --- scenario 1 --------------------------------------------------------------------------------

# step_form_together — empty etcd, empty volumes, three nodes started at the same time → one
# cluster of three, three registrations, no manual step.
step_form_together() {
  local t0 n log
  note "scenario 1: empty etcd, empty volumes, nodes 1-3 started at the same time"
  check_eq "etcd is empty" "" "$(ectl get --prefix --keys-only "")"
  t0=$(now_ms)
  in_parallel start_node 1 2 3
  wait_until 240 "nodes 1-3 form a cluster of three, each registered" formed 1 2 3
  metric form_simultaneous "$(secs_between "$t0" "$(now_ms)")"
  check_one_cluster 1 2 3
  # The predicates this suite relies on can fail: a wrong node count, a wrong UUID.
  check "(negative) 'formed' is false for a two-node expectation" fails formed 1 2
  check "(negative) another UUID is told apart" fails same_uuid_everywhere not-the-uuid 1
  for n in 1 2 3; do
    check_registration "$n"
    log=$(entrypoint_log "$n")
    check "node $n: first formation with the decided masters" \
      grep -q "first formation: $MASTERS_SETTING=node-1 node-2 node-3" <<<"$log"
    check "node $n: Elasticsearch got $MASTERS_SETTING" \
      grep -q "started .*$MASTERS_SETTING=node-1,node-2,node-3" <<<"$log"
    # Positive control for scenario 5's check that a restart never mentions the setting:
    # Elasticsearch 8.x logs it at every first start (7.x and OpenSearch only when discovery
    # drags on).
    if [[ $FLAVOR == elasticsearch && ${VERSION%%.*} -ge 8 ]]; then
      check "node $n: Elasticsearch logged its $MASTERS_SETTING" \
        contains "$(node_logs "$n" | grep -av '^es-etcd-entrypoint\[')" "\[$MASTERS_SETTING\] is set to \[node-1, node-2, node-3\]"
    fi
  done
}

# --- scenario 2 --------------------------------------------------------------------------------

# step_form_staggered PAUSE — nodes started one after the other → still exactly one cluster;
# nothing forms (no decision, no registration) before the third node is there.
step_form_staggered() {
  local pause=$1 t0 n
  note "scenario 2: nodes 1-3 started one after the other, ${pause}s apart"
  check_eq "etcd is empty" "" "$(ectl get --prefix --keys-only "")"
  start_node 1
  sleep "$pause"
  start_node 2
  sleep "$pause"
  check_eq "no bootstrap decision with two of three nodes" "" "$(ectl get --print-value-only "$STATE/bootstrap")"
  check_eq "no registration with two of three nodes" 0 "$(registration_count)"
  check "node 1 waits for the first bootstrap" contains "$(entrypoint_log 1)" "waiting for the cluster's first bootstrap"
  t0=$(now_ms)
  start_node 3
  wait_until 240 "nodes 1-3 form a cluster of three, each registered" formed 1 2 3
  metric form_staggered_after_last_start "$(secs_between "$t0" "$(now_ms)")"
  check_one_cluster 1 2 3
  for n in 1 2 3; do check_registration "$n"; done
}

# --- scenario 3 --------------------------------------------------------------------------------

# step_fourth_joins — node 4 started later joins without restarting anyone; the others'
# unicast_hosts.txt list it within about a second of its registration. Then it is stopped
# (SIGTERM: deregistered first thing) and the cluster is three again.
step_fourth_joins() {
  local t0 n before=() reg seen lag ip4 log
  note "scenario 3: a fourth node joins later"
  ip4=$(ip_of 4)
  for n in 1 2 3; do before+=("$(started_at "$n")"); done
  t0=$(now_ms)
  start_node 4
  wait_until 180 "node 4 joins: four nodes, four registrations" formed 1 2 3 4
  metric join_fourth "$(secs_between "$t0" "$(now_ms)")"
  check_registration 4
  check "node 4 is in the same cluster" same_uuid_everywhere "$UUID" 4
  log=$(entrypoint_log 4)
  check "node 4: no first formation" lacks "$log" 'first formation'
  check "node 4: started without $MASTERS_SETTING" lacks "$log" "I started .*$MASTERS_SETTING"
  check_eq "no new bootstrap decision" "$DECISION_REV" "$(mod_revision "$STATE/bootstrap")"
  reg=$(log_time_ms 4 "I registered $(reg_key 4) ") || fail "node 4 logged no registration"
  for n in 1 2 3; do
    check "node $n's unicast_hosts.txt lists node 4" seed_file_lists "$n" "$ip4"
    seen=$(log_time_ms "$n" "seed hosts now \[.*$ip4:9300") ||
      fail "node $n logged no seed update with $ip4"
    lag=$(secs_between "$reg" "$seen")
    metric "seed_file_lag_node$n" "$lag"
    check "node $n rewrote its seed file within 1.5 s of node 4's registration (${lag}s)" le "$lag" 1.5
    check_eq "node $n was not restarted" "${before[n - 1]}" "$(started_at "$n")"
  done

  note "scenario 3b: docker stop of node 4 deregisters it at once"
  t0=$(now_ms)
  docker_stop 4 &
  wait_until 10 "node 4's registration is deleted on SIGTERM" not_registered 4
  metric deregister_on_stop "$WAITED"
  check "deleted first thing, not at the TTL (${WAITED}s < ${E2E_TTL}s - 2)" le "$WAITED" $((E2E_TTL - 2))
  wait $! || fail "docker stop of node 4 failed"
  metric stop_node "$(secs_between "$t0" "$(now_ms)")"
  check_eq "node 4 exit status (Elasticsearch after SIGTERM)" 143 "$(exit_code 4)"
  check "node 4 logged its deregistration" contains "$(entrypoint_log 4)" "deregistered $(reg_key 4): stopping"
  for n in 1 2 3; do
    wait_until 5 "node $n's unicast_hosts.txt drops node 4" seed_file_lacks "$n" "$ip4"
  done
  wait_until 60 "three nodes again" formed 1 2 3
}

# --- scenario 4 --------------------------------------------------------------------------------

# step_kill_and_rejoin K N... — docker kill of node K: its registration dies at the TTL (nobody
# is left to delete it), the others go on, and K restarted on its volume rejoins the same
# cluster.
step_kill_and_rejoin() {
  local k=$1 t0 since gone min
  shift
  local others=("$@")
  note "scenario 4: docker kill of node $k"
  t0=$(now_ms)
  docker kill "$(cname "$k")" >/dev/null || fail "docker kill of node $k failed"
  wait_until $((E2E_TTL + 5)) "node $k's registration expires" not_registered "$k"
  gone=$(secs_between "$t0" "$(now_ms)")
  metric ttl_expiry_after_kill "$gone"
  # The last refresh was at most one interval (plus a probe) before the kill.
  min=$((E2E_TTL - E2E_INTERVAL - E2E_HEALTH_TIMEOUT - 1))
  check "it expired at the TTL (${gone}s in [$min, $((E2E_TTL + 2))])" \
    between "$min" "$gone" $((E2E_TTL + 2))
  wait_until 60 "the cluster goes on with ${#others[@]} nodes" formed "${others[@]}"

  since=$(now_utc)
  t0=$(now_ms)
  docker_start "$k" || fail "docker start of node $k failed"
  wait_until 180 "node $k rejoins with its data" formed "$k" "${others[@]}"
  metric rejoin_after_kill "$(secs_between "$t0" "$(now_ms)")"
  check "node $k is back in the same cluster" same_uuid_everywhere "$UUID" "$k" "${others[@]}"
  check_rejoined_with_data "$k" "$since"
}

# step_es_dies K N... — the server JVM of node K is killed: the entrypoint (PID 1) sees its child
# exit, deletes the registration at once and exits, so the container stops; restarted, the node
# rejoins.
step_es_dies() {
  local k=$1 pid t0 since gone
  shift
  local others=("$@")
  note "scenario 4b: Elasticsearch dies inside node $k, the entrypoint survives it"
  pid=$(es_server_pid "$k")
  [[ -n $pid ]] || fail "no server JVM found in node $k: $(docker top "$(cname "$k")" -eo pid,args)"
  t0=$(now_ms)
  kill -KILL "$pid" || fail "kill -KILL $pid (node $k's server JVM) failed"
  wait_until $((E2E_TTL + 5)) "node $k's registration is deleted" not_registered "$k"
  gone=$(secs_between "$t0" "$(now_ms)")
  metric deregister_after_es_death "$gone"
  check "deleted at once, well before the TTL (${gone}s <= 2)" le "$gone" 2
  wait_until 20 "node $k's container exits with Elasticsearch" exited "$k"
  note "node $k exit status: $(exit_code "$k")"
  check "node $k logged its deregistration" contains "$(entrypoint_log "$k")" "deregistered $(reg_key "$k"): stopping"
  wait_until 60 "the cluster goes on with ${#others[@]} nodes" formed "${others[@]}"

  since=$(now_utc)
  t0=$(now_ms)
  docker_start "$k" || fail "docker start of node $k failed"
  wait_until 180 "node $k rejoins with its data" formed "$k" "${others[@]}"
  metric rejoin_after_es_death "$(secs_between "$t0" "$(now_ms)")"
  check "node $k is back in the same cluster" same_uuid_everywhere "$UUID" "$k" "${others[@]}"
  check_rejoined_with_data "$k" "$since"
}

# --- scenario 6 --------------------------------------------------------------------------------

# step_pause K N... — docker pause freezes Elasticsearch AND the entrypoint: nobody can delete the
# key, so it must expire at the TTL after the last refresh; docker unpause re-registers it.
step_pause() {
  local k=$1 t0 gone min
  shift
  local all=("$k" "$@")
  note "scenario 6: docker pause of node $k (elected master: node $(master_of "${all[@]}" || echo '?'))"
  t0=$(now_ms)
  docker pause "$(cname "$k")" >/dev/null || fail "docker pause of node $k failed"
  wait_until $((E2E_TTL + 5)) "paused node $k's registration expires" not_registered "$k"
  gone=$(secs_between "$t0" "$(now_ms)")
  metric ttl_expiry_while_paused "$gone"
  min=$((E2E_TTL - E2E_INTERVAL - E2E_HEALTH_TIMEOUT - 1))
  check "it expired at the TTL (${gone}s in [$min, $((E2E_TTL + 2))])" \
    between "$min" "$gone" $((E2E_TTL + 2))
  check "the other nodes stay registered" registered_all "$@"
  t0=$(now_ms)
  docker unpause "$(cname "$k")" >/dev/null || fail "docker unpause of node $k failed"
  wait_until 30 "node $k registers again after docker unpause" registered "$k"
  metric reregister_after_unpause "$WAITED"
  check "node $k noticed its lost registration" contains "$(entrypoint_log "$k")" 'was lost; registering again'
  wait_until 60 "the cluster is whole again" formed "${all[@]}"
}

# step_es_frozen K N... — only the server JVM is stopped (SIGSTOP): the entrypoint keeps running,
# its probes time out, and it deletes the key after HEALTH_FAILURES failed probes, before the TTL;
# SIGCONT → healthy → registered again.
step_es_frozen() {
  local k=$1 pid t0 gone max
  shift
  local all=("$k" "$@")
  note "scenario 6b: node $k's Elasticsearch frozen (SIGSTOP), its entrypoint running (elected master: node $(master_of "${all[@]}" || echo '?'))"
  pid=$(es_server_pid "$k")
  [[ -n $pid ]] || fail "no server JVM found in node $k"
  t0=$(now_ms)
  kill -STOP "$pid" || fail "kill -STOP $pid failed"
  # Each failed probe takes HEALTH_TIMEOUT; the next one starts HEALTH_INTERVAL after the
  # previous one started, or at once when the timeout ate the interval.
  max=$((E2E_FAILURES * (E2E_INTERVAL > E2E_HEALTH_TIMEOUT ? E2E_INTERVAL : E2E_HEALTH_TIMEOUT) + E2E_INTERVAL + 1))
  wait_until $((E2E_TTL + 5)) "node $k's registration is deleted after failed probes" not_registered "$k"
  gone=$WAITED
  metric deregister_after_failed_probes "$gone"
  check "within the failure threshold (${gone}s <= ${max}s, TTL ${E2E_TTL}s)" le "$gone" "$max"
  check "node $k logged the failed probes" contains "$(entrypoint_log "$k")" "deregistered $(reg_key "$k"): $E2E_FAILURES failed health checks"
  check "node $k's container still runs" running "$k"
  t0=$(now_ms)
  kill -CONT "$pid" || fail "kill -CONT $pid failed"
  wait_until 30 "node $k registers again once healthy" registered "$k"
  metric reregister_after_recovery "$WAITED"
  wait_until 60 "the cluster is whole again" formed "${all[@]}"
}

# --- scenario 5 --------------------------------------------------------------------------------

# step_restart_all N... — every node stopped and started again on its volume → the same cluster,
# no second bootstrap, no initial_master_nodes warning from Elasticsearch.
step_restart_all() {
  local t0 n since uuid_rev es_log
  note "scenario 5: all nodes stopped and started again"
  uuid_rev=$(mod_revision "$STATE/cluster_uuid")
  t0=$(now_ms)
  in_parallel docker_stop "$@"
  metric stop_all "$(secs_between "$t0" "$(now_ms)")"
  check_eq "every registration was deleted on stop" 0 "$(registration_count)"
  for n in "$@"; do check_eq "node $n exit status" 143 "$(exit_code "$n")"; done
  since=$(now_utc)
  t0=$(now_ms)
  in_parallel docker_start "$@"
  wait_until 240 "the restarted nodes form their cluster again" formed "$@"
  metric restart_all "$(secs_between "$t0" "$(now_ms)")"
  check "the same cluster UUID $UUID" same_uuid_everywhere "$UUID" "$@"
  check_eq "no second bootstrap decision (same mod_revision)" "$DECISION_REV" "$(mod_revision "$STATE/bootstrap")"
  check_eq "the cluster UUID record untouched" "$uuid_rev" "$(mod_revision "$STATE/cluster_uuid")"
  for n in "$@"; do
    check_rejoined_with_data "$n" "$since"
    es_log=$(node_logs "$n" "$since" | grep -av '^es-etcd-entrypoint\[' || true)
    check "node $n: Elasticsearch logged something since its restart" test -n "$es_log"
    # Stricter than "no warning": Elasticsearch does not mention the setting at all (it warns
    # "this node is locked into cluster UUID ... but [...] is set to ..." when a restart has it).
    check "node $n: Elasticsearch never mentions $MASTERS_SETTING since the restart" \
      lacks "$es_log" 'initial_master_nodes|initial_cluster_manager_nodes'
  done
}

# --- secured clusters (issue 7) -----------------------------------------------------------------

# step_secured_for_real N — the cluster formed above is really secured (so that its formation
# proves the probe's https and credentials): node N answers only over https, and only with the
# password; its transport port speaks TLS with a certificate of our CA; no container output
# contains the password.
step_secured_for_real() {
  local n=$1 ip code subject c
  ip=$(ip_of "$n")
  note "the cluster is secured: TLS on HTTP and transport, passwords required"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 --cacert "$CERTS/ca.crt" "https://$ip:9200/_cluster/health" || true)
  check_eq "(negative) https without a password is refused" 401 "$code"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 --cacert "$CERTS/ca.crt" -u "$E2E_USER:$E2E_WRONG_PASSWORD" \
    "https://$ip:9200/_cluster/health" || true)
  check_eq "(negative) https with a wrong password is refused" 401 "$code"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$ip:9200/_cluster/health" || true)
  check_eq "(negative) plain http gets no HTTP answer (status 000)" 000 "$code"
  code=$(es_get "$n" /_cluster/health | jq -r .status) || fail "no answer over https with the CA and the password"
  check "https with the CA and the password answers (status $code)" contains "$code" '^(green|yellow)$'
  subject=$(openssl s_client -connect "$ip:9300" -CAfile "$CERTS/ca.crt" -verify_return_error \
    -cert "$CERTS/admin.crt" -key "$CERTS/admin.key" </dev/null 2>/dev/null |
    openssl x509 -noout -subject -nameopt RFC2253 2>/dev/null || true)
  check_eq "transport port $ip:9300 speaks TLS with node $n's certificate (verified against the CA)" \
    "subject=CN=$(node_name "$n"),OU=nodes,O=es-etcd-entrypoint" "$subject"
  for c in 1 2 3; do
    check "node $c's output never contains the password" lacks "$(node_logs "$c")" "$E2E_PASSWORD"
  done
}

WRONG_FIRST_MS=
# step_wrong_password_starts K — node K starts with the right certificates and its own right
# password, but its probe's password is wrong (ES_HEALTH_PASSWORD): the entrypoint logs the
# authentication failure (naming the user, never the password) and never registers, while the
# server joins the cluster. It keeps running through the following steps (E2E_UNREGISTERED);
# step_wrong_password_ends counts its failures afterwards.
step_wrong_password_starts() {
  local k=$1 t0
  note "a node whose probe has a wrong password: node $k"
  E2E_WRONG_PASSWORD_NODE=$k
  t0=$(now_ms)
  start_node "$k"
  wait_until 180 "node $k logs the authentication failure of its probe" \
    contains_auth_failure "$k"
  metric auth_failure_logged "$(secs_between "$t0" "$(now_ms)")"
  WRONG_FIRST_MS=$(log_time_ms "$k" 'authentication failed') || fail "no time on node $k's failure line"
  check "it names the user (HTTP 401)" contains "$(entrypoint_log "$k")" "authentication failed for user \"$E2E_USER\" \\(HTTP 401\\)"
  E2E_UNREGISTERED=1
  wait_until 120 "node $k's server joins the cluster, the three others stay registered" formed 1 2 3
  check "node $k is not registered" not_registered "$k"
}
contains_auth_failure() { contains "$(entrypoint_log "$1")" 'authentication failed'; }

# step_wrong_password_ends K — after the steps in between (many probe intervals), node K logged
# its authentication failure exactly once, never registered, and the three registrations
# stayed; then it is stopped.
step_wrong_password_ends() {
  local k=$1 log window
  note "the node with the wrong probe password, $(secs_between "$WRONG_FIRST_MS" "$(now_ms)")s later"
  log=$(entrypoint_log "$k")
  window=$(secs_between "$WRONG_FIRST_MS" "$(now_ms)")
  check "at least 5 probe intervals since its first failure (${window}s, interval ${E2E_INTERVAL}s)" \
    le $((5 * E2E_INTERVAL)) "$window"
  check "node $k is still running" running "$k"
  check_eq "node $k logged the authentication failure exactly once" 1 "$(grep -c 'authentication failed' <<<"$log")"
  # (A fresh node's announcement under the state prefix is another key.)
  check "node $k never registered at $(reg_key "$k")" lacks "$log" "I registered $(reg_key "$k") "
  check "node $k is not registered" not_registered "$k"
  check "the wrong password never shows in its output" lacks "$(node_logs "$k")" "$E2E_WRONG_PASSWORD"
  check "nodes 1-3 stayed registered" registered_all 1 2 3
  docker_stop "$k" || fail "docker stop of node $k failed"
  E2E_UNREGISTERED=0 E2E_WRONG_PASSWORD_NODE=
  wait_until 60 "three nodes again" formed 1 2 3
}

# --- node roles and commands that do not start a node (issue 8) ---------------------------------

# start_roles_node N — nodes 1-3 with the default roles (master-eligible), node 4 data-only in the
# env form the official images accept.
start_roles_node() {
  if [[ $1 == 4 ]]; then start_node 4 -e node.roles=data,ingest; else start_node "$1"; fi
}

# node_role N — node N's role letters in _cat/nodes as node 1 sees them (m: master-eligible).
node_role() {
  es_get 1 '/_cat/nodes?h=name,node.role' | awk -v n="$(node_name "$1")" '$1 == n { print $2 }'
}
master_role() { [[ $(node_role "$1") == *m* ]]; }
no_master_role() { local r; r=$(node_role "$1") && [[ -n $r && $r != *m* ]]; }

# step_form_with_data_node — empty etcd, nodes 1-3 master-eligible and node 4 data-only
# (node.roles=data,ingest), all four started at the same time → one cluster of four; the
# bootstrap decision names nodes 1-3 only (node 4 is never a candidate, never waits for it and
# never gets initial_master_nodes); every node registers, node 4's record says it is not
# master-eligible and carries its roles.
step_form_with_data_node() {
  local t0 n log rec
  note "nodes 1-3 master-eligible, node 4 data-only (node.roles=data,ingest), started at the same time"
  check_eq "etcd is empty" "" "$(ectl get --prefix --keys-only "")"
  t0=$(now_ms)
  in_parallel start_roles_node 1 2 3 4
  wait_until 240 "nodes 1-4 form one cluster of four, each registered" formed 1 2 3 4
  metric form_with_data_node "$(secs_between "$t0" "$(now_ms)")"
  # The decision is node-1,node-2,node-3 (never node-4), one proposer among the four.
  check_one_cluster 1 2 3 4
  check "(negative) 'formed' is false for a three-node expectation" fails formed 1 2 3
  for n in 1 2 3 4; do check_registration "$n"; done
  for n in 1 2 3; do
    rec=$(registration "$n")
    check "registration of node $n: master-eligible, no roles field (every default role)" \
      jq -e '.master_eligible == true and (has("roles") | not)' <<<"$rec"
    check "node $n logged its default roles" contains "$(entrypoint_log "$n")" \
      'roles: not set \(every default role\).*, master-eligible$'
    check "_cat/nodes: node $n has the master role ($(node_role "$n"))" master_role "$n"
  done
  rec=$(registration 4)
  note "node 4's registration: $rec"
  check "registration of node 4: not master-eligible, roles [data, ingest]" \
    jq -e '.master_eligible == false and .roles == ["data", "ingest"]' <<<"$rec"
  log=$(entrypoint_log 4)
  check "node 4 logged its roles" contains "$log" 'roles: \[data ingest\] from .*, not master-eligible$'
  check "node 4: never a bootstrap candidate" contains "$log" 'not master-eligible: never a candidate of the first bootstrap'
  check "node 4 never waited for the first bootstrap" lacks "$log" "waiting for the cluster's first bootstrap"
  check "node 4: no first formation" lacks "$log" 'first formation'
  check "node 4: started without $MASTERS_SETTING" lacks "$log" "I started .*$MASTERS_SETTING"
  check "_cat/nodes: node 4 has no master role ($(node_role 4))" no_master_role 4
  check "(negative) the role check tells a master-eligible node apart" fails no_master_role 1
  check "the elected master is one of nodes 1-3 (node $(master_of 1))" contains "$(master_of 1)" '^[123]$'
}

# etcd_state — everything etcd holds, one line per key with its create and mod revisions and its
# value, after the store's revision: equal twice only when nothing was written in between (lease
# keep-alives, the registrations' refreshes, move no revision).
etcd_state() {
  ectl get --prefix "" -w json |
    jq -r '"revision \(.header.revision)", (.kvs // [] | .[] |
      "\(.key | @base64d) create=\(.create_revision) mod=\(.mod_revision) \(.value | @base64d)")'
}
etcd_keys() { ectl get --prefix "" --keys-only | grep . | sort; }
keys_are() { [[ $(etcd_keys) == "$1" ]]; }
etcd_state_is() { [[ $(etcd_state) == "$1" ]]; }
no_announcements() { [[ -z $(ectl get --prefix --keys-only "$STATE/announce/") ]]; }
# etcd_events_since REV — every write after REV (a bounded watch from that revision).
etcd_events_since() { timeout 2 env ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$ETCD_URL" watch --prefix "" --rev $(($1 + 1)) || true; }

BESIDE_RC='' BESIDE_SECS='' BESIDE_OUT=''
# run_beside NAME [DOCKER-RUN-OPTION...] -- COMMAND... — `docker run --rm` of the image beside the
# live cluster, configured as a node would be (this etcd and prefix, a node name, address 5):
# BESIDE_RC its exit status, BESIDE_SECS its wall time, BESIDE_OUT its output (a file).
run_beside() {
  local name=$1 opts=() t0
  shift
  while [[ $1 != -- ]]; do
    opts+=("$1")
    shift
  done
  shift
  BESIDE_OUT=$T/logs/beside-$name.txt
  t0=$(now_ms)
  timeout 120 docker run --rm --name "$RUN-$name" --network host \
    -e ETCD_ENDPOINTS="$ETCD_URL" -e ETCD_PREFIX="$PREFIX" -e ETCD_TTL="$E2E_TTL" \
    -e HEALTH_INTERVAL="${E2E_INTERVAL}s" -e HEALTH_TIMEOUT="${E2E_HEALTH_TIMEOUT}s" \
    -e HEALTH_FAILURES="$E2E_FAILURES" -e STOP_GRACE="${E2E_STOP_GRACE}s" \
    -e ES_NODE_NAME="$name" -e ES_PUBLISH_HOST="$(ip_of 5)" -e ES_CLUSTER_NAME="$CLUSTER_NAME" \
    "${opts[@]}" "$IMAGE" "$@" >"$BESIDE_OUT" 2>&1 && BESIDE_RC=0 || BESIDE_RC=$?
  BESIDE_SECS=$(secs_between "$t0" "$(now_ms)")
  note "docker run --rm IMAGE $* ($name): exit $BESIDE_RC in ${BESIDE_SECS}s"
}
# program_output FILE — the command's own lines (without the entrypoint's).
program_output() { grep -av '^es-etcd-entrypoint\[' "$1" || true; }

# check_no_trace BEFORE WHAT — etcd holds exactly what it held (same keys, values and
# revisions: nothing was written, not even and then deleted).
check_no_trace() {
  local prior=$1 what=$2 rev after
  after=$(etcd_state)
  if [[ $after != "$prior" ]]; then
    rev=$(head -n 1 <<<"$prior")
    printf '# etcd before:\n%s\n# etcd after:\n%s\n# writes since:\n%s\n' "$prior" "$after" \
      "$(etcd_events_since "${rev#revision }")" >&2
    fail "$what left a trace in etcd"
  fi
  ok "$what: etcd unchanged ($(head -n 1 <<<"$after"), $(($(wc -l <<<"$after") - 1)) keys)"
}

# step_commands_beside_cluster — commands that do not start a node, run as `docker run --rm IMAGE
# CMD` beside the live cluster with the cluster's etcd settings, are only supervised: each exits
# with its own status (the keystore tool's the same as under the image's own entrypoint script),
# quickly, logs the "supervising it only" decision, and etcd holds exactly what it held before
# (not one write). A negative twin with DISCOVERY=on shows that the check sees an etcd write.
step_commands_beside_cluster() {
  local prior ref_rc ref_out keys_before cmd_re
  note "commands that do not start a node, beside the live cluster"
  # The starting nodes' announcements lapse at their TTL once the nodes are registered: etcd is
  # at rest after that (the registrations' keep-alives write nothing).
  wait_until $((E2E_TTL + 5)) "the starting nodes' announcements have lapsed" no_announcements
  keys_before=$(etcd_keys)
  prior=$(etcd_state)

  # The reference: the same tool under the image's own entrypoint script, no es-etcd-entrypoint.
  run_beside keystore-ref --entrypoint /usr/local/bin/docker-entrypoint.sh -- bin/elasticsearch-keystore list
  ref_rc=$BESIDE_RC ref_out=$(program_output "$BESIDE_OUT")
  metric keystore_list_without_entrypoint "$BESIDE_SECS"
  run_beside keystore -- bin/elasticsearch-keystore list
  metric keystore_list "$BESIDE_SECS"
  check_eq "elasticsearch-keystore list exits as it does without es-etcd-entrypoint" "$ref_rc" "$BESIDE_RC"
  check_eq "and prints what it prints there" "$(tr -s '\n' ' ' <<<"$ref_out")" "$(program_output "$BESIDE_OUT" | tr -s '\n' ' ')"
  check "within 10 s (${BESIDE_SECS}s)" le "$BESIDE_SECS" 10
  cmd_re='discovery off \(DISCOVERY=auto\): bin/elasticsearch-keystore does not start the node; supervising it only'
  check "the entrypoint logged its decision: supervising only" grep -qE "$cmd_re" "$BESIDE_OUT"
  check_no_trace "$prior" "elasticsearch-keystore list"

  run_beside sh-exit -- bash -c 'exit 7'
  metric bash_exit_7 "$BESIDE_SECS"
  check_eq "bash -c 'exit 7' exits 7 through the entrypoint" 7 "$BESIDE_RC"
  check "within 10 s (${BESIDE_SECS}s)" le "$BESIDE_SECS" 10
  check "the entrypoint logged its decision: supervising only" \
    grep -qE 'discovery off \(DISCOVERY=auto\): bash does not start the node; supervising it only' "$BESIDE_OUT"
  check_no_trace "$prior" "bash -c 'exit 7'"
  check "the same $(wc -l <<<"$keys_before") keys as before both commands" keys_are "$keys_before"
  check "nodes 1-4 stayed registered, one cluster of four" formed 1 2 3 4

  # Negative twin: a shell with DISCOVERY=on takes the full path; given a healthy node to probe
  # (node 1) and a few seconds, it registers under address 5 and deletes the key again when the
  # shell exits. The same key set afterwards, but the check above sees the writes.
  run_beside sh-exit-on -e DISCOVERY=on -e ES_HEALTH_URL="http://$(ip_of 1):9200" -- bash -c 'sleep 4; exit 7'
  metric bash_sleep_exit_7_discovery_on "$BESIDE_SECS"
  check_eq "(negative) DISCOVERY=on: the shell's status still passes through" 7 "$BESIDE_RC"
  check "(negative) DISCOVERY=on: the entrypoint logged discovery on" \
    grep -q 'discovery on (DISCOVERY=on): bash does not start the node' "$BESIDE_OUT"
  check "(negative) DISCOVERY=on: it registered $(reg_key 5)" grep -q "I registered $(reg_key 5) " "$BESIDE_OUT"
  check "(negative) DISCOVERY=on: the no-trace check sees its writes" fails etcd_state_is "$prior"
  note "writes since: $(etcd_events_since "$(head -n 1 <<<"$prior" | cut -d' ' -f2)" | grep -a "^/" | tr '\n' ' ')"
  wait_until 5 "(negative) DISCOVERY=on: its key is gone again" keys_are "$keys_before"
}
