/*
 * The value types every configuration loader shares (conf.h): names,
 * paths, addresses, modes, integers, sizes, durations, booleans, choices
 * and comma lists, each parsed digit by digit and length-checked before
 * any copy, with the same wording for the same mistake in either daemon's
 * file. A refused value leaves its field alone.
 */
#include <sys/types.h>

#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "units.h"

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
	if (units_parse_decimal(colon + 1, &v) != 0 || v < 1 || v > 65535 ||
	    len >= hostlen)
		return -1;
	memcpy(host, value, len);
	host[len] = '\0';
	*port = (uint16_t)v;
	return 0;
}

/* A name, or "" with CONF_EMPTY_OK (a group: none). */
int
conf_parse_name(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	size_t	 len = strlen(value);
	int	 is_empty_ok = (k->flags & CONF_EMPTY_OK) != 0;

	(void)arg;
	if ((len == 0 && !is_empty_ok) || len >= k->size ||
	    !conf_is_name(value, len)) {
		snprintf(err, errlen, "invalid name '%s' (expected 1 to %zu "
		    "letters, digits, '.', '_' or '-'%s)", value, k->size - 1,
		    is_empty_ok ? ", or \"\" for none" : "");
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

/* Free text (a reason) of at most k->size - 1 bytes. */
int
conf_parse_text(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	size_t	 len = strlen(value);

	(void)arg;
	if (len >= k->size) {
		snprintf(err, errlen, "too long (at most %zu bytes)",
		    k->size - 1);
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
	if (units_parse_decimal(value, &v) != 0 || v < k->min || v > k->max ||
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

/*
 * A URL key: "" (the key's "none"), or one of schemes (NULL-terminated,
 * each with its "://") followed by a non-empty rest whose every byte
 * passes is_char; copied into dst of size bytes. 0, or -1 for the caller
 * to say what it expected.
 */
int
conf_parse_url(const char *value, const char *const *schemes,
    int (*is_char)(char), void *dst, size_t size)
{
	const char	*rest = NULL;
	size_t		 i, len = strlen(value);

	for (i = 0; len != 0 && schemes[i] != NULL; i++) {
		if (strncmp(value, schemes[i], strlen(schemes[i])) == 0) {
			rest = value + strlen(schemes[i]);
			break;
		}
	}
	if (len >= size || (len != 0 && (rest == NULL || *rest == '\0')))
		return -1;
	for (; rest != NULL && *rest != '\0'; rest++) {
		if (!is_char(*rest))
			return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}
