/*
 * TLS for the relay link, shared by tracetrap-relay and the recorder:
 * TLS 1.3 only, both sides authenticated against the fleet CA. The node
 * name is taken from the peer's verified certificate (its CN), never from
 * anything the peer sends.
 *
 * Each side also checks what the certificate is for: a recorder's must
 * carry extendedKeyUsage clientAuth, the relay's serverAuth; a
 * certificate without the extension (good for any purpose, to OpenSSL)
 * is refused too. With a CRL file, a revoked certificate is refused.
 */
#ifndef TT_TLS_H
#define TT_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* A node name from a certificate: at most 63 bytes, with its NUL. */
#define TLS_NAME_MAX	64

/*
 * The TLS 1.3 ciphersuites a side offers or accepts, best first
 * ([listen] and [relay] ciphersuites). AES-128-GCM first: with AES-NI it
 * costs about half of AES-256-GCM per byte, and the bulk of the link is
 * snapshot data; the others stay so that a peer configured otherwise
 * still connects.
 */
#define TLS_CIPHERSUITES_DEFAULT					\
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"			\
	"TLS_CHACHA20_POLY1305_SHA256"
#define TLS_CIPHERSUITES_MAX	256	/* the list, with its NUL */

/*
 * A relay: requires a client certificate signed by ca, for clientAuth,
 * and not revoked by the CRLs of the PEM file crl (NULL or "": none).
 */
SSL_CTX	*tls_server_context(const char *ca, const char *cert, const char *key,
	    const char *crl, char *err, size_t errlen);
/* A recorder: verifies the relay (serverAuth) against ca, presents cert. */
SSL_CTX	*tls_client_context(const char *ca, const char *cert, const char *key,
	    const char *crl, char *err, size_t errlen);
/*
 * Sets ctx's TLS 1.3 ciphersuites from a ':'-separated list of IANA names
 * (TLS_AES_128_GCM_SHA256..), in order of preference; a relay's order
 * wins over its peers'. 0, or -1 with err naming the first suite this
 * OpenSSL does not know: OpenSSL itself skips those silently.
 */
int	 tls_set_ciphersuites(SSL_CTX *, const char *list, char *err,
	    size_t errlen);
/* The same check alone, for a config file; a conf_parser (conf.h). */
struct conf_key;
int	 tls_parse_ciphersuites(void *arg, const struct conf_key *,
	    const char *value, void *dst, char *err, size_t errlen);
/* Sets the name or IP the relay's certificate must carry. */
int	 tls_client_expect(SSL *, const char *host);

/*
 * What the other end will refuse in this context's own certificate: the
 * relay's needs serverAuth; a recorder's clientAuth and a CN that is a
 * node name. 0, or -1 with the first problem in err (for a warning: the
 * other end's refusal is what counts).
 */
int	 tls_context_check(SSL_CTX *, char *err, size_t errlen);

/*
 * The verified peer's node name (certificate CN). Returns 0, or -1 with
 * err when there is no verified certificate or its name breaks
 * tls_cert_name()'s rules: such a peer is refused.
 */
int	 tls_peer_name(SSL *, char *name, size_t len, char *err,
	    size_t errlen);

/*
 * The node name of a certificate: the one commonName of its subject,
 * 1 to 63 bytes of [A-Za-z0-9._-], not starting with '.'. A name that
 * does not fit len or 63 bytes is refused, never cut; so is a subject
 * with no CN or with several (which one would be the node?). The
 * subjectAltName plays no part: a SAN-only certificate has no node name.
 * Returns 0, or -1 with err (which never quotes the untrusted name).
 */
int	 tls_cert_name(X509 *, char *name, size_t len, char *err,
	    size_t errlen);

/*
 * Checks the CRL file a config names before a daemon uses it: PEM, at
 * least one CRL, each issued and signed by a certificate of the CA file
 * ca, none past its nextUpdate. 0, or -1 with err.
 */
int	 tls_crl_check(const char *crl, const char *ca, char *err,
	    size_t errlen);

/*
 * Why a handshake failed, for the log: the refusal of the peer's
 * certificate (revoked, wrong purpose...) when that is the cause, else
 * the OpenSSL error code's text.
 */
void	 tls_handshake_error(SSL *, unsigned long code, char *err,
	    size_t errlen);

/* The last OpenSSL error as text (for logs). */
const char *tls_error(void);

#endif
