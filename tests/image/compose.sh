#!/usr/bin/env bash
# docker-compose.yml and docker-compose.loopback.yml, without starting a cluster (scripts/demo.sh
# does that):
#   - `docker-compose config` (Debian's 1.29) accepts the file alone and with the override, and
#     so does compose v2 (`docker compose`, or $ESETCD_COMPOSE_V2) when this machine has it;
#   - the normal layout: one etcd and three nodes on the project's own bridge network, named
#     volumes, nodes built from the Dockerfile, official base images by default and the local
#     stand-ins when the variables say so;
#   - the loopback layout: every service on the host network, each node binding and publishing
#     its own 127.0.0.x, health probed there, etcd on 127.0.0.1;
#   - `docker-compose build` of one node with the stand-in bases produces a working image (the
#     build section is real, not just valid).
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_cmd docker docker-compose
"$ESETCD_ROOT/scripts/docker-up.sh" 2>"$T/docker-up.err" || {
  cat "$T/docker-up.err" >&2
  fail "scripts/docker-up.sh failed"
}
cd "$ESETCD_ROOT" || fail "cannot cd to $ESETCD_ROOT"
BASE=(-f docker-compose.yml)
LOOP=(-f docker-compose.yml -f docker-compose.loopback.yml)

v1() { env -u ES_IMAGE -u BUILDER_IMAGE -u ETCD_IMAGE -u ES_ETCD_IMAGE docker-compose -p "$RUN" "$@"; }
v1 "${BASE[@]}" config >"$T/base.yml" 2>"$T/base.err" || { cat "$T/base.err" >&2; fail "docker-compose config (base)"; }
ok "docker-compose $(docker-compose version --short) config: docker-compose.yml"
v1 "${LOOP[@]}" config >"$T/loop.yml" 2>"$T/loop.err" || { cat "$T/loop.err" >&2; fail "docker-compose config (loopback)"; }
ok "docker-compose config: docker-compose.yml + docker-compose.loopback.yml"
check "no warnings from docker-compose config" test ! -s "$T/base.err" -a ! -s "$T/loop.err"

# Compose v2: the docker CLI plugin, or a standalone binary named by ESETCD_COMPOSE_V2.
if [[ -n ${ESETCD_COMPOSE_V2:-} ]]; then
  V2=("$ESETCD_COMPOSE_V2")
elif docker compose version >/dev/null 2>&1; then
  V2=(docker compose)
else
  V2=()
fi
if ((${#V2[@]})); then
  "${V2[@]}" -p "$RUN" "${BASE[@]}" config >"$T/base-v2.yml" 2>"$T/base-v2.err" ||
    { cat "$T/base-v2.err" >&2; fail "compose v2 config (base)"; }
  "${V2[@]}" -p "$RUN" "${LOOP[@]}" config >"$T/loop-v2.yml" 2>"$T/loop-v2.err" ||
    { cat "$T/loop-v2.err" >&2; fail "compose v2 config (loopback)"; }
  ok "compose v2 ($("${V2[@]}" version --short 2>/dev/null)) config: both layouts"
else
  printf 'note: no compose v2 on this machine (docker compose / ESETCD_COMPOSE_V2): v2 not checked\n'
fi

# yq-free inspection: docker-compose config prints normalised YAML; grep in a service's block.
service_block() { awk -v s="  $2:" '$0 == s { on = 1; next } on && /^  [a-z]/ { on = 0 } on' "$1"; }
for s in es1 es2 es3; do
  check "$s: built from the Dockerfile (build context = repo)" \
    grep -q "context: $ESETCD_ROOT" <<<"$(service_block "$T/base.yml" "$s")"
  check "$s: its own named volume at the data path" \
    grep -q "$s-data:/usr/share/elasticsearch/data" <<<"$(service_block "$T/base.yml" "$s")"
  check "$s: on the project's network (no network_mode) in the normal layout" \
    bash -c "! grep -q network_mode <<<'$(service_block "$T/base.yml" "$s")'"
done
own_bridge() { grep -A2 '^networks:' "$1" | grep -q 'driver: bridge'; }
check "the project declares its own bridge network" own_bridge "$T/base.yml"
check "official bases by default: docker.elastic.co ES, debian:bookworm builder, quay.io etcd" \
  grep -q 'ES_IMAGE: docker.elastic.co/elasticsearch/elasticsearch:' "$T/base.yml"
check "  ... builder" grep -q 'BUILDER_IMAGE: debian:bookworm' "$T/base.yml"
check "  ... etcd" grep -q 'image: quay.io/coreos/etcd:' "$T/base.yml"
ES_IMAGE=$ESETCD_IMAGE_PREFIX/elasticsearch:$ESETCD_ES8_VERSION BUILDER_IMAGE=$ESETCD_IMAGE_PREFIX/builder:bookworm \
  ETCD_IMAGE=$ETCD_IMAGE docker-compose -p "$RUN" "${BASE[@]}" config >"$T/local.yml"
check "the stand-ins when ES_IMAGE/BUILDER_IMAGE/ETCD_IMAGE say so" \
  grep -q "image: $ETCD_IMAGE" "$T/local.yml"

n=1
for s in es1 es2 es3; do
  n=$((n + 1))
  block=$(service_block "$T/loop.yml" "$s")
  check "loopback layout, $s: host network, binds and publishes 127.0.0.$n, health on it" \
    grep -q "network_mode: host" <<<"$block"
  check "  ... $s network.host" grep -q "network.host: 127.0.0.$n" <<<"$block"
  check "  ... $s ES_PUBLISH_HOST" grep -q "ES_PUBLISH_HOST: 127.0.0.$n" <<<"$block"
  check "  ... $s ES_HEALTH_URL" grep -q "ES_HEALTH_URL: http://127.0.0.$n:9200" <<<"$block"
  check "  ... $s etcd on loopback" grep -q "ETCD_ENDPOINTS: http://127.0.0.1:" <<<"$block"
done
check "loopback layout: etcd on the host network, listening on 127.0.0.1 only" \
  grep -q 'listen-client-urls=http://127.0.0.1:' <<<"$(service_block "$T/loop.yml" etcd)"

# The build section for real, with the stand-in bases (cached layers: seconds when warm).
image_under_test >/dev/null # ensures the engine and the stand-in bases
TAG=$RUN-image:compose
at_exit "docker rmi -f $TAG"
if ! ES_IMAGE=$ESETCD_IMAGE_PREFIX/elasticsearch:$ESETCD_ES8_VERSION \
  BUILDER_IMAGE=$ESETCD_IMAGE_PREFIX/builder:bookworm ES_ETCD_IMAGE=$TAG \
  docker-compose -p "$RUN" "${BASE[@]}" build es1 >"$T/build.log" 2>&1; then
  tail -n 30 "$T/build.log" >&2
  fail "docker-compose build es1"
fi
out=$(docker run --rm --name "$RUN-v" "$TAG" --version)
check "docker-compose build es1 made a working image: $out" grep -qE '^es-etcd-entrypoint [0-9]' <<<"$out"
pass_all
