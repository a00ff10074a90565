# shellcheck shell=bash
# Shared helpers for the scripts in this directory. Sourced, never executed.
#
# Contract: after `source lib.sh` the caller has
#   ESETCD_ROOT   the repository root
#   ESETCD_CACHE  the one directory that holds every heavy artifact
#                 (${ESETCD_CACHE:-~/.cache/es-etcd-entrypoint})
#   say / die     progress and fatal messages on stderr, prefixed with the script name and the
#                 seconds elapsed, so that stdout stays free for results (static-deps.sh prints
#                 its prefix there)
#   need_apt      installs the named Debian packages that are missing (apt-get update at most once)
#   retry         reruns a command that may fail transiently (network, a daemon still starting)
#   with_lock     serialises a critical section between concurrent runs (two CI jobs, a human)

ESETCD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Outside the work tree on purpose: a fresh clone (CI's) reuses what an earlier run built.
ESETCD_CACHE=${ESETCD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/es-etcd-entrypoint}
mkdir -p "$ESETCD_CACHE"
ESETCD_CACHE=$(cd "$ESETCD_CACHE" && pwd)
export ESETCD_CACHE

ESETCD_SCRIPT=$(basename "$0" .sh)

# Never let apt, debconf or needrestart wait for a terminal: CI has no stdin.
export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
# Scripts may run side by side (static-deps in the background while images build): wait for
# the dpkg lock instead of failing at once.
APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

say() { printf '%s: [%3ds] %s\n' "$ESETCD_SCRIPT" "$SECONDS" "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# retry ATTEMPTS DELAY_SECONDS CMD... — run CMD until it succeeds, at most ATTEMPTS times.
retry() {
  local attempts=$1 delay=$2 n=1
  shift 2
  until "$@"; do
    if ((n >= attempts)); then
      say "giving up after $n attempts: $*"
      return 1
    fi
    say "attempt $n/$attempts failed, retrying in ${delay}s: $*"
    sleep "$delay"
    n=$((n + 1))
  done
}

# apt-get update at most once per run of a script tree: the flag is exported so that a script
# called by another one does not refresh the lists again.
apt_update_once() {
  [[ ${ESETCD_APT_UPDATED:-} == 1 ]] && return 0
  say "apt-get update"
  retry 3 5 apt-get "${APT_OPTS[@]}" update -qq >&2
  export ESETCD_APT_UPDATED=1
}

# need_apt PKG... — install the packages that are not installed yet, without recommends.
need_apt() {
  local missing=() p
  for p in "$@"; do
    # dpkg-query exits 0 for removed-but-configured packages too, so check the status word.
    if [[ $(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
      missing+=("$p")
    fi
  done
  ((${#missing[@]} == 0)) && return 0
  apt_update_once
  say "apt-get install ${missing[*]} (log: $ESETCD_CACHE/apt.log)"
  # dpkg's per-package chatter goes to the log; its end is shown when the install fails.
  if ! retry 3 5 apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}" \
    >>"$ESETCD_CACHE/apt.log" 2>&1; then
    tail -n 30 "$ESETCD_CACHE/apt.log" >&2
    die "apt-get install ${missing[*]} failed"
  fi
}

# use_ccache — compile through ccache with its store in the cache directory, keyed on paths
# relative to the repository (a fresh clone elsewhere hits the same entries). Sets CCACHE_LAUNCHER
# to the CMake flag that turns it on (not printed: the exports must outlive the call); needs the
# ccache package (need_apt ccache).
use_ccache() {
  export CCACHE_DIR="$ESETCD_CACHE/ccache" CCACHE_BASEDIR="$ESETCD_ROOT" CCACHE_NOHASHDIR=true
  export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-3G}
  CCACHE_LAUNCHER=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache
}

# debian_repos — "TYPE URI RELEASE" (TYPE deb or deb-src) for each Debian bookworm repository
# that apt is configured with, whatever the sources format (one-line or deb822): apt itself parses
# the configuration. --no-release-info lists entries whose indexes were never downloaded too.
debian_repos() {
  # shellcheck disable=SC2016 # $(FIELD) is apt's template syntax, not a shell expansion
  apt-get indextargets --no-release-info --format '$(TARGET_OF) $(REPO_URI) $(RELEASE)' |
    awk '$3 ~ /^bookworm(-updates|-security)?$/' | sort -u
}

# debian_mirror — the mirror URL that this machine's apt sources use for bookworm itself.
debian_mirror() {
  local uri
  uri=$(debian_repos | awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
  [[ -n $uri ]] || die "no bookworm repository in the apt sources"
  printf '%s\n' "${uri%/}"
}

# with_lock NAME CMD... — run CMD while holding an exclusive lock in the cache directory.
with_lock() {
  local name=$1
  shift
  need_apt util-linux # flock; Essential on Debian, listed for clarity
  (
    flock -w 3600 9 || die "timed out waiting for lock $name"
    "$@"
  ) 9>"$ESETCD_CACHE/$name.lock"
}

# load_versions — export the defaults from versions.env, keeping any value the caller already set.
load_versions() {
  local key value
  while IFS='=' read -r key value; do
    [[ $key =~ ^[A-Z][A-Z0-9_]*$ ]] || continue
    [[ -n ${!key:-} ]] || export "$key=$value"
  done <"$ESETCD_ROOT/scripts/versions.env"
}
