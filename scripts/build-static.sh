#!/usr/bin/env bash
# Builds the fully static es-etcd-entrypoint (the binary the image ships) and prints the path of
# its stripped copy as the last line of stdout:
#   1. scripts/static-deps.sh  → static Poco + libcurl (built once, cached); or the prefix in
#      ESETCD_STATIC_DEPS when set (the Dockerfile's builder image ships one in /opt/static-deps)
#   2. cmake -DSTATIC=ON in $ESETCD_STATIC_BUILD_DIR (default <repo>/build-static), MinSizeRel
#      (-Os: a smaller binary and no slower a start than -O2/-O3, docs/benchmarks.md), no tests;
#      the link map es-etcd-entrypoint.map is left next to the binary for bench/size.sh
#   3. strip a copy: <build dir>/es-etcd-entrypoint.stripped (the unstripped one keeps its
#      symbols for debugging a core dump)
# Refuses to print a path unless `file` calls the result statically linked.
#
# Usage: scripts/build-static.sh            BIN=$(scripts/build-static.sh | tail -n 1)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD_DIR=${ESETCD_STATIC_BUILD_DIR:-$ESETCD_ROOT/build-static}

main() {
  local prefix bin stripped
  need_apt g++ cmake ninja-build pkg-config zlib1g-dev nlohmann-json3-dev file binutils
  if [[ -n ${ESETCD_STATIC_DEPS:-} ]]; then
    prefix=$ESETCD_STATIC_DEPS
    [[ -f $prefix/.complete ]] || die "ESETCD_STATIC_DEPS=$prefix is not a complete static-deps prefix"
  else
    prefix=$("$ESETCD_ROOT/scripts/static-deps.sh" | tail -n 1)
    [[ -d $prefix ]] || die "scripts/static-deps.sh printed no prefix"
  fi

  say "configuring $BUILD_DIR (STATIC=ON, deps $(basename "$prefix"))"
  mkdir -p "$BUILD_DIR"
  # Two builds at once (ctest's static and image tests, a human) would race in one build tree.
  with_lock build-static configure_and_build "$prefix"

  bin=$BUILD_DIR/es-etcd-entrypoint
  stripped=$BUILD_DIR/es-etcd-entrypoint.stripped
  file -b "$bin" | grep -q 'statically linked' || die "not statically linked: $(file -b "$bin")"
  say "built $bin ($(stat -c %s "$bin" | numfmt --to=iec) unstripped," \
    "$(stat -c %s "$stripped" | numfmt --to=iec) stripped)"
  printf '%s\n' "$stripped"
}

configure_and_build() {
  local prefix=$1 log=$BUILD_DIR/build-static.log
  # A build dir configured against another prefix keeps that prefix's package dirs (Poco_DIR,
  # CURL_DIR, ...) in its CMakeCache.txt whatever CMAKE_PREFIX_PATH says now, and would go on
  # linking the old libraries (those of before a Debian security update): unless the last good
  # build used this very prefix, start the cache afresh (the objects are reused).
  local stamp=$BUILD_DIR/.static-deps-prefix
  if [[ ! -f $stamp || $(<"$stamp") != "$prefix" ]]; then
    rm -f "$BUILD_DIR/CMakeCache.txt" "$stamp"
  fi
  if ! {
    cmake -S "$ESETCD_ROOT" -B "$BUILD_DIR" -G Ninja -DSTATIC=ON -DESETCD_TESTS=OFF \
      -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=MinSizeRel &&
      cmake --build "$BUILD_DIR" -j "$(nproc)"
  } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "static build failed (log: $log)"
  fi
  printf '%s\n' "$prefix" >"$stamp"
  # strip to a temp name, then rename: a reader never sees a half-written binary.
  strip -o "$BUILD_DIR/.es-etcd-entrypoint.stripped.tmp" "$BUILD_DIR/es-etcd-entrypoint"
  mv -f "$BUILD_DIR/.es-etcd-entrypoint.stripped.tmp" "$BUILD_DIR/es-etcd-entrypoint.stripped"
}

main "$@"
