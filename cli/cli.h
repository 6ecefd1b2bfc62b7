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

/*
 * local.c: reading a snapshot directory here, in a child process
 * (lib/isolate.c), so a trace that crashes libbabeltrace2 does not
 * take the command with it. Both always return JSON; on failure it has
 * "error".
 */
#define CLI_ANALYZE_CPU_S	600
#define CLI_ANALYZE_MEMORY	(2ULL << 30)
json_t	*cli_analyze(const char *dir);
struct trace_query;
json_t	*cli_events(const char *dir, const struct trace_query *);

/* show.c: tracetrap show; events.c: tracetrap events */
int	show_main(int argc, char **argv);
int	events_main(int argc, char **argv);
void	show_snapshot(const json_t *summary, size_t rows);

/* remote.c: talking to the relay's HTTP API */
#define REMOTE_URL_DEFAULT	"http://127.0.0.1:5480"
#define REMOTE_URL_ENV		"TRACETRAP_RELAY"
#define REMOTE_TOKEN_ENV	"TRACETRAP_RELAY_TOKEN"
#define REMOTE_CA_ENV		"TRACETRAP_RELAY_CA"
#define REMOTE_CERT_ENV		"TRACETRAP_RELAY_CERT"
#define REMOTE_KEY_ENV		"TRACETRAP_RELAY_KEY"
#define REMOTE_NOT_FOUND	100	/* remote_get_json_quiet()'s 404 */
#define REMOTE_NAME_MAX		128

/* The relay options every remote command takes (long options). */
enum {
	REMOTE_OPT_CA = 0x100,
	REMOTE_OPT_CERT,
	REMOTE_OPT_KEY,
	REMOTE_OPT_TIMEOUT,
};
#define REMOTE_OPTIONS \
	{ "relay", required_argument, NULL, 'r' }, \
	{ "token", required_argument, NULL, 't' }, \
	{ "ca", required_argument, NULL, REMOTE_OPT_CA }, \
	{ "cert", required_argument, NULL, REMOTE_OPT_CERT }, \
	{ "key", required_argument, NULL, REMOTE_OPT_KEY }, \
	{ "timeout", required_argument, NULL, REMOTE_OPT_TIMEOUT }
#define REMOTE_USAGE \
	"the relay defaults to $TRACETRAP_RELAY or " REMOTE_URL_DEFAULT \
	"; its token to\n$TRACETRAP_RELAY_TOKEN; for https://, --ca, --cert " \
	"and --key default to\n$TRACETRAP_RELAY_CA, _CERT and _KEY. " \
	"--timeout (default 60s) bounds the wait\nfor an answer; a body " \
	"must come at 4 KiB/s or more.\n"

struct remote_opts {
	const char	*url, *token, *ca, *cert, *key, *timeout;
};

void	remote_opts_init(struct remote_opts *);
/* Takes a getopt result if it is a relay option: returns 1, else 0. */
int	remote_opts_take(struct remote_opts *, int ch, const char *arg);
/*
 * The relay endpoint from the options, then the environment. Prints what
 * is wrong and returns -1 on a bad URL, token or certificate option.
 */
int	remote_open(struct http_endpoint *, const struct remote_opts *);
/* An id the relay could know ([A-Za-z0-9._-]); prints why not. */
int	remote_id_is_valid(const char *id);
/*
 * Prints a failed exchange (res may be NULL) with the advice that goes
 * with it: a relay that cannot be reached, or a server that does not
 * answer like one.
 */
void	remote_unreachable(const struct http_endpoint *,
	    const struct http_response *, const char *err);
/*
 * Prints the relay's refusal (its JSON error, or the status) and returns
 * the exit status it means.
 */
int	remote_failure(const struct http_endpoint *,
	    const struct http_response *, const char *what);
/* GET target, a JSON answer. Returns an exit status; *json on EXIT_OK. */
int	remote_get_json(const struct http_endpoint *, const char *target,
	    const char *what, json_t **json);
/* The same, but a 404 "not_found" returns REMOTE_NOT_FOUND silently. */
int	remote_get_json_quiet(const struct http_endpoint *,
	    const char *target, const char *what, json_t **json);
/* status_relay.c: `tracetrap status --relay URL`. */
int	status_relay(const struct remote_opts *, int is_json);
/* Appends "[?&]key=value", the value percent-encoded. -1 if no room. */
int	remote_query_add(char *query, size_t len, const char *key,
	    const char *value);

#endif
