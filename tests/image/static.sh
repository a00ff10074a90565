#!/usr/bin/env bash
# The shipped static binary (scripts/build-static.sh), on its own:
#   - `file` calls it statically linked, `ldd` not dynamic; stripped size within the 7 MB budget;
#   - --version exits 0, a bad setting exits 2 naming the variable;
#   - in a root holding nothing but the binary, etc/hosts, etc/resolv.conf (and a CA file), run
#     with `env -i chroot`: it reads a real etcd (Debian's etcd-server on free loopback ports) over
#     HTTP (v3 and v2) and HTTPS (throwaway CA), finds the CA at each probed path of
#     Debian/Ubuntu/Wolfi, RHEL/UBI and Alpine, and ETCD_CA_FILE overrides the probe; without a
#     CA (or with the wrong one) HTTPS must fail: the negative twins.
# The command it supervises is the binary itself with --version, which exits at once, so each
# run ends without Elasticsearch.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# bytes: "7 MB". When it was set (issue 13): 6,538,440 with the status server, 7,308,808 without
# --gc-sections; about 7 % of headroom for Debian updates of OpenSSL and glibc.
SIZE_BUDGET=7000000

need_apt file binutils openssl etcd-server etcd-client curl coreutils
need_cmd file ldd strip chroot env openssl etcd etcdctl curl
CHROOT=$(command -v chroot)
BIN=$(static_binary)
[[ -x $BIN ]] || fail "no binary at '$BIN'"

# --- the file itself ---------------------------------------------------------------------------
check "file says statically linked: $(file -b "$BIN" | cut -d, -f1-4)" \
  grep -q 'statically linked' <<<"$(file -b "$BIN")"
ldd_out=$(ldd "$BIN" 2>&1 || true)
check "ldd says not dynamic ($ldd_out)" grep -q 'not a dynamic executable' <<<"$ldd_out"
size=$(stat -c %s "$BIN")
check "stripped size $size bytes ($(numfmt --to=iec "$size")) <= $SIZE_BUDGET" test "$size" -le "$SIZE_BUDGET"
printf 'size: es-etcd-entrypoint stripped = %s bytes\n' "$size"

# --- an empty root -----------------------------------------------------------------------------
ROOT=$T/root
mkdir -p "$ROOT/etc" "$ROOT/tmp"
chmod 1777 "$ROOT/tmp"
install -m 0755 "$BIN" "$ROOT/es-etcd-entrypoint"
printf '127.0.0.1 localhost\n' >"$ROOT/etc/hosts"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

# in_root OUT_FILE ARGS... — the binary in the empty root with an empty environment plus the
# NAME=VALUE words before the first argument that does not look like one. Status in RC.
RC=0
in_root() {
  local out=$1 envs=()
  shift
  while (($#)) && [[ $1 == [A-Z]*=* ]]; do
    envs+=("$1")
    shift
  done
  # No state from an earlier run: the peer cache would supply seed hosts without etcd.
  find "$ROOT/tmp" -mindepth 1 -delete
  RC=0
  timeout 30 env -i "${envs[@]}" "$CHROOT" "$ROOT" /es-etcd-entrypoint "$@" >"$out" 2>&1 || RC=$?
}

in_root "$T/version.out" --version
check "--version exits 0 in the empty root ($(head -c 60 "$T/version.out"))" \
  test "$RC" = 0 -a -n "$(grep -E '^es-etcd-entrypoint [0-9]' "$T/version.out")"
in_root "$T/bad.out" ETCD_TTL=1 ES_VERSION=8.15.0
check "a bad setting (ETCD_TTL=1) exits 2 and names the variable (got $RC)" \
  test "$RC" = 2 -a -n "$(grep ETCD_TTL "$T/bad.out")"
in_root "$T/bad2.out" ETCD_TTL=1 ETCD_ENDPOINTS=ftp://x ES_VERSION=8.15.0
check "every bad setting is reported at once, exit 2 (got $RC)" \
  test "$RC" = 2 -a "$(grep -c -e ETCD_TTL -e ETCD_ENDPOINTS "$T/bad2.out")" -ge 2
in_root "$T/missing.out" ES_VERSION=8.15.0 ES_PUBLISH_HOST=127.0.0.1 ES_PATH_CONF=/tmp \
  STATE_DIR=/tmp ETCD_ENDPOINTS=http://127.0.0.1:1 ETCD_START_TIMEOUT=0 -- /no/such/program
check "a missing command exits 127 (got $RC)" test "$RC" = 127

# --- a real etcd, HTTP and HTTPS ---------------------------------------------------------------
PKI=$T/pki
mkdir -p "$PKI"
openssl_quiet() { openssl "$@" >>"$T/openssl.log" 2>&1 || fail "openssl $1 failed (see $T/openssl.log)"; }
# make_ca NAME — a throwaway CA.
make_ca() {
  openssl_quiet req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=es-etcd-entrypoint test $1" \
    -keyout "$PKI/$1.key" -out "$PKI/$1.crt"
}
make_ca ca
make_ca other-ca
openssl_quiet req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$PKI/server.key" -out "$PKI/server.csr"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$PKI/ext.cnf"
openssl_quiet x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
  -days 2 -extfile "$PKI/ext.cnf" -out "$PKI/server.crt"
ok "throwaway CA and server certificate (localhost, 127.0.0.1) generated"

HTTP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
PEER_PORT=$(free_port)
[[ $HTTP_PORT != "$HTTPS_PORT" && $HTTP_PORT != "$PEER_PORT" && $HTTPS_PORT != "$PEER_PORT" ]] ||
  fail "port picker returned a duplicate"
etcd --name "$RUN" --data-dir "$T/etcd" --enable-v2=true \
  --listen-client-urls "http://127.0.0.1:$HTTP_PORT,https://127.0.0.1:$HTTPS_PORT" \
  --advertise-client-urls "http://127.0.0.1:$HTTP_PORT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "$RUN=http://127.0.0.1:$PEER_PORT" \
  --cert-file "$PKI/server.crt" --key-file "$PKI/server.key" >"$T/etcd.log" 2>&1 &
ETCD_PID=$!
at_exit "kill $ETCD_PID; wait $ETCD_PID"
ec() { ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:$HTTP_PORT" "$@"; }
wait_for 30 "etcd answers on 127.0.0.1:$HTTP_PORT" ec endpoint health
ok "etcd $(etcd --version | head -n 1 | awk '{print $3}') up on http :$HTTP_PORT and https :$HTTPS_PORT"

# One registration in each keyspace (v3 and v2 are separate in etcd 3.4).
reg='{"http_port":9200,"transport_port":9300,"host":"127.0.0.9","node_name":"peer-9"}'
ec put /services/elasticsearch/127.0.0.9 "$reg" >/dev/null
curl -fsS -X PUT "http://127.0.0.1:$HTTP_PORT/v2/keys/services/elasticsearch/127.0.0.10" \
  --data-urlencode "value=$reg" >/dev/null
ok "one registration put in the v3 and one in the v2 keyspace"

# DISCOVERY=on: the command here is the binary itself (--version), which auto would only supervise.
COMMON=(DISCOVERY=on ES_VERSION=8.15.0 ES_PUBLISH_HOST=127.0.0.1 ES_PATH_CONF=/tmp STATE_DIR=/tmp ETCD_START_TIMEOUT=0)
# reads_etcd LABEL PEER ENV... — the run read the registration of PEER from etcd: PEER's address
# exists only there (127.0.0.9 only in the v3 keyspace, 127.0.0.10 only in v2), and the seed
# hosts the entrypoint logs come from what it read.
reads_etcd() {
  local label=$1 peer=$2
  shift 2
  in_root "$T/$label.out" "${COMMON[@]}" "$@" -- /es-etcd-entrypoint --version
  grep -q "seed hosts \[.*$peer:9300" "$T/$label.out" && test "$RC" = 0 &&
    ! grep -q 'cached peers\|did not answer' "$T/$label.out"
}
# cannot_read LABEL ENV... — the run must not have read etcd (and must say why).
cannot_read() {
  local label=$1
  shift
  in_root "$T/$label.out" "${COMMON[@]}" "$@" -- /es-etcd-entrypoint --version
  ! grep -q '127.0.0.9:9300' "$T/$label.out" && grep -qi 'certificate\|SSL' "$T/$label.out"
}

check "empty root, HTTP, v3 gateway: read the registration" \
  reads_etcd http-v3 127.0.0.9 "ETCD_ENDPOINTS=http://127.0.0.1:$HTTP_PORT"
check "empty root, HTTP, v2 keys API: read the registration" \
  reads_etcd http-v2 127.0.0.10 "ETCD_ENDPOINTS=http://127.0.0.1:$HTTP_PORT" ETCD_API=v2

HTTPS_URL=https://localhost:$HTTPS_PORT # the name comes from the root's etc/hosts
check "empty root, HTTPS, no CA file anywhere: refused (negative twin)" \
  cannot_read https-no-ca "ETCD_ENDPOINTS=$HTTPS_URL"
for path in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
  mkdir -p "$ROOT$(dirname "$path")"
  cp "$PKI/ca.crt" "$ROOT$path"
  check "empty root, HTTPS via etc/hosts, CA probed at $path: read the registration" \
    reads_etcd "https-$(basename "$path")" 127.0.0.9 "ETCD_ENDPOINTS=$HTTPS_URL"
  rm -rf "${ROOT:?}/etc/ssl" "${ROOT:?}/etc/pki"
done

mkdir -p "$ROOT/certs"
cp "$PKI/ca.crt" "$ROOT/certs/etcd-ca.pem"
check "empty root, HTTPS, ETCD_CA_FILE=/certs/etcd-ca.pem (not a probed path): read the registration" \
  reads_etcd https-ca-file 127.0.0.9 "ETCD_ENDPOINTS=$HTTPS_URL" ETCD_CA_FILE=/certs/etcd-ca.pem
mkdir -p "$ROOT/etc/ssl/certs"
cp "$PKI/ca.crt" "$ROOT/etc/ssl/certs/ca-certificates.crt"
cp "$PKI/other-ca.crt" "$ROOT/certs/other-ca.pem"
check "empty root, HTTPS, ETCD_CA_FILE names a wrong CA while the probed path has the right one: refused (the setting wins)" \
  cannot_read https-wrong-ca "ETCD_ENDPOINTS=$HTTPS_URL" ETCD_CA_FILE=/certs/other-ca.pem

check "the root still holds nothing but the binary, etc/hosts, etc/resolv.conf, CA files and tmp/" \
  test -z "$(cd "$ROOT" && find . -type f ! -path ./es-etcd-entrypoint ! -path ./etc/hosts \
    ! -path ./etc/resolv.conf ! -name '*.pem' ! -name '*.crt' ! -path './tmp/*')"
pass_all
