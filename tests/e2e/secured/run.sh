#!/usr/bin/env bash
# Secured clusters (issue 7; tests/e2e/README.md scenario 8): the nodes run the way Elasticsearch
# 8.x and OpenSearch with its security plugin run by default — TLS on transport and HTTP with
# certificates from scripts/certs.sh, a password on every request (lib.sh e2e_secure):
#   1  three fresh nodes form one cluster through etcd, all three register (the probe and the
#      cluster-UUID lookup go over https with the password); the cluster is really secured
#   -  a node whose probe has a wrong password logs "authentication failed" once, never
#      registers, and the cluster's three registrations stay
#   3  meanwhile a fourth node joins; stopped, it deregisters at once
# Usage: run.sh elasticsearch|opensearch VERSION    (OpenSearch: a version whose security plugin
#        Maven Central serves, ESETCD_OS_SECURITY_VERSION)
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../steps.sh
source "$E2E_DIR/steps.sh"

(($# == 2)) || fail "usage: $0 elasticsearch|opensearch VERSION"
opts=()
[[ $1 == opensearch ]] && opts=(--security)
e2e_init "secured-$1-$2" "$1" "$2" "${opts[@]}"
e2e_secure

step_form_together
step_secured_for_real 1
step_wrong_password_starts 5
step_fourth_joins
step_wrong_password_ends 5
pass_all
