/*
 * tls.h: server-side TLS through OpenSSL memory BIOs, so the socket stays in
 * libuv's hands. TLS 1.2 and up, renegotiation off; TLS 1.2 offers only
 * ECDHE with AEAD ciphers (TLS 1.3 suites are all AEAD with ephemeral keys).
 */
#ifndef AM_COLLECTOR_TLS_H
#define AM_COLLECTOR_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/* OpenSSL names of the TLS 1.2 suites offered, strongest first (Mozilla "intermediate" minus DHE). */
#define TLS_TLS12_CIPHERS                                                                         \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                              \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                              \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/*
 * tls_ctx_create(cert_file, key_file, ret_err, err_size):
 * A server context for the PEM chain and key. Returns the context (free
 * with SSL_CTX_free; connections hold their own reference), or NULL with
 * the OpenSSL reason in ret_err.
 */
SSL_CTX *tls_ctx_create(const char *cert_file, const char *key_file, char *ret_err,
			size_t err_size);

enum tls_io {
	TLS_IO_OK,    /* progress or nothing more to do for now */
	TLS_IO_CLOSED,/* the peer sent close_notify */
	TLS_IO_FATAL, /* protocol error: drop the connection, no SSL_shutdown */
};

struct tls_conn {
	SSL *ssl;
	BIO *rbio, *wbio; /* owned by ssl */
	bool handshake_done;
	char error[128];
};

/* tls_conn_init(t, ctx): one connection's state. Returns 0 or -ENOMEM. */
int tls_conn_init(struct tls_conn *t, SSL_CTX *ctx);

/* tls_conn_finish(t): free the state; a zeroed or finished t is fine. */
void tls_conn_finish(struct tls_conn *t);

/*
 * tls_conn_feed(t, data, len, out, out_size, ret_out_len):
 * Give ciphertext from the socket to OpenSSL and read the plaintext it
 * yields into out (at most out_size bytes; call again with len 0 while
 * *ret_out_len == out_size). Handshake records to send back wait in the
 * write BIO: drain them with tls_conn_take_output.
 */
enum tls_io tls_conn_feed(struct tls_conn *t, const void *data, size_t len, char *out,
			  size_t out_size, size_t *ret_out_len);

/* tls_conn_write(t, data, len): encrypt plaintext into the write BIO. */
enum tls_io tls_conn_write(struct tls_conn *t, const void *data, size_t len);

/* tls_conn_shutdown(t): queue close_notify in the write BIO. */
void tls_conn_shutdown(struct tls_conn *t);

/* tls_conn_pending(t): ciphertext bytes waiting in the write BIO. */
size_t tls_conn_pending(struct tls_conn *t);

/* tls_conn_take_output(t, buf, size): move up to size pending bytes to buf. */
size_t tls_conn_take_output(struct tls_conn *t, char *buf, size_t size);

#endif
