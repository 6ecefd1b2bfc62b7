/*
 * tracetrap-recorder configuration (config.h). The keys live in one table,
 * config_keys[], so the parser, the "unknown key" message and the checks
 * cannot drift apart; conf/recorder.conf documents the same keys.
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
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ini.h"
#include "units.h"

#define CONFIG_FILE_MAX		(1024 * 1024)	/* no real config is larger */
#define CONFIG_MESSAGE_MAX	512
#define CONFIG_SOURCE_NAME_MAX	32
#define CONFIG_SOCKET_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)
#define CONFIG_KEYS_MAX		64	/* entries of config_keys[] */
#define CONFIG_HOUR_MS		(3600ULL * 1000)

/* config_key.flags */
#define CONFIG_POWER_OF_TWO	0x1
#define CONFIG_EMPTY_OK		0x2

/* Keys a [source.NAME] section set, so the rest can be resolved later. */
#define CONFIG_SET_ENABLED	0x01
#define CONFIG_SET_COOLDOWN	0x02
#define CONFIG_SET_BURST	0x04
#define CONFIG_SET_REFILL	0x08
#define CONFIG_SET_MAX_PER_DAY	0x10
#define CONFIG_SET_LIMITS	(CONFIG_SET_COOLDOWN | CONFIG_SET_BURST | \
				 CONFIG_SET_REFILL | CONFIG_SET_MAX_PER_DAY)

enum config_section {
	CONFIG_SECTION_NONE = 0,	/* before the first [section] */
	CONFIG_SECTION_SKIP,		/* in a section already reported */
	CONFIG_SECTION_NODE,
	CONFIG_SECTION_SESSION,
	CONFIG_SECTION_CONTROL,
	CONFIG_SECTION_TRIGGER,
	CONFIG_SECTION_SPOOL,
	CONFIG_SECTION_LIMITS,
	CONFIG_SECTION_RELAY,
	CONFIG_SECTION_SOURCE,
	CONFIG_SECTION_COUNT
};

struct config_state {
	struct config		 conf;		/* the copy being loaded */
	enum config_section	 section;
	size_t			 source;	/* index in [source.NAME] */
	unsigned		 source_set[POLICY_SOURCES_MAX];
	int			 is_source_listed[POLICY_SOURCES_MAX];

	/*
	 * By config_keys[] index: the line that last set the key (0: none)
	 * and whether that line was refused. Of [source.NAME] keys, only
	 * the last section's line is kept; no check uses them.
	 */
	unsigned long		 key_line[CONFIG_KEYS_MAX];
	int			 is_key_refused[CONFIG_KEYS_MAX];
	unsigned long		 section_line[CONFIG_SECTION_COUNT];
};

struct config_key;
typedef int (*config_parser)(struct config_state *, const struct config_key *,
    const char *, void *, char *, size_t);

struct config_key {
	enum config_section	 section;
	const char		*name;
	config_parser		 parse;
	/* In struct config, or in struct policy_source_conf for sources. */
	size_t			 offset;
	size_t			 size;		/* strings: buffer size */
	uint64_t		 min;
	uint64_t		 max;
	int			 flags;		/* CONFIG_POWER_OF_TWO.. */
	unsigned		 set;		/* CONFIG_SET_* (sources) */
};

/* Node, session and group names: safe in file names and in LTTng. */
static int
config_is_name_char(char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
}

/* Source names, as the datagram carries them: [a-z0-9_-]{1,32}. */
static int
config_is_source_name(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > CONFIG_SOURCE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-'))
			return 0;
	}
	return 1;
}

/* LTTng event name patterns: letters, digits, "_:.-" and '*'. */
static int
config_is_event_char(char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == ':' || c == '*' ||
	    c == '.' || c == '-');
}

static int
config_is_power_of_two(uint64_t v)
{
	return (v != 0 && (v & (v - 1)) == 0);
}

/* Writes a size the way an operator would: "4k", "1M", "1G". */
static void
config_format_size(uint64_t v, char *buf, size_t len)
{
	if (v != 0 && v % (1024 * 1024 * 1024) == 0)
		snprintf(buf, len, "%lluG",
		    (unsigned long long)(v / (1024 * 1024 * 1024)));
	else if (v != 0 && v % (1024 * 1024) == 0)
		snprintf(buf, len, "%lluM",
		    (unsigned long long)(v / (1024 * 1024)));
	else if (v != 0 && v % 1024 == 0)
		snprintf(buf, len, "%lluk", (unsigned long long)(v / 1024));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

static void
config_format_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms != 0 && ms % (3600 * 1000) == 0)
		snprintf(buf, len, "%lluh",
		    (unsigned long long)(ms / (3600 * 1000)));
	else if (ms != 0 && ms % (60 * 1000) == 0)
		snprintf(buf, len, "%llum",
		    (unsigned long long)(ms / (60 * 1000)));
	else if (ms != 0 && ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
}

/*
 * Decimal digits only: strtoul() would also take a sign, leading spaces,
 * and "0x" with base 0, none of which belong in a config file.
 */
static int
config_decimal(const char *text, uint64_t *value)
{
	uint64_t	 v = 0;
	unsigned	 digit;

	if (*text == '\0')
		return -1;
	for (; *text != '\0'; text++) {
		if (*text < '0' || *text > '9')
			return -1;
		digit = *text - '0';
		if (v > (UINT64_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*value = v;
	return 0;
}

static int
config_parse_name(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	size_t	 i, len = strlen(value);

	(void)st;
	for (i = 0; i < len; i++) {
		if (!config_is_name_char(value[i]))
			break;
	}
	if (len == 0 || len >= k->size || i != len) {
		snprintf(err, errlen, "invalid name '%s' (expected 1 to %zu "
		    "letters, digits, '.', '_' or '-')", value, k->size - 1);
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

static int
config_parse_group(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	size_t	 i, len = strlen(value);

	(void)st;
	for (i = 0; i < len; i++) {
		if (!config_is_name_char(value[i]))
			break;
	}
	if (len >= k->size || i != len) {
		snprintf(err, errlen, "invalid group '%s' (expected a group "
		    "name of up to %zu letters, digits, '.', '_' or '-', or "
		    "\"\" for none)", value, k->size - 1);
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

static int
config_parse_size(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	uint64_t	 v;
	char		 min[32], max[32];

	(void)st;
	if (units_parse_size(value, &v, err, errlen) == -1)
		return -1;
	if (v < k->min || v > k->max ||
	    ((k->flags & CONFIG_POWER_OF_TWO) && !config_is_power_of_two(v))) {
		config_format_size(k->min, min, sizeof min);
		config_format_size(k->max, max, sizeof max);
		if (k->max == UINT64_MAX)
			snprintf(err, errlen, "invalid size '%s' (expected %s "
			    "of at least %s)", value,
			    (k->flags & CONFIG_POWER_OF_TWO) ?
			    "a power of two" : "a size", min);
		else
			snprintf(err, errlen, "invalid size '%s' (expected %s "
			    "from %s to %s)", value,
			    (k->flags & CONFIG_POWER_OF_TWO) ?
			    "a power of two" : "a size", min, max);
		return -1;
	}
	*(uint64_t *)dst = v;
	return 0;
}

/* Integers that go into an unsigned field: the table's max keeps them in. */
static int
config_parse_uint(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	uint64_t	 v;

	(void)st;
	if (config_decimal(value, &v) == -1 || v < k->min || v > k->max ||
	    ((k->flags & CONFIG_POWER_OF_TWO) && !config_is_power_of_two(v))) {
		snprintf(err, errlen, "invalid integer '%s' (expected %s from "
		    "%llu to %llu)", value, (k->flags & CONFIG_POWER_OF_TWO) ?
		    "a power of two" : "a decimal integer",
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return -1;
	}
	*(unsigned *)dst = (unsigned)v;
	return 0;
}

static int
config_parse_duration(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	uint64_t	 ms;
	char		 bound[32];

	(void)st;
	if (units_parse_duration_ms(value, &ms, err, errlen) == -1)
		return -1;
	if (ms < k->min) {
		if (k->min == 1)
			snprintf(err, errlen, "invalid duration '%s' (must "
			    "not be 0)", value);
		else {
			config_format_duration(k->min, bound, sizeof bound);
			snprintf(err, errlen, "invalid duration '%s' (must be "
			    "at least %s)", value, bound);
		}
		return -1;
	}
	if (ms > k->max) {
		config_format_duration(k->max, bound, sizeof bound);
		snprintf(err, errlen, "invalid duration '%s' (must be at "
		    "most %s)", value, bound);
		return -1;
	}
	*(uint64_t *)dst = ms;
	return 0;
}

static int
config_parse_bool(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	(void)st;
	(void)k;
	return units_parse_bool(value, dst, err, errlen);
}

static int
config_parse_buffers(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	(void)st;
	(void)k;
	if (strcmp(value, "per-uid") == 0)
		*(int *)dst = 0;
	else if (strcmp(value, "per-pid") == 0)
		*(int *)dst = 1;
	else {
		snprintf(err, errlen, "invalid buffers '%s' (expected per-uid "
		    "or per-pid)", value);
		return -1;
	}
	return 0;
}

/*
 * A comma list of event name patterns, stored without the spaces an
 * operator may put after the commas, so the session code splits on ','
 * alone.
 */
static int
config_parse_events(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	char		 list[CONFIG_LIST_MAX];
	const char	*item, *end;
	size_t		 used = 0, len, i;

	(void)st;
	if (*value == '\0') {
		if (k->flags & CONFIG_EMPTY_OK) {
			*(char *)dst = '\0';
			return 0;
		}
		snprintf(err, errlen, "empty list (expected comma-separated "
		    "event names, e.g. * or myapp:*)");
		return -1;
	}
	for (item = value;; item = end + 1) {
		if ((end = strchr(item, ',')) == NULL)
			end = item + strlen(item);
		while (item < end && (*item == ' ' || *item == '\t'))
			item++;
		len = end - item;
		while (len > 0 && (item[len - 1] == ' ' ||
		    item[len - 1] == '\t'))
			len--;
		for (i = 0; i < len; i++) {
			if (!config_is_event_char(item[i]))
				break;
		}
		if (len == 0 || i != len) {
			snprintf(err, errlen, "invalid event name '%.*s' in "
			    "'%s' (expected comma-separated names of letters, "
			    "digits, '_', ':', '.', '-' and '*')", (int)len,
			    item, value);
			return -1;
		}
		if (used + (used != 0) + len >= sizeof list) {
			snprintf(err, errlen, "list too long (at most %zu "
			    "bytes)", sizeof list - 1);
			return -1;
		}
		if (used != 0)
			list[used++] = ',';
		memcpy(list + used, item, len);
		used += len;
		if (*end == '\0')
			break;
	}
	list[used] = '\0';
	memcpy(dst, list, used + 1);
	return 0;
}

static int
config_parse_output(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	static const char	*schemes[] = { "net://", "net6://", "tcp://" };
	size_t			 i, len = strlen(value), prefix = 0;

	(void)st;
	if (len == 0) {
		*(char *)dst = '\0';
		return 0;
	}
	for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		if (strncmp(value, schemes[i], strlen(schemes[i])) == 0) {
			prefix = strlen(schemes[i]);
			break;
		}
	}
	/* The URL goes to lttng as one argument: no spaces in it. */
	for (i = 0; i < len; i++) {
		if ((unsigned char)value[i] <= ' ' || value[i] == 0x7f)
			break;
	}
	if (prefix == 0 || len == prefix || i != len || len >= k->size) {
		snprintf(err, errlen, "invalid output '%s' (expected \"\" for "
		    "the spool, or net://HOST, net6://HOST or tcp://HOST "
		    "for an lttng-relayd)", value);
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

/*
 * Splits "HOST:PORT" or "[IPv6]:PORT" into host (without the brackets) and
 * port. HOST is a DNS name or an IPv4 address, [A-Za-z0-9.-]; the text
 * between brackets must be an IPv6 address; PORT is 1 to 65535.
 */
static int
config_split_address(const char *value, char *host, size_t hostlen,
    uint16_t *port)
{
	struct in6_addr	 in6;
	const char	*colon, *end;
	char		 buf[INET6_ADDRSTRLEN];
	uint64_t	 v;
	size_t		 i, len;

	if (value[0] == '[') {
		if ((end = strchr(value, ']')) == NULL || end[1] != ':')
			return -1;
		len = end - (value + 1);
		if (len == 0 || len >= sizeof buf)
			return -1;
		memcpy(buf, value + 1, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET6, buf, &in6) != 1)
			return -1;
		colon = end + 1;
		value++;
	} else {
		if ((colon = strchr(value, ':')) == NULL)
			return -1;
		len = colon - value;
		for (i = 0; i < len; i++) {
			if (!((value[i] >= 'A' && value[i] <= 'Z') ||
			    (value[i] >= 'a' && value[i] <= 'z') ||
			    (value[i] >= '0' && value[i] <= '9') ||
			    value[i] == '.' || value[i] == '-'))
				return -1;
		}
		/* 253 is the longest name DNS can carry. */
		if (len == 0 || len > 253)
			return -1;
	}
	if (config_decimal(colon + 1, &v) == -1 || v < 1 || v > 65535 ||
	    len >= hostlen)
		return -1;
	memcpy(host, value, len);
	host[len] = '\0';
	*port = (uint16_t)v;
	return 0;
}

static int
config_parse_address(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	char		 host[CONFIG_HOST_MAX];
	uint16_t	 port;
	size_t		 len = strlen(value);

	(void)st;
	if (len == 0 && (k->flags & CONFIG_EMPTY_OK)) {
		*(char *)dst = '\0';
		return 0;
	}
	if (len >= k->size ||
	    config_split_address(value, host, sizeof host, &port) == -1) {
		snprintf(err, errlen, "invalid address '%s' (expected %sHOST:"
		    "PORT or [IPv6]:PORT, HOST of letters, digits, '.' and "
		    "'-', PORT from 1 to 65535)", value,
		    (k->flags & CONFIG_EMPTY_OK) ? "\"\" for none, " : "");
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

/* Absolute paths; k->max bounds the length with its NUL (sun_path). */
static int
config_parse_path(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	size_t	 i, len = strlen(value);

	(void)st;
	for (i = 0; i < len; i++) {
		if ((unsigned char)value[i] < ' ' || value[i] == 0x7f)
			break;
	}
	if (value[0] != '/' || i != len) {
		snprintf(err, errlen, "invalid path '%s' (expected an absolute "
		    "path)", value);
		return -1;
	}
	if (len >= k->max || len >= k->size) {
		snprintf(err, errlen, "path too long (%zu bytes, at most %zu)",
		    len, (size_t)k->max - 1);
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

static int
config_parse_mode(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	const char	*p;
	unsigned	 mode = 0;

	(void)st;
	for (p = value; *p >= '0' && *p <= '7'; p++) {
		mode = mode * 8 + (*p - '0');
		if (mode > k->max)
			break;
	}
	if (p == value || *p != '\0' || mode > k->max) {
		snprintf(err, errlen, "invalid mode '%s' (expected octal "
		    "permissions up to 0777, e.g. 0660)", value);
		return -1;
	}
	*(mode_t *)dst = (mode_t)mode;
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
config_parse_sources(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	const char	*item, *end;
	size_t		 len, index, i;
	int		 is_adding;

	(void)k;
	for (i = 0; i < st->conf.policy.nsources; i++)
		st->is_source_listed[i] = 0;
	*(int *)dst = 0;
	if (*value == '\0')
		return 0;

	for (is_adding = 0; is_adding <= 1; is_adding++) {
		for (item = value;; item = end + 1) {
			if ((end = strchr(item, ',')) == NULL)
				end = item + strlen(item);
			while (item < end && (*item == ' ' || *item == '\t'))
				item++;
			len = end - item;
			while (len > 0 && (item[len - 1] == ' ' ||
			    item[len - 1] == '\t'))
				len--;
			if (!is_adding && !config_is_source_name(item, len)) {
				snprintf(err, errlen, "invalid source name "
				    "'%.*s' in '%s' (expected comma-separated "
				    "names of 1 to %d characters a-z, 0-9, "
				    "'_' or '-')", (int)len, item, value,
				    CONFIG_SOURCE_NAME_MAX);
				return -1;
			}
			if (is_adding) {
				if (config_source(st, item, len, &index, err,
				    errlen) == -1)
					return -1;
				st->is_source_listed[index] = 1;
			}
			if (*end == '\0')
				break;
		}
	}
	*(int *)dst = 1;
	return 0;
}

/*
 * A decimal from 0 to 1, read by hand: strtod() follows the locale and
 * takes "nan", "inf" and hexadecimal, none of which is a probability.
 */
static int
config_parse_sample(struct config_state *st, const struct config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	const char	*p = value;
	double		 v = 0, scale = 0.1;
	int		 ndigits = 0;

	(void)st;
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

#define CONFIG_FIELD(f) \
	offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define CONFIG_SOURCE_FIELD(f) \
	offsetof(struct policy_source_conf, f), \
	sizeof(((struct policy_source_conf *)0)->f)

static const struct config_key config_keys[] = {
	{ CONFIG_SECTION_NODE, "name", config_parse_name,
	  CONFIG_FIELD(node_name), 0, 0, 0, 0 },

	{ CONFIG_SECTION_SESSION, "name", config_parse_name,
	  CONFIG_FIELD(session_name), 0, 0, 0, 0 },
	{ CONFIG_SECTION_SESSION, "subbuf_size", config_parse_size,
	  CONFIG_FIELD(subbuf_size), 4096, UINT64_MAX, CONFIG_POWER_OF_TWO,
	  0 },
	{ CONFIG_SECTION_SESSION, "subbuf_count", config_parse_uint,
	  CONFIG_FIELD(subbuf_count), 2, 1024, CONFIG_POWER_OF_TWO, 0 },
	{ CONFIG_SECTION_SESSION, "buffers", config_parse_buffers,
	  CONFIG_FIELD(is_per_pid_buffers), 0, 0, 0, 0 },
	{ CONFIG_SECTION_SESSION, "ust_events", config_parse_events,
	  CONFIG_FIELD(ust_events), 0, 0, 0, 0 },
	{ CONFIG_SECTION_SESSION, "kernel_events", config_parse_events,
	  CONFIG_FIELD(kernel_events), 0, 0, CONFIG_EMPTY_OK, 0 },
	{ CONFIG_SECTION_SESSION, "output", config_parse_output,
	  CONFIG_FIELD(output), 0, 0, 0, 0 },
	{ CONFIG_SECTION_SESSION, "keep", config_parse_bool,
	  CONFIG_FIELD(is_keep_session), 0, 0, 0, 0 },
	{ CONFIG_SECTION_SESSION, "check_interval", config_parse_duration,
	  CONFIG_FIELD(check_interval_ms), 100, UINT64_MAX, 0, 0 },

	{ CONFIG_SECTION_CONTROL, "socket", config_parse_path,
	  CONFIG_FIELD(control_socket), 0, CONFIG_SOCKET_MAX, 0, 0 },
	{ CONFIG_SECTION_CONTROL, "group", config_parse_group,
	  CONFIG_FIELD(control_group), 0, 0, 0, 0 },
	{ CONFIG_SECTION_CONTROL, "mode", config_parse_mode,
	  CONFIG_FIELD(control_mode), 0, 0777, 0, 0 },

	{ CONFIG_SECTION_TRIGGER, "socket", config_parse_path,
	  CONFIG_FIELD(trigger_socket), 0, CONFIG_SOCKET_MAX, 0, 0 },
	{ CONFIG_SECTION_TRIGGER, "group", config_parse_group,
	  CONFIG_FIELD(trigger_group), 0, 0, 0, 0 },
	{ CONFIG_SECTION_TRIGGER, "mode", config_parse_mode,
	  CONFIG_FIELD(trigger_mode), 0, 0777, 0, 0 },
	{ CONFIG_SECTION_TRIGGER, "sources", config_parse_sources,
	  CONFIG_FIELD(policy.only_listed), 0, 0, 0, 0 },

	{ CONFIG_SECTION_SPOOL, "dir", config_parse_path,
	  CONFIG_FIELD(spool_dir), 0, CONFIG_PATH_MAX, 0, 0 },
	{ CONFIG_SECTION_SPOOL, "max_bytes", config_parse_size,
	  CONFIG_FIELD(spool_max_bytes), 1024 * 1024, UINT64_MAX, 0, 0 },

	{ CONFIG_SECTION_LIMITS, "cooldown", config_parse_duration,
	  CONFIG_FIELD(policy.limits.cooldown_ms), 0, UINT64_MAX, 0, 0 },
	{ CONFIG_SECTION_LIMITS, "burst", config_parse_uint,
	  CONFIG_FIELD(policy.limits.burst), 0, 10000, 0, 0 },
	{ CONFIG_SECTION_LIMITS, "refill", config_parse_duration,
	  CONFIG_FIELD(policy.limits.refill_ms), 1, UINT64_MAX, 0, 0 },
	{ CONFIG_SECTION_LIMITS, "max_per_day", config_parse_uint,
	  CONFIG_FIELD(policy.limits.max_per_day), 0, 1000000, 0, 0 },
	{ CONFIG_SECTION_LIMITS, "coalesce", config_parse_duration,
	  CONFIG_FIELD(policy.coalesce_ms), 0, UINT64_MAX, 0, 0 },
	{ CONFIG_SECTION_LIMITS, "delay", config_parse_duration,
	  CONFIG_FIELD(delay_ms), 0, 60 * 1000, 0, 0 },

	{ CONFIG_SECTION_RELAY, "address", config_parse_address,
	  CONFIG_FIELD(relay_address), 0, 0, CONFIG_EMPTY_OK, 0 },
	{ CONFIG_SECTION_RELAY, "ca", config_parse_path,
	  CONFIG_FIELD(relay_ca), 0, CONFIG_PATH_MAX, 0, 0 },
	{ CONFIG_SECTION_RELAY, "cert", config_parse_path,
	  CONFIG_FIELD(relay_cert), 0, CONFIG_PATH_MAX, 0, 0 },
	{ CONFIG_SECTION_RELAY, "key", config_parse_path,
	  CONFIG_FIELD(relay_key), 0, CONFIG_PATH_MAX, 0, 0 },
	{ CONFIG_SECTION_RELAY, "reconnect_min", config_parse_duration,
	  CONFIG_FIELD(relay_reconnect_min_ms), 1, CONFIG_HOUR_MS, 0, 0 },
	{ CONFIG_SECTION_RELAY, "reconnect_max", config_parse_duration,
	  CONFIG_FIELD(relay_reconnect_max_ms), 1, CONFIG_HOUR_MS, 0, 0 },
	{ CONFIG_SECTION_RELAY, "ping_interval", config_parse_duration,
	  CONFIG_FIELD(relay_ping_interval_ms), 1000, CONFIG_HOUR_MS, 0, 0 },
	{ CONFIG_SECTION_RELAY, "upload_chunk", config_parse_size,
	  CONFIG_FIELD(relay_upload_chunk), 4 * 1024, 256 * 1024, 0, 0 },

	{ CONFIG_SECTION_SOURCE, "enabled", config_parse_bool,
	  CONFIG_SOURCE_FIELD(is_enabled), 0, 0, 0, CONFIG_SET_ENABLED },
	{ CONFIG_SECTION_SOURCE, "sample", config_parse_sample,
	  CONFIG_SOURCE_FIELD(sample), 0, 0, 0, 0 },
	{ CONFIG_SECTION_SOURCE, "cooldown", config_parse_duration,
	  CONFIG_SOURCE_FIELD(limits.cooldown_ms), 0, UINT64_MAX, 0,
	  CONFIG_SET_COOLDOWN },
	{ CONFIG_SECTION_SOURCE, "burst", config_parse_uint,
	  CONFIG_SOURCE_FIELD(limits.burst), 0, 10000, 0, CONFIG_SET_BURST },
	{ CONFIG_SECTION_SOURCE, "refill", config_parse_duration,
	  CONFIG_SOURCE_FIELD(limits.refill_ms), 1, UINT64_MAX, 0,
	  CONFIG_SET_REFILL },
	{ CONFIG_SECTION_SOURCE, "max_per_day", config_parse_uint,
	  CONFIG_SOURCE_FIELD(limits.max_per_day), 0, 1000000, 0,
	  CONFIG_SET_MAX_PER_DAY },
};

_Static_assert(sizeof config_keys / sizeof config_keys[0] <= CONFIG_KEYS_MAX,
    "config_state.key_line[] is too small for config_keys[]");

static const struct {
	const char		*name;
	enum config_section	 section;
} config_sections[] = {
	{ "node",	CONFIG_SECTION_NODE },
	{ "session",	CONFIG_SECTION_SESSION },
	{ "control",	CONFIG_SECTION_CONTROL },
	{ "trigger",	CONFIG_SECTION_TRIGGER },
	{ "spool",	CONFIG_SECTION_SPOOL },
	{ "limits",	CONFIG_SECTION_LIMITS },
	{ "relay",	CONFIG_SECTION_RELAY },
};

static int
config_section(struct config_state *st, const char *section, char *err,
    size_t errlen)
{
	const char	*name;
	size_t		 i;

	for (i = 0; i < sizeof config_sections / sizeof config_sections[0];
	    i++) {
		if (strcmp(section, config_sections[i].name) == 0) {
			st->section = config_sections[i].section;
			return 0;
		}
	}

	/* Keys of a section we refuse are not reported one by one. */
	st->section = CONFIG_SECTION_SKIP;
	if (strncmp(section, "source.", 7) == 0) {
		name = section + 7;
		if (!config_is_source_name(name, strlen(name))) {
			snprintf(err, errlen, "invalid source name '%s' in "
			    "[%s] (expected 1 to %d characters a-z, 0-9, '_' "
			    "or '-')", name, section, CONFIG_SOURCE_NAME_MAX);
			return -1;
		}
		if (config_source(st, name, strlen(name), &st->source, err,
		    errlen) == -1)
			return -1;
		st->section = CONFIG_SECTION_SOURCE;
		return 0;
	}
	snprintf(err, errlen, "unknown section [%s] (expected node, session, "
	    "control, trigger, spool, limits, relay or source.NAME)", section);
	return -1;
}

static void
config_unknown_key(enum config_section section, const char *name,
    const char *key, char *err, size_t errlen)
{
	size_t	 i, used;
	int	 n, is_first = 1;

	n = snprintf(err, errlen, "[%s] unknown key '%s' (expected", name,
	    key);
	for (i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
		if (config_keys[i].section != section)
			continue;
		if (n < 0 || (used = n) >= errlen)
			return;
		n = snprintf(err + used, errlen - used, "%s %s",
		    is_first ? "" : ",", config_keys[i].name);
		if (n >= 0)
			n += used;
		is_first = 0;
	}
	if (n >= 0 && (used = n) < errlen)
		snprintf(err + used, errlen - used, ")");
}

static int
config_handler(void *arg, unsigned long line, const char *section,
    const char *key, const char *value, char *err, size_t errlen)
{
	struct config_state		*st = arg;
	struct policy_source_conf	*source = NULL;
	const struct config_key		*k = NULL;
	char				*base, msg[CONFIG_MESSAGE_MAX];
	size_t				 i;

	if (key == NULL) {
		if (config_section(st, section, err, errlen) == -1)
			return -1;
		st->section_line[st->section] = line;
		return 0;
	}
	if (st->section == CONFIG_SECTION_SKIP)
		return 0;
	if (st->section == CONFIG_SECTION_NONE) {
		snprintf(err, errlen, "key '%s' outside of any [section]", key);
		return -1;
	}

	for (i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
		if (config_keys[i].section == st->section &&
		    strcmp(config_keys[i].name, key) == 0) {
			k = &config_keys[i];
			break;
		}
	}
	if (k == NULL) {
		config_unknown_key(st->section, section, key, err, errlen);
		return -1;
	}

	if (st->section == CONFIG_SECTION_SOURCE) {
		source = &st->conf.policy.sources[st->source];
		base = (char *)source;
	} else
		base = (char *)&st->conf;
	st->key_line[k - config_keys] = line;
	st->is_key_refused[k - config_keys] = 1;
	msg[0] = '\0';
	if (k->parse(st, k, value, base + k->offset, msg, sizeof msg) == -1) {
		snprintf(err, errlen, "[%s] %s: %s", section, key, msg);
		return -1;
	}
	st->is_key_refused[k - config_keys] = 0;
	if (source != NULL) {
		st->source_set[st->source] |= k->set;
		if (k->set & CONFIG_SET_LIMITS)
			source->has_limits = 1;
	}
	return 0;
}

/*
 * Runs once the whole file is read, because [limits] may come after the
 * [source.NAME] sections that inherit from it.
 */
static void
config_resolve(struct config_state *st)
{
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

	/* The address was checked when it was read. */
	st->conf.relay_host[0] = '\0';
	st->conf.relay_port = 0;
	if (st->conf.relay_address[0] != '\0' &&
	    config_split_address(st->conf.relay_address, st->conf.relay_host,
	    sizeof st->conf.relay_host, &st->conf.relay_port) == -1)
		st->conf.relay_address[0] = '\0';
}

static const struct config_key *
config_find_key(enum config_section section, const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
		if (config_keys[i].section == section &&
		    strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

/*
 * The line to name for a check on key: the one that set it or, for a key
 * left at its default, the line of fallback (another key of the section),
 * else the section's header; 0 (the file alone) when there is none.
 */
static unsigned long
config_check_line(const struct config_state *st, const struct config_key *k,
    const struct config_key *fallback)
{
	if (st->key_line[k - config_keys] != 0)
		return st->key_line[k - config_keys];
	if (fallback != NULL && st->key_line[fallback - config_keys] != 0)
		return st->key_line[fallback - config_keys];
	return st->section_line[k->section];
}

/*
 * The TLS files must be there when the relay link starts, and a private
 * key others can read is no longer private: both are refused now, with
 * the line to fix, rather than when the link first connects.
 */
static int
config_check_tls_file(struct config_state *st, const struct config_key *k,
    const struct config_key *address, const char *name, char *err,
    size_t errlen)
{
	struct stat	 sb;
	const char	*path = (const char *)&st->conf + k->offset;
	const char	*hint = "";
	unsigned long	 line;
	int		 fd, saved_errno;

	/* A refused line has been reported; its default is not the point. */
	if (st->is_key_refused[k - config_keys])
		return 0;
	if (st->key_line[k - config_keys] == 0)
		hint = " (the default path, needed since address is set)";
	line = config_check_line(st, k, address);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1 || fstat(fd, &sb) == -1) {
		saved_errno = errno;
		if (fd != -1)
			close(fd);
		ini_append_error(err, errlen, name, line, "[relay] %s: %s: "
		    "%s%s", k->name, path, strerror(saved_errno), hint);
		return -1;
	}
	close(fd);
	if (!S_ISREG(sb.st_mode)) {
		ini_append_error(err, errlen, name, line, "[relay] %s: %s is "
		    "not a regular file%s", k->name, path, hint);
		return -1;
	}
	if (strcmp(k->name, "key") == 0 &&
	    (sb.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		ini_append_error(err, errlen, name, line, "[relay] %s: %s is "
		    "readable by group or others (chmod 600 it)", k->name,
		    path);
		return -1;
	}
	return 0;
}

/* The checks that need the whole file; returns the number of errors. */
static int
config_check(struct config_state *st, const char *name, char *err,
    size_t errlen)
{
	static const char	*files[] = { "ca", "cert", "key" };
	const struct config_key	*address, *min, *max;
	const struct config	*conf = &st->conf;
	char			 max_text[32], min_text[32];
	size_t			 i;
	int			 nerrors = 0;

	address = config_find_key(CONFIG_SECTION_RELAY, "address");
	if (conf->relay_address[0] != '\0') {
		for (i = 0; i < sizeof files / sizeof files[0]; i++) {
			if (config_check_tls_file(st, config_find_key(
			    CONFIG_SECTION_RELAY, files[i]), address, name,
			    err, errlen) == -1)
				nerrors++;
		}
	}

	min = config_find_key(CONFIG_SECTION_RELAY, "reconnect_min");
	max = config_find_key(CONFIG_SECTION_RELAY, "reconnect_max");
	if (!st->is_key_refused[min - config_keys] &&
	    !st->is_key_refused[max - config_keys] &&
	    conf->relay_reconnect_max_ms < conf->relay_reconnect_min_ms) {
		config_format_duration(conf->relay_reconnect_max_ms, max_text,
		    sizeof max_text);
		config_format_duration(conf->relay_reconnect_min_ms, min_text,
		    sizeof min_text);
		ini_append_error(err, errlen, name, config_check_line(st, max,
		    min), "[relay] reconnect_max: %s is less than "
		    "reconnect_min (%s)", max_text, min_text);
		nerrors++;
	}
	return nerrors;
}

void
config_defaults(struct config *conf)
{
	static const char	*kernel_events = "sched_switch,sched_waking,"
				    "sched_process_fork,sched_process_exec,"
				    "sched_process_exit";
	char			 host[256];
	size_t			 i;

	memset(conf, 0, sizeof *conf);

	/* The node name goes into file names and the relay's index. */
	if (gethostname(host, sizeof host) == -1)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	for (i = 0; host[i] != '\0' && i < sizeof conf->node_name - 1; i++)
		conf->node_name[i] = config_is_name_char(host[i]) ?
		    host[i] : '-';
	conf->node_name[i] = '\0';
	if (i == 0)
		snprintf(conf->node_name, sizeof conf->node_name, "localhost");

	snprintf(conf->session_name, sizeof conf->session_name, "tracetrap");
	conf->subbuf_size = 512 * 1024;
	conf->subbuf_count = 8;
	conf->is_per_pid_buffers = 0;
	snprintf(conf->ust_events, sizeof conf->ust_events, "*");
	snprintf(conf->kernel_events, sizeof conf->kernel_events, "%s",
	    kernel_events);
	conf->output[0] = '\0';
	conf->is_keep_session = 0;
	conf->check_interval_ms = 2 * 1000;

	snprintf(conf->control_socket, sizeof conf->control_socket,
	    "/run/tracetrap/control.sock");
	conf->control_mode = 0660;
	snprintf(conf->trigger_socket, sizeof conf->trigger_socket,
	    "/run/tracetrap/trigger.sock");
	conf->trigger_mode = 0660;

	snprintf(conf->spool_dir, sizeof conf->spool_dir,
	    "/var/lib/tracetrap/spool");
	conf->spool_max_bytes = 1024ULL * 1024 * 1024;

	conf->policy.limits.cooldown_ms = 10 * 1000;
	conf->policy.limits.burst = 3;
	conf->policy.limits.refill_ms = 5 * 60 * 1000;
	conf->policy.limits.max_per_day = 50;
	conf->policy.coalesce_ms = 2 * 1000;
	conf->policy.only_listed = 0;
	conf->policy.nsources = 0;
	conf->delay_ms = 0;

	conf->relay_address[0] = '\0';
	snprintf(conf->relay_ca, sizeof conf->relay_ca,
	    "/etc/tracetrap/ca.pem");
	snprintf(conf->relay_cert, sizeof conf->relay_cert,
	    "/etc/tracetrap/node.pem");
	snprintf(conf->relay_key, sizeof conf->relay_key,
	    "/etc/tracetrap/node.key");
	conf->relay_reconnect_min_ms = 1000;
	conf->relay_reconnect_max_ms = 60 * 1000;
	conf->relay_ping_interval_ms = 15 * 1000;
	conf->relay_upload_chunk = 128 * 1024;
}

int
config_load_buffer(struct config *conf, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct config_state	*st;
	int			 nerrors;

	/* About 40 KiB: too much for the stack of a small thread. */
	if ((st = calloc(1, sizeof *st)) == NULL) {
		snprintf(err, errlen, "%s: %s\n", name, strerror(errno));
		return -1;
	}
	memcpy(&st->conf, conf, sizeof st->conf);
	st->section = CONFIG_SECTION_NONE;

	nerrors = ini_parse_buffer_lines(name, text, len, config_handler, st,
	    err, errlen);
	config_resolve(st);
	nerrors += config_check(st, name, err, errlen);
	if (nerrors == 0)
		memcpy(conf, &st->conf, sizeof *conf);
	free(st);
	return nerrors == 0 ? 0 : -1;
}

int
config_load(struct config *conf, const char *path, char *err, size_t errlen)
{
	char		*text = NULL, *grown;
	size_t		 len = 0, size = 0;
	ssize_t		 n;
	int		 fd, rc = -1;

	if (errlen > 0)
		err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == size) {
			/* One byte over the limit tells a too large file. */
			if (size == CONFIG_FILE_MAX + 1) {
				snprintf(err, errlen, "%s: file too large "
				    "(more than %d bytes)\n", path,
				    CONFIG_FILE_MAX);
				goto end;
			}
			size = size == 0 ? 8192 : size * 2;
			if (size > CONFIG_FILE_MAX)
				size = CONFIG_FILE_MAX + 1;
			if ((grown = realloc(text, size)) == NULL) {
				snprintf(err, errlen, "%s: %s\n", path,
				    strerror(errno));
				goto end;
			}
			text = grown;
		}
		n = read(fd, text + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s\n", path,
			    strerror(errno));
			goto end;
		}
		if (n == 0)
			break;
		len += n;
	}
	rc = config_load_buffer(conf, path, text, len, err, errlen);
end:
	free(text);
	close(fd);
	return rc;
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

int
config_relay_differs(const struct config *a, const struct config *b)
{
	return (strcmp(a->relay_address, b->relay_address) != 0 ||
	    strcmp(a->relay_ca, b->relay_ca) != 0 ||
	    strcmp(a->relay_cert, b->relay_cert) != 0 ||
	    strcmp(a->relay_key, b->relay_key) != 0 ||
	    a->relay_reconnect_min_ms != b->relay_reconnect_min_ms ||
	    a->relay_reconnect_max_ms != b->relay_reconnect_max_ms ||
	    a->relay_ping_interval_ms != b->relay_ping_interval_ms ||
	    a->relay_upload_chunk != b->relay_upload_chunk);
}
