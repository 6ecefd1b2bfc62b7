/*
 * tracetrap status --relay URL: the relay's own state from GET /v1/status,
 * and with a shared PostgreSQL ([catalog] backend = postgresql) every relay
 * of the registry: its heartbeat's age and its connected recorders.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli.h"
#include "render.h"

static const char *
status_text(json_t *o, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : fallback;
}

static void
status_relays(json_t *cluster)
{
	json_t	*r, *nodes, *n;
	size_t	 i, j;

	if (!json_is_object(cluster)) {
		printf("cluster   none: this relay is the whole fleet "
		    "([catalog] backend = sqlite)\n");
		return;
	}
	printf("cluster   PostgreSQL %s%s%s; %lld triggers accepted, %lld "
	    "refused, %lld local only, %lld replayed, %lld too old\n",
	    json_is_true(json_object_get(cluster, "connected")) ? "connected" :
	    "unreachable", *status_text(cluster, "last_error", "") != '\0' ?
	    ", last error: " : "", status_text(cluster, "last_error", ""),
	    json_integer_value(json_object_get(cluster, "triggers")),
	    json_integer_value(json_object_get(cluster, "refused")),
	    json_integer_value(json_object_get(cluster, "local_only")),
	    json_integer_value(json_object_get(cluster, "replayed")),
	    json_integer_value(json_object_get(cluster, "stale")));
	json_array_foreach(json_object_get(cluster, "relays"), i, r) {
		nodes = json_object_get(r, "nodes");
		printf("relay     %s%s (%s, api %s): %s, heartbeat %.1f s ago, "
		    "%zu node%s", status_text(r, "name", "?"),
		    json_is_true(json_object_get(r, "self")) ? " (this one)" :
		    "", status_text(r, "listen", "?"), status_text(r, "api",
		    "?"), json_is_true(json_object_get(r, "stale")) ? "STALE" :
		    "up", (double)json_integer_value(json_object_get(r,
		    "heartbeat_age_ms")) / 1000, json_array_size(nodes),
		    json_array_size(nodes) == 1 ? "" : "s");
		json_array_foreach(nodes, j, n)
			printf("%s%s", j == 0 ? ": " : ", ",
			    json_string_value(n));
		printf("\n");
	}
}

int
status_relay(const struct remote_opts *ro, int is_json)
{
	struct http_endpoint	 ep;
	json_t			*s, *st;
	int			 code;

	if (remote_open(&ep, ro) == -1)
		return EXIT_USAGE;
	if ((code = remote_get_json(&ep, "/v1/status", "status", &s)) !=
	    EXIT_OK)
		return code;
	if (is_json) {
		render_json(s);
		json_decref(s);
		return EXIT_OK;
	}
	st = json_object_get(s, "stats");
	printf("relay     %s (tracetrap-relay %s): %lld recorders connected\n",
	    status_text(s, "name", "?"), status_text(s, "version", "?"),
	    json_integer_value(json_object_get(s, "connections")));
	printf("incidents %lld fanned out here, %lld refused by the fleet "
	    "budget; %lld uploads stored\n",
	    json_integer_value(json_object_get(st, "incidents")),
	    json_integer_value(json_object_get(st, "incidents_rate_limited")),
	    json_integer_value(json_object_get(st, "uploads_stored")));
	status_relays(json_object_get(s, "cluster"));
	json_decref(s);
	return EXIT_OK;
}
