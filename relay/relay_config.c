/*
 * tracetrap-relay configuration (relay_config.h), built like the recorder's
 * (recorder/config.c): the keys live in one table, relay_config_keys[], so
 * the parser, the "unknown key" message and the checks cannot drift apart;
 * conf/relay.conf documents the same keys.
 *
 * Every value is validated at load time, with a message that names the key
 * and the expected form, so that a running relay never meets a value it
 * cannot use. A load works on a copy and only replaces the caller's config
 * when the whole file is valid: a SIGHUP with a broken file leaves the
 * running configuration untouched.
 *
 * The checks that need the whole file (the [listen] TLS files, which may be
 * named anywhere or left at their defaults; [api] and [listen] on one
 * port) run after the parse. The handler records the line of every key so
 * that they can still name the line to fix.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ini.h"
#include "relay_config.h"
#include "units.h"

#define RELAY_CONFIG_FILE_MAX	(1024 * 1024)	/* no real config is larger */
#define RELAY_CONFIG_MESSAGE_MAX 512
#define RELAY_CONFIG_KEYS_MAX	32		/* relay_config_keys[] */
#define RELAY_CONFIG_TOKEN_MIN	16
#define RELAY_CONFIG_CATALOG	"catalog.db"	/* in [store] dir */

/* relay_config_key.flags */
#define RELAY_CONFIG_EMPTY_OK	0x1

enum relay_config_section {
	RELAY_CONFIG_SECTION_NONE = 0,	/* before the first [section] */
	RELAY_CONFIG_SECTION_SKIP,	/* in a section already reported */
	RELAY_CONFIG_SECTION_RELAY,
	RELAY_CONFIG_SECTION_LISTEN,
	RELAY_CONFIG_SECTION_API,
	RELAY_CONFIG_SECTION_STORE,
	RELAY_CONFIG_SECTION_FLEET,
	RELAY_CONFIG_SECTION_COUNT
};

struct relay_config_key;
typedef int (*relay_config_parser)(const struct relay_config_key *,
    const char *, void *, char *, size_t);

struct relay_config_key {
	enum relay_config_section section;
	const char		*name;
	relay_config_parser	 parse;
	size_t			 offset;	/* in struct relay_config */
	size_t			 size;		/* strings: buffer size */
	uint64_t		 min;
	uint64_t		 max;
	int			 flags;		/* RELAY_CONFIG_EMPTY_OK */
};

struct relay_config_state {
	struct relay_config	 conf;		/* the copy being loaded */
	enum relay_config_section section;

	/*
	 * By relay_config_keys[] index: the line that last set the key (0:
	 * none) and whether that line was refused; by section, the line of
	 * its last header.
	 */
	unsigned long		 key_line[RELAY_CONFIG_KEYS_MAX];
	int			 is_key_refused[RELAY_CONFIG_KEYS_MAX];
	unsigned long		 section_line[RELAY_CONFIG_SECTION_COUNT];
};

/* Relay and node names: safe in file names, as node names are. */
static int
relay_config_is_name_char(char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
}

/* RFC 6750 b64token: what an Authorization: Bearer header may carry. */
static int
relay_config_is_token_char(char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~' || c == '+' || c == '/' || c == '=');
}

/* Writes a size the way an operator would: "4k", "1M", "1G". */
static void
relay_config_format_size(uint64_t v, char *buf, size_t len)
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
relay_config_format_duration(uint64_t ms, char *buf, size_t len)
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
relay_config_decimal(const char *text, uint64_t *value)
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

/*
 * Splits "HOST:PORT" or "[IPv6]:PORT" into host (without the brackets) and
 * port. HOST is a DNS name or an IPv4 address, [A-Za-z0-9.-]; the text
 * between brackets must be an IPv6 address; PORT is 1 to 65535.
 */
static int
relay_config_split_address(const char *value, char *host, size_t hostlen,
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
	if (relay_config_decimal(colon + 1, &v) == -1 || v < 1 ||
	    v > 65535 || len >= hostlen)
		return -1;
	memcpy(host, value, len);
	host[len] = '\0';
	*port = (uint16_t)v;
	return 0;
}

static int
relay_config_parse_name(const struct relay_config_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	size_t	 i, len = strlen(value);

	for (i = 0; i < len; i++) {
		if (!relay_config_is_name_char(value[i]))
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
relay_config_parse_address(const struct relay_config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	char		 host[RELAY_CONFIG_HOST_MAX];
	uint16_t	 port;
	size_t		 len = strlen(value);

	if (len >= k->size ||
	    relay_config_split_address(value, host, sizeof host, &port) == -1) {
		snprintf(err, errlen, "invalid address '%s' (expected "
		    "HOST:PORT or [IPv6]:PORT, HOST of letters, digits, '.' "
		    "and '-', PORT from 1 to 65535)", value);
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

/* Absolute paths, or "" with RELAY_CONFIG_EMPTY_OK. */
static int
relay_config_parse_path(const struct relay_config_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	size_t	 i, len = strlen(value);

	if (len == 0 && (k->flags & RELAY_CONFIG_EMPTY_OK)) {
		*(char *)dst = '\0';
		return 0;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)value[i] < ' ' || value[i] == 0x7f)
			break;
	}
	if (value[0] != '/' || i != len) {
		snprintf(err, errlen, "invalid path '%s' (expected %san "
		    "absolute path)", value,
		    (k->flags & RELAY_CONFIG_EMPTY_OK) ? "\"\" or " : "");
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

/* The token is a secret: its messages never quote it. */
static int
relay_config_parse_token(const struct relay_config_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	size_t	 i, len = strlen(value);

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

static int
relay_config_parse_size(const struct relay_config_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	uint64_t	 v;
	char		 min[32];

	if (units_parse_size(value, &v, err, errlen) == -1)
		return -1;
	if (v < k->min || v > k->max) {
		relay_config_format_size(k->min, min, sizeof min);
		snprintf(err, errlen, "invalid size '%s' (expected a size of "
		    "at least %s)", value, min);
		return -1;
	}
	*(uint64_t *)dst = v;
	return 0;
}

/* Integers that go into an unsigned field: the table's max keeps them in. */
static int
relay_config_parse_uint(const struct relay_config_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	uint64_t	 v;

	if (relay_config_decimal(value, &v) == -1 || v < k->min ||
	    v > k->max) {
		snprintf(err, errlen, "invalid integer '%s' (expected a "
		    "decimal integer from %llu to %llu)", value,
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return -1;
	}
	*(unsigned *)dst = (unsigned)v;
	return 0;
}

static int
relay_config_parse_duration(const struct relay_config_key *k,
    const char *value, void *dst, char *err, size_t errlen)
{
	uint64_t	 ms;
	char		 bound[32];

	if (units_parse_duration_ms(value, &ms, err, errlen) == -1)
		return -1;
	if (ms < k->min) {
		relay_config_format_duration(k->min, bound, sizeof bound);
		snprintf(err, errlen, "invalid duration '%s' (must be at least "
		    "%s)", value, bound);
		return -1;
	}
	if (ms > k->max) {
		relay_config_format_duration(k->max, bound, sizeof bound);
		snprintf(err, errlen, "invalid duration '%s' (must be at most "
		    "%s)", value, bound);
		return -1;
	}
	*(uint64_t *)dst = ms;
	return 0;
}

static int
relay_config_parse_bool(const struct relay_config_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	(void)k;
	return units_parse_bool(value, dst, err, errlen);
}

/* 1 when the comma list (no spaces) holds the len bytes of name. */
static int
relay_config_list_has(const char *list, const char *name, size_t len)
{
	const char	*item, *end;

	if (len == 0)
		return 0;
	for (item = list; *item != '\0'; item = end + 1) {
		if ((end = strchr(item, ',')) == NULL)
			end = item + strlen(item);
		if ((size_t)(end - item) == len &&
		    memcmp(item, name, len) == 0)
			return 1;
		if (*end == '\0')
			break;
	}
	return 0;
}

/*
 * A comma list of node names, as the recorders' certificates carry them
 * (tls_peer_name(): no leading '.'). It is stored without the spaces an
 * operator may put after the commas and without repeats, so the fan-out
 * splits on ',' alone.
 */
static int
relay_config_parse_nodes(const struct relay_config_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	char		 list[RELAY_CONFIG_LIST_MAX];
	const char	*item, *end;
	size_t		 used = 0, len, i;

	(void)k;
	list[0] = '\0';
	if (*value == '\0') {
		*(char *)dst = '\0';
		return 0;
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
			if (!relay_config_is_name_char(item[i]))
				break;
		}
		if (len == 0 || len >= RELAY_CONFIG_NAME_MAX || i != len ||
		    item[0] == '.') {
			snprintf(err, errlen, "invalid node name '%.*s' in "
			    "'%s' (expected \"\" for every node, or "
			    "comma-separated names of 1 to %d letters, digits, "
			    "'.', '_' or '-', not starting with '.')", (int)len,
			    item, value, RELAY_CONFIG_NAME_MAX - 1);
			return -1;
		}
		if (!relay_config_list_has(list, item, len)) {
			/* A line of the file is shorter than the list. */
			if (used + (used != 0) + len >= sizeof list) {
				snprintf(err, errlen, "list too long (at most "
				    "%zu bytes)", sizeof list - 1);
				return -1;
			}
			if (used != 0)
				list[used++] = ',';
			memcpy(list + used, item, len);
			used += len;
			list[used] = '\0';
		}
		if (*end == '\0')
			break;
	}
	memcpy(dst, list, used + 1);
	return 0;
}

#define RELAY_CONFIG_FIELD(f) \
	offsetof(struct relay_config, f), \
	sizeof(((struct relay_config *)0)->f)

static const struct relay_config_key relay_config_keys[] = {
	{ RELAY_CONFIG_SECTION_RELAY, "name", relay_config_parse_name,
	  RELAY_CONFIG_FIELD(name), 0, 0, 0 },

	{ RELAY_CONFIG_SECTION_LISTEN, "address", relay_config_parse_address,
	  RELAY_CONFIG_FIELD(listen_address), 0, 0, 0 },
	{ RELAY_CONFIG_SECTION_LISTEN, "ca", relay_config_parse_path,
	  RELAY_CONFIG_FIELD(listen_ca), 0, RELAY_CONFIG_PATH_MAX, 0 },
	{ RELAY_CONFIG_SECTION_LISTEN, "cert", relay_config_parse_path,
	  RELAY_CONFIG_FIELD(listen_cert), 0, RELAY_CONFIG_PATH_MAX, 0 },
	{ RELAY_CONFIG_SECTION_LISTEN, "key", relay_config_parse_path,
	  RELAY_CONFIG_FIELD(listen_key), 0, RELAY_CONFIG_PATH_MAX, 0 },

	{ RELAY_CONFIG_SECTION_API, "address", relay_config_parse_address,
	  RELAY_CONFIG_FIELD(api_address), 0, 0, 0 },
	{ RELAY_CONFIG_SECTION_API, "token", relay_config_parse_token,
	  RELAY_CONFIG_FIELD(api_token), 0, 0, 0 },
	{ RELAY_CONFIG_SECTION_API, "tls", relay_config_parse_bool,
	  RELAY_CONFIG_FIELD(is_api_tls), 0, 0, 0 },

	/* The catalog's default, <dir>/catalog.db, must fit a path too. */
	{ RELAY_CONFIG_SECTION_STORE, "dir", relay_config_parse_path,
	  RELAY_CONFIG_FIELD(store_dir), 0,
	  RELAY_CONFIG_PATH_MAX - sizeof "/" RELAY_CONFIG_CATALOG + 1, 0 },
	{ RELAY_CONFIG_SECTION_STORE, "catalog", relay_config_parse_path,
	  RELAY_CONFIG_FIELD(store_catalog), 0, RELAY_CONFIG_PATH_MAX,
	  RELAY_CONFIG_EMPTY_OK },
	{ RELAY_CONFIG_SECTION_STORE, "max_bytes", relay_config_parse_size,
	  RELAY_CONFIG_FIELD(store_max_bytes), 1024 * 1024, UINT64_MAX, 0 },
	{ RELAY_CONFIG_SECTION_STORE, "max_age", relay_config_parse_duration,
	  RELAY_CONFIG_FIELD(store_max_age_ms), 0, UINT64_MAX, 0 },
	{ RELAY_CONFIG_SECTION_STORE, "min_free", relay_config_parse_size,
	  RELAY_CONFIG_FIELD(store_min_free), 0, UINT64_MAX, 0 },

	{ RELAY_CONFIG_SECTION_FLEET, "cooldown", relay_config_parse_duration,
	  RELAY_CONFIG_FIELD(fleet_cooldown_ms), 0, UINT64_MAX, 0 },
	{ RELAY_CONFIG_SECTION_FLEET, "max_per_hour", relay_config_parse_uint,
	  RELAY_CONFIG_FIELD(fleet_max_per_hour), 0, 1024, 0 },
	{ RELAY_CONFIG_SECTION_FLEET, "nodes", relay_config_parse_nodes,
	  RELAY_CONFIG_FIELD(fleet_nodes), 0, 0, 0 },
};

_Static_assert(sizeof relay_config_keys / sizeof relay_config_keys[0] <=
    RELAY_CONFIG_KEYS_MAX, "relay_config_state.key_line[] is too small");

static const struct {
	const char			*name;
	enum relay_config_section	 section;
} relay_config_sections[] = {
	{ "relay",	RELAY_CONFIG_SECTION_RELAY },
	{ "listen",	RELAY_CONFIG_SECTION_LISTEN },
	{ "api",	RELAY_CONFIG_SECTION_API },
	{ "store",	RELAY_CONFIG_SECTION_STORE },
	{ "fleet",	RELAY_CONFIG_SECTION_FLEET },
};

static const struct relay_config_key *
relay_config_find_key(enum relay_config_section section, const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof relay_config_keys / sizeof relay_config_keys[0];
	    i++) {
		if (relay_config_keys[i].section == section &&
		    strcmp(relay_config_keys[i].name, name) == 0)
			return &relay_config_keys[i];
	}
	return NULL;
}

static int
relay_config_section(struct relay_config_state *st, const char *section,
    char *err, size_t errlen)
{
	size_t	 i;

	for (i = 0; i < sizeof relay_config_sections /
	    sizeof relay_config_sections[0]; i++) {
		if (strcmp(section, relay_config_sections[i].name) == 0) {
			st->section = relay_config_sections[i].section;
			return 0;
		}
	}

	/* Keys of a section we refuse are not reported one by one. */
	st->section = RELAY_CONFIG_SECTION_SKIP;
	snprintf(err, errlen, "unknown section [%s] (expected relay, listen, "
	    "api, store or fleet)", section);
	return -1;
}

static void
relay_config_unknown_key(enum relay_config_section section, const char *name,
    const char *key, char *err, size_t errlen)
{
	size_t	 i, used;
	int	 n, is_first = 1;

	n = snprintf(err, errlen, "[%s] unknown key '%s' (expected", name,
	    key);
	for (i = 0; i < sizeof relay_config_keys / sizeof relay_config_keys[0];
	    i++) {
		if (relay_config_keys[i].section != section)
			continue;
		if (n < 0 || (used = n) >= errlen)
			return;
		n = snprintf(err + used, errlen - used, "%s %s",
		    is_first ? "" : ",", relay_config_keys[i].name);
		if (n >= 0)
			n += used;
		is_first = 0;
	}
	if (n >= 0 && (used = n) < errlen)
		snprintf(err + used, errlen - used, ")");
}

static int
relay_config_handler(void *arg, unsigned long line, const char *section,
    const char *key, const char *value, char *err, size_t errlen)
{
	struct relay_config_state	*st = arg;
	const struct relay_config_key	*k;
	char				 msg[RELAY_CONFIG_MESSAGE_MAX];
	size_t				 index;

	if (key == NULL) {
		if (relay_config_section(st, section, err, errlen) == -1)
			return -1;
		st->section_line[st->section] = line;
		return 0;
	}
	if (st->section == RELAY_CONFIG_SECTION_SKIP)
		return 0;
	if (st->section == RELAY_CONFIG_SECTION_NONE) {
		snprintf(err, errlen, "key '%s' outside of any [section]", key);
		return -1;
	}
	if ((k = relay_config_find_key(st->section, key)) == NULL) {
		relay_config_unknown_key(st->section, section, key, err,
		    errlen);
		return -1;
	}

	index = k - relay_config_keys;
	st->key_line[index] = line;
	st->is_key_refused[index] = 1;
	msg[0] = '\0';
	if (k->parse(k, value, (char *)&st->conf + k->offset, msg,
	    sizeof msg) == -1) {
		snprintf(err, errlen, "[%s] %s: %s", section, key, msg);
		return -1;
	}
	st->is_key_refused[index] = 0;
	return 0;
}

/* Fills what follows from the keys: split addresses, the catalog path. */
static void
relay_config_resolve(struct relay_config_state *st)
{
	struct relay_config	*conf = &st->conf;
	size_t			 len;
	int			 is_slash;

	/* Both addresses were checked when they were read. */
	if (relay_config_split_address(conf->listen_address,
	    conf->listen_host, sizeof conf->listen_host,
	    &conf->listen_port) == -1) {
		conf->listen_host[0] = '\0';
		conf->listen_port = 0;
	}
	if (relay_config_split_address(conf->api_address, conf->api_host,
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

/*
 * The line to name for a check on key: the one that set it, else the
 * section's header; 0 (the file alone) when there is neither.
 */
static unsigned long
relay_config_check_line(const struct relay_config_state *st,
    const struct relay_config_key *k)
{
	if (st->key_line[k - relay_config_keys] != 0)
		return st->key_line[k - relay_config_keys];
	return st->section_line[k->section];
}

/*
 * The TLS files must be there when the relay starts listening, and a
 * private key others can read is no longer private: both are refused now,
 * with the line to fix, rather than when the first recorder connects.
 */
static int
relay_config_check_tls_file(struct relay_config_state *st, const char *key,
    const char *name, char *err, size_t errlen)
{
	const struct relay_config_key	*k;
	struct stat			 sb;
	const char			*path, *hint = "";
	unsigned long			 line;
	int				 fd, saved_errno;

	k = relay_config_find_key(RELAY_CONFIG_SECTION_LISTEN, key);
	path = (const char *)&st->conf + k->offset;
	/* A refused line has been reported; its default is not the point. */
	if (st->is_key_refused[k - relay_config_keys])
		return 0;
	if (st->key_line[k - relay_config_keys] == 0)
		hint = " (the default path)";
	line = relay_config_check_line(st, k);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1 || fstat(fd, &sb) == -1) {
		saved_errno = errno;
		if (fd != -1)
			close(fd);
		ini_append_error(err, errlen, name, line, "[listen] %s: %s: "
		    "%s%s", key, path, strerror(saved_errno), hint);
		return -1;
	}
	close(fd);
	if (!S_ISREG(sb.st_mode)) {
		ini_append_error(err, errlen, name, line, "[listen] %s: %s is "
		    "not a regular file%s", key, path, hint);
		return -1;
	}
	if (strcmp(key, "key") == 0 &&
	    (sb.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		ini_append_error(err, errlen, name, line, "[listen] %s: %s is "
		    "readable by group or others (chmod 600 it)", key, path);
		return -1;
	}
	return 0;
}

static int
relay_config_is_any_host(const char *host)
{
	return (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0);
}

/* The checks that need the whole file; returns the number of errors. */
static int
relay_config_check(struct relay_config_state *st, const char *name,
    int flags, char *err, size_t errlen)
{
	static const char		*files[] = { "ca", "cert", "key" };
	const struct relay_config_key	*listen, *api;
	const struct relay_config	*conf = &st->conf;
	size_t				 i;
	int				 nerrors = 0;

	if (!(flags & RELAY_CONFIG_NO_FILE_CHECKS)) {
		for (i = 0; i < sizeof files / sizeof files[0]; i++) {
			if (relay_config_check_tls_file(st, files[i], name,
			    err, errlen) == -1)
				nerrors++;
		}
	}

	/* One port cannot serve both; a wildcard takes it on every host. */
	listen = relay_config_find_key(RELAY_CONFIG_SECTION_LISTEN, "address");
	api = relay_config_find_key(RELAY_CONFIG_SECTION_API, "address");
	if (!st->is_key_refused[listen - relay_config_keys] &&
	    !st->is_key_refused[api - relay_config_keys] &&
	    conf->listen_port == conf->api_port &&
	    (strcmp(conf->listen_host, conf->api_host) == 0 ||
	    relay_config_is_any_host(conf->listen_host) ||
	    relay_config_is_any_host(conf->api_host))) {
		ini_append_error(err, errlen, name,
		    relay_config_check_line(st, st->key_line[api -
		    relay_config_keys] != 0 ? api : listen),
		    "[api] address: %s takes the port of [listen] address "
		    "%s (expected another port)", conf->api_address,
		    conf->listen_address);
		nerrors++;
	}
	return nerrors;
}

void
relay_config_defaults(struct relay_config *conf)
{
	char	 host[256];
	size_t	 i;

	memset(conf, 0, sizeof *conf);

	/* The relay's name shows in its API and its logs. */
	if (gethostname(host, sizeof host) == -1)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	for (i = 0; host[i] != '\0' && i < sizeof conf->name - 1; i++)
		conf->name[i] = relay_config_is_name_char(host[i]) ?
		    host[i] : '-';
	conf->name[i] = '\0';
	if (i == 0)
		snprintf(conf->name, sizeof conf->name, "localhost");

	snprintf(conf->listen_address, sizeof conf->listen_address,
	    "127.0.0.1:5443");
	snprintf(conf->listen_ca, sizeof conf->listen_ca,
	    "/etc/tracetrap/ca.pem");
	snprintf(conf->listen_cert, sizeof conf->listen_cert,
	    "/etc/tracetrap/relay.pem");
	snprintf(conf->listen_key, sizeof conf->listen_key,
	    "/etc/tracetrap/relay.key");

	snprintf(conf->api_address, sizeof conf->api_address,
	    "127.0.0.1:5480");
	conf->api_token[0] = '\0';
	conf->is_api_tls = 0;

	snprintf(conf->store_dir, sizeof conf->store_dir,
	    "/var/lib/tracetrap/store");
	conf->store_catalog[0] = '\0';
	conf->store_max_bytes = 100ULL * 1024 * 1024 * 1024;
	conf->store_max_age_ms = 720ULL * 3600 * 1000;
	conf->store_min_free = 256ULL * 1024 * 1024;

	conf->fleet_cooldown_ms = 30 * 1000;
	conf->fleet_max_per_hour = 12;
	conf->fleet_nodes[0] = '\0';

	/* The same derived fields a load fills. */
	relay_config_split_address(conf->listen_address, conf->listen_host,
	    sizeof conf->listen_host, &conf->listen_port);
	relay_config_split_address(conf->api_address, conf->api_host,
	    sizeof conf->api_host, &conf->api_port);
	snprintf(conf->store_catalog_path, sizeof conf->store_catalog_path,
	    "%s/%s", conf->store_dir, RELAY_CONFIG_CATALOG);
}

int
relay_config_load_buffer(struct relay_config *conf, const char *name,
    const char *text, size_t len, int flags, char *err, size_t errlen)
{
	struct relay_config_state	*st;
	int				 nerrors;

	/* About 30 KiB: too much for the stack of a small thread. */
	if ((st = calloc(1, sizeof *st)) == NULL) {
		snprintf(err, errlen, "%s: %s\n", name, strerror(errno));
		return -1;
	}
	memcpy(&st->conf, conf, sizeof st->conf);
	st->section = RELAY_CONFIG_SECTION_NONE;

	nerrors = ini_parse_buffer_lines(name, text, len,
	    relay_config_handler, st, err, errlen);
	relay_config_resolve(st);
	nerrors += relay_config_check(st, name, flags, err, errlen);
	if (nerrors == 0)
		memcpy(conf, &st->conf, sizeof *conf);
	free(st);
	return nerrors == 0 ? 0 : -1;
}

int
relay_config_load(struct relay_config *conf, const char *path, int flags,
    char *err, size_t errlen)
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
			if (size == RELAY_CONFIG_FILE_MAX + 1) {
				snprintf(err, errlen, "%s: file too large "
				    "(more than %d bytes)\n", path,
				    RELAY_CONFIG_FILE_MAX);
				goto end;
			}
			size = size == 0 ? 8192 : size * 2;
			if (size > RELAY_CONFIG_FILE_MAX)
				size = RELAY_CONFIG_FILE_MAX + 1;
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
	rc = relay_config_load_buffer(conf, path, text, len, flags, err,
	    errlen);
end:
	free(text);
	close(fd);
	return rc;
}

int
relay_config_fleet_includes(const struct relay_config *conf,
    const char *node)
{
	if (conf->fleet_nodes[0] == '\0')
		return 1;
	return relay_config_list_has(conf->fleet_nodes, node, strlen(node));
}
