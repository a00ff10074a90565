#!/usr/bin/env bash
# Where the bytes of the static binary come from: sums the input sections of a GNU ld link map
# (the static build writes es-etcd-entrypoint.map next to the binary) by the library each came
# from. Counts what is loaded from the file (code, read-only data, unwind tables, initialised
# data), not .bss/.tbss, which take no file space, nor the symbol and debug sections that strip
# removes: the total is close to the size of the stripped binary (the rest is ELF headers and
# alignment between segments).
#
# Usage: bench/size.sh MAPFILE [UNSTRIPPED_BINARY]
#   With the binary, also lists the 12 largest symbols of each of the TLS library, Poco, curl and
#   ours (nm --size-sort -S, demangled), for the analysis in bench/README.md.
set -euo pipefail

map=${1:?usage: bench/size.sh MAPFILE [UNSTRIPPED_BINARY]}
bin=${2:-}
[[ -f $map ]] || {
  echo "size.sh: no such map: $map" >&2
  exit 2
}

# hex S — the value of a 0x... string (POSIX awk: mawk has no strtonum); group FILE — the
# contributor an input file belongs to.
functions='
function hex(s,   i, n) {
  n = 0
  s = tolower(s)
  sub(/^0x/, "", s)
  for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
  return n
}
function group(f) {
  if (f ~ /libesetcd\.a|\/entrypoint\/|main\.cpp\.o/) return "ours (entrypoint/)"
  if (f ~ /libPoco[A-Za-z]+\.a/) { sub(/.*libPoco/, "", f); sub(/\.a.*/, "", f); return "Poco " f }
  if (f ~ /libcurl\.a/) return "libcurl"
  if (f ~ /libssl\.a/) return "OpenSSL libssl"
  if (f ~ /libcrypto\.a/) return "OpenSSL libcrypto"
  if (f ~ /libmbed(tls|x509|crypto)\.a/) return "mbedTLS"
  if (f ~ /libstdc\+\+|libsupc\+\+/) return "libstdc++"
  if (f ~ /libgcc|crtbegin|crtend/) return "libgcc"
  if (f ~ /\/lib(c|m|m-[0-9.]+|mvec|pthread|dl|rt)\.a|\/crt[1in]\.o/) return "glibc"
  return "other"
}'

awk "$functions"'
  /^Linker script and memory map/ { on = 1; next }
  !on { next }
  # An output section: its name starts in column 1. Only what occupies file space counts.
  /^\.[^ ]/ {
    out = $1
    counted = (out !~ /^\.(bss|tbss|comment|debug|note\.stapsdt|gnu_debug|stab)/)
    pending = ""
    next
  }
  !counted { next }
  # An input section on one line: " .text.foo  0xADDR  0xSIZE  FILE".
  /^ [^ *]/ && NF >= 4 && $2 ~ /^0x/ && $3 ~ /^0x/ { add($4, $3); pending = ""; next }
  # A long input section name alone on its line; address, size and file follow on the next.
  /^ [^ *]/ && NF == 1 { pending = $1; next }
  pending != "" && /^ +0x/ && NF >= 3 && $2 ~ /^0x/ { add($3, $2); pending = ""; next }
  /^ \*fill\*/ && $3 ~ /^0x/ { fill += hex($3); next }
  function add(file, size,   n, g) {
    n = hex(size)
    if (n == 0) return
    g = group(file)
    bytes[g] += n
    if (out ~ /^\.(text|init|fini|plt|iplt)/) code[g] += n
    total += n
  }
  END {
    bytes["(alignment padding)"] += fill
    total += fill
    printf "%-22s %10s %10s %7s\n", "contributor", "KiB", "code KiB", "share"
    # Largest first: sort(1) on the byte count, which is cut off again below.
    for (g in bytes)
      printf "%d\t%-22s %10.1f %10.1f %6.1f%%\n", bytes[g], g, bytes[g] / 1024, code[g] / 1024,
        100 * bytes[g] / total | "sort -rn | cut -f2-"
    close("sort -rn | cut -f2-")
    printf "%-22s %10.1f\n", "total (file-backed)", total / 1024
  }' "$map"

[[ -n $bin ]] || exit 0
[[ -f $bin ]] || {
  echo "size.sh: no such binary: $bin" >&2
  exit 2
}
printf '\nlargest symbols (nm --size-sort -S -C, bytes)\n'
nm --size-sort -S -C "$bin" | awk "$functions"'
  { size = hex($2); $1 = $2 = $3 = ""; name = substr($0, 4) }
  name ~ /^Poco::/ { g = "Poco" }
  name ~ /^(Curl_|curl_|Curl)/ { g = "curl" }
  name ~ /^(mbedtls_|psa_|MBEDTLS_)/ { g = "TLS" }
  name ~ /^(EVP_|ossl_|OSSL_|BN_|EC_|RSA_|X509|ASN1_|SSL_|tls_|ssl_|bn_|ec_|aes|sha|ChaCha|poly1305|ecp_nistz256)/ { g = "TLS" }
  name ~ /^esetcd::/ { g = "ours" }
  { if (g != "") { n[g]++; s[g, n[g]] = size; nm[g, n[g]] = name } g = "" }
  END {
    split("TLS Poco curl ours", order, " ")
    for (k = 1; k <= 4; k++) {
      g = order[k]
      printf "  %s:\n", g
      for (i = n[g]; i > n[g] - 12 && i > 0; i--) printf "    %8d  %s\n", s[g, i], substr(nm[g, i], 1, 100)
    }
  }'
