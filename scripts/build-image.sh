#!/usr/bin/env bash
# Builds the es-etcd-entrypoint image (the Dockerfile at the root) and prints its name as the last
# line of stdout. Bases, each chosen in this order:
#   1. an explicit ESETCD_BUILDER_IMAGE / ESETCD_ES_IMAGE;
#   2. the official image (debian:bookworm, docker.elastic.co/elasticsearch/elasticsearch:<ver>)
#      when it is present locally or can be pulled in time (scripts/pick-base.sh: an unreachable
#      registry never hangs the build);
#   3. the local stand-ins that scripts/base-images.sh builds (es-etcd-entrypoint/builder:bookworm,
#      es-etcd-entrypoint/elasticsearch:<ver>).
# --local (or ESETCD_LOCAL_BASES=1) skips step 2. The result is tagged
# $ESETCD_IMAGE_PREFIX/elasticsearch-etcd:<ver> and :<major> (opensearch-etcd with --opensearch).
# --security (OpenSearch only) needs a base with OpenSearch's security plugin: the official image
# has it; the stand-in is es-etcd-entrypoint/opensearch:<ver>-security, and the result is tagged
# opensearch-etcd:<ver>-security. (Elasticsearch's security is built in: no option needed.)
#
# Usage: scripts/build-image.sh [--local] [--opensearch [--security]] [VERSION]
#        (default VERSION: ESETCD_ES8_VERSION; ESETCD_OS2_VERSION with --opensearch,
#        ESETCD_OS_SECURITY_VERSION with --opensearch --security)
#        IMAGE=$(scripts/build-image.sh --local | tail -n 1)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=pick-base.sh
source "$ESETCD_ROOT/scripts/pick-base.sh"
load_versions

P=$ESETCD_IMAGE_PREFIX

main() {
  local local_only=0 flavor=elasticsearch security=0 version='' builder es official standin target
  local suffix='' ctx_hash tag log
  while (($#)); do
    case $1 in
      --local) local_only=1 ;;
      --opensearch) flavor=opensearch ;;
      --security) security=1 ;;
      -h | --help)
        sed -n '2,19p' "$0"
        exit 0
        ;;
      -*) die "unknown option $1 (see --help)" ;;
      *) version=$1 ;;
    esac
    shift
  done
  if ((security)) && [[ $flavor != opensearch ]]; then
    die "--security is for OpenSearch (Elasticsearch carries its security in x-pack)"
  fi
  if [[ -z $version ]]; then
    if ((security)); then
      version=$ESETCD_OS_SECURITY_VERSION
    elif [[ $flavor == opensearch ]]; then
      version=$ESETCD_OS2_VERSION
    else
      version=$ESETCD_ES8_VERSION
    fi
  fi

  "$ESETCD_ROOT/scripts/docker-up.sh"
  ((local_only)) && export ESETCD_LOCAL_BASES=1
  builder=${ESETCD_BUILDER_IMAGE:-$(pick_base debian:bookworm "$P/builder:bookworm" builder)}
  if [[ $flavor == opensearch ]]; then
    official=opensearchproject/opensearch:$version
  else
    official=docker.elastic.co/elasticsearch/elasticsearch:$version
  fi
  standin=$P/$flavor:$version target=$flavor:$version
  if ((security)); then
    # The official OpenSearch image always carries the plugin.
    suffix=-security standin=$P/$flavor:$version-security target=opensearch-security:$version
  fi
  es=${ESETCD_ES_IMAGE:-$(pick_base "$official" "$standin" "$target")}

  tag=$P/$flavor-etcd:$version$suffix
  mkdir -p "$ESETCD_CACHE/logs"
  log=$ESETCD_CACHE/logs/image-$flavor-etcd-$version$suffix.log
  say "building $tag (builder $builder, base $es; log: $log)"
  # Legacy builder: Debian's docker.io has no buildx. Bases are never pulled here (--pull=false):
  # they were checked above.
  if ! DOCKER_BUILDKIT=0 docker build --pull=false --force-rm -t "$tag" \
    --build-arg BUILDER_IMAGE="$builder" --build-arg ES_IMAGE="$es" \
    --build-arg ESETCD_VERSION="$(<"$ESETCD_ROOT/VERSION")" "$ESETCD_ROOT" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "docker build of $tag failed (log: $log)"
  fi
  # Also :<major> (e.g. elasticsearch-etcd:8), as the stand-in bases are tagged.
  docker tag "$tag" "$P/$flavor-etcd:${version%%.*}$suffix"
  ctx_hash=$(docker image inspect --format '{{.Id}}' "$tag" | cut -c8-19)
  say "built $tag ($ctx_hash, $(docker image inspect --format '{{.Size}}' "$tag" | numfmt --to=iec))"
  printf '%s\n' "$tag"
}

main "$@"
