/*
 * tracetrap list [--relay URL] [--token T] [--node N] [--source S]
 *                [--since T] [--until T] [--limit N] [--json]
 *
 * The relay's snapshots, newest first, as a table or as the relay's JSON.
 * --since and --until take what the relay takes (RFC 3339 UTC, integer
 * microseconds), or a duration ago: 30m, 2h, 1d.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "render.h"
#include "text.h"
#include "units.h"

#define LIST_TARGET_MAX	2048

static void
list_usage(void)
{
	fprintf(stderr,
	    "usage: tracetrap list [--relay URL] [--token TOKEN] [--node NODE] "
	    "[--source SOURCE]\n"
	    "                      [--since TIME] [--until TIME] [--limit N] "
	    "[--json]\n"
	    "                      [--ca FILE --cert FILE --key FILE]\n"
	    "TIME is RFC 3339 UTC (2026-11-22T07:01:09Z), microseconds since "
	    "the epoch,\nor a duration ago (30m, 2h, 1d); " REMOTE_USAGE);
}

/*
 * A duration ago becomes microseconds since the epoch; anything else
 * goes to the relay as typed, which says what it accepts. A bare number
 * stays microseconds: only a unit makes it a duration.
 */
static int
list_time(const char *text, char *out, size_t len)
{
	struct timespec	 now;
	uint64_t	 ms, days;
	size_t		 n = strlen(text);
	char		 err[256], *end;

	if (n < 2 || strspn(text, "0123456789") == n ||
	    strspn(text, "0123456789") == 0) {
		snprintf(out, len, "%s", text);
		return 0;
	}
	if (text[n - 1] == 'd' && strspn(text, "0123456789") == n - 1) {
		days = strtoull(text, &end, 10);
		if (days > 365 * 1000) {
			fprintf(stderr, "tracetrap: %s: too many days\n", text);
			return -1;
		}
		ms = days * 24 * 3600 * 1000;
	} else if (units_parse_duration_ms(text, &ms, err,
	    sizeof(err)) == -1) {
		/* Not a duration: perhaps a date, the relay will tell. */
		snprintf(out, len, "%s", text);
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(out, len, "%lld", (long long)now.tv_sec * 1000000 +
	    now.tv_nsec / 1000 - (long long)(ms > INT64_MAX / 1000 ?
	    INT64_MAX / 1000 : ms) * 1000);
	return 0;
}

static void
list_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char	 units[] = "kMGT";
	double			 value = (double)bytes;
	int			 i = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
		return;
	}
	while (value >= 1024 && i < 3) {
		value /= 1024;
		i++;
	}
	snprintf(buf, len, "%.1f%c", value, units[i]);
}

/*
 * Text from a node (an id, a reason: anything in a manifest), made safe
 * for the terminal into buf: an escape sequence there could rewrite the
 * screen or, through OSC 52, the clipboard.
 */
static const char *
list_safe(const char *text, char *buf, size_t len)
{
	text_utf8_copy(buf, len, text, strlen(text));
	return text_terminal_safe(buf);
}

/* The strings of a JSON array, joined with sep, cut to fit len, safe. */
static void
list_join(json_t *array, const char *sep, char *buf, size_t len)
{
	json_t	*item;
	size_t	 i, used = 0;
	char	 raw[512];
	int	 n;

	raw[0] = '\0';
	json_array_foreach(array, i, item) {
		n = snprintf(raw + used, sizeof(raw) - used, "%s%s",
		    i > 0 ? sep : "", json_string_value(item) != NULL ?
		    json_string_value(item) : "?");
		if (n < 0 || (size_t)n >= sizeof(raw) - used)
			break;
		used += (size_t)n;
	}
	list_safe(raw, buf, len);
}

/* "2026-11-22T07:01:09.123456Z" reads better as "2026-11-22 07:01:09". */
static void
list_taken_at(const char *text, char *buf, size_t len)
{
	size_t n = strcspn(text, ".Z");

	snprintf(buf, len, "%.*s", (int)n, text);
	if (n > 10 && buf[10] == 'T')
		buf[10] = ' ';
}

/* o's string at key, safe, in buf. */
static const char *
list_text(json_t *o, const char *key, char *buf, size_t len)
{
	const char *text = json_string_value(json_object_get(o, key));

	return list_safe(text != NULL ? text : "?", buf, len);
}

static void
list_table(json_t *snapshots)
{
	json_t	*s;
	size_t	 i;
	int	 w_id = 2, w_node = 4, w_sources = 7, w_bytes = 5, n;
	char	 when[32], sources[512], reasons[512], bytes[32];
	char	 id[256], node[256], taken_at[64];

	/* Columns as wide as their widest cell; reasons last, free text. */
	json_array_foreach(snapshots, i, s) {
		n = (int)strlen(list_text(s, "id", id, sizeof(id)));
		w_id = n > w_id ? n : w_id;
		n = (int)strlen(list_text(s, "node", node, sizeof(node)));
		w_node = n > w_node ? n : w_node;
		list_join(json_object_get(s, "sources"), ",", sources,
		    sizeof(sources));
		n = (int)strlen(sources);
		w_sources = n > w_sources ? n : w_sources;
	}
	printf("%-*s  %-*s  %-19s  %-*s  %*s  %s\n", w_id, "ID", w_node,
	    "NODE", "TAKEN AT (UTC)", w_sources, "SOURCES", w_bytes, "BYTES",
	    "REASONS");
	json_array_foreach(snapshots, i, s) {
		list_taken_at(list_text(s, "taken_at", taken_at,
		    sizeof(taken_at)), when, sizeof(when));
		list_join(json_object_get(s, "sources"), ",", sources,
		    sizeof(sources));
		list_join(json_object_get(s, "reasons"), "; ", reasons,
		    sizeof(reasons));
		list_bytes((uint64_t)json_integer_value(json_object_get(s,
		    "bytes")), bytes, sizeof(bytes));
		printf("%-*s  %-*s  %-19s  %-*s  %*s  %s\n", w_id,
		    list_text(s, "id", id, sizeof(id)), w_node,
		    list_text(s, "node", node, sizeof(node)), when,
		    w_sources, sources, w_bytes, bytes, reasons);
	}
}

int
list_main(int argc, char **argv)
{
	static const struct option options[] = {
		REMOTE_OPTIONS,
		{ "node", required_argument, NULL, 'n' },
		{ "source", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct http_endpoint	 ep;
	struct remote_opts	 ro;
	char			 query[LIST_TARGET_MAX] = "";
	char			 target[LIST_TARGET_MAX + 32], when[64];
	json_t			*answer, *snapshots;
	int			 ch, is_json = 0, code;

	remote_opts_init(&ro);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "r:t:n:s:S:U:l:j", options,
	    NULL)) != -1) {
		if (remote_opts_take(&ro, ch, optarg))
			continue;
		switch (ch) {
		case 'n':
		case 's':
		case 'l':
			if (remote_query_add(query, sizeof(query), ch == 'n' ?
			    "node" : ch == 's' ? "source" : "limit",
			    optarg) == -1)
				goto too_long;
			break;
		case 'S':
		case 'U':
			if (list_time(optarg, when, sizeof(when)) == -1)
				return EXIT_USAGE;
			if (remote_query_add(query, sizeof(query), ch == 'S' ?
			    "since" : "until", when) == -1)
				goto too_long;
			break;
		case 'j':
			is_json = 1;
			break;
		default:
			list_usage();
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		list_usage();
		return EXIT_USAGE;
	}
	if (remote_open(&ep, &ro) == -1)
		return EXIT_USAGE;
	snprintf(target, sizeof(target), "/v1/snapshots%s", query);
	code = remote_get_json(&ep, target, "list", &answer);
	if (code != EXIT_OK)
		return code;
	snapshots = json_object_get(answer, "snapshots");
	if (!json_is_array(snapshots)) {
		fprintf(stderr, "tracetrap: list: the relay's answer has no "
		    "snapshots array\n");
		json_decref(answer);
		return EXIT_USAGE;
	}
	if (is_json)
		render_json(answer);
	else if (json_array_size(snapshots) == 0)
		fprintf(stderr, "no snapshots on %s match\n", ep.name);
	else
		list_table(snapshots);
	json_decref(answer);
	return EXIT_OK;
too_long:
	fprintf(stderr, "tracetrap: list: filters too long\n");
	return EXIT_USAGE;
}
