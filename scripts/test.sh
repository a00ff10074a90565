#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds, and runs every tier through
# ctest, one label each (tests/CMakeLists.txt): unit, integration (the client against a real
# etcd), scenario (the binary, a real etcd, a stand-in node), supervisor (PID 1 and signals),
# scripts (the shell tools and the docs checks), static (the static binary in an empty root),
# image, units and compose (Docker), e2e (clusters of real Elasticsearch and OpenSearch). The
# integration and scenario tiers run once per etcd server: Debian's 3.4 and the upstream
# 3.5/3.6/3.7 that scripts/etcd-servers.sh builds and caches (ESETCD_ETCD_VERSIONS in
# versions.env). Then unit, integration, scenario and supervisor once more in two sanitizer
# builds, ASan+UBSan and TSan (the monitor thread, the status listener, the start guard and the
# signal loop share state), against one etcd server: any finding aborts the process under test
# and fails its test. Last, every fuzz target for 30 s. ctest's summary lines are the verdict;
# any failing or missing real component fails.
#
# Usage: scripts/test.sh [ctest args...]   e.g. scripts/test.sh -L unit
#   With ctest arguments only that selection runs, in the main build; ESETCD_SANITIZERS=none skips
#   the sanitizer builds of a full run (default: "address,undefined thread"), ESETCD_FUZZ_RUN=0
#   the 30 s run of each fuzz target (fuzz/run.sh) that ends it.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD_DIR=${ESETCD_BUILD_DIR:-$ESETCD_ROOT/build}

install_deps() {
  say "installing build and test dependencies"
  need_apt g++ cmake ninja-build pkg-config libpoco-dev libcurl4-openssl-dev nlohmann-json3-dev \
    catch2 etcd-server etcd-client util-linux procps curl jq file ca-certificates openssl tini ccache
}

# etcd_servers — "3.4.23=/usr/bin/etcd;3.5.35=..." for CMake's ESETCD_ETCD_SERVERS.
etcd_servers() {
  local servers
  servers=$("$ESETCD_ROOT/scripts/etcd-servers.sh")
  awk 'NF == 2 { printf "%s%s=%s", sep, $1, $2; sep = ";" }' <<<"$servers"
}

build() {
  local servers
  servers=$(etcd_servers)
  say "etcd servers under test: $servers"
  say "configuring and building in $BUILD_DIR"
  use_ccache
  cmake -S "$ESETCD_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "$CCACHE_LAUNCHER" "-DESETCD_ETCD_SERVERS=$servers" >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)"
}

run_tests() {
  say "running the tests"
  # No --parallel: the integration and supervisor tiers start real processes and time them.
  # --no-tests=error: a label or -R that matches nothing fails instead of passing empty.
  ctest --test-dir "$BUILD_DIR" --output-on-failure --no-tests=error --timeout 600 "$@"
}

# sanitized <sanitizers> — builds the tests with -fsanitize=<sanitizers> in their own directory and
# runs the unit, integration, scenario and supervisor tiers there. One etcd server (the newest
# upstream one): the sanitizers look at our code, which is the same against every version. The
# builds go through ccache in the cache directory, so an unchanged file is not compiled again.
sanitized() {
  local sanitizers=$1 dir newest
  dir="$BUILD_DIR-${sanitizers//,/-}"
  newest=$(etcd_servers | tr ';' '\n' | tail -n1)
  use_ccache
  say "sanitizer build ($sanitizers) in $dir, etcd $newest"
  # -O1 -g1: half the compile time of -O2 -g, and line tables are all a sanitizer report needs.
  cmake -S "$ESETCD_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "$CCACHE_LAUNCHER" \
    "-DESETCD_SANITIZE=$sanitizers" "-DESETCD_ETCD_SERVERS=$newest" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
  say "running the tests under $sanitizers"
  # A finding prints its report and aborts (-fno-sanitize-recover): the test fails with it.
  # atexit_sleep_ms=0: TSan otherwise holds every exiting process for a second, which the tests
  # that time a stop would count.
  ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:atexit_sleep_ms=0 \
    ctest --test-dir "$dir" --output-on-failure --no-tests=error --timeout 900 \
    -L '^(unit|integration|scenario|supervisor)$'
}

# fuzz — every libFuzzer target for 30 s on its seed corpus (fuzz/run.sh builds them with clang).
fuzz() {
  say "fuzzing: every target for 30 s"
  ESETCD_FUZZ_BUILD_DIR="$BUILD_DIR-fuzz" "$ESETCD_ROOT/fuzz/run.sh" 30
}

main() {
  install_deps
  build
  run_tests "$@"
  if [ "$#" -eq 0 ]; then
    local sanitizers
    for sanitizers in ${ESETCD_SANITIZERS-address,undefined thread}; do
      [ "$sanitizers" = none ] || sanitized "$sanitizers"
    done
    [ "${ESETCD_FUZZ_RUN:-1}" = 0 ] || fuzz
  fi
}

main "$@"
