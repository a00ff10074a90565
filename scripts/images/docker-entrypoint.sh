#!/bin/bash
# /usr/local/bin/docker-entrypoint.sh of the local Elasticsearch/OpenSearch stand-in images.
#
# Contract (the part of the official image's entrypoint that es-etcd-entrypoint relies on):
#   docker-entrypoint.sh [eswrapper|elasticsearch|opensearch|<path>/bin/<those>] [ARGS...]
#     drops that first word, turns settings given as environment variables into -E options, and
#     execs bin/elasticsearch (or bin/opensearch) ARGS... -E...; no arguments at all is the same.
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
# OpenSearch's security plugin, when installed (the -security stand-in; the official image always
# has it), as the official opensearch-docker-entrypoint.sh treats it: the plugin's demo
# configuration (demo certificates, admin password from OPENSEARCH_INITIAL_ADMIN_PASSWORD) is
# installed unless DISABLE_INSTALL_DEMO_CONFIG=true, and DISABLE_SECURITY_PLUGIN=true switches
# the plugin off.
set -euo pipefail

# Files created by the server stay group-writable: the image runs as uid 1000, gid 0, and an
# arbitrary uid in group 0 must be able to write them too (OpenShift style), as in the official image.
umask 0002

home=/usr/share/elasticsearch
cd "$home"
if [[ -x bin/opensearch ]]; then
  flavor=opensearch
  # Tests written for Elasticsearch pass ES_JAVA_OPTS; OpenSearch only reads its own variable.
  if [[ -z ${OPENSEARCH_JAVA_OPTS:-} && -n ${ES_JAVA_OPTS:-} ]]; then
    export OPENSEARCH_JAVA_OPTS=$ES_JAVA_OPTS
  fi
else
  flavor=elasticsearch
fi

case ${1:-eswrapper} in
  eswrapper | elasticsearch | opensearch | */bin/elasticsearch | */bin/opensearch)
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
if [[ $flavor == opensearch && -d plugins/opensearch-security ]]; then
  if [[ ${DISABLE_INSTALL_DEMO_CONFIG:-} != true ]]; then
    # -s: a configuration already in opensearch.yml (a restart) is left alone.
    bash plugins/opensearch-security/tools/install_demo_configuration.sh -y -i -s
  fi
  if [[ ${DISABLE_SECURITY_PLUGIN:-} == true ]]; then
    settings+=(-Eplugins.security.disabled=true)
  fi
fi
# A distribution of type "docker" translates the variables itself; doing it twice would pass every
# setting twice, which Elasticsearch rejects.
if ! grep -qE '^(ES|OPENSEARCH)_DISTRIBUTION_TYPE=docker' "bin/$flavor-env"; then
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
