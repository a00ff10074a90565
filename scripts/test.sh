#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds, and runs every test tier
# through ctest (unit, integration against a real etcd, PID 1 supervisor, registration
# scenario). ctest's summary line is the verdict; any failing or missing real component fails.
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

build() {
  say "configuring and building in $BUILD_DIR"
  cmake -S "$ESETCD_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
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
