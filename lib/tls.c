/*
 * TLS for the relay link (tls.h): the contexts of both ends, TLS 1.3
 * only, each verifying the other against the fleet CA, and the node name
 * a relay reads from a recorder's verified certificate.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "name.h"
#include "tls.h"

const char *
tls_error(void)
{
	static __thread char	 buf[256];
	unsigned long		 code = ERR_get_error();

	if (code == 0)
		return "unknown TLS error";
	ERR_error_string_n(code, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

static SSL_CTX *
tls_context(const SSL_METHOD *method, const char *ca, const char *cert,
    const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(method)) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", tls_error());
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		snprintf(err, errlen, "CA %s: %s", ca, tls_error());
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "certificate %s: %s", cert, tls_error());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "key %s: %s", key, tls_error());
		goto fail;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_server_context(const char *ca, const char *cert, const char *key,
    char *err, size_t errlen)
{
	SSL_CTX			*ctx;
	STACK_OF(X509_NAME)	*names;

	ctx = tls_context(TLS_server_method(), ca, cert, key, err, errlen);
	if (ctx == NULL)
		return NULL;
	/* No certificate, or one from another CA: the handshake fails. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	if ((names = SSL_load_client_CA_file(ca)) != NULL)
		SSL_CTX_set_client_CA_list(ctx, names);
	return ctx;
}

SSL_CTX *
tls_client_context(const char *ca, const char *cert, const char *key,
    char *err, size_t errlen)
{
	SSL_CTX *ctx;

	ctx = tls_context(TLS_client_method(), ca, cert, key, err, errlen);
	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

int
tls_client_expect(SSL *ssl, const char *host)
{
	X509_VERIFY_PARAM	*param = SSL_get0_param(ssl);
	unsigned char		 addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? 0 : -1;
	SSL_set_tlsext_host_name(ssl, host);
	return SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

int
tls_peer_name(SSL *ssl, char *name, size_t len, char *err, size_t errlen)
{
	X509		*peer;
	X509_NAME	*subject;
	int		 n, ret = -1;

	if ((peer = SSL_get1_peer_certificate(ssl)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK) {
		snprintf(err, errlen, "no verified peer certificate");
		goto end;
	}
	subject = X509_get_subject_name(peer);
	n = X509_NAME_get_text_by_NID(subject, NID_commonName, name, (int)len);
	/* A CN with an embedded NUL or beyond len is no node name. */
	if (n <= 0 || (size_t)n >= len || strlen(name) != (size_t)n ||
	    !name_is_valid(name, 63)) {
		snprintf(err, errlen, "certificate common name is not a valid "
		    "node name ([A-Za-z0-9._-], at most 63)");
		goto end;
	}
	ret = 0;
end:
	X509_free(peer);
	return ret;
}
