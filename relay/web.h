/*
 * The relay's web pages (relay/web/, built into the binary by
 * embed-web.sh), on the API's address with the API's authentication:
 *
 *   GET /, /incidents/<id>, /snapshots/<id>   app.html (the page's JS
 *                                             routes on the path)
 *   GET /static/<file>                        the pages' assets
 *   GET /login, POST /login                   the token form; a right
 *                                             token sets the session
 *                                             cookie (HttpOnly,
 *                                             SameSite=Strict)
 *   GET /logout                               clears it
 *
 * Pages and assets hold no data: they are served to anyone who reaches
 * the address; everything under /v1/ needs the token, as a bearer or as
 * the session cookie. Every response carries a Content-Security-Policy
 * that allows scripts and styles from the relay only.
 */
#ifndef TT_WEB_H
#define TT_WEB_H

#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>

#define WEB_COOKIE		"tt_session"
#define WEB_SESSION_SECONDS	(12 * 3600)

struct web_asset {
	const char		*name;
	const char		*type;
	const unsigned char	*data;
	size_t			 len;
	const char		*etag;		/* "sha256 prefix", quoted */
};

/* embed-web.sh's table, ended by a NULL name. */
extern const struct web_asset web_assets[];

/* The headers every answer of the API's address carries. */
void	web_security_headers(struct evhttp_request *);

/*
 * Pages, assets, login and logout: returns 1 when path was one of
 * them (and answered), 0 otherwise. token is the [api] token ("" none);
 * *refused counts logins with a wrong token.
 */
int	web_route(struct evhttp_request *, const char *path,
	    const char *token, int is_tls, uint64_t *refused);

/* A token compared in constant time (through SHA-256 digests). */
int	web_token_equal(const char *token, const char *given, size_t len);
/* The request carries a session cookie made with token, not expired. */
int	web_session_is_valid(struct evhttp_request *, const char *token);

#endif
