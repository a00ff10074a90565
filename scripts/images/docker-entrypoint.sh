#!/bin/bash
# /usr/local/bin/docker-entrypoint.sh of the local Elasticsearch stand-in image (OpenSearch's
# stand-in has its own, opensearch-docker-entrypoint.sh, as the official OpenSearch image).
#
# Contract (the part of the official image's entrypoint that es-etcd-entrypoint relies on):
#   docker-entrypoint.sh [eswrapper|elasticsearch|<path>/bin/elasticsearch] [ARGS...]
#     drops that first word, turns settings given as environment variables into -E options, and
#     execs bin/elasticsearch ARGS... -E...; no arguments at all is the same.
#   docker-entrypoint.sh OTHER [ARGS...]   execs OTHER ARGS... unchanged (e.g. bash).
# Environment variables that become settings (as bin/elasticsearch-env does in the official
# image, ES 7.6+; the integ-test-zip distributions here are of type "zip", where it does not):
#   - names of lower-case dot-separated words, e.g. cluster.name=x     → -Ecluster.name=x
#   - ES_SETTING_ + upper-case words, `_` → `.`, `__` → `_`, e.g.
#     ES_SETTING_A_B__C=x                                               → -Ea.b_c=x
#   Empty values are skipped.
# Secrets: ELASTIC_PASSWORD_FILE / KEYSTORE_PASSWORD_FILE via the distribution's own
# bin/*-env-from-file (mode 400/600 required), and ELASTIC_PASSWORD seeds bootstrap.password in
# the keystore as the official image does.
set -euo pipefail

# Files created by the server stay group-writable: the image runs as uid 1000, gid 0, and an
# arbitrary uid in group 0 must be able to write them too (OpenShift style), as in the official image.
umask 0002

home=/usr/share/elasticsearch
cd "$home"
flavor=elasticsearch

case ${1:-eswrapper} in
  eswrapper | elasticsearch | */bin/elasticsearch)
    (($# > 0)) && shift
    ;;
  *) exec "$@" ;;
esac

if [[ -f bin/$flavor-env-from-file ]]; then
  # Part of the distribution, sourced as its own scripts do; it reads unset variables.
  set +u
  # shellcheck source=/dev/null
  source "bin/$flavor-env-from-file"
  set -u
fi

if [[ -n ${ELASTIC_PASSWORD:-} && -x bin/elasticsearch-keystore ]]; then
  [[ -f config/elasticsearch.keystore ]] || bin/elasticsearch-keystore create
  if ! bin/elasticsearch-keystore list | grep -qx bootstrap.password; then
    printf '%s' "$ELASTIC_PASSWORD" | bin/elasticsearch-keystore add -x bootstrap.password
  fi
fi

settings=()
# A distribution of type "docker" translates the variables itself; doing it twice would pass every
# setting twice, which Elasticsearch rejects.
if ! grep -qE '^ES_DISTRIBUTION_TYPE=docker' "bin/$flavor-env"; then
  # env -0: values may contain newlines; names with dots are not shell variables, so the
  # environment has to be read this way rather than through compgen -e.
  while IFS= read -r -d '' entry; do
    key=${entry%%=*}
    value=${entry#*=}
    [[ -n $value ]] || continue
    if [[ $key =~ ^[-a-z0-9_]+(\.[-a-z0-9_]+)+$ ]]; then
      settings+=("-E$key=$value")
    elif [[ $key =~ ^ES_SETTING(_{1,2}[A-Z]+)+$ ]]; then
      name=${key#ES_SETTING_}
      name=${name//_/.}
      name=${name//../_}
      settings+=("-E${name,,}=$value")
    fi
  done < <(env -0)
fi

exec "bin/$flavor" "$@" "${settings[@]}"
