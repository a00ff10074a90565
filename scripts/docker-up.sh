#!/usr/bin/env bash
# Ensures a working Docker engine on this machine and the host settings Elasticsearch needs.
# Idempotent: with a running engine it only checks vm.max_map_count.
#
# - Installs Debian's docker.io (dockerd) and docker-compose 1.29 (v1 syntax) when missing.
# - Starts the engine through systemd when systemd is PID 1, otherwise runs dockerd in the
#   background (log: $ESETCD_CACHE/dockerd.log) and leaves it running after this script exits.
# - Raises vm.max_map_count to 262144: Elasticsearch's bootstrap checks are enforced whenever it
#   binds a non-loopback address, which the official image always does (network.host: 0.0.0.0).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START_TIMEOUT=${ESETCD_DOCKER_START_TIMEOUT:-90}
MIN_MAP_COUNT=262144

engine_ok() { docker info >/dev/null 2>&1; }

dockerd_running() {
  local pid
  [[ -r /var/run/docker.pid ]] || return 1
  pid=$(cat /var/run/docker.pid)
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

start_engine() {
  if [[ -d /run/systemd/system ]]; then
    say "starting docker.service with systemd"
    systemctl enable --now docker.service >&2
    return
  fi
  if dockerd_running; then
    # Started by an earlier run and still initialising: a second dockerd would fail on the pid
    # file and the socket anyway.
    say "dockerd already running (pid $(cat /var/run/docker.pid)), waiting for it"
    return
  fi
  say "starting dockerd in the background (log: $ESETCD_CACHE/dockerd.log)"
  # setsid + nohup: the daemon must outlive this script and its caller's process group
  # (CI ends the session's processes, not the engine the next steps depend on).
  # --default-ulimit: Elasticsearch's bootstrap checks demand >= 65535 open files (the official
  # image documents 1048576). Without CAP_SYS_RESOURCE (sandboxed machines) no process can go
  # above its hard limit, and runc then fails every container asking for more, so ask for the
  # most this machine allows.
  local nofile=1048576
  if ! (ulimit -n "$nofile") 2>/dev/null; then
    nofile=$(ulimit -Hn)
    say "open-file limit capped at $nofile here: multi-node Elasticsearch must bind loopback"
  fi
  setsid nohup dockerd --storage-driver=overlay2 --default-ulimit "nofile=$nofile:$nofile" \
    >>"$ESETCD_CACHE/dockerd.log" 2>&1 </dev/null &
}

wait_engine() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until engine_ok; do
    if ((SECONDS >= deadline)); then
      tail -n 30 "$ESETCD_CACHE/dockerd.log" >&2 2>/dev/null || true
      die "docker engine not ready after ${START_TIMEOUT}s"
    fi
    sleep 1
  done
}

ensure_map_count() {
  local current
  current=$(cat /proc/sys/vm/max_map_count)
  if ((current >= MIN_MAP_COUNT)); then
    return
  fi
  say "vm.max_map_count $current -> $MIN_MAP_COUNT"
  # Fails in an unprivileged container (read-only /proc/sys): say so instead of hiding it, since
  # Elasticsearch would then exit 78 on its bootstrap checks.
  sysctl -q -w vm.max_map_count=$MIN_MAP_COUNT ||
    die "cannot raise vm.max_map_count (set it on the host: sysctl -w vm.max_map_count=$MIN_MAP_COUNT)"
}

main() {
  if engine_ok; then
    say "docker engine already running"
  else
    need_apt docker.io docker-compose
    start_engine
    wait_engine
    say "docker engine ready"
  fi
  # Tests use compose v1 syntax; an engine installed some other way may lack it.
  command -v docker-compose >/dev/null || need_apt docker-compose
  ensure_map_count
  say "server $(docker version --format '{{.Server.Version}}'), compose $(docker-compose version --short 2>/dev/null || echo missing)"
}

main "$@"
