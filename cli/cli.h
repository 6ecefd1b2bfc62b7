/*
 * The tracetrap command: what its files share. Exit status (DESIGN.md):
 * 0 success, 1 refused (rate limited, not found, not authorized), 2 usage
 * or connection error. Messages go to stderr and say what to do next.
 */
#ifndef TT_CLI_H
#define TT_CLI_H

#include <jansson.h>

#include "http.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2,
};

/* list.c: tracetrap list */
int	list_main(int argc, char **argv);

/* fetch.c: tracetrap fetch */
int	fetch_main(int argc, char **argv);

/* remote.c: talking to the relay's HTTP API */
#define REMOTE_URL_DEFAULT	"http://127.0.0.1:5480"
#define REMOTE_URL_ENV		"TRACETRAP_RELAY"
#define REMOTE_TOKEN_ENV	"TRACETRAP_RELAY_TOKEN"

/*
 * The relay from --relay (url may be NULL) or $TRACETRAP_RELAY, and the
 * token from --token or $TRACETRAP_RELAY_TOKEN. Prints what is wrong and
 * returns -1 on a bad URL or token.
 */
int	remote_endpoint(struct http_endpoint *, const char *url,
	    const char *token);
/* Prints a connection failure with the advice that goes with it. */
void	remote_unreachable(const struct http_endpoint *, const char *err);
/*
 * Prints the relay's refusal (its JSON error, or the status) and returns
 * the exit status it means.
 */
int	remote_failure(const struct http_endpoint *,
	    const struct http_response *, const char *what);
/* GET target, a JSON answer. Returns an exit status; *json on EXIT_OK. */
int	remote_get_json(const struct http_endpoint *, const char *target,
	    const char *what, json_t **json);
/* Appends "[?&]key=value", the value percent-encoded. -1 if no room. */
int	remote_query_add(char *query, size_t len, const char *key,
	    const char *value);

#endif
