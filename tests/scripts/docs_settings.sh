#!/usr/bin/env bash
# docs/entrypoint.md's settings table against `es-etcd-entrypoint --help`: every setting in one is
# in the other, with the same flag. A setting added to the code without a row in the docs (or a row
# left behind after a setting is removed) fails here.
# Negative twins: a table with one row dropped, and one with a made-up row, must both be caught by
# the same comparison, so that the check itself is known to bite.
#
# Usage: docs_settings.sh BINARY DOCS_MD
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../checks.sh
source "$HERE/../checks.sh"

BIN=$1
DOCS=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/esetcd-docs-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

# help_pairs — "ENV --flag" per setting, from --help. The formatter wraps lines anywhere, so the
# text is joined first; each option prints its flag and then its "[env NAME".
help_pairs() {
  "$BIN" --help | tr '\n' ' ' | tr -s ' ' |
    grep -oE -- '--[a-z0-9-]+=VALUE|\[env [A-Z0-9_]+' |
    awk '/^--/ { sub(/=VALUE$/, ""); flag = $0; next } { print $2, flag }' | sort
}

# docs_pairs FILE — "ENV --flag" per variable of the settings table (the table under the header
# "| variable | flag |"); names in parentheses are the *_FILE forms of a secret and have no flag.
docs_pairs() {
  awk -F'|' '
    /^\| variable \| flag \|/ { intable = 1; next }
    intable && !/^\|/ { exit }
    intable && /^\| ---/ { next }
    intable {
      vars = $2; flags = $3
      gsub(/\([^)]*\)/, "", vars)
      nv = 0; nf = 0
      while (match(vars, /`[A-Z][A-Z0-9_]+`/)) { v[++nv] = substr(vars, RSTART + 1, RLENGTH - 2); vars = substr(vars, RSTART + RLENGTH) }
      while (match(flags, /`--[a-z0-9-]+`/)) { f[++nf] = substr(flags, RSTART + 1, RLENGTH - 2); flags = substr(flags, RSTART + RLENGTH) }
      for (i = 1; i <= nv; i++) print v[i], (i <= nf ? f[i] : "(no flag)")
    }' "$1" | sort
}

help_pairs >"$T/help"
docs_pairs "$DOCS" >"$T/docs"

check "--help lists settings ($(wc -l <"$T/help"))" test "$(wc -l <"$T/help")" -ge 30
check "the docs table lists settings ($(wc -l <"$T/docs"))" test "$(wc -l <"$T/docs")" -ge 30
if ! diff -u "$T/help" "$T/docs" >"$T/diff"; then
  sed 's/^/    /' "$T/diff" >&2
  fail "docs/entrypoint.md and --help differ (- only in --help, + only in the docs)"
fi
ok "every setting of --help has a row with the same flag in docs/entrypoint.md, and back"

# Negative twins: the comparison catches a dropped row and an invented one.
grep -v '^| `HEALTH_TIMEOUT`' "$DOCS" >"$T/dropped.md"
docs_pairs "$T/dropped.md" >"$T/dropped"
check "a dropped row is caught" bash -c "! diff -q '$T/help' '$T/dropped' >/dev/null"
sed 's/^| `HEALTH_TIMEOUT`/| `NO_SUCH_SETTING` | `--no-such-setting` | | |\n&/' "$DOCS" >"$T/invented.md"
docs_pairs "$T/invented.md" >"$T/invented"
check "an invented row is caught" bash -c "! diff -q '$T/help' '$T/invented' >/dev/null"
check "the invented row was parsed" grep -qx 'NO_SUCH_SETTING --no-such-setting' "$T/invented"
echo "all $CHECKS checks passed"
