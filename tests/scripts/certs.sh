#!/usr/bin/env bash
# scripts/certs.sh as a user runs it: the node certificates verify against the cluster CA and
# carry the promised subject, SANs, key usages, PKCS#8 keys and file modes; a second run keeps
# every file byte for byte and only adds the new node; an existing CA is never replaced; bad usage
# exits 2 and writes nothing. Negative twins: a certificate from another CA fails `openssl
# verify`, and a foreign certificate in DIR is refused, not kept.
# Works in its own temp dir, kept (and named) on failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CERTS=$HERE/../../scripts/certs.sh
# ok, fail, check and $CHECKS.
# shellcheck source=../checks.sh
source "$HERE/../checks.sh"

command -v openssl >/dev/null || fail "openssl is missing (Debian: apt-get install openssl)"
T=$(mktemp -d "${TMPDIR:-/tmp}/esetcd-certs-test.XXXXXX")
PASSED=0 # set at the very end; the exit trap keeps $T unless it is 1
trap '((PASSED)) && rm -rf "$T" || echo "test dir kept: $T" >&2' EXIT

# certs OUT ARGS... — runs the script, its stdout in $T/OUT.out, stderr in $T/OUT.err; status in RC.
RC=0
certs() {
  local out=$1
  shift
  RC=0
  bash "$CERTS" "$@" >"$T/$out.out" 2>"$T/$out.err" || RC=$?
}

verifies() { openssl verify -CAfile "$1" "$2" >/dev/null 2>&1; }
sans() { openssl x509 -in "$1" -noout -ext subjectAltName | sed -n '2p' | sed 's/^ *//'; }
subject() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'; }
eku() { openssl x509 -in "$1" -noout -ext extendedKeyUsage | sed -n '2p' | sed 's/^ *//'; }
mode() { stat -c %a "$1"; }
sums() { (cd "$1" && sha256sum -- *.crt *.key); }
pubkey_of_cert() { openssl x509 -in "$1" -noout -pubkey; }
pubkey_of_key() { openssl pkey -in "$1" -pubout; }

# --- first run ---------------------------------------------------------------------------------
D=$T/certs
certs first --admin "$D" node-1 node-2=10.0.0.5,es-2.example.net
check "first run exits 0 (got $RC: $(head -c 300 "$T/first.err"))" test "$RC" = 0
check "it reports the CA, both nodes and the admin as created" \
  test "$(grep -c '^created ' "$T/first.out")" = 4
for name in ca node-1 node-2 admin; do
  check "$name.crt verifies against ca.crt" verifies "$D/ca.crt" "$D/$name.crt"
  check "$name.key is unencrypted PKCS#8 ($(head -n 1 "$D/$name.key"))" \
    test "$(head -n 1 "$D/$name.key")" = "-----BEGIN PRIVATE KEY-----"
  check "$name.key belongs to $name.crt" \
    test "$(pubkey_of_cert "$D/$name.crt")" = "$(pubkey_of_key "$D/$name.key")"
  check "$name.crt is mode 0644 (got $(mode "$D/$name.crt"))" test "$(mode "$D/$name.crt")" = 644
done
for name in node-1 node-2 admin; do
  check "$name.key is mode 0640 (got $(mode "$D/$name.key"))" test "$(mode "$D/$name.key")" = 640
done
check "ca.key is mode 0600, readable by no container (got $(mode "$D/ca.key"))" \
  test "$(mode "$D/ca.key")" = 600

check "node-1's SANs are the defaults ($(sans "$D/node-1.crt"))" \
  test "$(sans "$D/node-1.crt")" = "DNS:node-1, DNS:localhost, IP Address:127.0.0.1"
check "node-2's SANs add the given IP and name ($(sans "$D/node-2.crt"))" \
  test "$(sans "$D/node-2.crt")" = \
  "DNS:node-2, DNS:localhost, IP Address:127.0.0.1, IP Address:10.0.0.5, DNS:es-2.example.net"
check "node-2's subject is CN=node-2,OU=nodes,O=es-etcd-entrypoint ($(subject "$D/node-2.crt"))" \
  test "$(subject "$D/node-2.crt")" = "CN=node-2,OU=nodes,O=es-etcd-entrypoint"
check "node-2 serves and is a client ($(eku "$D/node-2.crt"))" \
  test "$(eku "$D/node-2.crt")" = "TLS Web Server Authentication, TLS Web Client Authentication"
check "admin's subject is CN=admin,OU=admins,O=es-etcd-entrypoint ($(subject "$D/admin.crt"))" \
  test "$(subject "$D/admin.crt")" = "CN=admin,OU=admins,O=es-etcd-entrypoint"
check "the CA is a CA" grep -q 'CA:TRUE' <<<"$(openssl x509 -in "$D/ca.crt" -noout -text)"
check "a node certificate is not a CA" grep -q 'CA:FALSE' <<<"$(openssl x509 -in "$D/node-1.crt" -noout -text)"
check "no work files are left in DIR ($(find "$D" -mindepth 1 -printf '%f ' | sort))" \
  test "$(find "$D" -mindepth 1 -name '.*' | wc -l)" = 0

# --- second run: idempotent, adds a node -------------------------------------------------------
sums "$D" >"$T/before.sum"
certs second --admin "$D" node-1 node-2=10.0.0.5,es-2.example.net node-3=10.0.0.6
check "second run exits 0 (got $RC: $(head -c 300 "$T/second.err"))" test "$RC" = 0
check "CA, node-1, node-2 and admin files are byte-identical" \
  bash -c "cd '$D' && sha256sum --quiet -c '$T/before.sum'"
check "it reports 4 pairs kept and node-3 created" \
  test "$(grep -c '^kept ' "$T/second.out")" = 4 -a "$(grep -c "^created $D/node-3.crt" "$T/second.out")" = 1
check "node-3.crt verifies against the same ca.crt" verifies "$D/ca.crt" "$D/node-3.crt"
check "node-3's SANs ($(sans "$D/node-3.crt"))" \
  test "$(sans "$D/node-3.crt")" = "DNS:node-3, DNS:localhost, IP Address:127.0.0.1, IP Address:10.0.0.6"

certs third "$D" node-1=10.9.9.9
check "a kept certificate that lacks an asked SAN: exit 0, a warning naming the SAN" \
  test "$RC" = 0 -a -n "$(grep 'node-1.crt lacks IP:10.9.9.9' "$T/third.err")"
check "... and node-1 is still byte-identical" bash -c "cd '$D' && sha256sum --quiet -c '$T/before.sum'"

# --- an existing CA is never replaced -----------------------------------------------------------
E=$T/existing
mkdir -p "$E"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=a CA made elsewhere" \
  -keyout "$E/ca.key" -out "$E/ca.crt" >"$T/openssl.log" 2>&1
sha256sum "$E/ca.crt" "$E/ca.key" >"$T/existing.sum"
certs existing "$E" node-1
check "with a CA made elsewhere: exit 0 (got $RC: $(head -c 300 "$T/existing.err"))" test "$RC" = 0
check "that CA is byte-identical" sha256sum --quiet -c "$T/existing.sum"
check "the new node certificate hangs on it" verifies "$E/ca.crt" "$E/node-1.crt"

H=$T/half
mkdir -p "$H"
cp "$E/ca.crt" "$H/ca.crt"
certs half "$H" node-1
check "ca.crt without ca.key: exit 1, names the missing file (got $RC: $(cat "$T/half.err"))" \
  test "$RC" = 1 -a -n "$(grep 'ca.key' "$T/half.err")"
check "... ca.crt untouched, no key, no node made" \
  bash -c "cmp -s '$E/ca.crt' '$H/ca.crt' && test ! -e '$H/ca.key' -a ! -e '$H/node-1.crt'"

# --- negative twins: another CA ------------------------------------------------------------------
O=$T/other
certs other "$O" node-1
check "another DIR gets its own CA (exit $RC)" test "$RC" = 0
check "that CA differs" bash -c "! cmp -s '$D/ca.crt' '$O/ca.crt'"
if verifies "$D/ca.crt" "$O/node-1.crt"; then
  fail "a node certificate from another CA verifies against ours: the verify check proves nothing"
fi
ok "a node certificate from another CA fails openssl verify against ours"

F=$T/foreign
mkdir -p "$F"
cp "$D/ca.crt" "$D/ca.key" "$F/"
cp "$O/node-1.crt" "$O/node-1.key" "$F/"
certs foreign "$F" node-1
check "a node certificate from another CA in DIR is refused, not kept (exit $RC)" \
  test "$RC" = 1 -a -n "$(grep 'not signed by' "$T/foreign.err")"

# --- bad usage: exit 2, nothing written ----------------------------------------------------------
U=$T/usage
for args in "" "$U" "--bogus $U node-1" "$U ca" "$U admin" "$U node-1=" "$U node-1=a,,b" \
  "$U node_1" "$U node-1=bad_name"; do
  # shellcheck disable=SC2086 # word splitting is the point: each string is one command line
  certs usage $args
  check "bad usage '${args//$T/\$T}' exits 2 with a usage text (got $RC)" \
    test "$RC" = 2 -a -n "$(grep -m 1 '^usage: ' "$T/usage.err")"
  check "... and writes nothing" test ! -e "$U"
done
certs help --help
check "--help exits 0 and shows the usage on stdout" test "$RC" = 0 -a -n "$(grep '^usage: ' "$T/help.out")"

# shellcheck disable=SC2034 # read by the exit trap
PASSED=1
echo "PASS: $CHECKS checks"
