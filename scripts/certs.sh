#!/usr/bin/env bash
# Makes the certificates of a secured cluster: one cluster CA and one certificate per node that
# serves both the transport and the HTTP layer (and etcd's client-cert-auth).
#
# Usage: scripts/certs.sh [--admin] DIR NODE[=SAN[,SAN...]] ...
#
#   DIR/ca.crt, DIR/ca.key      the cluster CA: created once, NEVER overwritten (every node
#                               certificate hangs on it; a new CA would cut off the running nodes)
#   DIR/NODE.crt, DIR/NODE.key  subject CN=NODE,OU=nodes,O=es-etcd-entrypoint; SANs DNS:NODE,
#                               DNS:localhost, IP:127.0.0.1 and the given SANs (addresses as IP:,
#                               names as DNS:); extendedKeyUsage serverAuth+clientAuth. An existing
#                               pair is kept as it is: running the same command again is a no-op.
#   --admin                     also DIR/admin.crt, DIR/admin.key (CN=admin,OU=admins,
#                               O=es-etcd-entrypoint; clientAuth) for OpenSearch's
#                               plugins.security.authcz.admin_dn
#
# Keys are unencrypted PKCS#8 PEM (OpenSearch reads nothing else), RSA 2048. Certificates are
# 0644, node keys 0640 (the container runs as uid 1000, gid 0), the CA key 0600: nothing in a
# container needs it, so a node that mounts DIR cannot read it. Prints one line per file pair,
# "created ..." or "kept ...", on stdout. Exit status: 0 done, 1 failure, 2 bad usage.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CA_DAYS=3650
NODE_DAYS=1095
ORG=es-etcd-entrypoint

# usage [STATUS] — the usage text; on stderr for bad usage (2), on stdout for --help (0).
usage() {
  local status=${1:-2}
  ((status == 0)) || exec >&2
  cat <<EOF
usage: $0 [--admin] DIR NODE[=SAN[,SAN...]] ...

Makes DIR/ca.crt + DIR/ca.key once (never overwritten) and DIR/NODE.crt + DIR/NODE.key for each
NODE that has none yet. Each node certificate names DNS:NODE, DNS:localhost, IP:127.0.0.1 and the
given SANs (IP addresses or DNS names), for serverAuth and clientAuth.
  --admin   also DIR/admin.crt + DIR/admin.key (CN=admin,OU=admins,O=$ORG)

example: $0 ./certs es-1=10.0.0.5,es-1.example.net es-2=10.0.0.6
EOF
  exit "$status"
}

bad_usage() {
  printf '%s: %s\n' "$0" "$*" >&2
  usage
}

# The SAN entry for one word: an IPv4 or IPv6 address becomes IP:, a host name DNS:. Empty when
# the word is neither.
san_entry() {
  local word=$1
  if [[ $word =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; then
    printf 'IP:%s' "$word"
  elif [[ $word == *:* && $word =~ ^[0-9A-Fa-f:.]+$ ]]; then
    printf 'IP:%s' "$word"
  elif [[ $word =~ ^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$ ]]; then
    printf 'DNS:%s' "$word"
  fi
}

# A node name is a file name in DIR and a DNS name in the certificate.
valid_node_name() {
  [[ $1 =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]
}

quiet_openssl() {
  openssl "$@" >>"$WORK/openssl.log" 2>&1 || {
    cat "$WORK/openssl.log" >&2
    die "openssl $1 failed"
  }
}

# new_key PATH — an unencrypted RSA key in PKCS#8 ("BEGIN PRIVATE KEY"), whatever the openssl
# version (1.1's genrsa would write PKCS#1).
new_key() {
  quiet_openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"
}

serial() {
  printf '0x%s' "$(openssl rand -hex 16)"
}

# A minimal configuration: the distro's openssl.cnf may ask for fields or add extensions.
write_config() {
  cat >"$WORK/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
}

# install_pair NAME — links the pair made in $WORK into DIR without replacing anything there:
# `ln` fails when the name exists, so even a concurrent run cannot overwrite a file.
install_pair() {
  local name=$1
  chmod 0644 "$WORK/$name.crt"
  if [[ $name == ca ]]; then chmod 0600 "$WORK/$name.key"; else chmod 0640 "$WORK/$name.key"; fi
  ln "$WORK/$name.key" "$DIR/$name.key" || die "$DIR/$name.key appeared meanwhile; not replaced"
  ln "$WORK/$name.crt" "$DIR/$name.crt" || die "$DIR/$name.crt appeared meanwhile; not replaced"
}

ensure_ca() {
  if [[ -e $DIR/ca.crt && -e $DIR/ca.key ]]; then
    openssl x509 -in "$DIR/ca.crt" -noout 2>/dev/null || die "$DIR/ca.crt is not a certificate"
    printf 'kept %s/ca.crt\n' "$DIR"
    return
  fi
  if [[ -e $DIR/ca.crt || -e $DIR/ca.key ]]; then
    die "$DIR holds only one of ca.crt and ca.key; a CA is never replaced: restore the other" \
      "file, or use another DIR"
  fi
  local existing
  existing=$(find "$DIR" -maxdepth 1 -name '*.crt' -print -quit)
  [[ -z $existing ]] ||
    die "$DIR has certificates ($existing) but no CA; a new CA would not match them: use another DIR"
  new_key "$WORK/ca.key"
  quiet_openssl req -new -x509 -config "$WORK/openssl.cnf" -extensions ca -sha256 \
    -key "$WORK/ca.key" -subj "/O=$ORG/CN=$ORG cluster CA" -days "$CA_DAYS" \
    -set_serial "$(serial)" -out "$WORK/ca.crt"
  install_pair ca
  printf 'created %s/ca.crt (cluster CA, %s days)\n' "$DIR" "$CA_DAYS"
}

# sans_of CERT — its SANs as "DNS:a,IP:1.2.3.4" (openssl prints "IP Address:").
sans_of() {
  openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null |
    sed -n '2,$p' | tr -d ' ' | sed 's/IPAddress:/IP:/g' | tr '\n' ',' | sed 's/,$//'
}

# keep_pair NAME SANS — an existing pair stays; says so, and warns when it cannot serve as asked.
keep_pair() {
  local name=$1 wanted=$2 have san
  [[ -e $DIR/$name.key ]] ||
    die "$DIR/$name.crt exists without $DIR/$name.key: remove $name.crt to make a new pair"
  openssl verify -CAfile "$DIR/ca.crt" "$DIR/$name.crt" >/dev/null 2>&1 ||
    die "$DIR/$name.crt is not signed by $DIR/ca.crt (or has expired): remove $name.crt and" \
      "$name.key to make a new pair"
  openssl x509 -in "$DIR/$name.crt" -noout -checkend $((30 * 86400)) >/dev/null ||
    say "warning: $DIR/$name.crt expires within 30 days; remove $name.crt and $name.key and run again"
  have=$(sans_of "$DIR/$name.crt")
  local wanted_sans=()
  IFS=, read -ra wanted_sans <<<"$wanted"
  for san in "${wanted_sans[@]}"; do
    [[ ,$have, == *,"$san",* ]] ||
      say "warning: kept $DIR/$name.crt lacks $san; remove $name.crt and $name.key to reissue it"
  done
  printf 'kept %s/%s.crt%s\n' "$DIR" "$name" "${have:+ ($have)}"
}

# make_pair NAME SUBJECT EKU [SANS] — a key and a certificate signed by the cluster CA.
make_pair() {
  local name=$1 subject=$2 eku=$3 sans=${4:-}
  {
    printf 'basicConstraints = critical,CA:FALSE\n'
    printf 'keyUsage = critical,digitalSignature,keyEncipherment\n'
    printf 'extendedKeyUsage = %s\n' "$eku"
    printf 'subjectKeyIdentifier = hash\n'
    printf 'authorityKeyIdentifier = keyid\n'
    [[ -z $sans ]] || printf 'subjectAltName = %s\n' "$sans"
  } >"$WORK/$name.ext"
  new_key "$WORK/$name.key"
  quiet_openssl req -new -config "$WORK/openssl.cnf" -key "$WORK/$name.key" -subj "$subject" \
    -out "$WORK/$name.csr"
  quiet_openssl x509 -req -sha256 -in "$WORK/$name.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" \
    -set_serial "$(serial)" -days "$NODE_DAYS" -extfile "$WORK/$name.ext" -out "$WORK/$name.crt"
  install_pair "$name"
  printf 'created %s/%s.crt%s\n' "$DIR" "$name" "${sans:+ ($sans)}"
}

# ensure_pair NAME SUBJECT EKU [SANS]
ensure_pair() {
  if [[ -e $DIR/$1.crt ]]; then
    keep_pair "$1" "${4:-}"
  elif [[ -e $DIR/$1.key ]]; then
    die "$DIR/$1.key exists without $DIR/$1.crt: remove it to make a new pair"
  else
    make_pair "$@"
  fi
}

# node_sans NODE EXTRA — "DNS:NODE,DNS:localhost,IP:127.0.0.1" plus EXTRA's entries, no repeats.
node_sans() {
  local node=$1 words=() word entry list
  list="DNS:$node,DNS:localhost,IP:127.0.0.1"
  IFS=, read -ra words <<<"$2"
  for word in "${words[@]}"; do
    entry=$(san_entry "$word")
    [[ ,$list, == *,"$entry",* ]] || list+=",$entry"
  done
  printf '%s' "$list"
}

main() {
  local admin=0 args=()
  while (($#)); do
    case $1 in
      --admin) admin=1 ;;
      -h | --help) usage 0 ;;
      --) shift && args+=("$@") && break ;;
      -*) bad_usage "unknown option '$1'" ;;
      *) args+=("$1") ;;
    esac
    shift
  done
  ((${#args[@]} >= 1)) || bad_usage "no DIR given"
  DIR=${args[0]%/}
  [[ -n $DIR ]] || DIR=/
  local specs=("${args[@]:1}")
  ((${#specs[@]} > 0 || admin)) || bad_usage "no NODE given (and no --admin): nothing to make"

  # Check every argument before anything is written.
  local spec node extra words word
  for spec in "${specs[@]}"; do
    node=${spec%%=*}
    valid_node_name "$node" ||
      bad_usage "bad NODE '$node' in '$spec': letters, digits, '.' and '-' (it becomes a DNS SAN)"
    [[ $node != ca ]] || bad_usage "NODE 'ca' is reserved: DIR/ca.crt is the cluster CA"
    [[ $node != admin ]] || bad_usage "NODE 'admin' is reserved: DIR/admin.crt is --admin's"
    if [[ $spec == *=* ]]; then
      extra=${spec#*=}
      [[ -n $extra && $extra != ,* && $extra != *, && $extra != *,,* ]] ||
        bad_usage "empty SAN in '$spec'"
      IFS=, read -ra words <<<"$extra"
      for word in "${words[@]}"; do
        [[ -n $(san_entry "$word") ]] ||
          bad_usage "bad SAN '$word' in '$spec': an IP address or a DNS name"
      done
    fi
  done

  if ! command -v openssl >/dev/null; then need_apt openssl; fi
  mkdir -p "$DIR"
  [[ -d $DIR && -w $DIR ]] || die "$DIR is not a writable directory"
  DIR=$(cd "$DIR" && pwd)
  # One run at a time per DIR: a CA key from one run and its certificate from another would not
  # match.
  exec 9<"$DIR"
  flock -w 60 9 || die "another run holds $DIR for over 60 s"
  umask 077
  WORK=$(mktemp -d "$DIR/.certs.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  write_config

  ensure_ca
  for spec in "${specs[@]}"; do
    node=${spec%%=*}
    extra=
    [[ $spec != *=* ]] || extra=${spec#*=}
    ensure_pair "$node" "/O=$ORG/OU=nodes/CN=$node" serverAuth,clientAuth \
      "$(node_sans "$node" "$extra")"
  done
  ((!admin)) || ensure_pair admin "/O=$ORG/OU=admins/CN=admin" clientAuth
}

main "$@"
