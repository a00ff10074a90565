/* es-etcd-entrypoint: what the static binary's mbedTLS is built with (scripts/static-deps.sh
 * appends this file to mbedTLS's own include/mbedtls/mbedtls_config.h before building, so the
 * installed header describes the library as built and curl is compiled against the same layout).
 *
 * The entrypoint is a TLS client of two kinds of servers: etcd (Go's crypto/tls) and
 * Elasticsearch/OpenSearch (Java's JSSE). Both speak TLS 1.3 and 1.2 with ECDHE, AES-GCM or
 * ChaCha20-Poly1305, RSA, RSA-PSS or ECDSA certificates. Everything below only removes what no
 * such connection uses; TLS 1.2 and 1.3, the curves Go and Java offer by default (X25519, P-256,
 * P-384, P-521), PEM certificates and keys (RSA, EC, PKCS#1/#8) all stay. */

/* Several threads make TLS connections at once (the registrar's probe, the peer watch, the status
 * board never does TLS): mbedTLS's shared state, the PSA key store that TLS 1.3 uses among it,
 * must be locked. Debian builds its package the same way. */
#define MBEDTLS_THREADING_C
#define MBEDTLS_THREADING_PTHREAD

/* A client only: no server side, no session cache or ticket issuing, no DTLS. */
#undef MBEDTLS_SSL_SRV_C
#undef MBEDTLS_SSL_CACHE_C
#undef MBEDTLS_SSL_TICKET_C
#undef MBEDTLS_SSL_COOKIE_C
#undef MBEDTLS_SSL_PROTO_DTLS
#undef MBEDTLS_SSL_DTLS_ANTI_REPLAY
#undef MBEDTLS_SSL_DTLS_HELLO_VERIFY
#undef MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE
#undef MBEDTLS_SSL_DTLS_CONNECTION_ID
#undef MBEDTLS_SSL_CONTEXT_SERIALIZATION
#undef MBEDTLS_TIMING_C
#undef MBEDTLS_NET_C /* curl does its own I/O */
/* Neither Go nor JSSE servers start a renegotiation. */
#undef MBEDTLS_SSL_RENEGOTIATION

/* TLS 1.2 key exchanges: ECDHE with RSA or ECDSA certificates only. Static RSA and static ECDH
 * have no forward secrecy, finite-field DHE is off in Go, pre-shared keys and EC J-PAKE are not
 * how etcd or a node authenticates. */
#undef MBEDTLS_KEY_EXCHANGE_RSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_DHE_RSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDH_ECDSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDH_RSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_DHE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_RSA_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECJPAKE_ENABLED
#undef MBEDTLS_DHM_C
#undef MBEDTLS_ECJPAKE_C

/* Ciphers and modes no default suite of Go or JSSE uses. */
#undef MBEDTLS_ARIA_C
#undef MBEDTLS_CAMELLIA_C
#undef MBEDTLS_DES_C
#undef MBEDTLS_CCM_C
#undef MBEDTLS_NIST_KW_C
#undef MBEDTLS_CIPHER_MODE_CFB
#undef MBEDTLS_CIPHER_MODE_OFB
#undef MBEDTLS_CIPHER_MODE_XTS
#undef MBEDTLS_RIPEMD160_C
#undef MBEDTLS_SHA3_C
#undef MBEDTLS_PADLOCK_C

/* Curves neither offers by default. */
#undef MBEDTLS_ECP_DP_SECP192R1_ENABLED
#undef MBEDTLS_ECP_DP_SECP224R1_ENABLED
#undef MBEDTLS_ECP_DP_SECP192K1_ENABLED
#undef MBEDTLS_ECP_DP_SECP224K1_ENABLED
#undef MBEDTLS_ECP_DP_SECP256K1_ENABLED
#undef MBEDTLS_ECP_DP_BP256R1_ENABLED
#undef MBEDTLS_ECP_DP_BP384R1_ENABLED
#undef MBEDTLS_ECP_DP_BP512R1_ENABLED
#undef MBEDTLS_ECP_DP_CURVE448_ENABLED

/* Certificates are read, never written or requested; no CRL, PKCS#7 or hash-based signatures.
 * Keys are unencrypted PEM (the entrypoint has no key-password setting): no PKCS#5/#12 PBE. */
#undef MBEDTLS_X509_CRL_PARSE_C
#undef MBEDTLS_X509_CSR_PARSE_C
#undef MBEDTLS_X509_CSR_WRITE_C
#undef MBEDTLS_X509_CRT_WRITE_C
#undef MBEDTLS_X509_CREATE_C
#undef MBEDTLS_PEM_WRITE_C
#undef MBEDTLS_PKCS7_C
#undef MBEDTLS_PKCS5_C
#undef MBEDTLS_PKCS12_C
#undef MBEDTLS_LMS_C

/* No key generation, no persistent PSA keys, no self tests or feature-name table. */
#undef MBEDTLS_GENPRIME
#undef MBEDTLS_PSA_CRYPTO_STORAGE_C
#undef MBEDTLS_PSA_ITS_FILE_C
#undef MBEDTLS_SELF_TEST
#undef MBEDTLS_VERSION_FEATURES
