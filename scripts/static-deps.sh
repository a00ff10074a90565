#!/usr/bin/env bash
# Builds the static libraries that Debian 12 does not ship as linkable archives and installs them
# into $ESETCD_CACHE/static-deps/<key>/, then prints that prefix as the last line of stdout:
#   - Poco (Foundation, Util, Net, JSON, and XML because PocoUtilConfig.cmake find_dependency()s
#     PocoXML and PocoJSON unconditionally, upstream poco#3815), bundled pcre/zlib/expat;
#     libpoco-dev has shared libraries only. From bookworm's source package, with one line changed
#     (no_http_buffer_prealloc below).
#   - mbedTLS 3.6 (the LTS branch), configured as a TLS 1.2/1.3 client only
#     (scripts/mbedtls-config.h), thread-safe. From trixie's or forky's source package (below).
#   - libcurl on that mbedTLS, HTTP/HTTPS only with the threaded resolver, without the HTTP features
#     the entrypoint never asks for; Debian's libcurl.a cannot be linked statically (it needs
#     libgssapi_krb5, libidn2, libpsl, ... which have no .a). From trixie's source package.
# All are compiled for size with one section per function and datum, so that the entrypoint's
# link (-Wl,--gc-sections) keeps only what it reaches, not whole object files. `apt-get source`
# applies Debian's security patches; the C library comes from Debian's static archive (libc6-dev).
#
# Why the TLS stack comes from newer releases (docs/design.md, "TLS in the static binary"): OpenSSL
# made 62 % of the binary and of its memory; bookworm's mbedTLS is 2.28, out of upstream support
# and without TLS 1.3 through curl. Only their *sources* are used, through private apt states
# (lists under $STATIC_ROOT/apt-<release>): the machine's apt configuration is never touched and
# no binary package of another release can be installed.
#
# <key> = source package versions + a hash of the build recipe: a Debian security update or a
# changed option gives a new prefix, an unchanged one is reused (a stamp marks it complete).
#
# Usage: scripts/static-deps.sh            → builds if needed, prints the prefix
#        CMAKE_PREFIX_PATH=$(scripts/static-deps.sh | tail -n1) cmake -DSTATIC=ON ...
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Bump when the build steps change in a way the option lists below do not show.
RECIPE=5
# -Os: nothing in Poco or curl is hot in the entrypoint (a handful of requests at start, one probe
# every few seconds); docs/benchmarks.md has the measured size against -O3 (Release).
BUILD_TYPE=MinSizeRel
SECTIONS='-ffunction-sections -fdata-sections'

POCO_ARGS=(
  -DBUILD_SHARED_LIBS=OFF
  -DPOCO_UNBUNDLED=OFF # bundled pcre, zlib and expat: nothing extra to link, no .a to hunt for
  -DCMAKE_C_FLAGS="$SECTIONS" -DCMAKE_CXX_FLAGS="$SECTIONS"
  -DENABLE_FOUNDATION=ON -DENABLE_UTIL=ON -DENABLE_NET=ON -DENABLE_JSON=ON -DENABLE_XML=ON
  # Every other component off, including those that auto-enable when their library is found.
  -DENABLE_NETSSL=OFF -DENABLE_NETSSL_WIN=OFF -DENABLE_CRYPTO=OFF -DENABLE_JWT=OFF
  -DENABLE_DATA=OFF -DENABLE_DATA_SQLITE=OFF -DENABLE_DATA_MYSQL=OFF -DENABLE_DATA_POSTGRESQL=OFF
  -DENABLE_DATA_ODBC=OFF -DENABLE_ACTIVERECORD=OFF -DENABLE_ACTIVERECORD_COMPILER=OFF
  -DENABLE_MONGODB=OFF -DENABLE_REDIS=OFF -DENABLE_PDF=OFF -DENABLE_ZIP=OFF -DENABLE_SEVENZIP=OFF
  -DENABLE_ENCODINGS=OFF -DENABLE_ENCODINGS_COMPILER=OFF -DENABLE_APACHECONNECTOR=OFF
  -DENABLE_CPPPARSER=OFF -DENABLE_POCODOC=OFF -DENABLE_PAGECOMPILER=OFF
  -DENABLE_PAGECOMPILER_FILE2PAGE=OFF -DENABLE_TESTS=OFF
)

CURL_ARGS=(
  -DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF
  -DCURL_ENABLE_EXPORT_TARGET=ON # installs CURLConfig.cmake, which FindCURL prefers
  -DPICKY_COMPILER=OFF
  -DCMAKE_C_FLAGS="$SECTIONS"
  -DHTTP_ONLY=ON -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_LDAPS=ON
  # HTTP features the entrypoint never sets (grep curl_easy_setopt entrypoint/): no cookie
  # engine, MIME forms, alt-svc or HSTS caches, DNS-over-HTTPS, option introspection, date
  # parsing or built-in progress bar (the CURLOPT_XFERINFOFUNCTION callback stays). Proxies from
  # the environment and their authentication stay.
  -DCURL_DISABLE_COOKIES=ON -DCURL_DISABLE_MIME=ON -DCURL_DISABLE_ALTSVC=ON -DCURL_DISABLE_HSTS=ON
  -DCURL_DISABLE_DOH=ON -DCURL_DISABLE_GETOPTIONS=ON -DCURL_DISABLE_PARSEDATE=ON
  -DCURL_DISABLE_PROGRESS_METER=ON
  # .netrc lookup calls getpwuid_r, which a static glibc binary can only serve by dlopen()ing NSS.
  -DCURL_DISABLE_NETRC=ON
  # Authentication schemes: the entrypoint sends its own Authorization header (etcd token, basic
  # auth to the node); only a proxy from the environment may ask curl for one, and basic or digest
  # is what such a proxy asks. NTLM would need DES, which the TLS configuration leaves out.
  -DCURL_DISABLE_NTLM=ON -DCURL_DISABLE_AWS=ON -DCURL_DISABLE_KERBEROS_AUTH=ON
  -DCURL_DISABLE_NEGOTIATE_AUTH=ON -DCURL_DISABLE_BEARER_AUTH=ON -DCURL_DISABLE_SHA512_256=ON
  # Nor the other features curl 8 has on by default and the entrypoint never uses.
  -DCURL_DISABLE_FORM_API=ON -DCURL_DISABLE_WEBSOCKETS=ON -DCURL_DISABLE_HEADERS_API=ON
  -DCURL_DISABLE_BINDLOCAL=ON -DCURL_DISABLE_IPFS=ON -DENABLE_UNIX_SOCKETS=OFF
  -DBUILD_LIBCURL_DOCS=OFF -DBUILD_MISC_DOCS=OFF -DENABLE_CURL_MANUAL=OFF -DBUILD_EXAMPLES=OFF
  -DCURL_ENABLE_SSL=ON -DCURL_USE_MBEDTLS=ON -DCURL_USE_OPENSSL=OFF -DCURL_USE_PKGCONFIG=OFF
  # No CA path is baked in: the entrypoint probes a list at run time and sets CURLOPT_CAINFO
  # (the binary runs on Debian, RHEL/UBI, Alpine and Wolfi bases).
  -DCURL_CA_BUNDLE=none -DCURL_CA_PATH=none
  -DENABLE_ARES=OFF -DENABLE_THREADED_RESOLVER=ON
  -DUSE_LIBIDN2=OFF -DCURL_USE_LIBPSL=OFF -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF
  -DUSE_NGHTTP2=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DCURL_ZLIB=OFF -DCURL_USE_GSSAPI=OFF
)

MBEDTLS_ARGS=(
  -DUSE_STATIC_MBEDTLS_LIBRARY=ON -DUSE_SHARED_MBEDTLS_LIBRARY=OFF -DENABLE_PROGRAMS=OFF
  -DENABLE_TESTING=OFF -DGEN_FILES=OFF -DMBEDTLS_FATAL_WARNINGS=OFF
  -DCMAKE_C_FLAGS="$SECTIONS"
)
# Appended to mbedTLS's own configuration header before the build, so that the installed header
# (which curl and anything else compiled against it sees) describes the library as built.
MBEDTLS_CONFIG=$ESETCD_ROOT/scripts/mbedtls-config.h

BUILD_DEPS=(cmake ninja-build g++ make dpkg-dev zlib1g-dev libc6-dev file xz-utils bzip2
  ca-certificates gpgv debian-archive-keyring)

STATIC_ROOT=$ESETCD_CACHE/static-deps

# The deb-src entries apt-get source needs, one per bookworm binary repository that lacks one.
# Written in one-line format into a file of our own: it coexists with deb822 .sources files and
# never edits the machine's own configuration.
ensure_deb_src() {
  local file=/etc/apt/sources.list.d/es-etcd-entrypoint-deb-src.list repos missing=() uri rel
  repos=$(debian_repos)
  while read -r uri rel; do
    grep -qxF "deb-src $uri $rel" <<<"$repos" || missing+=("$uri $rel")
  done < <(awk '$1 == "deb" { print $2, $3 }' <<<"$repos")
  ((${#missing[@]} == 0)) && return 0
  say "adding deb-src entries: ${missing[*]}"
  for uri in "${missing[@]}"; do
    read -r uri rel <<<"$uri"
    printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
      "$uri" "$rel"
  done >>"$file"
  # The lists must now include Sources even if another script already updated in this run.
  export ESETCD_APT_UPDATED=0
  apt_update_once
}

# newest_source PKG — the newest version of source package PKG in apt's Sources lists (the one
# `apt-get source` picks by default). apt-cache is ~10x faster than `apt-get source --print-uris`,
# which keeps the no-op run under a second.
newest_source() {
  local best='' v
  for v in $(apt-cache showsrc --only-source "$1" 2>/dev/null | awk '/^Version:/ { print $2 }'); do
    if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
  done
  printf '%s\n' "$best"
}

# --- newer releases' sources, through private apt states -----------------------------------------
# curl from trixie (Debian 13, the security-supported stable release). mbedTLS: the newest 3.6
# (LTS branch) release that trixie or forky carries, and at least 3.6.7: 3.6.6 (trixie's on the
# day this was written) rejects a TLS 1.2 server that signs with RSA-PSS, as Go's crypto/tls
# (etcd) and Java do (an upstream regression fixed in 3.6.7; the TLS 1.2 cases of
# tests/image/static.sh catch it). 4.x changed the API that curl 8.14 builds against.
CURL_RELEASE=trixie
MBEDTLS_RELEASES=(trixie forky)
MBEDTLS_SERIES=3.6
MBEDTLS_MIN=3.6.7
# Fetched source packages, kept: a rerun (or a run without network) finds them here.
SOURCES=$STATIC_ROOT/sources

# src_apt RELEASE CMD ARG... — apt-get or apt-cache on RELEASE's private state under $STATIC_ROOT.
src_apt() {
  local state=$STATIC_ROOT/apt-$1 cmd=$2
  shift 2
  "$cmd" -o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
    -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" \
    -o APT::Sandbox::User=root "$@" # the lists are the cache's, which apt's own user cannot write
}

# ensure_src_lists RELEASE — deb-src lines for RELEASE and RELEASE-security on the mirrors this
# machine uses for bookworm, and their Sources indexes, refreshed once a day (security updates).
ensure_src_lists() {
  local rel=$1 state=$STATIC_ROOT/apt-$1 uri suite
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$SOURCES"
  while read -r uri suite; do
    printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
      "$uri" "${suite/bookworm/$rel}"
  done < <(debian_repos | awk '$1 == "deb" && $3 != "bookworm-updates" { print $2, $3 }') \
    >"$state/sources.list.new"
  [[ -s $state/sources.list.new ]] || die "no bookworm repository in the apt sources"
  if ! cmp -s "$state/sources.list.new" "$state/sources.list" ||
    [[ -z $(find "$state/lists" -maxdepth 1 -name '*Sources*' -mmin -1440 -print -quit) ]]; then
    mv "$state/sources.list.new" "$state/sources.list"
    say "updating the $rel source indexes"
    retry 3 5 src_apt "$rel" apt-get update -qq >&2 ||
      say "could not update the $rel source indexes; using those from before"
  fi
  rm -f "$state/sources.list.new"
}

# newer_source RELEASE PKG [SERIES [MIN]] — the newest version of PKG (in SERIES, an upstream
# version prefix, and not older than MIN, when given) in RELEASE's Sources whose files can be
# had: already in $SOURCES, or downloaded now (a mirror can list a version before it serves its
# files). Fails when there is none.
newer_source() {
  local rel=$1 pkg=$2 series=${3:-} min=${4:-} v
  ensure_src_lists "$rel"
  for v in $(src_apt "$rel" apt-cache showsrc --only-source "$pkg" 2>/dev/null |
    awk -v s="$series" '/^Version:/ && index($2, s) == 1 { print $2 }' | sort -u | sort -r -V); do
    if [[ -n $min ]] && dpkg --compare-versions "$v" lt "$min"; then
      say "$pkg $v in $rel is older than $min"
      return 1
    fi
    if [[ -f $SOURCES/${pkg}_${v#*:}.dsc ]] ||
      (cd "$SOURCES" && src_apt "$rel" apt-get source --download-only -qq "$pkg=$v" >/dev/null 2>&1); then
      printf '%s\n' "$v"
      return 0
    fi
    say "$pkg $v is listed in $rel but its files are not served; trying the version before it"
  done
  return 1
}

# newest_of PKG SERIES MIN RELEASE... — the newest of newer_source over the releases; a release
# whose indexes cannot be had (an unreachable suite, an expired Release file) is skipped.
newest_of() {
  local pkg=$1 series=$2 min=$3 rel v best=''
  shift 3
  for rel in "$@"; do
    v=$(newer_source "$rel" "$pkg" "$series" "$min") || continue
    if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
  done
  [[ -n $best ]] && printf '%s\n' "$best"
}

poco_ver='' curl_ver='' mbedtls_ver=''
resolve_versions() {
  poco_ver=$(newest_source poco)
  if [[ -z $poco_ver ]]; then
    apt_update_once
    poco_ver=$(newest_source poco)
  fi
  [[ -n $poco_ver ]] || die "apt has no source package for poco"
  curl_ver=$(newer_source "$CURL_RELEASE" curl) ||
    die "no source package of curl from $CURL_RELEASE can be fetched"
  mbedtls_ver=$(newest_of mbedtls "$MBEDTLS_SERIES." "$MBEDTLS_MIN" "${MBEDTLS_RELEASES[@]}") ||
    die "no source package of mbedtls $MBEDTLS_SERIES.x (>= $MBEDTLS_MIN) can be fetched from" \
      "${MBEDTLS_RELEASES[*]} (see the lines above)"
}

recipe_hash() {
  {
    printf '%s\n' "$RECIPE" "$BUILD_TYPE" "${POCO_ARGS[@]}" -- "${CURL_ARGS[@]}" -- \
      "${MBEDTLS_ARGS[@]}"
    cat "$MBEDTLS_CONFIG"
  } | sha256sum | cut -c1-10
}

# upstream VERSION — the upstream part of a Debian version, which names the unpacked source dir.
upstream() {
  local v=${1#*:}
  printf '%s\n' "${v%-*}"
}

# run_logged LOG CMD... — keep the noisy build output in a file, show its end on failure.
run_logged() {
  local log=$1
  shift
  if ! "$@" >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "failed (full log: $log): $*"
  fi
}

build() {
  local prefix=$1 key=$2 work log
  mkdir -p "$STATIC_ROOT/logs"
  log=$STATIC_ROOT/logs/$key.log
  : >"$log"
  need_apt "${BUILD_DEPS[@]}"

  # Built next to the final prefix (same file system) and installed with DESTDIR, so that the
  # final rename is atomic and the paths written into curl-config and libcurl.pc are the real ones.
  work=$(mktemp -d "$STATIC_ROOT/.build.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT

  say "fetching sources poco $poco_ver; unpacking curl $curl_ver, mbedtls $mbedtls_ver"
  (cd "$work" && run_logged "$log" retry 3 5 apt-get source -qq "poco=$poco_ver")
  unpack "$SOURCES/curl_${curl_ver#*:}.dsc" "$work/curl" "$log"
  unpack "$SOURCES/mbedtls_${mbedtls_ver#*:}.dsc" "$work/mbedtls" "$log"
  # Before the build, so that the installed header is the configuration the library was built with.
  cat "$MBEDTLS_CONFIG" >>"$work/mbedtls/include/mbedtls/mbedtls_config.h"
  no_http_buffer_prealloc "$work/poco-$(upstream "$poco_ver")"

  local dest=$work/dest$prefix
  build_one Poco "$work/poco-$(upstream "$poco_ver")" "${POCO_ARGS[@]}"
  build_one mbedTLS "$work/mbedtls" "${MBEDTLS_ARGS[@]}"
  build_one curl "$work/curl" "${CURL_ARGS[@]}" -DMBEDTLS_INCLUDE_DIR="$dest/include" \
    -DMBEDTLS_LIBRARY="$dest/lib/libmbedtls.a" -DMBEDX509_LIBRARY="$dest/lib/libmbedx509.a" \
    -DMBEDCRYPTO_LIBRARY="$dest/lib/libmbedcrypto.a"
  relocate "$dest" "$prefix"

  verify "$dest" "$work/probe" "$log"

  printf 'poco %s\ncurl %s\nmbedtls %s\nrecipe %s\nbuilt %s\n' "$poco_ver" "$curl_ver" \
    "$mbedtls_ver" "$(recipe_hash)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$dest/.complete"
  rm -rf "$prefix"
  mv "$dest" "$prefix"
  rm -rf "$work"
  trap - EXIT
}

# no_http_buffer_prealloc POCO_SRC — Poco's HTTP buffer pool allocates its blocks when they are
# first needed instead of 16 of 4 KiB in a static initialiser: that ran at every start of the
# entrypoint, which serves HTTP only once its command runs (18 page faults fewer at --version,
# 85 us less start-to-exec; docs/design.md, "Static linking"). Blocks are kept for reuse all the
# same. Fails when the line is not there, so that a new Poco cannot skip it silently.
no_http_buffer_prealloc() {
  local file=$1/Net/src/HTTPBufferAllocator.cpp
  grep -q '_pool(HTTPBufferAllocator::BUFFER_SIZE, 16);' "$file" ||
    die "$file: the buffer pool's preallocation is not where it was in Poco 1.11"
  sed -i 's/_pool(HTTPBufferAllocator::BUFFER_SIZE, 16);/_pool(HTTPBufferAllocator::BUFFER_SIZE, 0);/' "$file"
}

# unpack DSC DIR LOG — a fetched source package unpacked with Debian's patches applied.
unpack() {
  [[ -f $1 ]] || die "no source package at $1"
  run_logged "$3" dpkg-source --no-copy -x "$1" "$2"
}

# build_one NAME SRC CMAKE_ARG... — configure, build and install (into $dest) one library; uses
# build()'s $work, $prefix, $dest and $log.
build_one() {
  local name=$1 src=$2 t0=$SECONDS
  shift 2
  say "building $name (log: $log)"
  run_logged "$log" cmake -S "$src" -B "$work/build-$name" -G Ninja \
    -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_PREFIX_PATH="$dest" "$@"
  run_logged "$log" cmake --build "$work/build-$name"
  DESTDIR=$work/dest run_logged "$log" cmake --install "$work/build-$name"
  say "$name built in $((SECONDS - t0))s"
}

# relocate DEST PREFIX — curl's installed files name the mbedTLS archives by the path they were
# built against (inside DEST). The CMake package gets paths relative to its own location (the
# prefix is copied into the builder image as /opt/static-deps), the rest the final prefix.
relocate() {
  local dest=$1 prefix=$2 f
  while IFS= read -r f; do
    if [[ $f == *.cmake ]]; then
      sed -i "s|$dest|\${_IMPORT_PREFIX}|g" "$f"
    else
      sed -i "s|$dest|$prefix|g" "$f"
    fi
  done < <(grep -rlI --fixed-strings "$dest" "$dest")
  ! grep -rqI --fixed-strings "$dest" "$dest" || die "build paths left in $dest"
}

# verify PREFIX WORKDIR LOG — the installed packages must work for a consumer exactly as this
# project's CMakeLists.txt uses them: config packages only, a fully static executable.
verify() {
  local prefix=$1 dir=$2 log=$3 out
  say "verifying a -static consumer against $prefix"
  mkdir -p "$dir"
  cat >"$dir/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.18)
project(static_probe LANGUAGES C CXX)
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)

find_package(Threads REQUIRED)
find_package(Poco REQUIRED COMPONENTS Foundation Util Net JSON)
find_package(CURL REQUIRED)
add_executable(static_probe probe.cpp)
target_link_libraries(static_probe PRIVATE Poco::Util Poco::Net Poco::JSON Poco::Foundation
                      CURL::libcurl Threads::Threads)
target_link_options(static_probe PRIVATE -static)
EOF
  cat >"$dir/probe.cpp" <<'EOF'
#include <curl/curl.h>
#include <mbedtls/build_info.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Util/MapConfiguration.h>
#include <iostream>
// The installed header must describe the library as scripts/mbedtls-config.h configured it.
#if !defined(MBEDTLS_SSL_PROTO_TLS1_3) || !defined(MBEDTLS_SSL_PROTO_TLS1_2) || \
    !defined(MBEDTLS_THREADING_PTHREAD) || defined(MBEDTLS_SSL_SRV_C)
#error "mbedTLS is not configured as a thread-safe TLS 1.2/1.3 client"
#endif
int main() {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL* h = curl_easy_init();
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  Poco::Net::SocketAddress addr("127.0.0.1", 9200);
  Poco::JSON::Parser parser;
  auto json = parser.parse("{\"ok\":true}").extract<Poco::JSON::Object::Ptr>();
  Poco::Util::MapConfiguration::Ptr conf = new Poco::Util::MapConfiguration;
  conf->setString("k", "v");
  std::cout << curl_version() << " threadsafe-resolver=" << ((info->features & CURL_VERSION_ASYNCHDNS) != 0)
            << " " << addr.toString() << " " << json->getValue<bool>("ok") << " " << conf->getString("k") << "\n";
  curl_easy_cleanup(h);
  curl_global_cleanup();
  return 0;
}
EOF
  run_logged "$log" cmake -S "$dir" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix"
  run_logged "$log" cmake --build "$dir/build" --verbose
  file "$dir/build/static_probe" | grep -q 'statically linked' ||
    die "probe is not statically linked: $(file "$dir/build/static_probe")"
  out=$("$dir/build/static_probe") || die "static probe failed to run"
  [[ $out == *"threadsafe-resolver=1"* ]] || die "libcurl lacks the threaded resolver: $out"
  # Anything but mbedTLS in the version string means an optional library crept in.
  local expected='^libcurl/[^ ]+ mbedTLS/3\.[^ ]+ threadsafe'
  [[ $out =~ $expected ]] || die "unexpected libcurl features: $out"
  say "probe ok: $out"
}

# Re-checked under the lock: a concurrent run may have finished the same build meanwhile.
build_if_missing() {
  [[ -f $1/.complete ]] || build "$@"
}

main() {
  ensure_deb_src
  resolve_versions
  local key prefix
  # ':' (epochs) and '+' are legal in paths but trip up tools that treat paths as patterns.
  key=$(printf 'poco-%s_curl-%s_mbedtls-%s_%s' "$poco_ver" "$curl_ver" "$mbedtls_ver" \
    "$(recipe_hash)" | tr ':+~' '___')
  prefix=$STATIC_ROOT/$key
  if [[ ! -f $prefix/.complete ]]; then
    mkdir -p "$STATIC_ROOT"
    with_lock static-deps build_if_missing "$prefix" "$key"
  fi
  say "ready: $prefix"
  printf '%s\n' "$prefix"
}

main "$@"
