# shellcheck shell=bash
# Sourced by build-image.sh and demo.sh (after lib.sh): choosing between an official image and its
# local stand-in without ever hanging on a registry that cannot be reached.
#
#   pick_base OFFICIAL STANDIN TARGET   prints OFFICIAL when it is present locally or could be
#                                       pulled in time, else builds the stand-in image STANDIN
#                                       with `scripts/base-images.sh TARGET` and prints STANDIN
# ESETCD_LOCAL_BASES=1 goes straight to the stand-ins. ESETCD_PULL_TIMEOUT (default 120 s) bounds
# a pull; before pulling, the registry's name must resolve within 5 s (here it does not: no
# registry is reachable, and the fallback is immediate).

# registry_of IMAGE — the registry host an image reference points to.
registry_of() {
  local first=${1%%/*}
  if [[ $1 == */* && ($first == *.* || $first == *:* || $first == localhost) ]]; then
    printf '%s\n' "${first%%:*}"
  else
    printf 'registry-1.docker.io\n'
  fi
}

# have_official IMAGE — IMAGE is present, or was pulled within the time limit.
have_official() {
  local image=$1 registry
  docker image inspect "$image" >/dev/null 2>&1 && return 0
  registry=$(registry_of "$image")
  if ! timeout 5 getent hosts "$registry" >/dev/null 2>&1; then
    say "registry $registry cannot be reached (name does not resolve): not pulling $image"
    return 1
  fi
  say "pulling $image (at most ${ESETCD_PULL_TIMEOUT:-120}s)"
  timeout "${ESETCD_PULL_TIMEOUT:-120}" docker pull -q "$image" >&2 && return 0
  say "could not pull $image in time"
  return 1
}

pick_base() {
  local official=$1 standin=$2 target=$3
  if [[ ${ESETCD_LOCAL_BASES:-0} != 1 ]] && have_official "$official"; then
    printf '%s\n' "$official"
    return 0
  fi
  say "using the local stand-in $standin for $official"
  "$ESETCD_ROOT/scripts/base-images.sh" "$target" >&2
  printf '%s\n' "$standin"
}
