#!/usr/bin/env bash
# scripts/release.sh refuses before building anything when the release would not be what it says:
# VERSION not X.Y.Z, no CHANGELOG.md section for it, a dirty work tree. Each refusal names the
# reason and leaves no dist/ behind. Runs on a throw-away copy of the scripts in a new git
# repository, so no build and no Docker are needed; the positive path (a real build) is what
# `scripts/release.sh` itself does on a release machine.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$HERE/../..
# shellcheck source=../checks.sh
source "$HERE/../checks.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/esetcd-release-test.XXXXXX")
trap "rm -rf \"$T\"" EXIT
mkdir -p "$T/repo/scripts"
cp "$ROOT/scripts/release.sh" "$ROOT/scripts/lib.sh" "$ROOT/scripts/versions.env" "$T/repo/scripts/"
cp "$ROOT/CHANGELOG.md" "$ROOT/VERSION" "$T/repo/"
# A build-static.sh that records being called: none of the refusals may get that far.
printf '#!/bin/sh\ntouch "%s/built"\nexit 1\n' "$T" >"$T/repo/scripts/build-static.sh"
chmod +x "$T/repo/scripts/build-static.sh"
git -C "$T/repo" init -q
git -C "$T/repo" -c user.name=t -c user.email=t@t add -A
git -C "$T/repo" -c user.name=t -c user.email=t@t commit -qm release

# release NAME — runs the copy; output in $T/NAME.err, status in RC.
RC=0
release() {
  RC=0
  ESETCD_CACHE=$T/cache bash "$T/repo/scripts/release.sh" --no-tests >"$T/$1.out" 2>"$T/$1.err" || RC=$?
}

check "the repository's VERSION is X.Y.Z" grep -qxE '[0-9]+\.[0-9]+\.[0-9]+' "$ROOT/VERSION"
check "CHANGELOG.md has a section for it" grep -q "^## $(<"$ROOT/VERSION")\b" "$ROOT/CHANGELOG.md"

echo 1.2 >"$T/repo/VERSION"
git -C "$T/repo" -c user.name=t -c user.email=t@t commit -qam v
release badversion
check "VERSION 1.2 is refused" test "$RC" -ne 0
check "  naming the value" grep -q "VERSION holds '1.2'" "$T/badversion.err"

echo 9.9.9 >"$T/repo/VERSION"
git -C "$T/repo" -c user.name=t -c user.email=t@t commit -qam v
release nochangelog
check "a version without a changelog section is refused" test "$RC" -ne 0
check "  naming the missing section" grep -q "no '## 9.9.9' section" "$T/nochangelog.err"

cp "$ROOT/VERSION" "$T/repo/VERSION"
git -C "$T/repo" -c user.name=t -c user.email=t@t commit -qam v
echo scratch >"$T/repo/scratch"
release dirty
check "a dirty work tree is refused" test "$RC" -ne 0
check "  saying why" grep -q "uncommitted changes" "$T/dirty.err"

check "no refusal built anything" test ! -e "$T/built"
check "no refusal left a dist/ directory" test ! -e "$T/repo/dist"

# The positive twin of the refusals: with everything in order the script goes on to the build
# (the stand-in build-static.sh above records it and fails on purpose).
rm "$T/repo/scratch"
release clean
check "a clean tree with a released version goes on to build" test -e "$T/built"
echo "all $CHECKS checks passed"
