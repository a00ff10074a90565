#!/usr/bin/env bash
# Builds the local stand-in base images (no image registry is reachable on this machine):
#   debian         es-etcd-entrypoint/debian:bookworm      debootstrap --variant=minbase, imported
#   builder        es-etcd-entrypoint/builder:bookworm     + C++ toolchain + static Poco/libcurl
#   etcd           es-etcd-entrypoint/etcd:3.4             + Debian's etcd-server/etcd-client
#   search         es-etcd-entrypoint/elasticsearch:<v> and es-etcd-entrypoint/opensearch:<v>
#                  for every version in versions.env (also tagged :<major>), from Maven Central
#   FLAVOR:VERSION one search image, e.g. elasticsearch:8.19.21
#   opensearch-security:VERSION
#                  es-etcd-entrypoint/opensearch:<v>-security: OpenSearch with its security
#                  plugin (as the official image ships it), for ESETCD_OS_SECURITY_VERSION
# Usage: scripts/base-images.sh [--smoke] [TARGET...]      (no TARGET: all of them)
#
# Idempotent: every image carries a label with a hash of its inputs (Dockerfile, build args,
# distribution, JDK, static deps) and is rebuilt only when that hash changes. A search image is
# smoke-tested (single node answers on :9200) right after it is built; --smoke tests existing
# ones too. Set ESETCD_SMOKE=0 to skip smoke tests.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_versions

IMAGES_DIR=$ESETCD_ROOT/scripts/images
P=$ESETCD_IMAGE_PREFIX
DEBIAN_IMAGE=$P/debian:bookworm
INPUTS_LABEL=es-etcd-entrypoint.inputs
SMOKE_TIMEOUT=${ESETCD_SMOKE_TIMEOUT:-120}
SMOKE=${ESETCD_SMOKE:-1}
FORCE_SMOKE=0

# Java needed per distribution line: ES 9.x and OpenSearch 3.x need 21+, the others run on 17.
needs_java21() {
  local flavor=$1 major=${2%%.*}
  [[ $flavor == elasticsearch && $major -ge 9 ]] || [[ $flavor == opensearch && $major -ge 3 ]]
}

inputs_hash() { sha256sum | cut -c1-16; }

# image_current IMAGE HASH — the image exists and was built from the same inputs.
image_current() {
  [[ $(docker image inspect --format "{{ index .Config.Labels \"$INPUTS_LABEL\" }}" "$1" \
    2>/dev/null) == "$2" ]]
}

# docker_build LOGNAME IMAGE CONTEXT DOCKERFILE [docker build args...] — output to a log in the
# cache, its end on failure. Plain `docker build` (no BuildKit): Debian's docker.io has no buildx;
# --force-rm: a failed step must not leave its container behind.
docker_build() {
  local logname=$1 image=$2 context=$3 dockerfile=$4 log
  shift 4
  mkdir -p "$ESETCD_CACHE/logs"
  log=$ESETCD_CACHE/logs/image-$logname.log
  if ! DOCKER_BUILDKIT=0 docker build --pull=false --force-rm -t "$image" -f "$dockerfile" "$@" "$context" \
    >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "docker build of $image failed (log: $log)"
  fi
}

# --- debian ------------------------------------------------------------------------------------

# The mirror, suites and variant are the image's inputs; the rootfs tarball is cached so that a
# re-import (e.g. after `docker system prune`) skips the ~1 min debootstrap.
build_debian() {
  local mirror repos hash rootfs tmp
  mirror=$(debian_mirror)
  repos=$(debian_repos | awk '$1 == "deb"')
  hash=$(printf '%s\n' minbase bookworm "$mirror" "$repos" | inputs_hash)
  if image_current "$DEBIAN_IMAGE" "$hash"; then
    say "$DEBIAN_IMAGE is up to date"
    return
  fi
  rootfs=$ESETCD_CACHE/rootfs/debian-bookworm-minbase-$hash.tar
  if [[ ! -s $rootfs ]]; then
    need_apt debootstrap debian-archive-keyring
    mkdir -p "$ESETCD_CACHE/rootfs"
    tmp=$(mktemp -d "$ESETCD_CACHE/rootfs/.debootstrap.XXXXXX")
    # shellcheck disable=SC2064 # expand now: $tmp is local
    trap "rm -rf '$tmp'" EXIT
    say "debootstrap --variant=minbase bookworm from $mirror (log: $ESETCD_CACHE/logs/debootstrap.log)"
    mkdir -p "$ESETCD_CACHE/logs"
    if ! retry 2 10 debootstrap --variant=minbase bookworm "$tmp/root" "$mirror" \
      >"$ESETCD_CACHE/logs/debootstrap.log" 2>&1; then
      tail -n 30 "$ESETCD_CACHE/logs/debootstrap.log" >&2
      die "debootstrap failed"
    fi
    # The same repositories as the host (security and updates too), so that apt in derived
    # images installs patched packages; no downloaded lists or .debs in the image.
    awk '{ printf "deb %s %s main\n", $2, $3 }' <<<"$repos" >"$tmp/root/etc/apt/sources.list"
    rm -rf "$tmp/root/var/lib/apt/lists/"* "$tmp/root/var/cache/apt/archives/"*.deb
    # Image builds have no terminal and never need recommends.
    printf 'APT::Install-Recommends "false";\n' >"$tmp/root/etc/apt/apt.conf.d/90es-etcd-entrypoint"
    tar --numeric-owner -C "$tmp/root" -cf "$tmp/rootfs.tar" .
    mv "$tmp/rootfs.tar" "$rootfs"
    rm -rf "$tmp"
    trap - EXIT
  fi
  say "importing $rootfs as $DEBIAN_IMAGE"
  docker import \
    --change "LABEL $INPUTS_LABEL=$hash" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV DEBIAN_FRONTEND=noninteractive' \
    --change 'CMD ["bash"]' \
    "$rootfs" "$DEBIAN_IMAGE" >/dev/null
}

# The hash of the debian image itself, so that derived images rebuild when it changes.
debian_id() { docker image inspect --format '{{ .Id }}' "$DEBIAN_IMAGE"; }

# --- builder -----------------------------------------------------------------------------------

build_builder() {
  local image=$P/builder:bookworm prefix hash ctx
  prefix=$("$ESETCD_ROOT/scripts/static-deps.sh" | tail -n 1)
  hash=$({
    debian_id
    cat "$IMAGES_DIR/builder.Dockerfile"
    basename "$prefix"
  } | inputs_hash)
  if image_current "$image" "$hash"; then
    say "$image is up to date"
    return
  fi
  say "building $image (static deps $(basename "$prefix"))"
  ctx=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: $ctx is local
  trap "rm -rf '$ctx'" EXIT
  cp -a "$prefix" "$ctx/static-deps"
  docker_build builder "$image" "$ctx" "$IMAGES_DIR/builder.Dockerfile" \
    --build-arg BASE_IMAGE="$DEBIAN_IMAGE" --label "$INPUTS_LABEL=$hash" \
    --label "es-etcd-entrypoint.static-deps=$(basename "$prefix")"
  rm -rf "$ctx"
  trap - EXIT
  say "built $image"
}

# --- etcd --------------------------------------------------------------------------------------

build_etcd() {
  local image=$P/etcd:3.4 hash ctx
  hash=$({
    debian_id
    cat "$IMAGES_DIR/etcd.Dockerfile"
  } | inputs_hash)
  if image_current "$image" "$hash"; then
    say "$image is up to date"
    return
  fi
  say "building $image"
  # An empty context: the Dockerfile copies nothing.
  ctx=$(mktemp -d)
  docker_build etcd "$image" "$ctx" "$IMAGES_DIR/etcd.Dockerfile" \
    --build-arg BASE_IMAGE="$DEBIAN_IMAGE" --label "$INPUTS_LABEL=$hash"
  rmdir "$ctx"
  say "built $image: $(docker run --rm "$image" --version | head -n 1)"
}

# --- Elasticsearch / OpenSearch ----------------------------------------------------------------

# host_jdk21 — the newest JDK >= 21 under the system JVM directory (Debian bookworm has no
# openjdk-21 package; the machine has a Temurin JDK there). ESETCD_JDK21_HOME overrides.
host_jdk21() {
  local dir best='' best_major=0 major
  if [[ -n ${ESETCD_JDK21_HOME:-} ]]; then
    printf '%s\n' "$ESETCD_JDK21_HOME"
    return
  fi
  for dir in /usr/lib/jvm/*/; do
    dir=${dir%/}
    [[ -x $dir/bin/java && -f $dir/release && ! -L $dir ]] || continue
    major=$(sed -nE 's/^JAVA_VERSION="([0-9]+).*/\1/p' "$dir/release")
    if [[ -n $major ]] && ((major >= 21 && major > best_major)); then
      best=$dir best_major=$major
    fi
  done
  [[ -n $best ]] || die "no JDK >= 21 in /usr/lib/jvm (set ESETCD_JDK21_HOME)"
  printf '%s\n' "$best"
}

# settings_for — appended to the distribution's own config file.
settings_for() {
  printf '\n# Added by scripts/base-images.sh, as in the official image:\n'
  printf 'cluster.name: "docker-cluster"\nnetwork.host: 0.0.0.0\n'
  # Security stays as the distribution ships it, as in the official image: Elasticsearch 8.x
  # requires passwords (and TLS on transport off loopback) unless a node says
  # xpack.security.enabled=false, the explicit opt-out that tests and demos without security
  # pass. OpenSearch's zip has no security plugin (the -security image adds it).
}

# tag_major FLAVOR VERSION — also tags :<major>, for the version of its line in versions.env only
# (the base of the -security stand-in, e.g. OpenSearch 2.19.4, must not take :2 over).
tag_major() {
  if default_search_targets | grep -qx "$1:$2"; then docker tag "$P/$1:$2" "$P/$1:${2%%.*}"; fi
}

# search_files FLAVOR — the Dockerfile and the start script of a stand-in: Elasticsearch's with
# /usr/local/bin/docker-entrypoint.sh, OpenSearch's laid out as the official OpenSearch image.
search_files() {
  if [[ $1 == opensearch ]]; then
    printf '%s\n' "$IMAGES_DIR/opensearch.Dockerfile" "$IMAGES_DIR/opensearch-docker-entrypoint.sh"
  else
    printf '%s\n' "$IMAGES_DIR/search.Dockerfile" "$IMAGES_DIR/docker-entrypoint.sh"
  fi
}

build_search() {
  local flavor=$1 version=$2 image="$P/$1:$2" zip jdk='' java_pkg='' java_dir hash ctx files
  if needs_java21 "$flavor" "$version"; then
    # The image uses the host's apt sources, so the host's candidate tells. (`apt-cache show`
    # succeeds for names that are only referenced by other packages: ask for a candidate.)
    if [[ $(apt-cache policy openjdk-21-jre-headless | awk '/Candidate:/ { print $2 }') =~ ^[0-9] ]]; then
      java_pkg=openjdk-21-jre-headless java_dir=/usr/lib/jvm/java-21-openjdk-amd64
    else
      jdk=$(host_jdk21) java_dir=/opt/java/openjdk
    fi
  else
    java_pkg=openjdk-17-jre-headless java_dir=/usr/lib/jvm/java-17-openjdk-amd64
  fi
  zip=$("$ESETCD_ROOT/scripts/fetch-dist.sh" "$flavor" "$version" | tail -n 1)
  mapfile -t files < <(search_files "$flavor")
  hash=$({
    debian_id
    cat "${files[@]}"
    declare -f settings_for
    printf '%s\n' "$flavor" "$version" "$java_pkg" "$java_dir" "$(stat -c %s "$zip")"
    [[ -z $jdk ]] || printf '%s\n' "$jdk" "$(cat "$jdk/release")"
  } | inputs_hash)
  if image_current "$image" "$hash"; then
    say "$image is up to date"
    tag_major "$flavor" "$version"
    ((FORCE_SMOKE)) && smoke "$image"
    return 0
  fi

  say "building $image (java: ${java_pkg:-$jdk})"
  ctx=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: $ctx is local
  trap "rm -rf '$ctx'" EXIT
  need_apt unzip
  unzip -q "$zip" -d "$ctx/unpacked"
  mv "$ctx/unpacked/$flavor-$version" "$ctx/home"
  mkdir -p "$ctx/home/data" "$ctx/home/logs" "$ctx/home/plugins" "$ctx/jdk"
  settings_for >>"$ctx/home/config/$flavor.yml"
  # Group 0 gets the owner's rights, so any uid in group 0 can run it (as the official image).
  chmod -R g=u "$ctx/home"
  # Hard links when possible: the JDK is ~300 MB and docker tars the context anyway.
  [[ -z $jdk ]] || cp -al "$jdk/." "$ctx/jdk/" 2>/dev/null || cp -a "$jdk/." "$ctx/jdk/"
  install -m 0755 "${files[1]}" "$ctx/$(basename "${files[1]}")"
  docker_build "$flavor-$version" "$image" "$ctx" "${files[0]}" \
    --build-arg BASE_IMAGE="$DEBIAN_IMAGE" \
    --build-arg JAVA_PACKAGE="$java_pkg" --build-arg JAVA_DIR="$java_dir" \
    --label "$INPUTS_LABEL=$hash" --label "org.opencontainers.image.version=$version" \
    --label "es-etcd-entrypoint.flavor=$flavor"
  rm -rf "$ctx"
  trap - EXIT
  tag_major "$flavor" "$version"
  say "built $image ($(docker image inspect --format '{{ .Size }}' "$image" | numfmt --to=iec))"
  smoke "$image"
}

# smoke IMAGE — a single node must answer HTTP on :9200 within SMOKE_TIMEOUT seconds; its version
# JSON is printed. Queried with curl inside the container: nothing is published on the host.
# The ES 8.x integ-test-zip lacks the rest-root module, so `GET /` answers 405 there: any HTTP
# status counts as "up", and the version then comes from the nodes info API.
# How it runs: Elasticsearch with the explicit opt-out xpack.security.enabled=false (the smoke
# test is about the image, not about security; harmless on 7.17); OpenSearch with the security
# plugin as the official image runs by default, i.e. with the plugin's demo configuration and
# OPENSEARCH_INITIAL_ADMIN_PASSWORD, over https as admin; plain OpenSearch as it is.
smoke() {
  local image=$1 cid deadline out run=() curl=(curl) url=http://localhost:9200 labels want='^[1-5][0-9][0-9]$'
  ((SMOKE)) || return 0
  say "smoke test $image"
  labels=$(docker image inspect --format \
    '{{ index .Config.Labels "es-etcd-entrypoint.flavor" }} {{ index .Config.Labels "es-etcd-entrypoint.plugins" }}' "$image")
  if [[ $labels == elasticsearch* ]]; then
    run=(-e xpack.security.enabled=false)
  elif [[ $labels == *opensearch-security* ]]; then
    # A throwaway container's demo password; the plugin rejects weak ones.
    run=(-e OPENSEARCH_INITIAL_ADMIN_PASSWORD=Smoke-Test-2-Demo-Only)
    curl=(curl -k -u admin:Smoke-Test-2-Demo-Only) url=https://localhost:9200
    # 503 until the plugin has created its security index.
    want='^200$'
  fi
  cid=$(docker run -d -e discovery.type=single-node -e ES_JAVA_OPTS="-Xms256m -Xmx256m" \
    -e OPENSEARCH_JAVA_OPTS="-Xms256m -Xmx256m" "${run[@]}" "$image")
  # shellcheck disable=SC2064 # expand now: $cid is local
  trap "docker rm -f '$cid' >/dev/null 2>&1" EXIT
  deadline=$((SECONDS + SMOKE_TIMEOUT))
  until [[ $(docker exec "$cid" "${curl[@]}" -s -o /dev/null -w '%{http_code}' "$url/" \
    2>/dev/null) =~ $want ]]; do
    if ((SECONDS >= deadline)) || [[ $(docker inspect --format '{{ .State.Running }}' "$cid") != true ]]; then
      docker logs --tail 60 "$cid" >&2 || true
      # Untag it: the next run must rebuild and re-test it rather than call it up to date.
      docker rm -f "$cid" >/dev/null 2>&1 || true
      docker rmi "$image" >/dev/null 2>&1 || true
      die "$image did not answer on :9200 within ${SMOKE_TIMEOUT}s"
    fi
    sleep 2
  done
  out=$(docker exec "$cid" "${curl[@]}" -fsS "$url/" 2>/dev/null ||
    docker exec "$cid" "${curl[@]}" -fsS "$url/_nodes/_local?filter_path=nodes.*.name,nodes.*.version,nodes.*.build_flavor,nodes.*.build_type,nodes.*.jvm.version,nodes.*.plugins.name")
  say "smoke ok after $((SECONDS + SMOKE_TIMEOUT - deadline))s: $image answered $(tr -d ' \n' <<<"$out" | cut -c1-160)"
  printf '%s\n' "$out" >&2
  docker rm -f "$cid" >/dev/null
  trap - EXIT
}

# --- OpenSearch with its security plugin -----------------------------------------------------

# build_search_security VERSION — $P/opensearch:VERSION-security: the plain stand-in plus the
# security plugin, which the official OpenSearch image always carries and the integ-test-zip
# lacks. Maven Central serves it as org.opensearch.plugin:opensearch-security:VERSION.0 for some
# releases only (ESETCD_OS_SECURITY_VERSION in versions.env); it is installed with the
# distribution's own bin/opensearch-plugin, as the official image's build does.
build_search_security() {
  local version=$1 base="$P/opensearch:$1" image="$P/opensearch:$1-security" zip hash ctx
  build_search opensearch "$version"
  zip=$("$ESETCD_ROOT/scripts/fetch-dist.sh" opensearch-security "$version.0" | tail -n 1)
  hash=$({
    docker image inspect --format '{{ .Id }}' "$base"
    cat "$IMAGES_DIR/search-security.Dockerfile"
    stat -c %s "$zip"
  } | inputs_hash)
  if image_current "$image" "$hash"; then
    say "$image is up to date"
    ((FORCE_SMOKE)) && smoke "$image"
    return 0
  fi
  say "building $image (plugin $(basename "$zip"))"
  ctx=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: $ctx is local
  trap "rm -rf '$ctx'" EXIT
  cp -l "$zip" "$ctx/opensearch-security.zip" 2>/dev/null || cp "$zip" "$ctx/opensearch-security.zip"
  docker_build "opensearch-$version-security" "$image" "$ctx" "$IMAGES_DIR/search-security.Dockerfile" \
    --build-arg BASE_IMAGE="$base" --label "$INPUTS_LABEL=$hash" \
    --label "es-etcd-entrypoint.plugins=opensearch-security"
  rm -rf "$ctx"
  trap - EXIT
  say "built $image ($(docker image inspect --format '{{ .Size }}' "$image" | numfmt --to=iec))"
  smoke "$image"
}

default_search_targets() {
  printf '%s\n' "elasticsearch:$ESETCD_ES7_VERSION" "elasticsearch:$ESETCD_ES8_VERSION" \
    "opensearch:$ESETCD_OS2_VERSION" "opensearch:$ESETCD_OS3_VERSION" \
    "opensearch-security:$ESETCD_OS_SECURITY_VERSION"
}

# build_search_target FLAVOR:VERSION
build_search_target() {
  case $1 in
    elasticsearch:* | opensearch:*) build_search "${1%%:*}" "${1#*:}" ;;
    opensearch-security:*) build_search_security "${1#*:}" ;;
    *) die "unknown target '$1' (see --help)" ;;
  esac
}

main() {
  local targets=() search=() t s
  for t in "$@"; do
    case $t in
      --smoke) FORCE_SMOKE=1 ;;
      -h | --help)
        sed -n '2,18p' "$0"
        exit 0
        ;;
      *) targets+=("$t") ;;
    esac
  done
  ((${#targets[@]})) || targets=(debian builder etcd search)

  "$ESETCD_ROOT/scripts/docker-up.sh"
  build_debian
  for t in "${targets[@]}"; do
    case $t in
      debian) ;;
      builder) build_builder ;;
      etcd) build_etcd ;;
      search)
        mapfile -t search < <(default_search_targets)
        for s in "${search[@]}"; do build_search_target "$s"; done
        ;;
      *:*) build_search_target "$t" ;;
      *) die "unknown target '$t' (see --help)" ;;
    esac
  done
  say "images:"
  docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' "$P/*" | sort >&2
}

main "$@"
