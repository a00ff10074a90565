#!/usr/bin/env bash
# Builds the upstream etcd servers the tests run against, besides Debian's 3.4 (etcd-server), and
# caches each binary as $ESETCD_CACHE/etcd/<version>/etcd. Prints one "VERSION PATH" line per
# version on stdout, Debian's first, for scripts/test.sh to hand to CMake.
#
# Upstream ships no Debian package of 3.5+ and no other download is reachable, so each server is
# built from the Go module proxy: `go install go.etcd.io/etcd/server/v3` fails on the server
# module's replace directives, so a two-line module whose main calls etcdmain.Main (what etcd's
# own main does) requires the server at that version and is built with `go mod tidy` +
# `go build`. Each build takes a few minutes on 2 cores, once per version per machine.
#
# Go: the `go` in PATH or /usr/local/go when it is 1.21+ (which fetches the toolchain a module
# asks for by itself); otherwise Debian's golang-go (1.19), which brings a current toolchain from
# the module proxy as the module golang.org/toolchain.
#
# Usage: scripts/etcd-servers.sh            builds what is missing, prints the list
#        ESETCD_ETCD_VERSIONS="3.6.16" scripts/etcd-servers.sh
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_versions

# A toolchain new enough for every server in versions.env (3.7 asks for Go 1.24+).
GO_BOOTSTRAP_TOOLCHAIN=v0.0.1-go1.24.13.linux-amd64
ETCD_ROOT=$ESETCD_CACHE/etcd
# Module and build caches of the builds, kept with the other heavy artifacts: a rebuild downloads
# nothing and compiles only what changed, and nothing depends on Go's default cache in $HOME.
GO_ROOT=$ESETCD_CACHE/go

go_minor() { "$1" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p'; }

# find_go — prints the path of a go command of 1.21 or newer, installing one if needed.
find_go() {
  local candidate minor
  for candidate in "$(command -v go || true)" /usr/local/go/bin/go /usr/lib/go/bin/go; do
    [[ -n $candidate && -x $candidate ]] || continue
    minor=$(go_minor "$candidate")
    if [[ -n $minor ]] && ((minor >= 21)); then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  need_apt golang-go ca-certificates unzip
  local toolchain=$GO_ROOT/mod/golang.org/toolchain@$GO_BOOTSTRAP_TOOLCHAIN
  if [[ ! -x $toolchain/bin/go ]]; then
    say "Debian's Go is older than 1.21: fetching the toolchain module $GO_BOOTSTRAP_TOOLCHAIN"
    (cd "$(mktemp -d)" && GOMODCACHE=$GO_ROOT/mod GOFLAGS=-modcacherw \
      retry 3 5 /usr/bin/go mod download golang.org/toolchain@"$GO_BOOTSTRAP_TOOLCHAIN") >&2
  fi
  chmod +x "$toolchain"/bin/* "$toolchain"/pkg/tool/*/* 2>/dev/null || true
  printf '%s\n' "$toolchain/bin/go"
}

# build VERSION — builds etcd VERSION into $ETCD_ROOT/VERSION/etcd unless it is there.
build() {
  local version=$1 dest=$ETCD_ROOT/$1 go work
  if [[ -x $dest/etcd ]]; then
    say "etcd $version: cached"
    return 0
  fi
  go=$(find_go)
  work=$(mktemp -d)
  say "etcd $version: building with $("$go" env GOVERSION) in $work (a few minutes)"
  cat >"$work/go.mod" <<EOF
module esetcd.test/etcd

go 1.21
EOF
  cat >"$work/main.go" <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (
    cd "$work"
    export GOMODCACHE=$GO_ROOT/mod GOCACHE=$GO_ROOT/build GOFLAGS=-modcacherw GOTOOLCHAIN=auto \
      CGO_ENABLED=0
    retry 3 5 "$go" get "go.etcd.io/etcd/server/v3@v$version"
    "$go" mod tidy
    "$go" build -trimpath -ldflags '-s -w' -o etcd .
  ) >"$work/build.log" 2>&1 || {
    tail -n 40 "$work/build.log" >&2
    die "etcd $version: build failed (log: $work/build.log)"
  }
  local reported
  reported=$("$work/etcd" --version | sed -n 's/^etcd Version: //p')
  [[ $reported == "$version" ]] || die "etcd $version: the binary says it is '$reported'"
  mkdir -p "$dest"
  mv "$work/etcd" "$dest/etcd.tmp" && mv "$dest/etcd.tmp" "$dest/etcd"
  rm -rf "$work"
  say "etcd $version: $dest/etcd"
}

main() {
  need_apt etcd-server
  local version
  printf '%s %s\n' "$(/usr/bin/etcd --version | sed -n 's/^etcd Version: //p')" /usr/bin/etcd
  for version in $ESETCD_ETCD_VERSIONS; do
    with_lock "etcd-$version" build "$version"
    printf '%s %s\n' "$version" "$ETCD_ROOT/$version/etcd"
  done
}

main "$@"
