#!/bin/bash
# /usr/share/opensearch/opensearch-docker-entrypoint.sh of the local OpenSearch stand-in image:
# written for this project, to the environment contract of the official image's start script of
# the same name (opensearch-project/opensearch-build, docker/release/config/opensearch/, 2.x and
# 3.x), which es-etcd-entrypoint runs as the image's default command.
#
#   opensearch-docker-entrypoint.sh [opensearch] [ARGS...]
#     No arguments, or a first argument that begins with "-", means "opensearch" in front. Then:
#       - as root: "OpenSearch cannot run as root. ..." and exit 1, as the official script;
#       - variables named as settings (lower-case words with a dot, e.g. cluster.name=x, and
#         processors) become -Ekey=value options; empty values are skipped;
#       - with the security plugin installed (plugins/opensearch-security):
#         DISABLE_SECURITY_PLUGIN=true adds -Eplugins.security.disabled=true; otherwise, unless
#         DISABLE_INSTALL_DEMO_CONFIG=true, the plugin's own demo installer runs (demo
#         certificates, TLS on, an admin user whose password is OPENSEARCH_INITIAL_ADMIN_PASSWORD:
#         the installer refuses a missing or weak one, and the start ends with exit 1);
#       - exec opensearch ARGS... -E...: OpenSearch takes over this process, so the signals PID 1
#         forwards reach it and its exit status is the container's.
#   opensearch-docker-entrypoint.sh OTHER [ARGS...]
#     execs OTHER ARGS... unchanged (bash, opensearch-plugin, ...).
# Not here, because the stand-in has neither plugin: the performance analyzer agent the official
# script starts in the background, and the k-NN library path.
set -uo pipefail

export OPENSEARCH_HOME=/usr/share/opensearch
export OPENSEARCH_PATH_CONF=$OPENSEARCH_HOME/config
# As the official script: OpenSearch reads the container's cgroup from the root.
export OPENSEARCH_JAVA_OPTS="-Dopensearch.cgroups.hierarchy.override=/ ${OPENSEARCH_JAVA_OPTS:-}"

security_options() {
  [[ -d $OPENSEARCH_HOME/plugins/opensearch-security ]] || return 0
  if [[ ${DISABLE_SECURITY_PLUGIN:-} == true ]]; then
    echo "Disabling OpenSearch Security Plugin" >&2
    options+=(-Eplugins.security.disabled=true)
  elif [[ ${DISABLE_INSTALL_DEMO_CONFIG:-} == true ]]; then
    echo "Disabling execution of install_demo_configuration.sh for OpenSearch Security Plugin" >&2
  else
    # -s: a configuration already in opensearch.yml (a restart) is left alone.
    bash "$OPENSEARCH_HOME/plugins/opensearch-security/tools/install_demo_configuration.sh" -y -i -s ||
      exit 1
  fi
}

start_opensearch() {
  # Files created by OpenSearch stay group-writable.
  umask 0002
  if [[ $(id -u) == 0 ]]; then
    echo "OpenSearch cannot run as root. Please start your container as another user."
    exit 1
  fi
  options=()
  local entry key value
  # env -0: a value may hold a newline; names with dots are no shell variables.
  while IFS= read -r -d '' entry; do
    key=${entry%%=*} value=${entry#*=}
    if [[ $key =~ ^[a-z0-9_]+\.[a-z0-9_]+ || $key == processors ]] && [[ -n $value ]]; then
      options+=("-E$key=$value")
    fi
  done < <(env -0)
  security_options
  exec "$@" "${options[@]}"
}

if (($# == 0)) || [[ $1 == -* ]]; then
  set -- opensearch "$@"
fi
if [[ $1 == opensearch ]]; then
  start_opensearch "$@"
fi
exec "$@"
