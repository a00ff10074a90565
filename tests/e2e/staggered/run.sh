#!/usr/bin/env bash
# Scenario 2 (tests/e2e/README.md): nodes started one after the other, with pauses → still
# exactly one cluster; nothing bootstraps before the third node has announced itself.
# Usage: run.sh [PAUSE_SECONDS] [elasticsearch|opensearch] [VERSION]
#        (default: 10 elasticsearch ESETCD_ES8_VERSION)
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../steps.sh
source "$E2E_DIR/steps.sh"

pause=${1:-10}
flavor=${2:-elasticsearch}
version=${3:-$ESETCD_ES8_VERSION}
e2e_init "staggered-$flavor-$version" "$flavor" "$version"

step_form_staggered "$pause"
pass_all
