#!/usr/bin/env bash
# Fetches a runnable Elasticsearch or OpenSearch distribution from Maven Central (the only
# reachable source: docker.elastic.co, Docker Hub and artifacts.elastic.co are not) and prints
# the path of the cached zip as the last line of stdout.
#
# Usage: scripts/fetch-dist.sh elasticsearch|opensearch VERSION
#        scripts/fetch-dist.sh opensearch-security PLUGIN_VERSION     (e.g. 2.19.4.0)
#
# The distribution is the integ-test-zip: the real server with the transport and HTTP modules
# (plus x-pack core/security in ES 8.x), but no bundled JDK and no plugins. OpenSearch's security
# plugin is a separate artifact (org.opensearch.plugin:opensearch-security, version = the
# OpenSearch version + a fourth number), installed by scripts/base-images.sh with
# bin/opensearch-plugin. Either lands in $ESETCD_CACHE/dist/<name>-<version>.zip; a cached zip is
# reused without network access.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Pinned so that a run does not depend on whichever plugin version Maven's super-POM picks.
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

usage() {
  echo "usage: $0 elasticsearch|opensearch VERSION | opensearch-security PLUGIN_VERSION" >&2
  exit 2
}

main() {
  (($# == 2)) || usage
  local flavor=$1 version=$2 group dist zip m2 tmp version_re='^[0-9]+\.[0-9]+\.[0-9]+$'
  case $flavor in
    elasticsearch) group=org.elasticsearch.distribution.integ-test-zip ;;
    opensearch) group=org.opensearch.distribution.integ-test-zip ;;
    opensearch-security)
      group=org.opensearch.plugin
      version_re='^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$'
      ;;
    *) usage ;;
  esac
  [[ $version =~ $version_re ]] || die "bad version '$version'"

  dist=$ESETCD_CACHE/dist
  zip=$dist/$flavor-$version.zip
  if [[ -s $zip ]]; then
    say "cached: $zip"
    printf '%s\n' "$zip"
    return
  fi

  need_apt maven
  m2=$ESETCD_CACHE/m2
  mkdir -p "$dist"
  # A private download dir, renamed into place: concurrent runs never see a partial zip.
  tmp=$(mktemp -d "$dist/.fetch.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $tmp is local
  trap "rm -rf '$tmp'" EXIT
  say "fetching $group:$flavor:$version:zip from Maven Central"
  # --strict-checksums: fail on a corrupt download instead of caching it. The local repository
  # lives in the cache dir too, so `rm -rf $ESETCD_CACHE` really starts from scratch.
  retry 3 10 mvn -B -q -Dstyle.color=never --strict-checksums -Dmaven.repo.local="$m2" \
    "$DEPENDENCY_PLUGIN:copy" -Dartifact="$group:$flavor:$version:zip" \
    -DoutputDirectory="$tmp" -Dmdep.stripVersion=false >&2 ||
    die "Maven Central does not serve $group:$flavor:$version:zip (try an earlier patch release)"
  mv "$tmp/$flavor-$version.zip" "$zip"
  # The local repository's copy would double the disk use of every distribution (~100 MB each).
  rm -rf "${m2:?}/${group//.//}/$flavor/$version"
  say "fetched $(du -h "$zip" | cut -f1) $zip"
  printf '%s\n' "$zip"
}

main "$@"
