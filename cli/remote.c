/*
 * The relay's HTTP API as the CLI sees it: where it is, how to tell the
 * operator what went wrong, JSON answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
remote_endpoint(struct http_endpoint *ep, const char *url, const char *token)
{
	char	 err[512];

	if (url == NULL || url[0] == '\0')
		url = getenv(REMOTE_URL_ENV);
	if (url == NULL || url[0] == '\0')
		url = REMOTE_URL_DEFAULT;
	if (http_endpoint_url(ep, url, err, sizeof(err)) == -1) {
		fprintf(stderr, "tracetrap: %s\n", err);
		return -1;
	}
	if (token == NULL || token[0] == '\0')
		token = getenv(REMOTE_TOKEN_ENV);
	if (token != NULL && token[0] != '\0' &&
	    http_endpoint_token(ep, token, err, sizeof(err)) == -1) {
		fprintf(stderr, "tracetrap: %s\n", err);
		return -1;
	}
	return 0;
}

void
remote_unreachable(const struct http_endpoint *ep, const char *err)
{
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
	fprintf(stderr, "tracetrap: %s: %s (HTTP %d)\n", what,
	    message != NULL ? message : "the relay refused", res->status);
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

int
remote_get_json(const struct http_endpoint *ep, const char *target,
    const char *what, json_t **json)
{
	struct http_response	 res;
	json_error_t		 jerr;
	char			 err[512];
	int			 code;

	*json = NULL;
	if (http_request(ep, "GET", target, NULL, &res, err,
	    sizeof(err)) == -1) {
		remote_unreachable(ep, err);
		return EXIT_USAGE;
	}
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
