/* The TLS keys' checks, for both daemons' loaders (tls_conf.h). */
#include <stddef.h>
#include <string.h>

#include "ini.h"
#include "tls_conf.h"

int
tls_conf_check(const struct conf_state *cs, int section,
    const struct tls_conf *tls, const struct conf_key *fallback,
    const char *hint, const char *name, char *err, size_t errlen)
{
	static const char	*files[] = { "ca", "cert", "key" };
	const struct conf_key	*crl;
	char			 why[1024];
	size_t			 i;
	int			 nerrors = 0, is_ca_ok = 1;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (conf_check_file(cs, conf_find_key(cs->table, section,
		    files[i]), fallback, cs->conf, hint, name, err,
		    errlen) == -1) {
			nerrors++;
			is_ca_ok = is_ca_ok && i != 0;
		}
	}
	/* A CRL that does not load would refuse every peer. */
	if (tls->crl[0] == '\0')
		return nerrors;
	crl = conf_find_key(cs->table, section, "crl");
	if (conf_check_file(cs, crl, NULL, cs->conf, "", name, err,
	    errlen) == -1)
		nerrors++;
	else if (is_ca_ok && tls_crl_check(tls->crl, tls->ca, why,
	    sizeof(why)) == -1) {
		ini_append_error(err, errlen, name, conf_check_line(cs, crl,
		    NULL), "[%s] crl: %s", conf_section_name(cs->table,
		    section), why);
		nerrors++;
	}
	return nerrors;
}

int
tls_conf_differs(const struct tls_conf *a, const struct tls_conf *b)
{
	return strcmp(a->ca, b->ca) != 0 || strcmp(a->cert, b->cert) != 0 ||
	    strcmp(a->key, b->key) != 0 || strcmp(a->crl, b->crl) != 0 ||
	    strcmp(a->ciphersuites, b->ciphersuites) != 0;
}
