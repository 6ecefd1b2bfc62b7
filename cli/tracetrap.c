/*
 * tracetrap: the operator's command.
 *
 *   tracetrap snapshot [--reason TEXT] [--cluster] [--wait] [--label K=V]
 *                      [--socket PATH]
 *   tracetrap status [--json] [--socket PATH | --relay URL]
 *   tracetrap list [--relay URL] [--node N] [--source S] [--since T] [--json]
 *   tracetrap fetch ID [-o DIR] [--relay URL]
 *   tracetrap show ID|INCIDENT|DIR [--json]
 *   tracetrap events ID|DIR [--vpid N] [--vtid N] [--from T] [--to T]
 *                    [--name PATTERN] [--request ID] [--limit N] [--json]
 *
 * Exit status (DESIGN.md): 0 success, 1 refused (rate limited, not
 * found), 2 usage or connection error. Messages say what to do next.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "render.h"

#define CONTROL_SOCKET		"/run/tracetrap/control.sock"
#define CONTROL_SOCKET_ENV	"TRACETRAP_CONTROL_SOCKET"

static const char *
default_socket(void)
{
	const char *env = getenv(CONTROL_SOCKET_ENV);

	return env != NULL && env[0] != '\0' ? env : CONTROL_SOCKET;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tracetrap snapshot [--reason TEXT] [--cluster] [--wait] "
	    "[--label KEY=VALUE]... [--socket PATH]\n"
	    "       tracetrap status [--json] [--socket PATH | --relay URL "
	    "[--token TOKEN]]\n"
	    "       tracetrap list [--relay URL] [--token TOKEN] [--node NODE] "
	    "[--source SOURCE]\n"
	    "                      [--since TIME] [--until TIME] [--limit N] "
	    "[--json]\n"
	    "       tracetrap fetch ID [-o DIR] [--relay URL] [--token TOKEN]\n"
	    "       tracetrap show ID|INCIDENT|DIR [--json] [--all] "
	    "[--relay URL] [--token TOKEN]\n"
	    "       tracetrap events ID|DIR [--request ID] [--vpid N] "
	    "[--vtid N] [--from T] [--to T]\n"
	    "                        [--name PATTERN] [--limit N] [--json] "
	    "[--relay URL] [--token TOKEN]\n"
	    "Relay commands also take --ca FILE --cert FILE --key FILE for "
	    "https:// relays.\n"
	    "The control socket defaults to $%s or %s;\n" REMOTE_USAGE,
	    CONTROL_SOCKET_ENV, CONTROL_SOCKET);
}

/* Sends the request; prints the connection error itself. */
static int
request(const char *socket_path, const char *method, const char *target,
    const char *body, struct http_response *res, json_t **json)
{
	struct http_endpoint	 ep;
	char			 err[512];
	json_error_t		 jerr;

	if (http_endpoint_unix(&ep, socket_path, err, sizeof(err)) == -1 ||
	    http_request(&ep, method, target, body, res, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "tracetrap: %s\n"
		    "Is tracetrap-recorder running? Start it, or point "
		    "--socket at its control socket.\n", err);
		return -1;
	}
	*json = json_loads(res->body, 0, &jerr);
	if (*json == NULL && res->status != 200) {
		fprintf(stderr, "tracetrap: the recorder answered HTTP %d "
		    "without JSON\n", res->status);
		return -1;
	}
	return 0;
}

static const char *
json_text(json_t *o, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : fallback;
}

static int
cmd_snapshot(int argc, char **argv)
{
	static const struct option options[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "cluster", no_argument, NULL, 'c' },
		{ "wait", no_argument, NULL, 'w' },
		{ "label", required_argument, NULL, 'l' },
		{ "socket", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*socket_path = default_socket();
	struct http_response	 res;
	json_t			*body, *labels, *answer = NULL;
	char			*text, *eq;
	int			 ch, is_wait = 0, code = EXIT_USAGE;

	body = json_pack("{s:s, s:s}", "reason", "manual snapshot",
	    "scope", "node");
	labels = json_object();
	optind = 1;
	while ((ch = getopt_long(argc, argv, "r:cwl:s:", options, NULL))
	    != -1) {
		switch (ch) {
		case 'r':
			json_object_set_new(body, "reason",
			    json_string(optarg));
			break;
		case 'c':
			json_object_set_new(body, "scope",
			    json_string("cluster"));
			break;
		case 'w':
			is_wait = 1;
			break;
		case 'l':
			if ((eq = strchr(optarg, '=')) == NULL ||
			    eq == optarg) {
				fprintf(stderr, "tracetrap: --label wants "
				    "KEY=VALUE, got '%s'\n", optarg);
				goto end;
			}
			*eq = '\0';
			json_object_set_new(labels, optarg,
			    json_string(eq + 1));
			break;
		case 's':
			socket_path = optarg;
			break;
		default:
			usage();
			goto end;
		}
	}
	if (optind != argc) {
		usage();
		goto end;
	}
	if (json_string_value(json_object_get(body, "reason")) == NULL) {
		fprintf(stderr, "tracetrap: --reason must be UTF-8 text\n");
		goto end;
	}
	json_object_set(body, "labels", labels);
	text = json_dumps(body, JSON_COMPACT);
	if (request(socket_path, "POST", is_wait ? "/v1/snapshot?wait=1" :
	    "/v1/snapshot", text, &res, &answer) == -1) {
		free(text);
		goto end;
	}
	free(text);
	switch (res.status) {
	case 200:
		printf("snapshot %s recorded%s: %s (%lld bytes, %.1f ms)\n",
		    json_text(answer, "id", "?"),
		    json_is_true(json_object_get(answer, "joined")) ?
		    " (joined an open snapshot)" : "",
		    json_text(answer, "path", "?"),
		    json_integer_value(json_object_get(answer, "bytes")),
		    json_number_value(json_object_get(answer,
		    "duration_ms")));
		code = EXIT_OK;
		break;
	case 202:
		if (strcmp(json_text(answer, "state", ""), "sampled_out") == 0)
			printf("trigger sampled out by the source's sampling "
			    "rate; no snapshot\n");
		else if (strcmp(json_text(answer, "state", ""), "forwarded")
		    == 0)
			printf("cluster trigger forwarded to the relay; every "
			    "recorder of the fleet takes a snapshot under one "
			    "incident (fleet limits permitting)\n");
		else
			printf("snapshot %s %s; `tracetrap status` shows its "
			    "progress\n", json_text(answer, "id", "?"),
			    json_text(answer, "state", "queued"));
		code = EXIT_OK;
		break;
	case 429:
		fprintf(stderr, "tracetrap: rate limited by %s; retry in "
		    "%.1f s, or raise [limits] in the recorder's config\n",
		    json_text(answer, "limit", "the limits"),
		    (double)json_integer_value(json_object_get(answer,
		    "retry_after_ms")) / 1000.0);
		code = EXIT_REFUSED;
		break;
	default:
		fprintf(stderr, "tracetrap: %s (HTTP %d): %s\n",
		    json_text(answer, "error", "error"), res.status,
		    json_text(answer, "message", res.body));
		code = res.status == 403 || res.status == 409 ||
		    res.status == 404 ? EXIT_REFUSED : EXIT_USAGE;
		break;
	}
	http_response_free(&res);
end:
	json_decref(answer);
	json_decref(labels);
	json_decref(body);
	return code;
}

static void
print_counters(json_t *counters)
{
	const char	*source, *outcome;
	json_t		*outcomes, *n;

	json_object_foreach(counters, source, outcomes) {
		printf("  %-12s", source);
		json_object_foreach(outcomes, outcome, n)
			printf(" %s=%lld", outcome, json_integer_value(n));
		printf("\n");
	}
}

/* One line a watcher: what it watches, what it sees, where it stands. */
static void
print_watchers(json_t *watchers)
{
	json_t		*w, *value;
	size_t		 i;
	char		 seen[32];
	const char	*unit;

	if (json_array_size(watchers) == 0)
		return;
	printf("watchers:\n");
	json_array_foreach(watchers, i, w) {
		value = json_object_get(w, "value");
		unit = json_text(w, "unit", "");
		if (!json_is_number(value))
			snprintf(seen, sizeof(seen), "-");
		else if (strcmp(unit, "percent") == 0)
			snprintf(seen, sizeof(seen), "%.1f%%",
			    json_number_value(value));
		else
			snprintf(seen, sizeof(seen), "%.0f MiB",
			    json_number_value(value) / (1024 * 1024));
		printf("  %-12s %-11s %-28s %-10s %-8s fires=%lld%s%s\n",
		    json_text(w, "name", "?"), json_text(w, "kind", "?"),
		    json_text(w, "target", "?"), seen,
		    json_text(w, "state", "?"),
		    json_integer_value(json_object_get(w, "fires")),
		    json_object_get(w, "error") != NULL ? "  error: " : "",
		    json_text(w, "error", ""));
	}
}

/* The relay link's line of `tracetrap status`. */
static void
print_relay(json_t *relay)
{
	const char *state = json_text(relay, "state", "?");

	if (strcmp(state, "not_configured") == 0) {
		printf("relay     none configured: snapshots stay in the "
		    "spool\n");
		return;
	}
	/* Which relay of the list, and at which address. */
	if (json_is_true(json_object_get(relay, "connected")) &&
	    strcmp(json_text(relay, "entry", ""), json_text(relay, "peer",
	    "")) != 0)
		printf("relay     %s at %s: connected as %s since %s",
		    json_text(relay, "entry", "?"),
		    json_text(relay, "peer", "?"),
		    json_text(relay, "node_name", "?"),
		    json_text(relay, "connected_since", "?"));
	else if (json_is_true(json_object_get(relay, "connected")))
		printf("relay     %s: connected as %s since %s",
		    json_text(relay, "entry", "?"),
		    json_text(relay, "node_name", "?"),
		    json_text(relay, "connected_since", "?"));
	else
		printf("relay     %s: %s%s%s", json_text(relay, "address", "?"),
		    state, *json_text(relay, "last_error", "") != '\0' ?
		    ", last error: " : "", json_text(relay, "last_error", ""));
	printf("; %lld uploaded, %lld refused%s%s",
	    json_integer_value(json_object_get(relay, "uploads")),
	    json_integer_value(json_object_get(relay, "refused")),
	    json_is_string(json_object_get(relay, "uploading")) ?
	    ", uploading " : "",
	    json_text(relay, "uploading", ""));
	/* A list of relays, or a name of several: how far it has moved. */
	if (json_integer_value(json_object_get(relay, "addresses")) > 1 ||
	    json_integer_value(json_object_get(relay, "failovers")) > 0)
		printf("; %lld relay addresses, %lld failovers",
		    json_integer_value(json_object_get(relay, "addresses")),
		    json_integer_value(json_object_get(relay, "failovers")));
	printf("\n");
}

static int
cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		REMOTE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char		*socket_path = default_socket();
	struct remote_opts	 ro;
	struct http_response	 res;
	json_t			*s = NULL, *session, *limiter, *spool, *counters;
	json_t			*tokens;
	int			 ch, is_json = 0, is_relay = 0;

	remote_opts_init(&ro);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "js:r:t:", options, NULL)) != -1) {
		/* Any relay option: the relay's status, not the recorder's. */
		if (remote_opts_take(&ro, ch, optarg)) {
			is_relay = 1;
			continue;
		}
		switch (ch) {
		case 'j':
			is_json = 1;
			break;
		case 's':
			socket_path = optarg;
			break;
		default:
			usage();
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage();
		return EXIT_USAGE;
	}
	if (is_relay)
		return status_relay(&ro, is_json);
	if (request(socket_path, "GET", "/v1/status", NULL, &res, &s) == -1)
		return EXIT_USAGE;
	if (res.status != 200 || s == NULL) {
		fprintf(stderr, "tracetrap: status failed (HTTP %d): %s\n",
		    res.status, res.body);
		http_response_free(&res);
		json_decref(s);
		return EXIT_USAGE;
	}
	http_response_free(&res);
	if (is_json) {
		render_json(s);
		json_decref(s);
		return EXIT_OK;
	}
	session = json_object_get(s, "session");
	limiter = json_object_get(s, "limiter");
	spool = json_object_get(s, "spool");
	counters = json_object_get(s, "counters");
	printf("node      %s (tracetrap %s, up %llds)\n",
	    json_text(s, "node", "?"), json_text(s, "version", "?"),
	    json_integer_value(json_object_get(s, "uptime_s")));
	printf("session   %s: %s, %lld x %lld bytes per CPU, %s buffers, "
	    "output %s\n", json_text(session, "name", "?"),
	    json_text(session, "state", "?"),
	    json_integer_value(json_object_get(session, "subbuf_count")),
	    json_integer_value(json_object_get(session, "subbuf_size")),
	    json_text(session, "buffers", "?"),
	    json_text(session, "output", "?"));
	if (json_object_get(session, "error") != NULL)
		printf("          error: %s\n", json_text(session, "error", ""));
	printf("kernel    %s\n", json_is_true(json_object_get(session,
	    "kernel")) ? "traced" : json_text(session, "kernel_reason",
	    "not traced"));
	tokens = json_object_get(limiter, "tokens");
	printf("limits    tokens %s%lld/%lld, cooldown %lld ms left, "
	    "%lld/%lld today%s\n", json_is_null(tokens) ? "unlimited " : "",
	    json_integer_value(tokens),
	    json_integer_value(json_object_get(limiter, "burst")),
	    json_integer_value(json_object_get(limiter,
	    "cooldown_remaining_ms")),
	    json_integer_value(json_object_get(limiter, "day_count")),
	    json_integer_value(json_object_get(limiter, "max_per_day")),
	    json_is_true(json_object_get(limiter, "open")) ?
	    ", snapshot open (new triggers join it)" : "");
	printf("spool     %s: %lld snapshots, %lld of %lld bytes, %lld "
	    "evicted\n", json_text(spool, "dir", "?"),
	    json_integer_value(json_object_get(spool, "count")),
	    json_integer_value(json_object_get(spool, "bytes")),
	    json_integer_value(json_object_get(spool, "max_bytes")),
	    json_integer_value(json_object_get(spool, "evicted")));
	printf("snapshots %lld recorded, %lld failed; datagrams %lld "
	    "(%lld malformed)\n",
	    json_integer_value(json_object_get(counters,
	    "snapshots_recorded")),
	    json_integer_value(json_object_get(counters, "snapshots_failed")),
	    json_integer_value(json_object_get(counters, "datagrams")),
	    json_integer_value(json_object_get(counters,
	    "datagrams_malformed")));
	print_relay(json_object_get(s, "relay"));
	print_watchers(json_object_get(s, "watchers"));
	printf("triggers by source:\n");
	print_counters(json_object_get(limiter, "counters"));
	json_decref(s);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	/* A relay that closes first is an error to report, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage();
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "snapshot") == 0)
		return cmd_snapshot(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return list_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "fetch") == 0)
		return fetch_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return show_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "events") == 0)
		return events_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage();
		return EXIT_OK;
	}
	fprintf(stderr, "tracetrap: unknown command '%s'\n", argv[1]);
	usage();
	return EXIT_USAGE;
}
