/*
 * tracetrap-relay configuration (relay_config.h), built like the recorder's
 * (recorder/config.c) on lib/conf.c: the keys live in one table,
 * relay_config_keys[], so the parser, the "unknown key" message and the
 * checks cannot drift apart; conf/relay.conf documents the same keys.
 *
 * Every value is validated at load time, with a message that names the key
 * and the expected form, so that a running relay never meets a value it
 * cannot use. A load works on a copy and only replaces the caller's config
 * when the whole file is valid: a SIGHUP with a broken file leaves the
 * running configuration untouched.
 *
 * The checks that need the whole file (the [listen] TLS files, which may be
 * named anywhere or left at their defaults, and the CRL, read with the
 * CA that signs it; [api] and [listen] on one port) run after the parse. The handler records the line of every key so
 * that they can still name the line to fix.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "ini.h"
#include "relay_config.h"
#include "s3.h"
#include "tls.h"

#define RELAY_CONFIG_TOKEN_MIN	16
#define RELAY_CONFIG_CATALOG	"catalog.db"	/* in [store] dir */

/* After lib/conf.c's CONF_SECTION_NONE and CONF_SECTION_SKIP. */
enum relay_config_section {
	RELAY_CONFIG_SECTION_RELAY = CONF_SECTION_SKIP + 1,
	RELAY_CONFIG_SECTION_LISTEN,
	RELAY_CONFIG_SECTION_API,
	RELAY_CONFIG_SECTION_STORE,
	RELAY_CONFIG_SECTION_FLEET,
	RELAY_CONFIG_SECTION_ANALYSIS,
	RELAY_CONFIG_SECTION_NODE,
	RELAY_CONFIG_SECTION_CATALOG,
	RELAY_CONFIG_SECTION_COUNT
};

_Static_assert(RELAY_CONFIG_SECTION_COUNT <= CONF_SECTIONS_MAX,
    "conf_state.section_line[] is too small for relay_config_section");

/* What conf_load_buffer() allocates for one load. */
struct relay_config_state {
	struct conf_state	 cs;		/* first, for lib/conf.c */
	struct relay_config	 conf;		/* the copy being loaded */
};

_Static_assert(offsetof(struct relay_config_state, cs) == 0,
    "lib/conf.c reads a struct relay_config_state as its conf_state");

/* RFC 6750 b64token: what an Authorization: Bearer header may carry. */
static int
relay_config_is_token_char(char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~' || c == '+' || c == '/' || c == '=');
}

/* The token is a secret: its messages never quote it. */
static int
relay_config_parse_token(void *arg, const struct conf_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	size_t	 i, len = strlen(value);

	(void)arg;
	for (i = 0; i < len; i++) {
		if (!relay_config_is_token_char(value[i]))
			break;
	}
	if (i != len) {
		snprintf(err, errlen, "invalid character at offset %zu of the "
		    "token (expected \"\" for none, or letters, digits and "
		    "'-', '.', '_', '~', '+', '/', '=')", i);
		return -1;
	}
	if (len != 0 && (len < RELAY_CONFIG_TOKEN_MIN || len >= k->size)) {
		snprintf(err, errlen, "token of %zu characters (expected \"\" "
		    "for none, or %d to %zu characters)", len,
		    RELAY_CONFIG_TOKEN_MIN, k->size - 1);
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

/*
 * Node names as the recorders' certificates carry them (tls_peer_name():
 * no leading '.').
 */
static int
relay_config_is_node(const char *s, size_t len)
{
	return (len > 0 && len < RELAY_CONFIG_NAME_MAX && s[0] != '.' &&
	    conf_is_name(s, len));
}

/*
 * A comma list of node names, stored without the spaces an operator may
 * put after the commas and without repeats, so the fan-out splits on ','
 * alone. A line of the file is shorter than the list.
 */
static int
relay_config_parse_nodes(void *arg, const struct conf_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	char	 expected[256];

	(void)arg;
	snprintf(expected, sizeof expected, "\"\" for every node, or "
	    "comma-separated names of 1 to %d letters, digits, '.', '_' or "
	    "'-', not starting with '.'", RELAY_CONFIG_NAME_MAX - 1);
	return conf_list_parse(value, dst, k->size, relay_config_is_node,
	    CONF_LIST_UNIQUE, "node name", expected, err, errlen);
}

CONF_CHOICE_PARSER(relay_config_parse_store_backend, "store backend",
    "local", "s3")
CONF_CHOICE_PARSER(relay_config_parse_catalog_backend, "catalog backend",
    "sqlite", "postgresql")

/* An endpoint is HOST[:PORT] or [IPv6]:PORT: S3 clients address by path. */
static int
relay_config_is_endpoint_char(char c)
{
	return (conf_is_name(&c, 1) || c == ':' || c == '[' || c == ']');
}

static int
relay_config_parse_endpoint(void *arg, const struct conf_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	static const char *const schemes[] = { "http://", "https://", NULL };

	(void)arg;
	if (conf_parse_url(value, schemes, relay_config_is_endpoint_char, dst,
	    k->size) == -1) {
		snprintf(err, errlen, "invalid endpoint '%s' (expected "
		    "http://HOST[:PORT] or https://HOST[:PORT], no path, at "
		    "most %zu bytes)", value, k->size - 1);
		return -1;
	}
	return 0;
}

/*
 * S3 bucket names (3 to 63 of [a-z0-9.-]) and key prefixes (the relay's
 * own path characters and '/', no "..", no leading '/').
 */
static int
relay_config_parse_bucket(void *arg, const struct conf_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	size_t	 i, len = strlen(value);

	(void)arg;
	for (i = 0; i < len; i++) {
		if (!((value[i] >= 'a' && value[i] <= 'z') ||
		    (value[i] >= '0' && value[i] <= '9') || value[i] == '.' ||
		    value[i] == '-'))
			break;
	}
	if (i != len || len < 3 || len > 63 || len >= k->size) {
		snprintf(err, errlen, "invalid bucket '%s' (expected 3 to 63 "
		    "of a-z, 0-9, '.' and '-')", value);
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

static int
relay_config_parse_prefix(void *arg, const struct conf_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	size_t	 i, len = strlen(value);

	(void)arg;
	for (i = 0; i < len; i++) {
		if (!conf_is_name(value + i, 1) && value[i] != '/')
			break;
	}
	if (i != len || len >= k->size || value[0] == '/' ||
	    strstr(value, "..") != NULL || strstr(value, "//") != NULL) {
		snprintf(err, errlen, "invalid prefix '%s' (expected \"\" or "
		    "letters, digits, '.', '_', '-' and '/', not starting with "
		    "'/', without \"..\" or \"//\")", value);
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

#define RELAY_CONFIG_FIELD(f)	CONF_FIELD(struct relay_config, f)

/*
 * Every key with its value type, its default (as relay.conf says it) and
 * its bounds; the relay's name defaults to the host's.
 */
static const struct conf_key relay_config_keys[] = {
	CONF_NAME(RELAY_CONFIG_SECTION_RELAY, "name", RELAY_CONFIG_FIELD(name),
	    NULL),
	CONF_NAME(RELAY_CONFIG_SECTION_NODE, "name", RELAY_CONFIG_FIELD(name),
	    NULL),

	CONF_ADDRESS(RELAY_CONFIG_SECTION_LISTEN, "address",
	    RELAY_CONFIG_FIELD(listen_address), "127.0.0.1:5443"),
	TLS_CONF_KEYS(RELAY_CONFIG_SECTION_LISTEN, struct relay_config,
	    listen_tls, "/etc/tracetrap/relay.pem", "/etc/tracetrap/relay.key"),
	CONF_UINT(RELAY_CONFIG_SECTION_LISTEN, "max_connections",
	    RELAY_CONFIG_FIELD(listen_max_connections), "1024", 1, 1000000),
	CONF_UINT(RELAY_CONFIG_SECTION_LISTEN, "max_per_address",
	    RELAY_CONFIG_FIELD(listen_max_per_address), "64", 0, 1000000),
	/* Room for a whole manifest frame and its job, or nothing fits. */
	CONF_SIZE(RELAY_CONFIG_SECTION_LISTEN, "max_memory",
	    RELAY_CONFIG_FIELD(listen_max_memory), "256M", 2 * 1024 * 1024,
	    UINT64_MAX),
	CONF_DURATION(RELAY_CONFIG_SECTION_LISTEN, "handshake_timeout",
	    RELAY_CONFIG_FIELD(listen_handshake_timeout_ms), "10s", 100,
	    600 * 1000),

	CONF_ADDRESS(RELAY_CONFIG_SECTION_API, "address",
	    RELAY_CONFIG_FIELD(api_address), "127.0.0.1:5480"),
	CONF_KEY(RELAY_CONFIG_SECTION_API, "token", relay_config_parse_token,
	    RELAY_CONFIG_FIELD(api_token), ""),
	CONF_BOOL(RELAY_CONFIG_SECTION_API, "tls",
	    RELAY_CONFIG_FIELD(is_api_tls), "no"),

	/* The catalog's default, <dir>/catalog.db, must fit a path too. */
	CONF_PATH(RELAY_CONFIG_SECTION_STORE, "dir",
	    RELAY_CONFIG_FIELD(store_dir), "/var/lib/tracetrap/store",
	    RELAY_CONFIG_PATH_MAX - sizeof "/" RELAY_CONFIG_CATALOG + 1),
	CONF_PATH(RELAY_CONFIG_SECTION_STORE, "catalog",
	    RELAY_CONFIG_FIELD(store_catalog), "", RELAY_CONFIG_PATH_MAX,
	    .flags = CONF_EMPTY_OK),
	CONF_SIZE(RELAY_CONFIG_SECTION_STORE, "max_bytes",
	    RELAY_CONFIG_FIELD(store_max_bytes), "100G", 1024 * 1024,
	    UINT64_MAX),
	CONF_DURATION(RELAY_CONFIG_SECTION_STORE, "max_age",
	    RELAY_CONFIG_FIELD(store_max_age_ms), "720h", 0, UINT64_MAX),
	CONF_SIZE(RELAY_CONFIG_SECTION_STORE, "min_free",
	    RELAY_CONFIG_FIELD(store_min_free), "256M", 0, UINT64_MAX),
	CONF_KEY(RELAY_CONFIG_SECTION_STORE, "backend",
	    relay_config_parse_store_backend,
	    RELAY_CONFIG_FIELD(store_backend), "local"),
	CONF_KEY(RELAY_CONFIG_SECTION_STORE, "s3_endpoint",
	    relay_config_parse_endpoint, RELAY_CONFIG_FIELD(store_s3_endpoint),
	    ""),
	CONF_KEY(RELAY_CONFIG_SECTION_STORE, "s3_region", conf_parse_name,
	    RELAY_CONFIG_FIELD(store_s3_region), "us-east-1"),
	CONF_KEY(RELAY_CONFIG_SECTION_STORE, "s3_bucket",
	    relay_config_parse_bucket, RELAY_CONFIG_FIELD(store_s3_bucket),
	    "tracetrap"),
	CONF_KEY(RELAY_CONFIG_SECTION_STORE, "s3_prefix",
	    relay_config_parse_prefix, RELAY_CONFIG_FIELD(store_s3_prefix), ""),
	CONF_PATH(RELAY_CONFIG_SECTION_STORE, "s3_credentials",
	    RELAY_CONFIG_FIELD(store_s3_credentials),
	    "/etc/tracetrap/s3-credentials", RELAY_CONFIG_PATH_MAX,
	    .flags = CONF_PRIVATE),
	CONF_PATH(RELAY_CONFIG_SECTION_STORE, "s3_ca",
	    RELAY_CONFIG_FIELD(store_s3_ca), "", RELAY_CONFIG_PATH_MAX,
	    .flags = CONF_EMPTY_OK),
	CONF_SIZE(RELAY_CONFIG_SECTION_STORE, "s3_part_size",
	    RELAY_CONFIG_FIELD(store_s3_part_size), "64M", S3_PART_SIZE_MIN,
	    5ULL << 30),
	CONF_SIZE(RELAY_CONFIG_SECTION_STORE, "s3_cache",
	    RELAY_CONFIG_FIELD(store_s3_cache), "1G", 0, UINT64_MAX),
	CONF_DURATION(RELAY_CONFIG_SECTION_STORE, "s3_sweep_grace",
	    RELAY_CONFIG_FIELD(store_s3_sweep_grace_ms), "1h", 1000,
	    UINT64_MAX),

	CONF_KEY(RELAY_CONFIG_SECTION_CATALOG, "backend",
	    relay_config_parse_catalog_backend,
	    RELAY_CONFIG_FIELD(catalog_backend), "sqlite"),
	CONF_KEY(RELAY_CONFIG_SECTION_CATALOG, "conninfo", conf_parse_text,
	    RELAY_CONFIG_FIELD(catalog_conninfo), ""),

	CONF_DURATION(RELAY_CONFIG_SECTION_FLEET, "cooldown",
	    RELAY_CONFIG_FIELD(fleet_cooldown_ms), "30s", 0, UINT64_MAX),
	CONF_UINT(RELAY_CONFIG_SECTION_FLEET, "max_per_hour",
	    RELAY_CONFIG_FIELD(fleet_max_per_hour), "12", 0, 1024),
	CONF_UINT(RELAY_CONFIG_SECTION_FLEET, "node_max_per_hour",
	    RELAY_CONFIG_FIELD(fleet_node_max_per_hour), "4", 0, 1024),
	CONF_KEY(RELAY_CONFIG_SECTION_FLEET, "nodes", relay_config_parse_nodes,
	    RELAY_CONFIG_FIELD(fleet_nodes), ""),
	CONF_DURATION(RELAY_CONFIG_SECTION_FLEET, "catch_up",
	    RELAY_CONFIG_FIELD(fleet_catch_up_ms), "30s", 0, 3600 * 1000),
	CONF_DURATION(RELAY_CONFIG_SECTION_FLEET, "heartbeat",
	    RELAY_CONFIG_FIELD(fleet_heartbeat_ms), "10s", 100, 3600 * 1000),

	CONF_UINT(RELAY_CONFIG_SECTION_ANALYSIS, "workers",
	    RELAY_CONFIG_FIELD(analysis_workers), "1", 0, 16),
	CONF_DURATION(RELAY_CONFIG_SECTION_ANALYSIS, "cpu_budget",
	    RELAY_CONFIG_FIELD(analysis_cpu_budget_ms), "20s", 100, 3600 * 1000),
	CONF_SIZE(RELAY_CONFIG_SECTION_ANALYSIS, "memory",
	    RELAY_CONFIG_FIELD(analysis_memory), "1G", 64ULL << 20, UINT64_MAX),
	CONF_DURATION(RELAY_CONFIG_SECTION_ANALYSIS, "timeout",
	    RELAY_CONFIG_FIELD(analysis_timeout_ms), "2m", 1000,
	    24 * 3600 * 1000),
	CONF_UINT(RELAY_CONFIG_SECTION_ANALYSIS, "queue",
	    RELAY_CONFIG_FIELD(analysis_queue), "1000", 1, 1000000),
	CONF_UINT(RELAY_CONFIG_SECTION_ANALYSIS, "backfill",
	    RELAY_CONFIG_FIELD(analysis_backfill), "60", 0, 100000),
	CONF_UINT(RELAY_CONFIG_SECTION_ANALYSIS, "query_threads",
	    RELAY_CONFIG_FIELD(analysis_query_threads), "2", 1, 16),
	CONF_UINT(RELAY_CONFIG_SECTION_ANALYSIS, "queries",
	    RELAY_CONFIG_FIELD(analysis_queries_max), "8", 1, 1000),
	CONF_DURATION(RELAY_CONFIG_SECTION_ANALYSIS, "wait_for_uploads",
	    RELAY_CONFIG_FIELD(analysis_wait_for_uploads_ms), "5s", 0,
	    3600 * 1000),
};

_Static_assert(sizeof relay_config_keys / sizeof relay_config_keys[0] <=
    CONF_KEYS_MAX, "conf_state.key_line[] is too small");

static const struct conf_section relay_config_sections[] = {
	{ "relay",	RELAY_CONFIG_SECTION_RELAY },
	{ "listen",	RELAY_CONFIG_SECTION_LISTEN },
	{ "api",	RELAY_CONFIG_SECTION_API },
	{ "store",	RELAY_CONFIG_SECTION_STORE },
	{ "fleet",	RELAY_CONFIG_SECTION_FLEET },
	{ "analysis",	RELAY_CONFIG_SECTION_ANALYSIS },
	{ "node",	RELAY_CONFIG_SECTION_NODE },
	{ "catalog",	RELAY_CONFIG_SECTION_CATALOG },
};

static const struct conf_table relay_config_table = {
	relay_config_keys,
	sizeof relay_config_keys / sizeof relay_config_keys[0],
	relay_config_sections,
	sizeof relay_config_sections / sizeof relay_config_sections[0],
	"node, relay, listen, api, store, catalog, fleet or analysis"
};

/* Fills what follows from the keys: split addresses, the catalog path. */
static void
relay_config_derive(struct relay_config *conf)
{
	size_t	 len;
	int	 is_slash;

	/* Both addresses were checked when they were read. */
	if (conf_split_address(conf->listen_address, conf->listen_host,
	    sizeof conf->listen_host, &conf->listen_port) == -1) {
		conf->listen_host[0] = '\0';
		conf->listen_port = 0;
	}
	if (conf_split_address(conf->api_address, conf->api_host,
	    sizeof conf->api_host, &conf->api_port) == -1) {
		conf->api_host[0] = '\0';
		conf->api_port = 0;
	}

	/* [store] dir leaves room for this (its table max). */
	if (conf->store_catalog[0] != '\0')
		snprintf(conf->store_catalog_path,
		    sizeof conf->store_catalog_path, "%s",
		    conf->store_catalog);
	else {
		len = strlen(conf->store_dir);
		is_slash = len > 0 && conf->store_dir[len - 1] == '/';
		snprintf(conf->store_catalog_path,
		    sizeof conf->store_catalog_path, "%s%s%s",
		    conf->store_dir, is_slash ? "" : "/",
		    RELAY_CONFIG_CATALOG);
	}
}

static void
relay_config_resolve(void *arg)
{
	struct relay_config_state *st = arg;

	relay_config_derive(&st->conf);
}

static int
relay_config_is_any_host(const char *host)
{
	return (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0);
}

/*
 * The checks that need the whole file; returns the number of errors. The
 * relay always listens, so its TLS files are always checked (unless the
 * caller leaves them out); one the file does not set is named at the
 * [listen] header.
 */
static int
relay_config_check(void *arg, const char *name, int flags, char *err,
    size_t errlen)
{
	struct relay_config_state	*st = arg;
	const struct conf_key		*listen, *api, *s3;
	const struct relay_config	*conf = &st->conf;
	int				 nerrors = 0;

	if (!(flags & RELAY_CONFIG_NO_FILE_CHECKS))
		nerrors += tls_conf_check(&st->cs, RELAY_CONFIG_SECTION_LISTEN,
		    &conf->listen_tls, NULL, " (the default path)", name, err,
		    errlen);

	/* The bucket needs an endpoint and keys; nothing else reads them. */
	if (conf->store_backend == RELAY_STORE_S3) {
		s3 = conf_find_key(&relay_config_table,
		    RELAY_CONFIG_SECTION_STORE, "s3_endpoint");
		if (conf->store_s3_endpoint[0] == '\0' &&
		    !conf_is_refused(&st->cs, s3)) {
			ini_append_error(err, errlen, name, conf_check_line(
			    &st->cs, s3, conf_find_key(&relay_config_table,
			    RELAY_CONFIG_SECTION_STORE, "backend")),
			    "[store] s3_endpoint: empty with backend = s3 "
			    "(expected http://HOST[:PORT] of the S3 store)");
			nerrors++;
		}
		if (!(flags & RELAY_CONFIG_NO_FILE_CHECKS) &&
		    conf_check_file(&st->cs, conf_find_key(
		    &relay_config_table, RELAY_CONFIG_SECTION_STORE,
		    "s3_credentials"), NULL, conf, " (the default path)", name,
		    err, errlen) == -1)
			nerrors++;
		if (!(flags & RELAY_CONFIG_NO_FILE_CHECKS) &&
		    conf->store_s3_ca[0] != '\0' && conf_check_file(&st->cs,
		    conf_find_key(&relay_config_table,
		    RELAY_CONFIG_SECTION_STORE, "s3_ca"), NULL, conf, "", name,
		    err, errlen) == -1)
			nerrors++;
	}

	/* One port cannot serve both; a wildcard takes it on every host. */
	listen = conf_find_key(&relay_config_table,
	    RELAY_CONFIG_SECTION_LISTEN, "address");
	api = conf_find_key(&relay_config_table, RELAY_CONFIG_SECTION_API,
	    "address");
	if (!conf_is_refused(&st->cs, listen) &&
	    !conf_is_refused(&st->cs, api) &&
	    conf->listen_port == conf->api_port &&
	    (strcmp(conf->listen_host, conf->api_host) == 0 ||
	    relay_config_is_any_host(conf->listen_host) ||
	    relay_config_is_any_host(conf->api_host))) {
		ini_append_error(err, errlen, name, conf_check_line(&st->cs,
		    conf_is_set(&st->cs, api) ? api : listen, NULL),
		    "[api] address: %s takes the port of [listen] address "
		    "%s (expected another port)", conf->api_address,
		    conf->listen_address);
		nerrors++;
	}
	return nerrors;
}

static const struct conf_loader relay_config_loader = {
	&relay_config_table, conf_handler, relay_config_resolve,
	relay_config_check, sizeof(struct relay_config_state),
	offsetof(struct relay_config_state, conf), sizeof(struct relay_config)
};

void
relay_config_defaults(struct relay_config *conf)
{
	memset(conf, 0, sizeof *conf);
	conf_defaults(&relay_config_table, CONF_SECTION_NONE, conf);
	/* The relay's name shows in its API and its logs. */
	conf_default_name(conf->name, sizeof conf->name);
	/* The same derived fields a load fills. */
	relay_config_derive(conf);
}

int
relay_config_load_buffer(struct relay_config *conf, const char *name,
    const char *text, size_t len, int flags, char *err, size_t errlen)
{
	return conf_load_buffer(&relay_config_loader, conf, name, text, len,
	    flags, err, errlen);
}

int
relay_config_load(struct relay_config *conf, const char *path, int flags,
    char *err, size_t errlen)
{
	return conf_load(&relay_config_loader, conf, path, flags, err, errlen);
}

int
relay_config_fleet_includes(const struct relay_config *conf,
    const char *node)
{
	if (conf->fleet_nodes[0] == '\0')
		return 1;
	return conf_list_has(conf->fleet_nodes, node, strlen(node));
}
