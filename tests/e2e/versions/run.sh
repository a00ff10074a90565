#!/usr/bin/env bash
# Scenario 7 (tests/e2e/README.md): scenarios 1 and 4 on another distribution line — three nodes
# started together form one cluster; docker kill → the key expires at the TTL and the node
# rejoins on its volume; the server JVM killed → deregistered at once, the node rejoins.
# Usage: run.sh elasticsearch|opensearch VERSION
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../steps.sh
source "$E2E_DIR/steps.sh"

(($# == 2)) || fail "usage: $0 elasticsearch|opensearch VERSION"
e2e_init "versions-$1-$2" "$1" "$2"

step_form_together
step_kill_and_rejoin 3 1 2
step_es_dies 2 1 3
pass_all
