/*
 * The relay's HTTP API as the CLI sees it: where it is, how to tell the
 * operator what went wrong, JSON answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "name.h"
#include "render.h"
#include "units.h"

void
remote_opts_init(struct remote_opts *o)
{
	memset(o, 0, sizeof(*o));
}

int
remote_opts_take(struct remote_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case 'r':
		o->url = arg;
		return 1;
	case 't':
		o->token = arg;
		return 1;
	case REMOTE_OPT_CA:
		o->ca = arg;
		return 1;
	case REMOTE_OPT_CERT:
		o->cert = arg;
		return 1;
	case REMOTE_OPT_KEY:
		o->key = arg;
		return 1;
	case REMOTE_OPT_TIMEOUT:
		o->timeout = arg;
		return 1;
	default:
		return 0;
	}
}

static const char *
remote_or_env(const char *value, const char *env)
{
	if (value != NULL && value[0] != '\0')
		return value;
	value = getenv(env);
	return value != NULL && value[0] != '\0' ? value : NULL;
}

int
remote_open(struct http_endpoint *ep, const struct remote_opts *o)
{
	const char	*url, *token;
	char		 err[512], msg[256];

	if ((url = remote_or_env(o->url, REMOTE_URL_ENV)) == NULL)
		url = REMOTE_URL_DEFAULT;
	if (http_endpoint_url(ep, url, err, sizeof(err)) == -1)
		goto bad;
	if (o->timeout != NULL && (units_parse_duration_ms(o->timeout,
	    &ep->timeout_ms, msg, sizeof(msg)) == -1 || ep->timeout_ms <
	    1000)) {
		snprintf(err, sizeof(err), "--timeout: %s", ep->timeout_ms <
		    1000 ? "at least 1s" : msg);
		goto bad;
	}
	if ((token = remote_or_env(o->token, REMOTE_TOKEN_ENV)) != NULL &&
	    http_endpoint_token(ep, token, err, sizeof(err)) == -1)
		goto bad;
	if (ep->is_tls && http_endpoint_tls(ep, remote_or_env(o->ca,
	    REMOTE_CA_ENV), remote_or_env(o->cert, REMOTE_CERT_ENV),
	    remote_or_env(o->key, REMOTE_KEY_ENV), err, sizeof(err)) == -1)
		goto bad;
	if (!ep->is_tls && ep->authorization[0] != '\0' &&
	    strcmp(ep->host, "127.0.0.1") != 0 && strcmp(ep->host, "::1") != 0 &&
	    strcmp(ep->host, "localhost") != 0)
		fprintf(stderr, "tracetrap: warning: the token goes to %s in "
		    "clear; use https:// with a client certificate\n",
		    ep->name);
	return 0;
bad:
	fprintf(stderr, "tracetrap: %s\n", err);
	return -1;
}

int
remote_id_is_valid(const char *id)
{
	if (name_is_valid(id, REMOTE_NAME_MAX))
		return 1;
	fprintf(stderr, "tracetrap: '");
	render_text(stderr, id, 200);
	fprintf(stderr, "' is not a snapshot or incident id ([A-Za-z0-9._-]); "
	    "`tracetrap list` shows them\n");
	return 0;
}

void
remote_unreachable(const struct http_endpoint *ep,
    const struct http_response *res, const char *err)
{
	if (res != NULL && res->is_connected) {
		fprintf(stderr, "tracetrap: %s\nThe server at %s does not "
		    "answer like a tracetrap relay: check --relay or $%s, "
		    "and the relay's log.\n", err, ep->name, REMOTE_URL_ENV);
		return;
	}
	fprintf(stderr, "tracetrap: %s\n"
	    "Is tracetrap-relay running with its [api] address at %s? Point "
	    "--relay or $%s at it.\n", err, ep->name, REMOTE_URL_ENV);
}

int
remote_failure(const struct http_endpoint *ep,
    const struct http_response *res, const char *what)
{
	json_t		*answer = NULL;
	const char	*message = NULL;

	if (res->body != NULL) {
		answer = json_loads(res->body, 0, NULL);
		message = json_string_value(json_object_get(answer,
		    "message"));
	}
	fprintf(stderr, "tracetrap: %s: ", what);
	render_text(stderr, message != NULL ? message : "the relay refused",
	    400);
	fprintf(stderr, " (HTTP %d)\n", res->status);
	json_decref(answer);
	switch (res->status) {
	case 401:
		fprintf(stderr, "Set $%s (or --token) to the relay's [api] "
		    "token.\n", REMOTE_TOKEN_ENV);
		return EXIT_REFUSED;
	case 403:
	case 404:
		return EXIT_REFUSED;
	case 400:
		return EXIT_USAGE;
	default:
		if (res->status >= 500)
			fprintf(stderr, "The relay at %s failed; its log says "
			    "why.\n", ep->name);
		return EXIT_USAGE;
	}
}

static int
remote_get(const struct http_endpoint *ep, const char *target,
    const char *what, json_t **json, int is_quiet_404)
{
	struct http_response	 res;
	json_error_t		 jerr;
	json_t			*answer = NULL;
	char			 err[512];
	int			 code;

	*json = NULL;
	if (http_request(ep, "GET", target, NULL, &res, err,
	    sizeof(err)) == -1) {
		remote_unreachable(ep, &res, err);
		return EXIT_USAGE;
	}
	/* Only "no such thing": a 404 for another reason is reported. */
	if (res.status == 404 && is_quiet_404 && res.body != NULL &&
	    (answer = json_loads(res.body, 0, NULL)) != NULL &&
	    strcmp(json_string_value(json_object_get(answer, "error")) ?: "",
	    "not_found") == 0) {
		json_decref(answer);
		http_response_free(&res);
		return REMOTE_NOT_FOUND;
	}
	json_decref(answer);
	if (res.status != 200) {
		code = remote_failure(ep, &res, what);
		http_response_free(&res);
		return code;
	}
	*json = json_loads(res.body, 0, &jerr);
	http_response_free(&res);
	if (*json == NULL) {
		fprintf(stderr, "tracetrap: %s: the answer of %s is not JSON "
		    "(%s); is that a tracetrap relay?\n", what, ep->name,
		    jerr.text);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int
remote_get_json(const struct http_endpoint *ep, const char *target,
    const char *what, json_t **json)
{
	return remote_get(ep, target, what, json, 0);
}

int
remote_get_json_quiet(const struct http_endpoint *ep, const char *target,
    const char *what, json_t **json)
{
	return remote_get(ep, target, what, json, 1);
}

int
remote_query_add(char *query, size_t len, const char *key, const char *value)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 used = strlen(query);
	unsigned char		 c;
	int			 n;

	n = snprintf(query + used, len - used, "%c%s=", used == 0 ? '?' : '&',
	    key);
	if (n < 0 || (size_t)n >= len - used)
		return -1;
	used += (size_t)n;
	for (; *value != '\0'; value++) {
		c = (unsigned char)*value;
		if (used + 4 > len)
			return -1;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			query[used++] = (char)c;
		else {
			query[used++] = '%';
			query[used++] = hex[c >> 4];
			query[used++] = hex[c & 15];
		}
	}
	query[used] = '\0';
	return 0;
}
