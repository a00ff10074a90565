#!/usr/bin/env bash
# Builds the static libraries that Debian 12 does not ship as linkable archives and installs them
# into $ESETCD_CACHE/static-deps/<key>/, then prints that prefix as the last line of stdout:
#   - Poco (Foundation, Util, Net, JSON, and XML because PocoUtilConfig.cmake find_dependency()s
#     PocoXML and PocoJSON unconditionally, upstream poco#3815), bundled pcre/zlib/expat;
#     libpoco-dev has shared libraries only.
#   - libcurl, HTTP/HTTPS only on OpenSSL with the threaded resolver, without the HTTP features the
#     entrypoint never asks for; Debian's libcurl.a cannot be linked statically (it needs
#     libgssapi_krb5, libidn2, libpsl, ... which have no .a).
# Both are compiled for size with one section per function and datum, so that the entrypoint's
# link (-Wl,--gc-sections) keeps only what it reaches, not whole object files.
# Both come from the bookworm source packages (`apt-get source` applies Debian's security patches),
# OpenSSL and the C library from Debian's own static archives (libssl-dev, libc6-dev).
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
RECIPE=3
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
  -DBUILD_SHARED_LIBS=OFF -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF -DENABLE_MANUAL=OFF
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
  -DCURL_ENABLE_SSL=ON -DCURL_USE_OPENSSL=ON -DOPENSSL_USE_STATIC_LIBS=ON
  # The binary runs in images whose openssl.cnf we do not control (Ubuntu, UBI, Wolfi); the
  # static OpenSSL would read it from Debian's build-time path. Do not load it at all.
  -DCURL_DISABLE_OPENSSL_AUTO_LOAD_CONFIG=ON
  # Static OpenSSL only knows its build-time CA path; the entrypoint probes a list at run time
  # and sets CURLOPT_CAINFO, so nothing is baked in here.
  -DCURL_CA_BUNDLE=none -DCURL_CA_PATH=none
  -DENABLE_ARES=OFF -DENABLE_THREADED_RESOLVER=ON
  -DUSE_LIBIDN2=OFF -DCURL_USE_LIBPSL=OFF -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF
  -DUSE_NGHTTP2=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DCURL_ZLIB=OFF -DCURL_USE_GSSAPI=OFF
)

BUILD_DEPS=(cmake ninja-build g++ make dpkg-dev libssl-dev zlib1g-dev libc6-dev file xz-utils
  bzip2 ca-certificates)

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

poco_ver='' curl_ver=''
resolve_versions() {
  poco_ver=$(newest_source poco)
  curl_ver=$(newest_source curl)
  if [[ -z $poco_ver || -z $curl_ver ]]; then
    apt_update_once
    poco_ver=$(newest_source poco)
    curl_ver=$(newest_source curl)
  fi
  [[ -n $poco_ver && -n $curl_ver ]] || die "apt has no source package for poco and curl"
}

recipe_hash() {
  printf '%s\n' "$RECIPE" "$BUILD_TYPE" "${POCO_ARGS[@]}" -- "${CURL_ARGS[@]}" |
    sha256sum | cut -c1-10
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
  local prefix=$1 key=$2 work log t0
  mkdir -p "$STATIC_ROOT/logs"
  log=$STATIC_ROOT/logs/$key.log
  : >"$log"
  need_apt "${BUILD_DEPS[@]}"

  # Built next to the final prefix (same file system) and installed with DESTDIR, so that the
  # final rename is atomic and the paths written into curl-config and libcurl.pc are the real ones.
  work=$(mktemp -d "$STATIC_ROOT/.build.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT

  say "fetching sources poco $poco_ver, curl $curl_ver"
  (cd "$work" && run_logged "$log" retry 3 5 apt-get source -qq "poco=$poco_ver" "curl=$curl_ver")
  no_engine_preload "$work/curl-$(upstream "$curl_ver")/lib/vtls/openssl.c"

  t0=$SECONDS
  say "building Poco (log: $log)"
  run_logged "$log" cmake -S "$work/poco-$(upstream "$poco_ver")" -B "$work/poco-build" -G Ninja \
    -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_INSTALL_LIBDIR=lib "${POCO_ARGS[@]}"
  run_logged "$log" cmake --build "$work/poco-build"
  DESTDIR=$work/dest run_logged "$log" cmake --install "$work/poco-build"
  say "Poco built in $((SECONDS - t0))s"

  t0=$SECONDS
  say "building curl"
  run_logged "$log" cmake -S "$work/curl-$(upstream "$curl_ver")" -B "$work/curl-build" -G Ninja \
    -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_INSTALL_LIBDIR=lib "${CURL_ARGS[@]}"
  run_logged "$log" cmake --build "$work/curl-build"
  DESTDIR=$work/dest run_logged "$log" cmake --install "$work/curl-build"
  say "curl built in $((SECONDS - t0))s"

  verify "$work/dest$prefix" "$work/probe" "$log"

  printf 'poco %s\ncurl %s\nrecipe %s\nbuilt %s\n' "$poco_ver" "$curl_ver" "$(recipe_hash)" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$work/dest$prefix/.complete"
  rm -rf "$prefix"
  mv "$work/dest$prefix" "$prefix"
  rm -rf "$work"
  trap - EXIT
}

# no_engine_preload FILE — curl's global init asks OpenSSL to load every built-in engine
# (OPENSSL_INIT_ENGINE_ALL_BUILTIN), 0.2 of the 0.36 ms that OPENSSL_init_ssl takes, paid at every
# start of the entrypoint even against a plain-http etcd. The entrypoint sets no
# CURLOPT_SSLENGINE; nothing else uses engines. Fails when the line is gone (a new curl): the
# recipe must then be looked at again.
no_engine_preload() {
  grep -q '^ *OPENSSL_INIT_ENGINE_ALL_BUILTIN |$' "$1" ||
    die "$1: no OPENSSL_INIT_ENGINE_ALL_BUILTIN line to drop; review no_engine_preload"
  sed -i '/^ *OPENSSL_INIT_ENGINE_ALL_BUILTIN |$/d' "$1"
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
set(OPENSSL_USE_STATIC_LIBS ON)
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
#include <Poco/JSON/Parser.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Util/MapConfiguration.h>
#include <iostream>
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
  # Anything but OpenSSL in the version string means an optional library crept in.
  local expected='^libcurl/[^ ]+ OpenSSL/[^ ]+ threadsafe'
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
  key=$(printf 'poco-%s_curl-%s_%s' "$poco_ver" "$curl_ver" "$(recipe_hash)" | tr ':+' '__')
  prefix=$STATIC_ROOT/$key
  if [[ ! -f $prefix/.complete ]]; then
    mkdir -p "$STATIC_ROOT"
    with_lock static-deps build_if_missing "$prefix" "$key"
  fi
  say "ready: $prefix"
  printf '%s\n' "$prefix"
}

main "$@"
