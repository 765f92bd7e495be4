// Debian's libssl-dev (OpenSSL 3): TLS for the HTTP API over memory BIOs (Transport module).
// Swift cannot call OpenSSL's function-like macros, so the few this project needs are
// wrapped below as static inline functions with a `shoal_` prefix.
#ifndef SHOAL_COPENSSL_SHIM_H
#define SHOAL_COPENSSL_SHIM_H
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

static inline int shoal_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline long shoal_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline int shoal_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline int shoal_SSL_CTX_add1_chain_cert(SSL_CTX *ctx, X509 *certificate) {
    return (int)SSL_CTX_add1_chain_cert(ctx, certificate);
}

static inline int shoal_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return (int)SSL_CTX_set_session_cache_mode(ctx, mode);
}

/* Constants Swift imports poorly (macros built from other macros or casts). */
static const long shoal_SSL_MODE_RELEASE_BUFFERS = SSL_MODE_RELEASE_BUFFERS;
static const long shoal_SSL_SESS_CACHE_SERVER = SSL_SESS_CACHE_SERVER;
static const int shoal_TLS1_2_VERSION = TLS1_2_VERSION;
static const uint64_t shoal_SSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;

#endif
