#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds, and runs every test tier
# through ctest (unit, integration against a real etcd, PID 1 supervisor, registration
# scenario). The integration and scenario tiers run once per etcd server: Debian's 3.4 and the
# upstream 3.5/3.6/3.7 that scripts/etcd-servers.sh builds and caches (ESETCD_ETCD_VERSIONS in
# versions.env). ctest's summary line is the verdict; any failing or missing real component fails.
#
# Usage: scripts/test.sh [ctest args...]   e.g. scripts/test.sh -L unit
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD_DIR=${ESETCD_BUILD_DIR:-$ESETCD_ROOT/build}

install_deps() {
  say "installing build and test dependencies"
  need_apt g++ cmake ninja-build pkg-config libpoco-dev libcurl4-openssl-dev nlohmann-json3-dev \
    catch2 etcd-server etcd-client util-linux procps curl jq file ca-certificates openssl tini
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
  cmake -S "$ESETCD_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DESETCD_ETCD_SERVERS=$servers" >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)"
}

run_tests() {
  say "running the tests"
  cd "$BUILD_DIR"
  # No --parallel: the integration and supervisor tiers start real processes and time them.
  # --no-tests=error: a label or -R that matches nothing fails instead of passing empty.
  ctest --output-on-failure --no-tests=error --timeout 600 "$@"
}

main() {
  install_deps
  build
  run_tests "$@"
}

main "$@"
