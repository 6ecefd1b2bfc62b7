/*
 * TLS for the relay link, shared by tracetrap-relay and the recorder:
 * TLS 1.3 only, both sides authenticated against the fleet CA. The node
 * name is taken from the peer's verified certificate (its CN), never from
 * anything the peer sends.
 */
#ifndef TT_TLS_H
#define TT_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* A relay: requires a client certificate signed by ca. */
SSL_CTX	*tls_server_context(const char *ca, const char *cert, const char *key,
	    char *err, size_t errlen);
/* A recorder: verifies the relay against ca, presents cert. */
SSL_CTX	*tls_client_context(const char *ca, const char *cert, const char *key,
	    char *err, size_t errlen);
/* Sets the name or IP the relay's certificate must carry. */
int	 tls_client_expect(SSL *, const char *host);

/*
 * The verified peer's node name (certificate CN). Returns 0, or -1 with
 * err when there is no verified certificate or its CN is not a valid node
 * name ([A-Za-z0-9._-], 1..63, not starting with '.'): such a name could
 * escape the store, so the peer is refused.
 */
int	 tls_peer_name(SSL *, char *name, size_t len, char *err,
	    size_t errlen);

/* The last OpenSSL error as text (for logs). */
const char *tls_error(void);

#endif
