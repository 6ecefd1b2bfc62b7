/*
 * TLS for the relay link (tls.h): the contexts of both ends, TLS 1.3
 * only, each verifying the other against the fleet CA, for the purpose it
 * has on the link and, with a CRL file, not revoked; and the node name a
 * relay reads from a recorder's verified certificate.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "conf.h"
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

/*
 * 1 when cert says it is for xku (XKU_SSL_CLIENT or XKU_SSL_SERVER). To
 * OpenSSL a certificate without extendedKeyUsage is good for anything;
 * here it must say so: a fleet CA's certificate made for something else
 * (a web server, code signing) is no recorder and no relay.
 */
static int
tls_has_purpose(X509 *cert, uint32_t xku)
{
	return ((X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) != 0 &&
	    (X509_get_extended_key_usage(cert) & xku) != 0);
}

/*
 * OpenSSL has checked the chain, the dates, the CRL (if any) and, since
 * the context asks for it, the purpose when an extendedKeyUsage is there;
 * the peer's own certificate must also carry it.
 */
static int
tls_verify(int is_ok, X509_STORE_CTX *store)
{
	SSL	*ssl;
	X509	*cert;

	if (!is_ok || X509_STORE_CTX_get_error_depth(store) != 0)
		return is_ok;
	ssl = X509_STORE_CTX_get_ex_data(store,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	cert = X509_STORE_CTX_get_current_cert(store);
	if (ssl == NULL || cert == NULL || !tls_has_purpose(cert,
	    SSL_is_server(ssl) ? XKU_SSL_CLIENT : XKU_SSL_SERVER)) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_INVALID_PURPOSE);
		return 0;
	}
	return 1;
}

/*
 * Reads every CRL of the PEM file at path, into store when it is not
 * NULL, else checking each one's issuer and signature against cas.
 * Returns how many, or -1 with err.
 */
static int
tls_read_crls(const char *path, X509_STORE *store, STACK_OF(X509) *cas,
    char *err, size_t errlen)
{
	BIO		*in;
	X509_CRL	*crl;
	X509		*ca;
	const ASN1_TIME	*next;
	unsigned long	 code;
	int		 i, n = 0, ret = -1;

	ERR_clear_error();
	if ((in = BIO_new_file(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((crl = PEM_read_bio_X509_CRL(in, NULL, NULL, NULL)) != NULL) {
		n++;
		if (store != NULL && X509_STORE_add_crl(store, crl) != 1) {
			snprintf(err, errlen, "%s: CRL %d: %s", path, n,
			    tls_error());
			goto end;
		}
		for (i = 0; cas != NULL && i < sk_X509_num(cas); i++) {
			ca = sk_X509_value(cas, i);
			if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
			    X509_get_subject_name(ca)) == 0 &&
			    X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
				break;
		}
		if (cas != NULL && i == sk_X509_num(cas)) {
			snprintf(err, errlen, "%s: CRL %d is not signed by a "
			    "CA of the ca file (expected the CRL of the CA "
			    "that issues the certificates)", path, n);
			goto end;
		}
		next = X509_CRL_get0_nextUpdate(crl);
		if (cas != NULL && next != NULL &&
		    X509_cmp_current_time(next) < 0) {
			snprintf(err, errlen, "%s: CRL %d expired (its "
			    "nextUpdate is past): every certificate would be "
			    "refused; make a new one", path, n);
			goto end;
		}
		X509_CRL_free(crl);
		crl = NULL;
	}
	/* The end of the file reads as "no start line"; more is an error. */
	code = ERR_peek_last_error();
	if (n == 0 || (code != 0 && !(ERR_GET_LIB(code) == ERR_LIB_PEM &&
	    ERR_GET_REASON(code) == PEM_R_NO_START_LINE))) {
		snprintf(err, errlen, "%s: %s", path, n == 0 ? "no PEM CRL "
		    "(expected -----BEGIN X509 CRL-----)" : tls_error());
		goto end;
	}
	ret = n;
end:
	X509_CRL_free(crl);
	BIO_free(in);
	ERR_clear_error();
	return ret;
}

int
tls_crl_check(const char *crl, const char *ca, char *err, size_t errlen)
{
	STACK_OF(X509)	*cas;
	BIO		*in;
	X509		*cert;
	int		 ret = -1;

	if ((cas = sk_X509_new_null()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((in = BIO_new_file(ca, "r")) == NULL) {
		snprintf(err, errlen, "CA %s: %s", ca, strerror(errno));
		goto end;
	}
	while ((cert = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(cas, cert)) {
			X509_free(cert);
			break;
		}
	}
	BIO_free(in);
	ERR_clear_error();
	if (sk_X509_num(cas) == 0) {
		snprintf(err, errlen, "CA %s holds no PEM certificate", ca);
		goto end;
	}
	if (tls_read_crls(crl, NULL, cas, err, errlen) > 0)
		ret = 0;
end:
	sk_X509_pop_free(cas, X509_free);
	return ret;
}

static SSL_CTX *
tls_context(const SSL_METHOD *method, const char *ca, const char *cert,
    const char *key, const char *crl, char *err, size_t errlen)
{
	SSL_CTX		*ctx;
	X509_STORE	*store;
	char		 why[512];

	if ((ctx = SSL_CTX_new(method)) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", tls_error());
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	/* OpenSSL's own default puts AES-256-GCM first. */
	if (tls_set_ciphersuites(ctx, TLS_CIPHERSUITES_DEFAULT, err,
	    errlen) == -1)
		goto fail;
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
	/* Only the peer's own certificate: intermediates need no CRL. */
	if (crl != NULL && crl[0] != '\0') {
		store = SSL_CTX_get_cert_store(ctx);
		if (tls_read_crls(crl, store, NULL, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "CRL %s", why);
			goto fail;
		}
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Is name one of the TLS 1.3 suites ctx now has? */
static int
tls_has_suite(SSL_CTX *ctx, const char *name, size_t len)
{
	STACK_OF(SSL_CIPHER)	*ciphers = SSL_CTX_get_ciphers(ctx);
	const SSL_CIPHER	*cipher;
	const char		*std;
	int			 i;

	/* The TLS 1.2 list is there too; its names do not count here. */
	for (i = 0; i < sk_SSL_CIPHER_num(ciphers); i++) {
		cipher = sk_SSL_CIPHER_value(ciphers, i);
		std = SSL_CIPHER_standard_name(cipher);
		if (strcmp(SSL_CIPHER_get_version(cipher), "TLSv1.3") == 0 &&
		    std != NULL && strlen(std) == len &&
		    strncmp(std, name, len) == 0)
			return 1;
	}
	return 0;
}

int
tls_set_ciphersuites(SSL_CTX *ctx, const char *list, char *err,
    size_t errlen)
{
	const char	*name, *end;
	size_t		 len;

	if (list[0] == '\0' || SSL_CTX_set_ciphersuites(ctx, list) != 1) {
		snprintf(err, errlen, "no TLS 1.3 ciphersuite in '%s' "
		    "(expected names such as TLS_AES_128_GCM_SHA256, "
		    "separated by ':')", list);
		ERR_clear_error();
		return -1;
	}
	for (name = list; *name != '\0'; name = *end == ':' ? end + 1 : end) {
		end = name + strcspn(name, ":");
		len = (size_t)(end - name);
		if (len == 0 || !tls_has_suite(ctx, name, len)) {
			snprintf(err, errlen, "unknown TLS 1.3 ciphersuite "
			    "'%.*s' (known: TLS_AES_128_GCM_SHA256, "
			    "TLS_AES_256_GCM_SHA384, "
			    "TLS_CHACHA20_POLY1305_SHA256, "
			    "TLS_AES_128_CCM_SHA256, TLS_AES_128_CCM_8_SHA256)",
			    (int)len, name);
			return -1;
		}
	}
	return 0;
}

int
tls_parse_ciphersuites(void *arg, const struct conf_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	size_t	 len = strlen(value);
	int	 ret;

	(void)arg;
	if (len >= k->size) {
		snprintf(err, errlen, "too long (at most %zu bytes)",
		    k->size - 1);
		return -1;
	}
	if ((ctx = SSL_CTX_new(TLS_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", tls_error());
		return -1;
	}
	ret = tls_set_ciphersuites(ctx, value, err, errlen);
	SSL_CTX_free(ctx);
	if (ret == 0)
		memcpy(dst, value, len + 1);
	return ret;
}

SSL_CTX *
tls_server_context(const char *ca, const char *cert, const char *key,
    const char *crl, char *err, size_t errlen)
{
	SSL_CTX			*ctx;
	STACK_OF(X509_NAME)	*names;

	ctx = tls_context(TLS_server_method(), ca, cert, key, crl, err,
	    errlen);
	if (ctx == NULL)
		return NULL;
	/* No certificate, or one from another CA: the handshake fails. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, tls_verify);
	SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	/* The relay's [listen] ciphersuites order decides, not each peer's. */
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if ((names = SSL_load_client_CA_file(ca)) != NULL)
		SSL_CTX_set_client_CA_list(ctx, names);
	return ctx;
}

SSL_CTX *
tls_client_context(const char *ca, const char *cert, const char *key,
    const char *crl, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	ctx = tls_context(TLS_client_method(), ca, cert, key, crl, err,
	    errlen);
	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tls_verify);
	SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	return ctx;
}

int
tls_context_check(SSL_CTX *ctx, char *err, size_t errlen)
{
	X509	*cert = SSL_CTX_get0_certificate(ctx);
	char	 name[TLS_NAME_MAX], why[256];
	int	 is_server = SSL_CTX_get_ssl_method(ctx) == TLS_server_method();

	if (cert == NULL) {
		snprintf(err, errlen, "no certificate");
		return -1;
	}
	if (is_server && !tls_has_purpose(cert, XKU_SSL_SERVER)) {
		snprintf(err, errlen, "the certificate has no extendedKeyUsage "
		    "serverAuth: recorders refuse it");
		return -1;
	}
	if (!is_server && !tls_has_purpose(cert, XKU_SSL_CLIENT)) {
		snprintf(err, errlen, "the certificate has no extendedKeyUsage "
		    "clientAuth: the relay refuses it");
		return -1;
	}
	if (!is_server && tls_cert_name(cert, name, sizeof(name), why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: the relay refuses it", why);
		return -1;
	}
	return 0;
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
tls_cert_name(X509 *cert, char *name, size_t len, char *err, size_t errlen)
{
	const X509_NAME	*subject = X509_get_subject_name(cert);
	unsigned char	*text = NULL;
	size_t		 max = len < TLS_NAME_MAX ? len : TLS_NAME_MAX;
	int		 i, at = -1, count = 0, n, ret = -1;

	if (len > 0)
		name[0] = '\0';
	for (i = -1; (i = X509_NAME_get_index_by_NID(subject,
	    NID_commonName, i)) >= 0; count++)
		at = i;
	if (count == 0) {
		snprintf(err, errlen, "certificate has no common name (the "
		    "node name is the CN; subjectAltName is not used)");
		return -1;
	}
	if (count > 1) {
		snprintf(err, errlen, "certificate has %d common names "
		    "(expected one: the node name)", count);
		return -1;
	}
	/* Whatever the string type (BMPString too), as UTF-8 bytes. */
	n = ASN1_STRING_to_UTF8(&text, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(subject, at)));
	if (n < 0) {
		snprintf(err, errlen, "certificate common name is not text");
		goto end;
	}
	/* Cut, it would be another node's name: refused whole. */
	if ((size_t)n >= max) {
		snprintf(err, errlen, "certificate common name of %d bytes is "
		    "longer than a node name may be (at most %zu)", n, max - 1);
		goto end;
	}
	memcpy(name, text, (size_t)n);
	name[n] = '\0';
	/* A CN with an embedded NUL is no node name either. */
	if (strlen(name) != (size_t)n || !name_is_valid(name, max - 1)) {
		name[0] = '\0';
		snprintf(err, errlen, "certificate common name is not a valid "
		    "node name ([A-Za-z0-9._-], at most %zu, not starting "
		    "with '.')", max - 1);
		goto end;
	}
	ret = 0;
end:
	OPENSSL_free(text);
	return ret;
}

int
tls_peer_name(SSL *ssl, char *name, size_t len, char *err, size_t errlen)
{
	X509	*peer;
	int	 ret = -1;

	if ((peer = SSL_get1_peer_certificate(ssl)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		snprintf(err, errlen, "no verified peer certificate");
	else
		ret = tls_cert_name(peer, name, len, err, errlen);
	X509_free(peer);
	return ret;
}

void
tls_handshake_error(SSL *ssl, unsigned long code, char *err, size_t errlen)
{
	long		 result = ssl != NULL ? SSL_get_verify_result(ssl) :
			    X509_V_OK;
	const char	*hint = "";

	if (result == X509_V_OK) {
		/* libevent's code for SSL_ERROR_SYSCALL, not OpenSSL's. */
		if (code == 0 || (ERR_GET_LIB(code) == 0 &&
		    code == SSL_ERROR_SYSCALL)) {
			snprintf(err, errlen, "connection closed during TLS");
			return;
		}
		ERR_error_string_n(code, err, errlen);
		/* The other end refused this one's certificate: its alert. */
		switch (ERR_GET_LIB(code) == ERR_LIB_SSL ?
		    ERR_GET_REASON(code) : 0) {
		case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
		case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
		case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
		case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
		case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
			snprintf(err + strlen(err), errlen - strlen(err),
			    " (the peer refused this end's certificate; its "
			    "log says why)");
			break;
		}
		return;
	}
	switch (result) {
	case X509_V_ERR_INVALID_PURPOSE:
		hint = SSL_is_server(ssl) ? " (a recorder's certificate must "
		    "carry extendedKeyUsage clientAuth)" : " (the relay's "
		    "certificate must carry extendedKeyUsage serverAuth)";
		break;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		hint = " (the crl file holds no CRL of its CA)";
		break;
	case X509_V_ERR_CRL_HAS_EXPIRED:
		hint = " (the crl file is out of date: make a new one, then "
		    "reload or restart)";
		break;
	}
	snprintf(err, errlen, "peer certificate refused: %s%s",
	    X509_verify_cert_error_string(result), hint);
}
