/* tls.c: OpenSSL with memory BIOs; see tls.h. */
#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void
error_text(char *buf, size_t size, const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[256] = "unknown error";

	if (e != 0) {
		ERR_error_string_n(e, reason, sizeof(reason));
	}
	snprintf(buf, size, "%s: %s", what, reason);
	ERR_clear_error();
}

SSL_CTX *
tls_ctx_create(const char *cert_file, const char *key_file, char *ret_err, size_t err_size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		error_text(ret_err, err_size, "could not create TLS context");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		error_text(ret_err, err_size, "could not require TLS 1.2");
		goto fail;
	}
	/* TLS 1.2: forward secrecy and AEAD only (no RSA key exchange, no CBC). */
	if (SSL_CTX_set_cipher_list(ctx, TLS_TLS12_CIPHERS) != 1) {
		error_text(ret_err, err_size, "could not set the TLS 1.2 cipher suites");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
					 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		char what[300];
		snprintf(what, sizeof(what), "could not load certificate file \"%s\"", cert_file);
		error_text(ret_err, err_size, what);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		char what[300];
		snprintf(what, sizeof(what), "could not load key file \"%s\"", key_file);
		error_text(ret_err, err_size, what);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		error_text(ret_err, err_size, "certificate and key do not match");
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
tls_conn_init(struct tls_conn *t, SSL_CTX *ctx)
{
	memset(t, 0, sizeof(*t));
	t->ssl = SSL_new(ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		memset(t, 0, sizeof(*t));
		ERR_clear_error();
		return -ENOMEM;
	}
	/* An empty memory BIO means "try again", not EOF. */
	BIO_set_mem_eof_return(t->rbio, -1);
	BIO_set_mem_eof_return(t->wbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_accept_state(t->ssl);
	return 0;
}

void
tls_conn_finish(struct tls_conn *t)
{
	SSL_free(t->ssl); /* frees both BIOs */
	t->ssl = NULL;
	t->rbio = t->wbio = NULL;
}

static enum tls_io
classify(struct tls_conn *t, int ret, const char *what)
{
	int e = SSL_get_error(t->ssl, ret);

	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		ERR_clear_error();
		return TLS_IO_OK;
	case SSL_ERROR_ZERO_RETURN:
		return TLS_IO_CLOSED;
	default:
		error_text(t->error, sizeof(t->error), what);
		return TLS_IO_FATAL;
	}
}

enum tls_io
tls_conn_feed(struct tls_conn *t, const void *data, size_t len, char *out, size_t out_size,
	      size_t *ret_out_len)
{
	size_t got = 0;

	*ret_out_len = 0;
	if (len > 0) {
		/* A memory BIO takes everything (it grows). */
		if (BIO_write(t->rbio, data, (int)len) != (int)len) {
			snprintf(t->error, sizeof(t->error), "could not buffer TLS input");
			return TLS_IO_FATAL;
		}
	}
	if (!t->handshake_done) {
		int r = SSL_do_handshake(t->ssl);
		if (r != 1) {
			return classify(t, r, "TLS handshake failed");
		}
		t->handshake_done = true;
	}
	while (got < out_size) {
		size_t n = 0;
		int r = SSL_read_ex(t->ssl, out + got, out_size - got, &n);
		if (r != 1) {
			enum tls_io io = classify(t, 0, "TLS read failed");
			*ret_out_len = got;
			return io;
		}
		got += n;
	}
	*ret_out_len = got;
	return TLS_IO_OK;
}

enum tls_io
tls_conn_write(struct tls_conn *t, const void *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t n = 0;
		if (SSL_write_ex(t->ssl, (const char *)data + done, len - done, &n) != 1) {
			/* With memory BIOs a write cannot "want" anything: fatal. */
			(void)classify(t, 0, "TLS write failed");
			return TLS_IO_FATAL;
		}
		done += n;
	}
	return TLS_IO_OK;
}

void
tls_conn_shutdown(struct tls_conn *t)
{
	if (t->ssl != NULL && t->handshake_done) {
		(void)SSL_shutdown(t->ssl); /* only queues close_notify; we do not wait */
		ERR_clear_error();
	}
}

size_t
tls_conn_pending(struct tls_conn *t)
{
	return t->wbio != NULL ? BIO_ctrl_pending(t->wbio) : 0;
}

size_t
tls_conn_take_output(struct tls_conn *t, char *buf, size_t size)
{
	int n;

	if (size > (size_t)INT32_MAX) {
		size = INT32_MAX;
	}
	n = BIO_read(t->wbio, buf, (int)size);
	return n > 0 ? (size_t)n : 0;
}
