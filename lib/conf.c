/*
 * The configuration loaders' shared part (conf.h). The loaders were written
 * one after the other with the same keys in mind, so a path, an address or
 * a duration is checked here once, and an operator who has learnt the
 * recorder's messages reads the relay's the same way.
 *
 * Every value is hostile until checked: the fuzzers of both loaders drive
 * this code with any bytes. Numbers are read digit by digit, lengths are
 * checked before any copy, and a refused value leaves its field alone.
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

#include "conf.h"
#include "ini.h"
#include "units.h"

#define CONF_MESSAGE_MAX	512	/* one parser's message */

/* Node, session, relay and group names: safe in file names and in LTTng. */
static int
conf_is_name_char(char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
}

int
conf_is_name(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (!conf_is_name_char(s[i]))
			return 0;
	}
	return 1;
}

static int
conf_is_power_of_two(uint64_t v)
{
	return (v != 0 && (v & (v - 1)) == 0);
}

/* Writes a size the way an operator would: "4k", "1M", "1G". */
static void
conf_format_size(uint64_t v, char *buf, size_t len)
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

void
conf_format_duration(uint64_t ms, char *buf, size_t len)
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
conf_decimal(const char *text, uint64_t *value)
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
 * HOST is a DNS name or an IPv4 address, [A-Za-z0-9.-]; the text between
 * brackets must be an IPv6 address; PORT is 1 to 65535.
 */
int
conf_split_address(const char *value, char *host, size_t hostlen,
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
	if (conf_decimal(colon + 1, &v) == -1 || v < 1 || v > 65535 ||
	    len >= hostlen)
		return -1;
	memcpy(host, value, len);
	host[len] = '\0';
	*port = (uint16_t)v;
	return 0;
}

int
conf_parse_name(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	size_t	 len = strlen(value);

	(void)arg;
	if (len == 0 || len >= k->size || !conf_is_name(value, len)) {
		snprintf(err, errlen, "invalid name '%s' (expected 1 to %zu "
		    "letters, digits, '.', '_' or '-')", value, k->size - 1);
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

/*
 * Absolute paths, or "" with CONF_EMPTY_OK; k->max bounds the length with
 * its NUL (a socket's sun_path, room for a file name under a directory).
 */
int
conf_parse_path(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	size_t	 i, len = strlen(value);

	(void)arg;
	if (len == 0 && (k->flags & CONF_EMPTY_OK)) {
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
		    (k->flags & CONF_EMPTY_OK) ? "\"\" or " : "");
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

/* HOST:PORT, or "" for none with CONF_EMPTY_OK. */
int
conf_parse_address(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	char		 host[CONF_HOST_MAX];
	uint16_t	 port;
	size_t		 len = strlen(value);

	(void)arg;
	if (len == 0 && (k->flags & CONF_EMPTY_OK)) {
		*(char *)dst = '\0';
		return 0;
	}
	if (len >= k->size ||
	    conf_split_address(value, host, sizeof host, &port) == -1) {
		snprintf(err, errlen, "invalid address '%s' (expected %sHOST:"
		    "PORT or [IPv6]:PORT, HOST of letters, digits, '.' and "
		    "'-', PORT from 1 to 65535)", value,
		    (k->flags & CONF_EMPTY_OK) ? "\"\" for none, " : "");
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

/* Octal permissions into a mode_t, up to k->max. */
int
conf_parse_mode(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	const char	*p;
	unsigned	 mode = 0;

	(void)arg;
	/* Stops at the first digit too many: no overflow on long input. */
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

/* Integers that go into an unsigned field: the table's max keeps them in. */
int
conf_parse_uint(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	uint64_t	 v;

	(void)arg;
	if (conf_decimal(value, &v) == -1 || v < k->min || v > k->max ||
	    ((k->flags & CONF_POWER_OF_TWO) && !conf_is_power_of_two(v))) {
		snprintf(err, errlen, "invalid integer '%s' (expected %s from "
		    "%llu to %llu)", value, (k->flags & CONF_POWER_OF_TWO) ?
		    "a power of two" : "a decimal integer",
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return -1;
	}
	*(unsigned *)dst = (unsigned)v;
	return 0;
}

/* A size in bytes; k->max of UINT64_MAX means no upper bound. */
int
conf_parse_size(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	uint64_t	 v;
	char		 min[32], max[32];

	(void)arg;
	if (units_parse_size(value, &v, err, errlen) == -1)
		return -1;
	if (v < k->min || v > k->max ||
	    ((k->flags & CONF_POWER_OF_TWO) && !conf_is_power_of_two(v))) {
		conf_format_size(k->min, min, sizeof min);
		conf_format_size(k->max, max, sizeof max);
		if (k->max == UINT64_MAX)
			snprintf(err, errlen, "invalid size '%s' (expected %s "
			    "of at least %s)", value,
			    (k->flags & CONF_POWER_OF_TWO) ?
			    "a power of two" : "a size", min);
		else
			snprintf(err, errlen, "invalid size '%s' (expected %s "
			    "from %s to %s)", value,
			    (k->flags & CONF_POWER_OF_TWO) ?
			    "a power of two" : "a size", min, max);
		return -1;
	}
	*(uint64_t *)dst = v;
	return 0;
}

/* Milliseconds; a k->min of 1 reads better as "must not be 0". */
int
conf_parse_duration(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	uint64_t	 ms;
	char		 bound[32];

	(void)arg;
	if (units_parse_duration_ms(value, &ms, err, errlen) == -1)
		return -1;
	if (ms < k->min) {
		if (k->min == 1)
			snprintf(err, errlen, "invalid duration '%s' (must "
			    "not be 0)", value);
		else {
			conf_format_duration(k->min, bound, sizeof bound);
			snprintf(err, errlen, "invalid duration '%s' (must be "
			    "at least %s)", value, bound);
		}
		return -1;
	}
	if (ms > k->max) {
		conf_format_duration(k->max, bound, sizeof bound);
		snprintf(err, errlen, "invalid duration '%s' (must be at "
		    "most %s)", value, bound);
		return -1;
	}
	*(uint64_t *)dst = ms;
	return 0;
}

/* Into an int field. */
int
conf_parse_bool(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	(void)arg;
	(void)k;
	return units_parse_bool(value, dst, err, errlen);
}

int
conf_choice(const char *value, const char *const *names, const char *what,
    char *err, size_t errlen)
{
	size_t	 i, n, used;
	int	 len;

	for (n = 0; names[n] != NULL; n++)
		if (strcmp(value, names[n]) == 0)
			return (int)n;
	len = snprintf(err, errlen, "invalid %s '%s' (expected", what, value);
	for (i = 0; i < n && len >= 0 && (used = (size_t)len) < errlen; i++)
		len = (int)used + snprintf(err + used, errlen - used, "%s %s",
		    i == 0 ? "" : i == n - 1 ? " or" : ",", names[i]);
	if (len >= 0 && (used = (size_t)len) < errlen)
		snprintf(err + used, errlen - used, ")");
	return -1;
}

int
conf_parse_choice(const char *value, const char *const *names,
    const char *what, void *dst, char *err, size_t errlen)
{
	int	 i;

	if ((i = conf_choice(value, names, what, err, errlen)) == -1)
		return -1;
	*(int *)dst = i;
	return 0;
}

void
conf_defaults(const struct conf_table *t, int section, void *base)
{
	const struct conf_key	*k;
	char			 err[CONF_MESSAGE_MAX];
	size_t			 i;

	for (i = 0; i < t->nkeys; i++) {
		k = &t->keys[i];
		if (k->def == NULL || (section != CONF_SECTION_NONE &&
		    k->section != section))
			continue;
		if (k->parse(NULL, k, k->def, (char *)base + k->offset, err,
		    sizeof err) == -1) {
			fprintf(stderr, "the default of key %s is refused: "
			    "%s\n", k->name, err);
			abort();
		}
	}
}

int
conf_is_section_name(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 32)
		return 0;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-'))
			return 0;
	}
	return 1;
}

void
conf_default_name(char *name, size_t size)
{
	char	 host[256];
	size_t	 i;

	if (gethostname(host, sizeof host) == -1)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	for (i = 0; host[i] != '\0' && i < size - 1; i++)
		name[i] = conf_is_name_char(host[i]) ? host[i] : '-';
	name[i] = '\0';
	if (i == 0)
		snprintf(name, size, "localhost");
}

int
conf_list_next(const char **cursor, const char **item, size_t *len)
{
	const char	*s = *cursor, *end;

	if (s == NULL)
		return 0;
	if ((end = strchr(s, ',')) == NULL) {
		end = s + strlen(s);
		*cursor = NULL;
	} else
		*cursor = end + 1;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*item = s;
	*len = end - s;
	return 1;
}

int
conf_list_has(const char *list, const char *name, size_t len)
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

int
conf_list_parse(const char *value, char *dst, size_t size,
    int (*is_item)(const char *, size_t), int flags, const char *what,
    const char *expected, char *err, size_t errlen)
{
	char		 list[CONF_LIST_MAX];	/* dst stays as is on errors */
	const char	*cursor = value, *item;
	size_t		 used = 0, len;

	if (size > sizeof list)
		size = sizeof list;
	if (*value == '\0') {
		*dst = '\0';
		return 0;
	}
	list[0] = '\0';
	while (conf_list_next(&cursor, &item, &len)) {
		if (!is_item(item, len)) {
			snprintf(err, errlen, "invalid %s '%.*s' in '%s' "
			    "(expected %s)", what, (int)len, item, value,
			    expected);
			return -1;
		}
		if ((flags & CONF_LIST_UNIQUE) &&
		    conf_list_has(list, item, len))
			continue;
		if (used + (used != 0) + len >= size) {
			snprintf(err, errlen, "list too long (at most %zu "
			    "bytes)", size - 1);
			return -1;
		}
		if (used != 0)
			list[used++] = ',';
		memcpy(list + used, item, len);
		used += len;
		list[used] = '\0';
	}
	memcpy(dst, list, used + 1);
	return 0;
}

const struct conf_key *
conf_find_key(const struct conf_table *t, int section, const char *name)
{
	size_t	 i;

	for (i = 0; i < t->nkeys; i++) {
		if (t->keys[i].section == section &&
		    strcmp(t->keys[i].name, name) == 0)
			return &t->keys[i];
	}
	return NULL;
}

static const char *
conf_section_name(const struct conf_table *t, int section)
{
	size_t	 i;

	for (i = 0; i < t->nsections; i++) {
		if (t->sections[i].section == section)
			return t->sections[i].name;
	}
	return "?";
}

int
conf_section(struct conf_state *cs, unsigned long line, const char *name,
    char *err, size_t errlen)
{
	const struct conf_table	*t = cs->table;
	size_t			 i;

	for (i = 0; i < t->nsections; i++) {
		if (strcmp(name, t->sections[i].name) == 0) {
			cs->section = t->sections[i].section;
			cs->section_line[cs->section] = line;
			return 0;
		}
	}

	/* Keys of a section we refuse are not reported one by one. */
	cs->section = CONF_SECTION_SKIP;
	snprintf(err, errlen, "unknown section [%s] (expected %s)", name,
	    t->expected);
	return -1;
}

/* Lists the section's keys, so that a typo shows next to the right name. */
static void
conf_unknown_key(const struct conf_table *t, int section, const char *name,
    const char *key, char *err, size_t errlen)
{
	size_t	 i, used;
	int	 n, is_first = 1;

	n = snprintf(err, errlen, "[%s] unknown key '%s' (expected", name,
	    key);
	for (i = 0; i < t->nkeys; i++) {
		if (t->keys[i].section != section)
			continue;
		if (n < 0 || (used = n) >= errlen)
			return;
		n = snprintf(err + used, errlen - used, "%s %s",
		    is_first ? "" : ",", t->keys[i].name);
		if (n >= 0)
			n += used;
		is_first = 0;
	}
	if (n >= 0 && (used = n) < errlen)
		snprintf(err + used, errlen - used, ")");
}

int
conf_set(struct conf_state *cs, unsigned long line, const char *section,
    const char *key, const char *value, void *base,
    const struct conf_key **kp, char *err, size_t errlen)
{
	const struct conf_key	*k;
	char			 msg[CONF_MESSAGE_MAX];
	size_t			 index;

	*kp = NULL;
	if (cs->section == CONF_SECTION_SKIP)
		return 0;
	if (cs->section == CONF_SECTION_NONE) {
		snprintf(err, errlen, "key '%s' outside of any [section]", key);
		return -1;
	}
	if ((k = conf_find_key(cs->table, cs->section, key)) == NULL) {
		conf_unknown_key(cs->table, cs->section, section, key, err,
		    errlen);
		return -1;
	}

	index = k - cs->table->keys;
	cs->key_line[index] = line;
	cs->is_key_refused[index] = 1;
	msg[0] = '\0';
	if (k->parse(cs, k, value, (char *)base + k->offset, msg,
	    sizeof msg) == -1) {
		snprintf(err, errlen, "[%s] %s: %s", section, key, msg);
		return -1;
	}
	cs->is_key_refused[index] = 0;
	*kp = k;
	return 0;
}

int
conf_handler(void *state, unsigned long line, const char *section,
    const char *key, const char *value, char *err, size_t errlen)
{
	struct conf_state	*cs = state;
	const struct conf_key	*k;

	if (key == NULL)
		return conf_section(cs, line, section, err, errlen);
	return conf_set(cs, line, section, key, value, cs->conf, &k, err,
	    errlen);
}

int
conf_is_refused(const struct conf_state *cs, const struct conf_key *k)
{
	return cs->is_key_refused[k - cs->table->keys];
}

int
conf_is_set(const struct conf_state *cs, const struct conf_key *k)
{
	return cs->key_line[k - cs->table->keys] != 0;
}

unsigned long
conf_check_line(const struct conf_state *cs, const struct conf_key *k,
    const struct conf_key *fallback)
{
	if (conf_is_set(cs, k))
		return cs->key_line[k - cs->table->keys];
	if (fallback != NULL && conf_is_set(cs, fallback))
		return cs->key_line[fallback - cs->table->keys];
	return cs->section_line[k->section];
}

/*
 * A TLS file must be there when the link or the listener starts, and a
 * private key others can read is no longer private: both are refused at
 * load time, with the line to fix, rather than at the first connection.
 */
int
conf_check_file(const struct conf_state *cs, const struct conf_key *k,
    const struct conf_key *fallback, const void *base, const char *hint,
    const char *name, char *err, size_t errlen)
{
	struct stat	 sb;
	const char	*path = (const char *)base + k->offset, *section;
	unsigned long	 line;
	int		 fd, saved_errno;

	/* A refused line has been reported; its default is not the point. */
	if (conf_is_refused(cs, k))
		return 0;
	if (conf_is_set(cs, k))
		hint = "";
	line = conf_check_line(cs, k, fallback);
	section = conf_section_name(cs->table, k->section);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1 || fstat(fd, &sb) == -1) {
		saved_errno = errno;
		if (fd != -1)
			close(fd);
		ini_append_error(err, errlen, name, line, "[%s] %s: %s: %s%s",
		    section, k->name, path, strerror(saved_errno), hint);
		return -1;
	}
	close(fd);
	if (!S_ISREG(sb.st_mode)) {
		ini_append_error(err, errlen, name, line, "[%s] %s: %s is not "
		    "a regular file%s", section, k->name, path, hint);
		return -1;
	}
	if ((k->flags & CONF_PRIVATE) &&
	    (sb.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		ini_append_error(err, errlen, name, line, "[%s] %s: %s is "
		    "readable by group or others (chmod 600 it)", section,
		    k->name, path);
		return -1;
	}
	return 0;
}

/* Reads the file at path into *text, which the caller frees. */
static int
conf_read_file(const char *path, char **text, size_t *len, char *err,
    size_t errlen)
{
	char		*buf = NULL, *grown;
	size_t		 used = 0, size = 0;
	ssize_t		 n;
	int		 fd;

	if (errlen > 0)
		err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (used == size) {
			/* One byte over the limit tells a too large file. */
			if (size == CONF_FILE_MAX + 1) {
				snprintf(err, errlen, "%s: file too large "
				    "(more than %d bytes)\n", path,
				    CONF_FILE_MAX);
				goto fail;
			}
			size = size == 0 ? 8192 : size * 2;
			if (size > CONF_FILE_MAX)
				size = CONF_FILE_MAX + 1;
			if ((grown = realloc(buf, size)) == NULL) {
				snprintf(err, errlen, "%s: %s\n", path,
				    strerror(errno));
				goto fail;
			}
			buf = grown;
		}
		n = read(fd, buf + used, size - used);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s\n", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		used += n;
	}
	close(fd);
	*text = buf;
	*len = used;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

int
conf_load_buffer(const struct conf_loader *l, void *conf, const char *name,
    const char *text, size_t len, int flags, char *err, size_t errlen)
{
	struct conf_state	*cs;
	void			*copy;
	int			 nerrors;

	/* Tens of KiB: too much for the stack of a small thread. */
	if ((cs = calloc(1, l->state_size)) == NULL) {
		snprintf(err, errlen, "%s: %s\n", name, strerror(errno));
		return -1;
	}
	copy = (char *)cs + l->conf_offset;
	memcpy(copy, conf, l->conf_size);
	cs->table = l->table;
	cs->conf = copy;
	cs->section = CONF_SECTION_NONE;

	nerrors = ini_parse_buffer_lines(name, text, len, l->handler, cs, err,
	    errlen);
	l->resolve(cs);
	nerrors += l->check(cs, name, flags, err, errlen);
	if (nerrors == 0)
		memcpy(conf, copy, l->conf_size);
	free(cs);
	return nerrors == 0 ? 0 : -1;
}

int
conf_load(const struct conf_loader *l, void *conf, const char *path,
    int flags, char *err, size_t errlen)
{
	char	*text;
	size_t	 len;
	int	 rc;

	if (conf_read_file(path, &text, &len, err, errlen) == -1)
		return -1;
	rc = conf_load_buffer(l, conf, path, text, len, flags, err, errlen);
	free(text);
	return rc;
}
