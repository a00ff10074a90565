#!/usr/bin/env bash
# Builds a release of the version in VERSION into dist/<version>/ and prints that directory as the
# last line of stdout:
#   1. refuses unless VERSION is a plain X.Y.Z, CHANGELOG.md has a section for it and the work
#      tree is clean (a release is built from a commit, so that it can be built again);
#   2. the static binary (scripts/build-static.sh), checked to print the same version;
#   3. the image (scripts/build-image.sh, Elasticsearch by default), its label checked;
#   4. every test (scripts/test.sh), unless --no-tests (for a second try after a green run);
#   5. dist/<version>/: es-etcd-entrypoint-<version>-linux-amd64, the image as a docker-save
#      tarball, the changelog section, SHA256SUMS over all of them.
# Nothing is pushed or tagged: publishing stays a human decision.
#
# Usage: scripts/release.sh [--no-tests] [--allow-dirty] [build-image.sh args...]
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# changelog_section VERSION — the lines of CHANGELOG.md under "## VERSION", up to the next "## ".
changelog_section() {
  awk -v v="$1" '
    $0 ~ "^## " { if (found) exit; found = ($2 == v) }
    found' "$ESETCD_ROOT/CHANGELOG.md"
}

main() {
  local tests=1 dirty=0 version bin image out name
  while (($#)); do
    case $1 in
      --no-tests) tests=0 ;;
      --allow-dirty) dirty=1 ;;
      -h | --help)
        sed -n '2,14p' "$0"
        exit 0
        ;;
      *) break ;;
    esac
    shift
  done

  version=$(<"$ESETCD_ROOT/VERSION")
  [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION holds '$version', not X.Y.Z"
  [[ -n $(changelog_section "$version") ]] || die "CHANGELOG.md has no '## $version' section"
  if ((!dirty)) && [[ -n $(git -C "$ESETCD_ROOT" status --porcelain) ]]; then
    die "the work tree has uncommitted changes (commit them, or --allow-dirty for a trial)"
  fi

  bin=$("$ESETCD_ROOT/scripts/build-static.sh" | tail -n 1)
  [[ $("$bin" --version) == "es-etcd-entrypoint $version" ]] ||
    die "$bin --version prints '$("$bin" --version)', VERSION says $version"

  image=$("$ESETCD_ROOT/scripts/build-image.sh" "$@" | tail -n 1)
  [[ $(docker image inspect --format '{{index .Config.Labels "org.opencontainers.image.version"}}' \
    "$image") == "$version" ]] || die "$image is not labelled with version $version"

  if ((tests)); then
    "$ESETCD_ROOT/scripts/test.sh"
  fi

  out=$ESETCD_ROOT/dist/$version
  rm -rf "$out"
  mkdir -p "$out"
  name=es-etcd-entrypoint-$version-linux-$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
  install -m 0755 "$bin" "$out/$name"
  docker save "$image" | gzip -n >"$out/$(basename "${image%%:*}")-${image##*:}.tar.gz"
  changelog_section "$version" >"$out/CHANGELOG-$version.md"
  (cd "$out" && sha256sum -- * >SHA256SUMS)
  say "release $version in $out:"
  sed 's/^/  /' "$out/SHA256SUMS" >&2
  printf '%s\n' "$out"
}

main "$@"
