/*
 * Unit tests of lib/tls.c: the node name of a certificate (one CN, whole
 * or refused, whatever its string type) and the check of a context's own
 * certificate against what the other end requires. Certificates are built
 * in memory, for the subjects the openssl CLI cannot write (an embedded
 * NUL, a BMPString, a CN past 64 bytes); the integration tests
 * (relay-cert-*.t) use real ones through real daemons.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define ERR_MAX	256

static EVP_PKEY *key;

static int
setup(void **state)
{
	(void)state;
	key = EVP_EC_gen("P-256");
	return key == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

/*
 * A self-signed certificate with one subject entry per (type, bytes, len)
 * triple of cns (type 0 ends them) and extendedKeyUsage eku (NULL: none).
 */
struct cn {
	int		 type;		/* V_ASN1_UTF8STRING.. */
	const char	*bytes;
	int		 len;		/* -1: strlen */
};

static X509 *
make_cert(const struct cn *cns, const char *eku)
{
	X509		*cert;
	X509_NAME	*subject;
	X509_EXTENSION	*ext;
	X509V3_CTX	 ctx;

	assert_non_null(cert = X509_new());
	assert_int_equal(X509_set_version(cert, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	assert_int_equal(X509_set_pubkey(cert, key), 1);
	subject = X509_get_subject_name(cert);
	for (; cns->type != 0; cns++)
		assert_int_equal(X509_NAME_add_entry_by_NID(subject,
		    NID_commonName, cns->type, (const unsigned char *)cns->bytes,
		    cns->len, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(cert, subject), 1);
	if (eku != NULL) {
		X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
		assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &ctx,
		    NID_ext_key_usage, eku));
		assert_int_equal(X509_add_ext(cert, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
	return cert;
}

/* tls_cert_name() of a certificate with cns, into a buffer of len. */
static int
name_of(const struct cn *cns, char *name, size_t len, char *err)
{
	X509	*cert = make_cert(cns, NULL);
	int	 ret;

	err[0] = '\0';
	ret = tls_cert_name(cert, name, len, err, ERR_MAX);
	X509_free(cert);
	return ret;
}

static void
test_cert_name(void **state)
{
	char	 a63[64], a64[65], a200[201], name[TLS_NAME_MAX], err[ERR_MAX];

	(void)state;
	memset(a63, 'a', 63);
	a63[63] = '\0';
	memset(a64, 'a', 64);
	a64[64] = '\0';
	memset(a200, 'b', 200);
	a200[200] = '\0';

	assert_int_equal(name_of((struct cn[]){ { V_ASN1_UTF8STRING, "web-01",
	    -1 }, { 0 } }, name, sizeof(name), err), 0);
	assert_string_equal(name, "web-01");
	assert_int_equal(name_of((struct cn[]){ { V_ASN1_PRINTABLESTRING, a63,
	    -1 }, { 0 } }, name, sizeof(name), err), 0);
	assert_string_equal(name, a63);

	/* One byte too many is refused, never cut to another node's name. */
	assert_int_equal(name_of((struct cn[]){ { V_ASN1_UTF8STRING, a64,
	    -1 }, { 0 } }, name, sizeof(name), err), -1);
	assert_string_equal(err, "certificate common name of 64 bytes is "
	    "longer than a node name may be (at most 63)");
	assert_int_equal(name_of((struct cn[]){ { V_ASN1_UTF8STRING, a200,
	    -1 }, { 0 } }, name, sizeof(name), err), -1);
	assert_string_equal(err, "certificate common name of 200 bytes is "
	    "longer than a node name may be (at most 63)");
	/* A caller's smaller buffer bounds the name the same way. */
	assert_int_equal(name_of((struct cn[]){ { V_ASN1_UTF8STRING, "node-10",
	    -1 }, { 0 } }, name, 7, err), -1);
	assert_string_equal(err, "certificate common name of 7 bytes is "
	    "longer than a node name may be (at most 6)");

	/* No CN, or several: which one would be the node? */
	assert_int_equal(name_of((struct cn[]){ { 0 } }, name, sizeof(name),
	    err), -1);
	assert_string_equal(err, "certificate has no common name (the node "
	    "name is the CN; subjectAltName is not used)");
	assert_int_equal(name_of((struct cn[]){ { V_ASN1_UTF8STRING, "a", -1 },
	    { V_ASN1_UTF8STRING, "b", -1 }, { 0 } }, name, sizeof(name), err),
	    -1);
	assert_string_equal(err, "certificate has 2 common names (expected "
	    "one: the node name)");
	assert_int_equal(name_of((struct cn[]){ { V_ASN1_UTF8STRING, "a", -1 },
	    { V_ASN1_UTF8STRING, "a", -1 }, { 0 } }, name, sizeof(name), err),
	    -1);

	/* The text, whatever its ASN.1 type: a BMPString "node" is node. */
	assert_int_equal(name_of((struct cn[]){ { V_ASN1_BMPSTRING,
	    "\0n\0o\0d\0e", 8 }, { 0 } }, name, sizeof(name), err), 0);
	assert_string_equal(name, "node");

	/* An embedded NUL, non-ASCII, a path, a leading dot: not names. */
	assert_int_equal(name_of((struct cn[]){ { V_ASN1_UTF8STRING,
	    "node1\0evil", 10 }, { 0 } }, name, sizeof(name), err), -1);
	assert_string_equal(err, "certificate common name is not a valid node "
	    "name ([A-Za-z0-9._-], at most 63, not starting with '.')");
	assert_int_equal(name_of((struct cn[]){ { V_ASN1_UTF8STRING,
	    "n\xc3\xb6" "de", -1 }, { 0 } }, name, sizeof(name), err), -1);
	assert_int_equal(name_of((struct cn[]){ { V_ASN1_UTF8STRING,
	    "../escape", -1 }, { 0 } }, name, sizeof(name), err), -1);
	assert_int_equal(name_of((struct cn[]){ { V_ASN1_UTF8STRING, ".hidden",
	    -1 }, { 0 } }, name, sizeof(name), err), -1);
	assert_int_equal(name_of((struct cn[]){ { V_ASN1_UTF8STRING, "", -1 },
	    { 0 } }, name, sizeof(name), err), -1);
	/* Refused names are never left in the caller's buffer. */
	assert_string_equal(name, "");
}

/* tls_context_check() of a server or client context with this cert. */
static int
check_own(int is_server, const struct cn *cns, const char *eku, char *err)
{
	SSL_CTX	*ctx;
	X509	*cert = make_cert(cns, eku);
	int	 ret;

	assert_non_null(ctx = SSL_CTX_new(is_server ? TLS_server_method() :
	    TLS_client_method()));
	assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	err[0] = '\0';
	ret = tls_context_check(ctx, err, ERR_MAX);
	SSL_CTX_free(ctx);
	X509_free(cert);
	return ret;
}

static void
test_context_check(void **state)
{
	const struct cn	 relay[] = { { V_ASN1_UTF8STRING, "relay", -1 },
			    { 0 } };
	const struct cn	 two[] = { { V_ASN1_UTF8STRING, "a", -1 },
			    { V_ASN1_UTF8STRING, "b", -1 }, { 0 } };
	char		 err[ERR_MAX];

	(void)state;
	assert_int_equal(check_own(1, relay, "serverAuth", err), 0);
	assert_int_equal(check_own(1, relay, "serverAuth,clientAuth", err), 0);
	assert_int_equal(check_own(1, relay, "clientAuth", err), -1);
	assert_string_equal(err, "the certificate has no extendedKeyUsage "
	    "serverAuth: recorders refuse it");
	/* No extendedKeyUsage is good for anything to OpenSSL, not here. */
	assert_int_equal(check_own(1, relay, NULL, err), -1);

	assert_int_equal(check_own(0, relay, "clientAuth", err), 0);
	assert_int_equal(check_own(0, relay, "serverAuth", err), -1);
	assert_string_equal(err, "the certificate has no extendedKeyUsage "
	    "clientAuth: the relay refuses it");
	assert_int_equal(check_own(0, relay, NULL, err), -1);
	assert_int_equal(check_own(0, two, "clientAuth", err), -1);
	assert_string_equal(err, "certificate has 2 common names (expected "
	    "one: the node name): the relay refuses it");
}

static void
test_crl_check_missing(void **state)
{
	char err[ERR_MAX];

	(void)state;
	assert_int_equal(tls_crl_check("/nonexistent/crl.pem",
	    "/nonexistent/ca.pem", err, sizeof(err)), -1);
	assert_string_equal(err, "CA /nonexistent/ca.pem: No such file or "
	    "directory");
}

/* The order given is the order set; a name OpenSSL skips is refused. */
static void
test_ciphersuites(void **state)
{
	SSL_CTX			*ctx = SSL_CTX_new(TLS_method());
	STACK_OF(SSL_CIPHER)	*ciphers;
	char			 err[ERR_MAX];

	(void)state;
	assert_non_null(ctx);
	assert_int_equal(tls_set_ciphersuites(ctx, TLS_CIPHERSUITES_DEFAULT,
	    err, sizeof(err)), 0);
	ciphers = SSL_CTX_get_ciphers(ctx);
	assert_string_equal(SSL_CIPHER_standard_name(sk_SSL_CIPHER_value(
	    ciphers, 0)), "TLS_AES_128_GCM_SHA256");
	assert_string_equal(SSL_CIPHER_standard_name(sk_SSL_CIPHER_value(
	    ciphers, 1)), "TLS_AES_256_GCM_SHA384");
	assert_int_equal(tls_set_ciphersuites(ctx,
	    "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown TLS 1.3 ciphersuite "
	    "'TLS_AES_128_GCM' (known: TLS_AES_128_GCM_SHA256, "
	    "TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, "
	    "TLS_AES_128_CCM_SHA256, TLS_AES_128_CCM_8_SHA256)");
	assert_int_equal(tls_set_ciphersuites(ctx, "", err, sizeof(err)), -1);
	SSL_CTX_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_name),
		cmocka_unit_test(test_context_check),
		cmocka_unit_test(test_crl_check_missing),
		cmocka_unit_test(test_ciphersuites),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
