#!/usr/bin/env bash
# One Elasticsearch cluster through scenarios 1 → 3 → 4 → 6 → 5 (tests/e2e/README.md):
#   1  empty etcd, empty volumes, three nodes started together → one cluster, three registrations
#   3  a fourth node joins later; the others' seed files list it within ~1 s; stopped, it
#      deregisters at once
#   4  docker kill → the key expires at the TTL, the others go on, the node rejoins on its volume;
#      the server JVM killed → the entrypoint deregisters at once and exits; the node rejoins
#   6  docker pause → the key expires at the TTL, unpause re-registers; the server JVM frozen →
#      deregistered after HEALTH_FAILURES probes, re-registered when it thaws. Both on the elected
#      master, the harder case (the other nodes must stay registered meanwhile);
#      ESETCD_E2E_FREEZE_MASTER=0 freezes a node that is not the master instead
#   5  all nodes stopped and started again → same cluster, no second bootstrap
# Usage: run.sh [elasticsearch|opensearch] [VERSION]     (default: elasticsearch ESETCD_ES8_VERSION)
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../steps.sh
source "$E2E_DIR/steps.sh"

flavor=${1:-elasticsearch}
version=${2:-$ESETCD_ES8_VERSION}
e2e_init "lifecycle-$flavor-$version" "$flavor" "$version"

# victim N... — the node to freeze: the elected master, unless asked otherwise.
victim() {
  if [[ ${ESETCD_E2E_FREEZE_MASTER:-1} == 1 ]]; then
    master_of "$@" || fail "no elected master seen by node $1"
  else
    non_master_of "$@"
  fi
}

step_form_together
step_fourth_joins
step_kill_and_rejoin 3 1 2
step_es_dies 2 1 3
k=$(victim 1 2 3)
mapfile -t rest < <(others_than "$k" 1 2 3)
step_pause "$k" "${rest[@]}"
k=$(victim 1 2 3)
mapfile -t rest < <(others_than "$k" 1 2 3)
step_es_frozen "$k" "${rest[@]}"
step_restart_all 1 2 3
pass_all
