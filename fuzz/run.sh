#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for SECONDS on a copy of its
# seed corpus (fuzz/corpus/<target>/, real answers and real values), then prints one summary line
# per target: executions, coverage (edges), corpus size. Any crash, leak, sanitizer finding or
# broken invariant fails the run and keeps the input that caused it (named in the output).
#
# Usage: fuzz/run.sh [SECONDS] [TARGET...]     default 30 s each, every target
#   ESETCD_FUZZ_BUILD_DIR  build directory (default <repo>/build-fuzz); scripts/test.sh uses
#                          <its build directory>-fuzz
#   ESETCD_FUZZ_JOBS       targets run at once (default: the number of cores)
#   ESETCD_FUZZ_KEEP_CORPUS=1  merge the new inputs back into fuzz/corpus (after a long run)
set -euo pipefail
# shellcheck source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

TARGETS=(etcd_v3 etcd_v2 registrations seed_file bootstrap health settings version)
BUILD_DIR=${ESETCD_FUZZ_BUILD_DIR:-$ESETCD_ROOT/build-fuzz}

build() {
  need_apt clang-14 libclang-rt-14-dev cmake ninja-build pkg-config libpoco-dev \
    libcurl4-openssl-dev nlohmann-json3-dev
  need_apt ccache
  use_ccache
  if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    say "configuring $BUILD_DIR (clang, ESETCD_FUZZ=ON, address,undefined)"
    CC=clang-14 CXX=clang++-14 cmake -S "$ESETCD_ROOT" -B "$BUILD_DIR" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DESETCD_FUZZ=ON -DESETCD_SANITIZE=address,undefined \
      -DESETCD_TESTS=OFF "$CCACHE_LAUNCHER" >/dev/null
  fi
  cmake --build "$BUILD_DIR" --target "${targets[@]/#/fuzz_}" >/dev/null
}

# run TARGET SECONDS — one target on a scratch copy of its corpus; prints its summary line.
run() {
  local target=$1 seconds=$2 work log execs cov corpus
  work=$(mktemp -d "${TMPDIR:-/tmp}/esetcd-fuzz-$target.XXXXXX")
  log=$work/fuzz.log
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$ESETCD_ROOT/fuzz/corpus/$target/"* "$work/corpus/"
  if ! "$BUILD_DIR/fuzz/fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/" "$work/corpus" \
    >"$log" 2>&1; then
    grep -E 'ERROR|invariant|runtime error|SUMMARY' "$log" | head -n 5 >&2 || true
    fail_input=$(ls "$work/artifacts/"* 2>/dev/null | head -n 1)
    die "fuzz_$target failed; input kept: ${fail_input:-none}, log: $log"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
  corpus=$(find "$work/corpus" -type f | wc -l)
  printf '%-14s %10s executions in %ss, coverage %s edges, corpus %s inputs\n' \
    "$target" "$execs" "$seconds" "${cov:-?}" "$corpus"
  if [[ ${ESETCD_FUZZ_KEEP_CORPUS:-0} == 1 ]]; then
    "$BUILD_DIR/fuzz/fuzz_$target" -merge=1 "$ESETCD_ROOT/fuzz/corpus/$target" "$work/corpus" \
      >/dev/null 2>&1
  fi
  rm -rf "$work"
}

main() {
  local seconds=${1:-30}
  [[ $seconds =~ ^[0-9]+$ ]] || die "SECONDS must be a number, not '$seconds'"
  (($# > 0)) && shift
  targets=("${@:-${TARGETS[@]}}")
  build
  local jobs=${ESETCD_FUZZ_JOBS:-$(nproc)} out failed=0 t running=0
  say "fuzzing ${#targets[@]} targets, $seconds s each, $jobs at a time"
  # One libFuzzer process per core; each target's lines are printed in order once all are done.
  out=$(mktemp -d "${TMPDIR:-/tmp}/esetcd-fuzz-out.XXXXXX")
  for t in "${targets[@]}"; do
    if ((running >= jobs)); then
      wait -n || failed=1
      running=$((running - 1))
    fi
    run "$t" "$seconds" >"$out/$t" 2>&1 &
    running=$((running + 1))
  done
  while ((running > 0)); do
    wait -n || failed=1
    running=$((running - 1))
  done
  for t in "${targets[@]}"; do cat "$out/$t"; done
  rm -rf "$out"
  ((failed == 0)) || die "a fuzz target failed (its lines above name the input)"
  say "no crash, no finding in ${#targets[@]} targets"
}

main "$@"
