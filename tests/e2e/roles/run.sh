#!/usr/bin/env bash
# Node roles and commands that do not start a node (issue 8), on one Elasticsearch cluster:
#   - nodes 1-3 master-eligible and node 4 data-only (node.roles=data,ingest) started at the same
#     time → one cluster of four; the bootstrap decision names nodes 1-3 only; all four register,
#     node 4 as not master-eligible with its roles; _cat/nodes shows it without the master role;
#   - beside that cluster, `docker run --rm IMAGE bin/elasticsearch-keystore list` and
#     `docker run --rm IMAGE bash -c 'exit 7'` exit with their own status within seconds, log the
#     "supervising it only" decision and leave etcd exactly as it was.
# Usage: run.sh [VERSION]     (default: ESETCD_ES8_VERSION)
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../steps.sh
source "$E2E_DIR/steps.sh"

version=${1:-$ESETCD_ES8_VERSION}
e2e_init "roles-elasticsearch-$version" elasticsearch "$version"

step_form_with_data_node
step_commands_beside_cluster
pass_all
