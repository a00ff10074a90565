# shellcheck shell=bash
# TAP-like checks shared by the bash test harnesses (tests/image/lib.sh, tests/e2e/lib.sh).
# Sourced, never executed. Each passing check prints "ok N - <what it proves>" and counts in
# $CHECKS; the first failing one prints "FAIL - ..." and exits 1, which the harness's exit trap
# turns into a log dump.

CHECKS=0

ok() {
  CHECKS=$((CHECKS + 1))
  printf 'ok %d - %s\n' "$CHECKS" "$*"
}

fail() {
  printf 'FAIL - %s\n' "$*" >&2
  exit 1
}

# check DESCRIPTION CMD... — CMD must succeed.
check() {
  local what=$1
  shift
  local cmd="$*"
  ((${#cmd} <= 200)) || cmd="${cmd:0:200}..."
  if "$@"; then ok "$what"; else fail "$what (command: $cmd)"; fi
}
