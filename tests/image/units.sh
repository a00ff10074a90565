#!/usr/bin/env bash
# The unit files, in three modes:
#   units.sh verify    `systemd-analyze verify` is silent and succeeds on units/fleet and
#                      units/systemd (as instance @1), and complains about a broken copy (the
#                      negative twin: a warning alone must fail the check too);
#   units.sh fleet     runs units/fleet/elasticsearch@.service's ExecStartPre/ExecStart/ExecStop
#   units.sh systemd   ... and units/systemd/elasticsearch@.service's, with the specifiers and
#                      ${VAR}/$VAR expanded as systemd does, against the local Docker engine:
#                      the node registers in etcd, ExecStop deregisters it and ExecStart ends with
#                      143 (the unit's SuccessExitStatus) within the stop timeout.
# There is no systemd as PID 1 here, so this script plays its part for exactly the syntax the
# units use (no quotes in Exec lines: checked). The unit is installed under the name
# "$RUN-elasticsearch@.service" so that %p gives container and volume names this test owns.
# Host networking on a free 127.0.x.y address (COREOS_PRIVATE_IPV4 / ES_PUBLISH_HOST), with
# etcd on that address's 2379: everything stays on loopback, Elasticsearch stays in development
# mode (docs/image.md: the loopback layout).
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODE=${1:?usage: units.sh verify|fleet|systemd}
UNITS=$ESETCD_ROOT/units

verify_silent() {
  local out rc=0
  out=$(systemd-analyze verify "$1" 2>&1) || rc=$?
  [[ $rc == 0 && -z $out ]] || {
    printf '%s\n' "$out" >&2
    return 1
  }
}

verify_complains() { ! verify_silent "$1" 2>/dev/null; }
# Exec/Environment lines only, comments dropped.
unit_body() { grep -v '^[[:space:]]*#' "$1"; }
unit_is_plain() {
  if unit_body "$1" | grep -Eq 'bash|/bin/sh|BindsTo=|discovery@'; then return 1; fi
  grep -q '^ExecStart=/usr/bin/docker run ' "$1"
}

if [[ $MODE == verify ]]; then
  need_apt systemd # systemd-analyze; nothing is started
  need_cmd systemd-analyze
  for kind in fleet systemd; do
    mkdir -p "$T/$kind"
    cp "$UNITS/$kind/elasticsearch@.service" "$T/$kind/elasticsearch@1.service"
    check "systemd-analyze verify units/$kind/elasticsearch@.service (as @1): silent, status 0" \
      verify_silent "$T/$kind/elasticsearch@1.service"
    sed 's/^Restart=always/Restart=sometimes/' "$UNITS/$kind/elasticsearch@.service" \
      >"$T/$kind/elasticsearch@2.service"
    check "negative twin: a broken copy of units/$kind (Restart=sometimes) fails the same check" \
      verify_complains "$T/$kind/elasticsearch@2.service"
  done
  check "fleet unit keeps the seed's X-Conflicts=%p@*.service" \
    grep -qx 'X-Conflicts=%p@\*.service' "$UNITS/fleet/elasticsearch@.service"
  check "fleet unit has no sidecar and no shell: ExecStart is a plain docker run" \
    unit_is_plain "$UNITS/fleet/elasticsearch@.service"
  check "systemd unit: the same" unit_is_plain "$UNITS/systemd/elasticsearch@.service"
  check "systemd unit has EnvironmentFile=" \
    grep -q '^EnvironmentFile=' "$UNITS/systemd/elasticsearch@.service"
  check "systemd unit has Restart=" grep -q '^Restart=' "$UNITS/systemd/elasticsearch@.service"
  pass_all
  exit 0
fi

[[ $MODE == fleet || $MODE == systemd ]] || fail "unknown mode $MODE"
need_apt etcd-server etcd-client
need_cmd docker etcd etcdctl
IMG=$(image_under_test)
SRC=$UNITS/$MODE/elasticsearch@.service
PREFIX_NAME=$RUN-elasticsearch
INSTANCE=1
UNIT_NAME=$PREFIX_NAME@$INSTANCE.service
CONF_DIR=$T/etc # %E
mkdir -p "$CONF_DIR/es-etcd-entrypoint"

# --- a minimal systemd: unit parsing, environment, specifiers ----------------------------------

# unit_lines KEY — the values of KEY= in [Service], continuation lines joined, in order.
unit_lines() {
  awk -v key="$1" '
    /^\[/ { service = ($0 == "[Service]"); next }
    !service || /^[#;]/ { next }
    { line = line $0 }
    /\\$/ { sub(/\\$/, "", line); next }
    { if (index(line, key "=") == 1) print substr(line, length(key) + 2); line = "" }
  ' "$SRC"
}

# specifiers TEXT — %i %I %p %n %E %% as systemd expands them for $UNIT_NAME.
specifiers() {
  local s=$1 pct=$'\x01'
  s=${s//%%/$pct}
  s=${s//%i/$INSTANCE}
  s=${s//%I/$INSTANCE}
  s=${s//%p/$PREFIX_NAME}
  s=${s//%n/$UNIT_NAME}
  s=${s//%E/$CONF_DIR}
  [[ $s != *%* ]] || fail "unsupported specifier in: $1"
  printf '%s\n' "${s//$pct/%}"
}

declare -A UENV=()
# EnvironmentFile paths that are not under %E are mapped into the test's dir.
declare -A FILE_MAP=()
load_env_file() {
  local path=$1 optional=0 line
  if [[ $path == -* ]]; then
    optional=1
    path=${path#-}
  fi
  path=$(specifiers "$path")
  [[ -n ${FILE_MAP[$path]:-} ]] && path=${FILE_MAP[$path]}
  if [[ ! -f $path ]]; then
    ((optional)) && return 0
    fail "EnvironmentFile $path missing"
  fi
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*([#;]|$) ]] && continue
    [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || fail "bad line in $path: $line"
    UENV[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
  done <"$path"
}
build_environment() {
  local e
  while IFS= read -r e; do
    [[ $e =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || fail "unsupported Environment=$e"
    UENV[${BASH_REMATCH[1]}]=$(specifiers "${BASH_REMATCH[2]}")
  done < <(unit_lines Environment)
  # Files override Environment= whatever the order (systemd.exec).
  while IFS= read -r e; do load_env_file "$e"; done < <(unit_lines EnvironmentFile)
}

# expand_exec LINE — fills ARGV with the command as systemd would run it; IGNORE_FAIL for "-".
ARGV=()
IGNORE_FAIL=0
expand_exec() {
  local line=$1 word name value out
  IGNORE_FAIL=0
  [[ $line == -* ]] && IGNORE_FAIL=1 && line=${line#-}
  [[ $line != *[\"\']* ]] || fail "quotes in an Exec line: this harness does not parse them: $line"
  line=$(specifiers "$line")
  ARGV=()
  for word in $line; do
    if [[ $word =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
      # $VAR alone: split at whitespace into zero or more words.
      # shellcheck disable=SC2206 # splitting is the point
      ARGV+=(${UENV[${BASH_REMATCH[1]}]:-})
      continue
    fi
    out=''
    while [[ $word =~ ^([^$]*)\$\{([A-Za-z_][A-Za-z0-9_]*)\}(.*)$ ]]; do
      name=${BASH_REMATCH[2]}
      value=${UENV[$name]:-}
      out+=${BASH_REMATCH[1]}$value
      word=${BASH_REMATCH[3]}
    done
    [[ $word != *\$* ]] || fail "unsupported variable syntax in: $word"
    ARGV+=("$out$word")
  done
  [[ ${ARGV[0]} == /* ]] || fail "Exec command is not an absolute path: ${ARGV[0]}"
}

run_exec_list() { # KEY — runs each line of KEY in order, honouring "-"
  local l rc
  while IFS= read -r l; do
    expand_exec "$l"
    printf '%s: %s\n' "$1" "${ARGV[*]}" >>"$T/commands.log"
    rc=0
    "${ARGV[@]}" >>"$T/$1.log" 2>&1 || rc=$?
    ((rc == 0 || IGNORE_FAIL)) || fail "$1 failed ($rc): ${ARGV[*]}"
  done < <(unit_lines "$1")
}

# --- the environment of a host -----------------------------------------------------------------
IP=$(free_loopback_ip)
ETCD_URL=http://$IP:2379
etcd --name "$RUN" --data-dir "$T/etcd" --listen-client-urls "$ETCD_URL" \
  --advertise-client-urls "$ETCD_URL" --listen-peer-urls "http://$IP:2380" \
  --initial-advertise-peer-urls "http://$IP:2380" --initial-cluster "$RUN=http://$IP:2380" \
  >"$T/etcd.log" 2>&1 &
ETCD_PID=$!
at_exit "kill $ETCD_PID; wait $ETCD_PID"
ec() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" "$@"; }
wait_for 30 "etcd on $ETCD_URL" ec endpoint health
ok "etcd on $ETCD_URL; the host's address for this test is $IP"

# Settings a test node needs: a cluster of one (ES_BOOTSTRAP_EXPECT=1: the entrypoint's first
# bootstrap names this node the initial master), a small heap, a short TTL.
cat >"$T/extra.env" <<EOF
ES_BOOTSTRAP_EXPECT=1
ES_JAVA_OPTS=-Xms256m -Xmx256m
ETCD_TTL=10
HEALTH_INTERVAL=2s
EOF
if [[ $MODE == fleet ]]; then
  printf 'COREOS_PRIVATE_IPV4=%s\nCOREOS_PUBLIC_IPV4=%s\n' "$IP" "$IP" >"$T/environment"
  printf 'ES_DOCKER_OPTS=--env-file %s\n' "$T/extra.env" >"$T/es-etcd-entrypoint.env"
  FILE_MAP[/etc/environment]=$T/environment
  FILE_MAP[/etc/es-etcd-entrypoint.env]=$T/es-etcd-entrypoint.env
else
  {
    printf 'ETCD_ENDPOINTS=%s\nES_PUBLISH_HOST=%s\n' "$ETCD_URL" "$IP"
    cat "$T/extra.env"
  } >"$CONF_DIR/es-etcd-entrypoint/elasticsearch.env"
fi
build_environment
[[ ${UENV[ES_ETCD_IMAGE]} == "$IMG" ]] ||
  fail "the unit's default image ${UENV[ES_ETCD_IMAGE]} is not the one built here ($IMG)"
ok "unit environment: ES_ETCD_IMAGE=${UENV[ES_ETCD_IMAGE]} (the image built from the Dockerfile)"

# --- start -------------------------------------------------------------------------------------
CONTAINER=$PREFIX_NAME-$INSTANCE
at_exit "docker volume rm -f $CONTAINER-data"
run_exec_list ExecStartPre
ok "ExecStartPre ran: $(grep -c ExecStartPre "$T/commands.log") command(s)"
expand_exec "$(unit_lines ExecStart)"
printf 'ExecStart: %s\n' "${ARGV[*]}" >>"$T/commands.log"
check "ExecStart is a plain docker run of the image (no shell): ${ARGV[*]:0:3}..." \
  test "${ARGV[0]}" = /usr/bin/docker -a "${ARGV[1]}" = run -a "${ARGV[-1]}" = "$IMG"
"${ARGV[@]}" >"$T/ExecStart.log" 2>&1 &
MAIN_PID=$!
at_exit "kill $MAIN_PID"
KEY=/services/elasticsearch/$IP
key_value() { ec get --print-value-only "$KEY"; }
registered() { [[ -n $(key_value) ]]; }
wait_for 180 "node registered at $KEY" registered
ok "node registered at $KEY after ${WAITED}s: $(key_value)"
check "node name is %p-%i = $CONTAINER" grep -q "\"node_name\":\"$CONTAINER\"" <<<"$(key_value)"
volume_exists() { docker volume inspect "$1" >/dev/null 2>&1; }
check "the data volume $CONTAINER-data exists" volume_exists "$CONTAINER-data"

# --- stop --------------------------------------------------------------------------------------
start=$(date +%s%N)
run_exec_list ExecStop
took=$(elapsed_since "$start")
check "ExecStop returned after ${took}s, within the unit's stop timeout (45 s)" test "${took%.*}" -lt 45
check "the key is gone when ExecStop returns" test -z "$(key_value)"
rc=0
timeout 30 tail --pid="$MAIN_PID" -f /dev/null || fail "ExecStart did not end after ExecStop"
wait "$MAIN_PID" || rc=$?
check "ExecStart ended with $rc, a success status for the unit (SuccessExitStatus=143)" test "$rc" = 143
check "the container is gone (--rm)" bash -c "! docker inspect '$CONTAINER' >/dev/null 2>&1"
check "the log shows the deregistration" grep -q "deregistered $KEY" "$T/ExecStart.log"
pass_all
