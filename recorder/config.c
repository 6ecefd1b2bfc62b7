/*
 * tracetrap-recorder configuration (config.h). The keys live in one table,
 * config_keys[], so the parser, the "unknown key" message and the checks
 * cannot drift apart; conf/recorder.conf documents the same keys. The value
 * types and the table's handling that the relay's loader shares are in
 * lib/conf.c; what is here is the recorder's own: the LTTng session's
 * values, the [source.NAME] sections and the checks of the whole file.
 *
 * Every value is validated here, at load time, with a message that names
 * the key and the expected form, so that a running recorder never meets a
 * value it cannot use. A load works on a copy and only replaces the
 * caller's config when the whole file is valid: a SIGHUP with a broken file
 * then leaves the running configuration untouched.
 *
 * A few checks need the whole file: whether [relay] key is readable by
 * others depends on the final key path and on whether address is set at
 * all, wherever those lines are. The handler records the line of every
 * key so that config_check() can still name the line to fix.
 */
#include <sys/types.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "config.h"
#include "ini.h"
#include "tls.h"

#define CONFIG_SOURCE_NAME_MAX	32
#define CONFIG_SOCKET_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)
#define CONFIG_HOUR_MS		(3600ULL * 1000)

/* Keys a [source.NAME] section set, so the rest can be resolved later. */
#define CONFIG_SET_ENABLED	0x01
#define CONFIG_SET_COOLDOWN	0x02
#define CONFIG_SET_BURST	0x04
#define CONFIG_SET_REFILL	0x08
#define CONFIG_SET_MAX_PER_DAY	0x10
#define CONFIG_SET_LIMITS	(CONFIG_SET_COOLDOWN | CONFIG_SET_BURST | \
				 CONFIG_SET_REFILL | CONFIG_SET_MAX_PER_DAY)

/* After lib/conf.c's CONF_SECTION_NONE and CONF_SECTION_SKIP. */
enum config_section {
	CONFIG_SECTION_NODE = CONF_SECTION_SKIP + 1,
	CONFIG_SECTION_SESSION,
	CONFIG_SECTION_CONTROL,
	CONFIG_SECTION_TRIGGER,
	CONFIG_SECTION_SPOOL,
	CONFIG_SECTION_LIMITS,
	CONFIG_SECTION_RELAY,
	CONFIG_SECTION_SOURCE,
	CONFIG_SECTION_COUNT
};

_Static_assert(CONFIG_SECTION_COUNT <= CONF_SECTIONS_MAX,
    "conf_state.section_line[] is too small for config_section");

/* What conf_load_buffer() allocates for one load. */
struct config_state {
	/*
	 * First, as lib/conf.c wants it: the section and the lines of the
	 * keys. Of [source.NAME] keys, only the last section's line is kept;
	 * no check uses them.
	 */
	struct conf_state	 cs;
	struct config		 conf;		/* the copy being loaded */
	size_t			 source;	/* index in [source.NAME] */
	int			 is_in_trigger;	/* in [trigger.KIND.NAME] */
	struct trigger_config_state triggers;
	unsigned		 source_set[POLICY_SOURCES_MAX];
	int			 is_source_listed[POLICY_SOURCES_MAX];
};

_Static_assert(offsetof(struct config_state, cs) == 0,
    "lib/conf.c reads a struct config_state as its conf_state");

/* Source names, as the datagram carries them: [a-z0-9_-]{1,32}. */
static int
config_is_source_name(const char *s, size_t len)
{
	return conf_is_section_name(s, len);
}

/* LTTng event name patterns: letters, digits, "_:.-" and '*'. */
static int
config_is_event(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == ':' || s[i] == '*' || s[i] == '.' || s[i] == '-'))
			return 0;
	}
	return 1;
}

CONF_CHOICE_PARSER(config_parse_buffers, "buffers", "per-uid", "per-pid")

/*
 * A comma list of event name patterns, stored without the spaces an
 * operator may put after the commas, so the session code splits on ','
 * alone.
 */
static int
config_parse_events(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	(void)arg;
	if (*value == '\0' && !(k->flags & CONF_EMPTY_OK)) {
		snprintf(err, errlen, "empty list (expected comma-separated "
		    "event names, e.g. * or myapp:*)");
		return -1;
	}
	return conf_list_parse(value, dst, k->size, config_is_event, 0,
	    "event name", "comma-separated names of letters, digits, '_', "
	    "':', '.', '-' and '*'", err, errlen);
}

/* The URL goes to lttng as one argument: no spaces in it. */
static int
config_is_output_char(char c)
{
	return ((unsigned char)c > ' ' && c != 0x7f);
}

static int
config_parse_output(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	static const char *const schemes[] = { "net://", "net6://", "tcp://",
	    NULL };

	(void)arg;
	if (conf_parse_url(value, schemes, config_is_output_char, dst,
	    k->size) == -1) {
		snprintf(err, errlen, "invalid output '%s' (expected \"\" for "
		    "the spool, or net://HOST, net6://HOST or tcp://HOST "
		    "for an lttng-relayd)", value);
		return -1;
	}
	return 0;
}

/* The host and port of one entry of [relay] address; -1 if it is none. */
static int
config_relay_split(const char *item, size_t len, struct config_relay *relay)
{
	if (len == 0 || len >= sizeof relay->address)
		return -1;
	memcpy(relay->address, item, len);
	relay->address[len] = '\0';
	return conf_split_address(relay->address, relay->host,
	    sizeof relay->host, &relay->port);
}

/*
 * Two entries name one relay when their ports match and so do their
 * hosts: DNS names whatever their case, IPv6 addresses by value ("::1"
 * is "0:0::1"). Such a list is a typing mistake, and the second entry
 * would double the first one's share of the fleet's connections.
 */
static int
config_relay_is_same(const struct config_relay *a,
    const struct config_relay *b)
{
	struct in6_addr	 a6, b6;

	if (a->port != b->port)
		return 0;
	if (inet_pton(AF_INET6, a->host, &a6) == 1 &&
	    inet_pton(AF_INET6, b->host, &b6) == 1)
		return memcmp(&a6, &b6, sizeof a6) == 0;
	return strcasecmp(a->host, b->host) == 0;
}

/*
 * [relay] address: one HOST:PORT, which reads (and fails) exactly as the
 * address type of every other key, or several, comma-separated, the
 * relays the recorder picks from. Stored without the spaces around the
 * entries; config_resolve() splits it into relays[].
 */
static int
config_parse_relay_address(void *arg, const struct conf_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	struct config_relay	 relays[CONFIG_RELAYS_MAX];
	char			 list[CONFIG_RELAYS_MAX * CONFIG_ADDRESS_MAX];
	const char		*cursor = value, *item;
	size_t			 n = 0, used = 0, len, i;

	if (strchr(value, ',') == NULL)
		return conf_parse_address(arg, k, value, dst, err, errlen);
	while (conf_list_next(&cursor, &item, &len)) {
		if (n == CONFIG_RELAYS_MAX) {
			snprintf(err, errlen, "too many addresses in '%s' (at "
			    "most %d)", value, CONFIG_RELAYS_MAX);
			return -1;
		}
		if (config_relay_split(item, len, &relays[n]) == -1) {
			snprintf(err, errlen, "invalid address '%.*s' in '%s' "
			    "(expected comma-separated HOST:PORT or "
			    "[IPv6]:PORT, HOST of letters, digits, '.' and "
			    "'-', PORT from 1 to 65535)", (int)len, item,
			    value);
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (config_relay_is_same(&relays[i], &relays[n])) {
				snprintf(err, errlen, "address '%s' in '%s' "
				    "repeats '%s' (list each relay once)",
				    relays[n].address, value,
				    relays[i].address);
				return -1;
			}
		}
		if (used != 0)
			list[used++] = ',';
		memcpy(list + used, item, len);
		used += len;
		n++;
	}
	list[used] = '\0';
	if (used >= k->size) {
		snprintf(err, errlen, "list too long (at most %zu bytes)",
		    k->size - 1);
		return -1;
	}
	memcpy(dst, list, used + 1);
	return 0;
}

/* Finds the [source.NAME] entry, or adds one with the defaults. */
static int
config_source(struct config_state *st, const char *name, size_t len,
    size_t *index, char *err, size_t errlen)
{
	struct policy_conf		*policy = &st->conf.policy;
	struct policy_source_conf	*source;
	size_t				 i;

	for (i = 0; i < policy->nsources; i++) {
		source = &policy->sources[i];
		if (strlen(source->name) == len &&
		    memcmp(source->name, name, len) == 0) {
			*index = i;
			return 0;
		}
	}
	if (policy->nsources == POLICY_SOURCES_MAX) {
		snprintf(err, errlen, "too many sources (at most %d)",
		    POLICY_SOURCES_MAX);
		return -1;
	}
	source = &policy->sources[policy->nsources];
	memset(source, 0, sizeof *source);
	memcpy(source->name, name, len);
	source->name[len] = '\0';
	source->is_enabled = 1;
	source->sample = 1.0;
	st->source_set[policy->nsources] = 0;
	st->is_source_listed[policy->nsources] = 0;
	*index = policy->nsources++;
	return 0;
}

/*
 * [trigger] sources: only these are enabled. The list is checked whole
 * before any entry is added; a later "sources =" replaces an earlier one.
 */
static int
config_parse_sources(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	struct config_state	*st = arg;
	char			 list[CONF_LIST_MAX], expected[128];
	const char		*cursor, *item;
	size_t			 len, index, i;

	(void)k;
	for (i = 0; i < st->conf.policy.nsources; i++)
		st->is_source_listed[i] = 0;
	*(int *)dst = 0;
	if (*value == '\0')
		return 0;

	/* A line is shorter than the list: only a bad name fails here. */
	snprintf(expected, sizeof expected, "comma-separated names of 1 to %d "
	    "characters a-z, 0-9, '_' or '-'", CONFIG_SOURCE_NAME_MAX);
	if (conf_list_parse(value, list, sizeof list, config_is_source_name, 0,
	    "source name", expected, err, errlen) == -1)
		return -1;
	for (cursor = list; conf_list_next(&cursor, &item, &len);) {
		if (config_source(st, item, len, &index, err, errlen) == -1)
			return -1;
		st->is_source_listed[index] = 1;
	}
	*(int *)dst = 1;
	return 0;
}

/*
 * A decimal from 0 to 1, read by hand: strtod() follows the locale and
 * takes "nan", "inf" and hexadecimal, none of which is a probability.
 */
static int
config_parse_sample(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	const char	*p = value;
	double		 v = 0, scale = 0.1;
	int		 ndigits = 0;

	(void)arg;
	(void)k;
	for (; *p >= '0' && *p <= '9'; p++, ndigits++) {
		if (v <= 1)
			v = v * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, ndigits++) {
			v += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (ndigits == 0 || *p != '\0' || v > 1) {
		snprintf(err, errlen, "invalid sample '%s' (expected a decimal "
		    "from 0 to 1, e.g. 0.25)", value);
		return -1;
	}
	*(double *)dst = v;
	return 0;
}

#define CONFIG_FIELD(f)		CONF_FIELD(struct config, f)
#define CONFIG_SOURCE_FIELD(f)	CONF_FIELD(struct policy_source_conf, f)

/*
 * Every key with its value type, its default (as recorder.conf says it)
 * and its bounds. Not here: the node name's default (the host's name),
 * the [trigger] roots' (trigger_config_defaults) and the [source.NAME]
 * keys', which follow the [limits] (config_resolve).
 */
static const struct conf_key config_keys[] = {
	CONF_NAME(CONFIG_SECTION_NODE, "name", CONFIG_FIELD(node_name), NULL),

	CONF_NAME(CONFIG_SECTION_SESSION, "name", CONFIG_FIELD(session_name),
	    "tracetrap"),
	CONF_SIZE(CONFIG_SECTION_SESSION, "subbuf_size",
	    CONFIG_FIELD(subbuf_size), "512k", 4096, UINT64_MAX,
	    .flags = CONF_POWER_OF_TWO),
	CONF_UINT(CONFIG_SECTION_SESSION, "subbuf_count",
	    CONFIG_FIELD(subbuf_count), "8", 2, 1024,
	    .flags = CONF_POWER_OF_TWO),
	CONF_KEY(CONFIG_SECTION_SESSION, "buffers", config_parse_buffers,
	    CONFIG_FIELD(is_per_pid_buffers), "per-uid"),
	CONF_KEY(CONFIG_SECTION_SESSION, "ust_events", config_parse_events,
	    CONFIG_FIELD(ust_events), "*"),
	CONF_KEY(CONFIG_SECTION_SESSION, "kernel_events", config_parse_events,
	    CONFIG_FIELD(kernel_events), "sched_switch,sched_waking,"
	    "sched_process_fork,sched_process_exec,sched_process_exit",
	    .flags = CONF_EMPTY_OK),
	CONF_KEY(CONFIG_SECTION_SESSION, "output", config_parse_output,
	    CONFIG_FIELD(output), ""),
	CONF_BOOL(CONFIG_SECTION_SESSION, "keep",
	    CONFIG_FIELD(is_keep_session), "no"),
	CONF_DURATION(CONFIG_SECTION_SESSION, "check_interval",
	    CONFIG_FIELD(check_interval_ms), "2s", 100, UINT64_MAX),

	CONF_PATH(CONFIG_SECTION_CONTROL, "socket",
	    CONFIG_FIELD(control_socket), "/run/tracetrap/control.sock",
	    CONFIG_SOCKET_MAX),
	CONF_KEY(CONFIG_SECTION_CONTROL, "group", conf_parse_name,
	    CONFIG_FIELD(control_group), "", .flags = CONF_EMPTY_OK),
	CONF_MODE(CONFIG_SECTION_CONTROL, "mode", CONFIG_FIELD(control_mode),
	    "0660"),

	CONF_PATH(CONFIG_SECTION_TRIGGER, "socket",
	    CONFIG_FIELD(trigger_socket), "/run/tracetrap/trigger.sock",
	    CONFIG_SOCKET_MAX),
	CONF_KEY(CONFIG_SECTION_TRIGGER, "group", conf_parse_name,
	    CONFIG_FIELD(trigger_group), "", .flags = CONF_EMPTY_OK),
	CONF_MODE(CONFIG_SECTION_TRIGGER, "mode", CONFIG_FIELD(trigger_mode),
	    "0660"),
	CONF_KEY(CONFIG_SECTION_TRIGGER, "sources", config_parse_sources,
	    CONFIG_FIELD(policy.only_listed), NULL),
	CONF_PATH(CONFIG_SECTION_TRIGGER, "procfs_root",
	    CONFIG_FIELD(triggers.procfs_root), NULL, TRIGGER_PATH_MAX),
	CONF_PATH(CONFIG_SECTION_TRIGGER, "sysfs_root",
	    CONFIG_FIELD(triggers.sysfs_root), NULL, TRIGGER_PATH_MAX),
	CONF_DURATION(CONFIG_SECTION_TRIGGER, "process_rescan",
	    CONFIG_FIELD(triggers.process_rescan_ms), NULL, 100,
	    CONFIG_HOUR_MS),

	CONF_PATH(CONFIG_SECTION_SPOOL, "dir", CONFIG_FIELD(spool_dir),
	    "/var/lib/tracetrap/spool", CONFIG_PATH_MAX),
	CONF_SIZE(CONFIG_SECTION_SPOOL, "max_bytes",
	    CONFIG_FIELD(spool_max_bytes), "1G", 1024 * 1024, UINT64_MAX),

	CONF_DURATION(CONFIG_SECTION_LIMITS, "cooldown",
	    CONFIG_FIELD(policy.limits.cooldown_ms), "10s", 0, UINT64_MAX),
	CONF_UINT(CONFIG_SECTION_LIMITS, "burst",
	    CONFIG_FIELD(policy.limits.burst), "3", 0, 10000),
	CONF_DURATION(CONFIG_SECTION_LIMITS, "refill",
	    CONFIG_FIELD(policy.limits.refill_ms), "5m", 1, UINT64_MAX),
	CONF_UINT(CONFIG_SECTION_LIMITS, "max_per_day",
	    CONFIG_FIELD(policy.limits.max_per_day), "50", 0, 1000000),
	CONF_DURATION(CONFIG_SECTION_LIMITS, "coalesce",
	    CONFIG_FIELD(policy.coalesce_ms), "2s", 0, UINT64_MAX),
	CONF_DURATION(CONFIG_SECTION_LIMITS, "delay", CONFIG_FIELD(delay_ms),
	    "0", 0, 60 * 1000),

	CONF_KEY(CONFIG_SECTION_RELAY, "address", config_parse_relay_address,
	    CONFIG_FIELD(relay_address), "", .flags = CONF_EMPTY_OK),
	TLS_CONF_KEYS(CONFIG_SECTION_RELAY, struct config, relay_tls,
	    "/etc/tracetrap/node.pem", "/etc/tracetrap/node.key"),
	CONF_DURATION(CONFIG_SECTION_RELAY, "reconnect_min",
	    CONFIG_FIELD(relay_reconnect_min_ms), "1s", 1, CONFIG_HOUR_MS),
	CONF_DURATION(CONFIG_SECTION_RELAY, "reconnect_max",
	    CONFIG_FIELD(relay_reconnect_max_ms), "1m", 1, CONFIG_HOUR_MS),
	CONF_DURATION(CONFIG_SECTION_RELAY, "ping_interval",
	    CONFIG_FIELD(relay_ping_interval_ms), "15s", 1000, CONFIG_HOUR_MS),
	CONF_SIZE(CONFIG_SECTION_RELAY, "upload_chunk",
	    CONFIG_FIELD(relay_upload_chunk), "256k", 4 * 1024, 256 * 1024),

	CONF_BOOL(CONFIG_SECTION_SOURCE, "enabled",
	    CONFIG_SOURCE_FIELD(is_enabled), NULL, .set = CONFIG_SET_ENABLED),
	CONF_KEY(CONFIG_SECTION_SOURCE, "sample", config_parse_sample,
	    CONFIG_SOURCE_FIELD(sample), NULL),
	CONF_DURATION(CONFIG_SECTION_SOURCE, "cooldown",
	    CONFIG_SOURCE_FIELD(limits.cooldown_ms), NULL, 0, UINT64_MAX,
	    .set = CONFIG_SET_COOLDOWN),
	CONF_UINT(CONFIG_SECTION_SOURCE, "burst",
	    CONFIG_SOURCE_FIELD(limits.burst), NULL, 0, 10000,
	    .set = CONFIG_SET_BURST),
	CONF_DURATION(CONFIG_SECTION_SOURCE, "refill",
	    CONFIG_SOURCE_FIELD(limits.refill_ms), NULL, 1, UINT64_MAX,
	    .set = CONFIG_SET_REFILL),
	CONF_UINT(CONFIG_SECTION_SOURCE, "max_per_day",
	    CONFIG_SOURCE_FIELD(limits.max_per_day), NULL, 0, 1000000,
	    .set = CONFIG_SET_MAX_PER_DAY),
};

_Static_assert(sizeof config_keys / sizeof config_keys[0] <= CONF_KEYS_MAX,
    "conf_state.key_line[] is too small for config_keys[]");

/* [source.NAME] sections are not here: config_section_source() reads them. */
static const struct conf_section config_sections[] = {
	{ "node",	CONFIG_SECTION_NODE },
	{ "session",	CONFIG_SECTION_SESSION },
	{ "control",	CONFIG_SECTION_CONTROL },
	{ "trigger",	CONFIG_SECTION_TRIGGER },
	{ "spool",	CONFIG_SECTION_SPOOL },
	{ "limits",	CONFIG_SECTION_LIMITS },
	{ "relay",	CONFIG_SECTION_RELAY },
};

static const struct conf_table config_table = {
	config_keys, sizeof config_keys / sizeof config_keys[0],
	config_sections, sizeof config_sections / sizeof config_sections[0],
	"node, session, control, trigger, spool, limits, relay, source.NAME, "
	"trigger.cpu.NAME, trigger.memory.NAME, trigger.psi.NAME or "
	"trigger.lttng-event.NAME"
};

/* A [source.NAME] header: the source its keys tune, added if new. */
static int
config_section_source(struct config_state *st, unsigned long line,
    const char *section, char *err, size_t errlen)
{
	const char	*name = section + 7;

	/* Keys of a section we refuse are not reported one by one. */
	st->cs.section = CONF_SECTION_SKIP;
	if (!config_is_source_name(name, strlen(name))) {
		snprintf(err, errlen, "invalid source name '%s' in [%s] "
		    "(expected 1 to %d characters a-z, 0-9, '_' or '-')", name,
		    section, CONFIG_SOURCE_NAME_MAX);
		return -1;
	}
	if (config_source(st, name, strlen(name), &st->source, err,
	    errlen) == -1)
		return -1;
	st->cs.section = CONFIG_SECTION_SOURCE;
	st->cs.section_line[CONFIG_SECTION_SOURCE] = line;
	return 0;
}

static int
config_handler(void *arg, unsigned long line, const char *section,
    const char *key, const char *value, char *err, size_t errlen)
{
	struct config_state		*st = arg;
	struct policy_source_conf	*source = NULL;
	const struct conf_key		*k;
	void				*base = &st->conf;

	/* The trigger sources' sections have a key table of their own. */
	if (st->triggers.confs == NULL)
		trigger_config_begin(&st->triggers, &st->conf.triggers);
	if (key == NULL) {
		st->is_in_trigger = trigger_config_is_section(section);
		if (st->is_in_trigger) {
			st->cs.section = CONF_SECTION_SKIP;
			return trigger_config_section(&st->triggers, line,
			    section, err, errlen);
		}
		/* No name of config_sections[] starts so. */
		if (strncmp(section, "source.", 7) == 0)
			return config_section_source(st, line, section, err,
			    errlen);
		return conf_section(&st->cs, line, section, err, errlen);
	}
	if (st->is_in_trigger)
		return trigger_config_set(&st->triggers, line, section, key,
		    value, err, errlen);

	/* The keys of [source.NAME] go into that source's entry. */
	if (st->cs.section == CONFIG_SECTION_SOURCE) {
		source = &st->conf.policy.sources[st->source];
		base = source;
	}
	if (conf_set(&st->cs, line, section, key, value, base, &k, err,
	    errlen) == -1)
		return -1;
	if (k != NULL && source != NULL) {
		st->source_set[st->source] |= k->set;
		if (k->set & CONFIG_SET_LIMITS)
			source->has_limits = 1;
	}
	return 0;
}

/* [relay] address into relays[]: the list was checked when it was read. */
static void
config_resolve_relays(struct config *conf)
{
	const char	*cursor = conf->relay_address, *item;
	size_t		 len;

	conf->nrelays = 0;
	if (conf->relay_address[0] == '\0')
		return;
	while (conf_list_next(&cursor, &item, &len) &&
	    conf->nrelays < CONFIG_RELAYS_MAX) {
		if (config_relay_split(item, len,
		    &conf->relays[conf->nrelays]) == -1) {
			conf->nrelays = 0;
			break;
		}
		conf->nrelays++;
	}
	if (conf->nrelays == 0)
		conf->relay_address[0] = '\0';
}

/*
 * Runs once the whole file is read, because [limits] may come after the
 * [source.NAME] sections that inherit from it.
 */
static void
config_resolve(void *arg)
{
	struct config_state		*st = arg;
	struct policy_conf		*policy = &st->conf.policy;
	struct policy_source_conf	*source;
	unsigned			 set;
	size_t				 i;

	for (i = 0; i < policy->nsources; i++) {
		source = &policy->sources[i];
		set = st->source_set[i];
		if (!(set & CONFIG_SET_COOLDOWN))
			source->limits.cooldown_ms =
			    policy->limits.cooldown_ms;
		if (!(set & CONFIG_SET_BURST))
			source->limits.burst = policy->limits.burst;
		if (!(set & CONFIG_SET_REFILL))
			source->limits.refill_ms = policy->limits.refill_ms;
		if (!(set & CONFIG_SET_MAX_PER_DAY))
			source->limits.max_per_day =
			    policy->limits.max_per_day;

		/*
		 * With "sources =", a [source.NAME] section that is not in
		 * the list only tunes a disabled source, unless it says
		 * "enabled = yes" itself.
		 */
		if (policy->only_listed && !st->is_source_listed[i] &&
		    !(set & CONFIG_SET_ENABLED))
			source->is_enabled = 0;
	}

	config_resolve_relays(&st->conf);
}

/*
 * The checks that need the whole file; returns the number of errors. The
 * TLS files only matter with an address, and a file the config does not
 * set is named at the address line.
 */
static int
config_check(void *arg, const char *name, int flags, char *err,
    size_t errlen)
{
	struct config_state	*st = arg;
	const struct config	*conf = &st->conf;
	const struct conf_key	*min, *max;
	char			 max_text[32], min_text[32];
	int			 nerrors = 0;

	(void)flags;
	if (conf->relay_address[0] != '\0')
		nerrors += tls_conf_check(&st->cs, CONFIG_SECTION_RELAY,
		    &conf->relay_tls, conf_find_key(&config_table,
		    CONFIG_SECTION_RELAY, "address"), " (the default path, "
		    "needed since address is set)", name, err, errlen);

	min = conf_find_key(&config_table, CONFIG_SECTION_RELAY,
	    "reconnect_min");
	max = conf_find_key(&config_table, CONFIG_SECTION_RELAY,
	    "reconnect_max");
	if (!conf_is_refused(&st->cs, min) && !conf_is_refused(&st->cs, max) &&
	    conf->relay_reconnect_max_ms < conf->relay_reconnect_min_ms) {
		conf_format_duration(conf->relay_reconnect_max_ms, max_text,
		    sizeof max_text);
		conf_format_duration(conf->relay_reconnect_min_ms, min_text,
		    sizeof min_text);
		ini_append_error(err, errlen, name, conf_check_line(&st->cs,
		    max, min), "[relay] reconnect_max: %s is less than "
		    "reconnect_min (%s)", max_text, min_text);
		nerrors++;
	}
	if (st->triggers.confs == NULL)
		trigger_config_begin(&st->triggers, &st->conf.triggers);
	nerrors += trigger_config_check(&st->triggers, name, err, errlen);
	return nerrors;
}

static const struct conf_loader config_loader = {
	&config_table, config_handler, config_resolve, config_check,
	sizeof(struct config_state), offsetof(struct config_state, conf),
	sizeof(struct config)
};

void
config_defaults(struct config *conf)
{
	memset(conf, 0, sizeof *conf);
	trigger_config_defaults(&conf->triggers);
	conf_defaults(&config_table, CONF_SECTION_NONE, conf);
	/* The node name goes into file names and the relay's index. */
	conf_default_name(conf->node_name, sizeof conf->node_name);
}
int
config_load_buffer(struct config *conf, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
{
	return conf_load_buffer(&config_loader, conf, name, text, len, 0, err,
	    errlen);
}

int
config_load(struct config *conf, const char *path, char *err, size_t errlen)
{
	return conf_load(&config_loader, conf, path, 0, err, errlen);
}

int
config_session_differs(const struct config *a, const struct config *b)
{
	return (strcmp(a->session_name, b->session_name) != 0 ||
	    a->subbuf_size != b->subbuf_size ||
	    a->subbuf_count != b->subbuf_count ||
	    a->is_per_pid_buffers != b->is_per_pid_buffers ||
	    strcmp(a->ust_events, b->ust_events) != 0 ||
	    strcmp(a->kernel_events, b->kernel_events) != 0);
}

void
config_session_copy(struct config *dst, const struct config *src)
{
	snprintf(dst->session_name, sizeof(dst->session_name), "%s",
	    src->session_name);
	dst->subbuf_size = src->subbuf_size;
	dst->subbuf_count = src->subbuf_count;
	dst->is_per_pid_buffers = src->is_per_pid_buffers;
	snprintf(dst->ust_events, sizeof(dst->ust_events), "%s",
	    src->ust_events);
	snprintf(dst->kernel_events, sizeof(dst->kernel_events), "%s",
	    src->kernel_events);
}

int
config_relay_differs(const struct config *a, const struct config *b)
{
	return (strcmp(a->relay_address, b->relay_address) != 0 ||
	    tls_conf_differs(&a->relay_tls, &b->relay_tls) ||
	    a->relay_reconnect_min_ms != b->relay_reconnect_min_ms ||
	    a->relay_reconnect_max_ms != b->relay_reconnect_max_ms ||
	    a->relay_ping_interval_ms != b->relay_ping_interval_ms ||
	    a->relay_upload_chunk != b->relay_upload_chunk);
}
