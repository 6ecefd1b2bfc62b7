#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "web.h"

#define WEB_CSP		"default-src 'self'; script-src 'self'; "	\
			"style-src 'self'; img-src 'self' data:; "	\
			"object-src 'none'; base-uri 'none'; "		\
			"frame-ancestors 'none'; form-action 'self'"
#define WEB_FORM_MAX	4096

void
web_security_headers(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Security-Policy", WEB_CSP);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
}

int
web_token_equal(const char *token, const char *given, size_t len)
{
	unsigned char	 a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)given, len, a);
	SHA256((const unsigned char *)token, strlen(token), b);
	return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

/*
 * "1.<expires>.<hex HMAC-SHA256(token, "tracetrap-session:1:<expires>")>".
 * Returns -1 when the HMAC cannot be made (then no session is valid).
 */
static int
web_session_value(const char *token, int64_t expires, char *out, size_t len)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	char		 msg[64];
	size_t		 i, at;

	snprintf(msg, sizeof(msg), "tracetrap-session:1:%" PRId64, expires);
	if (HMAC(EVP_sha256(), token, (int)strlen(token),
	    (const unsigned char *)msg, strlen(msg), mac, &maclen) == NULL ||
	    maclen != SHA256_DIGEST_LENGTH)
		return -1;
	at = (size_t)snprintf(out, len, "1.%" PRId64 ".", expires);
	for (i = 0; i < maclen && at + 3 <= len; i++, at += 2)
		snprintf(out + at, len - at, "%02x", mac[i]);
	return at == strlen(out) && i == maclen ? 0 : -1;
}

/* The value of our cookie in the Cookie header, into buf; -1 if none. */
static int
web_cookie(struct evhttp_request *req, char *buf, size_t len)
{
	const char	*h, *p, *end;
	size_t		 n;

	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Cookie");
	for (p = h; p != NULL && *p != '\0'; p = end) {
		p += strspn(p, " ;");
		end = p + strcspn(p, ";");
		if ((size_t)(end - p) > sizeof(WEB_COOKIE) &&
		    strncmp(p, WEB_COOKIE "=", sizeof(WEB_COOKIE)) == 0) {
			p += sizeof(WEB_COOKIE);
			if ((n = (size_t)(end - p)) >= len)
				return -1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			return 0;
		}
	}
	return -1;
}

int
web_session_is_valid(struct evhttp_request *req, const char *token)
{
	char		 got[160], want[160], *end;
	int64_t		 expires;

	if (token[0] == '\0' || web_cookie(req, got, sizeof(got)) == -1 ||
	    strncmp(got, "1.", 2) != 0)
		return 0;
	expires = strtoll(got + 2, &end, 10);
	if (end == got + 2 || *end != '.' || expires < (int64_t)time(NULL) ||
	    web_session_value(token, expires, want, sizeof(want)) == -1)
		return 0;
	return strlen(got) == strlen(want) &&
	    CRYPTO_memcmp(got, want, strlen(want)) == 0;
}

static const struct web_asset *
web_asset(const char *name)
{
	const struct web_asset *a;

	for (a = web_assets; a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static void
web_send(struct evhttp_request *req, int code, const char *reason,
    const struct web_asset *a)
{
	struct evbuffer		*b = evbuffer_new();
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	const char		*match;

	if (b == NULL)
		return;
	evhttp_add_header(h, "Content-Type", a->type);
	/* Asked again on every use, answered 304 while it has not changed. */
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "ETag", a->etag);
	match = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-None-Match");
	if (code == 200 && match != NULL && strcmp(match, a->etag) == 0) {
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		evbuffer_free(b);
		return;
	}
	evbuffer_add_reference(b, a->data, a->len, NULL, NULL);
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static void
web_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		return;
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static void
web_redirect(struct evhttp_request *req, const char *location)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
	    location);
	evhttp_send_reply(req, 303, "See Other", NULL);
}

/*
 * Where to go after a login: one of our paths, nothing else. Browsers
 * drop tabs and newlines from URLs ("/<TAB>/host" is "//host") and read
 * "\\" as "/": only printable ASCII without a backslash, starting with one
 * '/' (login.js checks the same).
 */
static const char *
web_next(const char *next)
{
	size_t i;

	if (next == NULL || next[0] != '/' || next[1] == '/' ||
	    strlen(next) > 1024)
		return "/";
	for (i = 0; next[i] != '\0'; i++)
		if ((unsigned char)next[i] < 0x21 ||
		    (unsigned char)next[i] > 0x7e || next[i] == '\\')
			return "/";
	return next;
}

static void
web_login(struct evhttp_request *req, const char *token, int is_tls,
    uint64_t *refused)
{
	struct evkeyvalq	 form, query;
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*given, *next = NULL, *q;
	char			 body[WEB_FORM_MAX + 1], cookie[256], value[160];
	size_t			 len = evbuffer_get_length(in);
	int64_t			 expires;

	TAILQ_INIT(&form);
	TAILQ_INIT(&query);
	if ((q = evhttp_uri_get_query(uri)) != NULL)
		evhttp_parse_query_str(q, &query);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		/* No token to ask for: straight to where the user was going. */
		if (token[0] == '\0' || web_session_is_valid(req, token))
			web_redirect(req, web_next(evhttp_find_header(&query,
			    "next")));
		else
			web_send(req, 200, "OK", web_asset("login.html"));
		goto end;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, POST");
		web_text(req, 405, "Method Not Allowed", "GET or POST");
		goto end;
	}
	if (len > WEB_FORM_MAX) {
		web_text(req, 413, "Payload Too Large", "form too large");
		goto end;
	}
	evbuffer_copyout(in, body, len);
	body[len] = '\0';
	evhttp_parse_query_str(body, &form);
	next = evhttp_find_header(&form, "next");
	if (next == NULL || next[0] == '\0')
		next = evhttp_find_header(&query, "next");
	given = evhttp_find_header(&form, "token");
	if (token[0] != '\0' && (given == NULL ||
	    !web_token_equal(token, given, strlen(given)))) {
		(*refused)++;
		web_send(req, 401, "Unauthorized", web_asset("login.html"));
		goto end;
	}
	if (token[0] != '\0') {
		expires = (int64_t)time(NULL) + WEB_SESSION_SECONDS;
		if (web_session_value(token, expires, value, sizeof(value)) ==
		    -1) {
			web_text(req, 500, "Internal Server Error", "no session "
			    "can be made (HMAC-SHA256 failed)");
			goto end;
		}
		snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%d; "
		    "HttpOnly; SameSite=Strict%s", WEB_COOKIE, value,
		    WEB_SESSION_SECONDS, is_tls ? "; Secure" : "");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Set-Cookie", cookie);
	}
	web_redirect(req, web_next(next));
end:
	evhttp_clear_headers(&form);
	evhttp_clear_headers(&query);
}

static int
web_is_page(const char *path)
{
	static const char *const prefixes[] = { "/incidents/", "/snapshots/" };
	size_t i, n;

	if (strcmp(path, "/") == 0)
		return 1;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		n = strlen(prefixes[i]);
		if (strncmp(path, prefixes[i], n) == 0 && path[n] != '\0' &&
		    strchr(path + n, '/') == NULL)
			return 1;
	}
	return 0;
}

int
web_route(struct evhttp_request *req, const char *path, const char *token,
    int is_tls, uint64_t *refused)
{
	const struct web_asset	*a;
	int			 is_get;

	is_get = evhttp_request_get_command(req) == EVHTTP_REQ_GET;
	if (strcmp(path, "/login") == 0) {
		web_login(req, token, is_tls, refused);
		return 1;
	}
	if (strcmp(path, "/logout") == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Set-Cookie", WEB_COOKIE "=; Path=/; Max-Age=0; HttpOnly; "
		    "SameSite=Strict");
		web_redirect(req, "/login");
		return 1;
	}
	if (!web_is_page(path) && strncmp(path, "/static/", 8) != 0 &&
	    strcmp(path, "/favicon.ico") != 0)
		return 0;
	if (!is_get) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET");
		web_text(req, 405, "Method Not Allowed", "GET only");
		return 1;
	}
	if (web_is_page(path))
		a = web_asset("app.html");
	else if (strcmp(path, "/favicon.ico") == 0)
		a = web_asset("favicon.svg");
	else
		a = strchr(path + 8, '/') == NULL ? web_asset(path + 8) : NULL;
	if (a == NULL)
		web_text(req, 404, "Not Found", "no such file");
	else
		web_send(req, 200, "OK", a);
	return 1;
}
