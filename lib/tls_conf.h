/*
 * The TLS keys of a config section, the same in both daemons: the
 * recorder's [relay] and the relay's [listen] name the fleet CA, this
 * end's certificate and key, a CRL and the ciphersuites, with one set of
 * rules (tls_conf.c checks the files once the whole file is read).
 */
#ifndef TT_TLS_CONF_H
#define TT_TLS_CONF_H

#include <stddef.h>

#include "conf.h"
#include "tls.h"

#define TLS_CONF_PATH_MAX	4096
#define TLS_CONF_CA_DEFAULT	"/etc/tracetrap/ca.pem"

struct tls_conf {
	char	 ca[TLS_CONF_PATH_MAX];		/* the fleet CA */
	char	 cert[TLS_CONF_PATH_MAX];	/* this end's */
	char	 key[TLS_CONF_PATH_MAX];
	char	 crl[TLS_CONF_PATH_MAX];	/* "" = no CRL check */
	/* TLS 1.3 suites, best first (a relay's order wins). */
	char	 ciphersuites[TLS_CIPHERSUITES_MAX];
};

/*
 * The five rows of a key table for section sect, into the struct
 * tls_conf member of the loader's struct type; cert_ and key_ are the
 * default paths of this end's certificate and key.
 */
#define TLS_CONF_KEYS(sect, type, member, cert_, key_)			\
	CONF_PATH(sect, "ca", CONF_FIELD(type, member.ca),		\
	    TLS_CONF_CA_DEFAULT, TLS_CONF_PATH_MAX),			\
	CONF_PATH(sect, "cert", CONF_FIELD(type, member.cert), cert_,	\
	    TLS_CONF_PATH_MAX),						\
	CONF_PATH(sect, "key", CONF_FIELD(type, member.key), key_,	\
	    TLS_CONF_PATH_MAX, .flags = CONF_PRIVATE),			\
	CONF_PATH(sect, "crl", CONF_FIELD(type, member.crl), "",	\
	    TLS_CONF_PATH_MAX, .flags = CONF_EMPTY_OK),			\
	CONF_KEY(sect, "ciphersuites", tls_parse_ciphersuites,		\
	    CONF_FIELD(type, member.ciphersuites),			\
	    TLS_CIPHERSUITES_DEFAULT)

/*
 * The checks of a loaded section's TLS files, at tls in the config being
 * loaded (cs->conf): ca, cert and key regular files (the key private), a
 * crl that loads and that the CA signed. A file left at its default is
 * named at fallback's line (may be NULL: the section header) with hint
 * after the message. Returns the number of errors, appended to err.
 */
int	tls_conf_check(const struct conf_state *cs, int section,
	    const struct tls_conf *tls, const struct conf_key *fallback,
	    const char *hint, const char *name, char *err, size_t errlen);

/* 1 when a and b name other files or suites: a new TLS context. */
int	tls_conf_differs(const struct tls_conf *a, const struct tls_conf *b);

#endif
