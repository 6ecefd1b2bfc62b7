/*
 * Durations, sizes, booleans and decimal numbers as the configuration
 * files and the protocols write them (units.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "units.h"

/* Reads the leading unsigned integer; returns the suffix or NULL. */
static const char *
units_number(const char *text, uint64_t *value)
{
	char			*end;
	unsigned long long	 v;

	if (!isdigit((unsigned char)text[0]))
		return NULL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno == ERANGE)
		return NULL;
	*value = v;
	return end;
}

static int
units_mul(uint64_t v, uint64_t mul, uint64_t *out)
{
	if (mul != 0 && v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int
units_parse_duration_ms(const char *text, uint64_t *ms, char *err,
    size_t errlen)
{
	const char	*suffix;
	uint64_t	 v, mul;

	if ((suffix = units_number(text, &v)) == NULL)
		goto bad;
	if (*suffix == '\0' || strcmp(suffix, "s") == 0)
		mul = 1000;
	else if (strcmp(suffix, "ms") == 0)
		mul = 1;
	else if (strcmp(suffix, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(suffix, "h") == 0)
		mul = 3600 * 1000;
	else
		goto bad;
	if (units_mul(v, mul, ms) == -1)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "invalid duration '%s' (expected e.g. 500ms, "
	    "2s, 5m, 1h)", text);
	return -1;
}

int
units_parse_size(const char *text, uint64_t *bytes, char *err, size_t errlen)
{
	const char	*suffix;
	uint64_t	 v, mul;

	if ((suffix = units_number(text, &v)) == NULL)
		goto bad;
	if (*suffix == '\0')
		mul = 1;
	else if (strcasecmp(suffix, "k") == 0)
		mul = 1024;
	else if (strcasecmp(suffix, "m") == 0)
		mul = 1024 * 1024;
	else if (strcasecmp(suffix, "g") == 0)
		mul = 1024 * 1024 * 1024;
	else
		goto bad;
	if (units_mul(v, mul, bytes) == -1)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "invalid size '%s' (expected e.g. 4096, 64k, "
	    "8M, 1G)", text);
	return -1;
}

int
units_parse_bool(const char *text, int *value, char *err, size_t errlen)
{
	if (strcasecmp(text, "yes") == 0 || strcasecmp(text, "true") == 0 ||
	    strcasecmp(text, "on") == 0 || strcmp(text, "1") == 0)
		*value = 1;
	else if (strcasecmp(text, "no") == 0 || strcasecmp(text, "false") == 0
	    || strcasecmp(text, "off") == 0 || strcmp(text, "0") == 0)
		*value = 0;
	else {
		snprintf(err, errlen, "invalid boolean '%s' (expected yes or "
		    "no)", text);
		return -1;
	}
	return 0;
}

int
units_parse_decimal(const char *text, uint64_t *value)
{
	uint64_t	v = 0;
	unsigned	digit;
	size_t		i;

	if (text[0] == '\0')
		return -1;
	for (i = 0; text[i] != '\0'; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		digit = (unsigned)(text[i] - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return -2;
		v = v * 10 + digit;
	}
	*value = v;
	return 0;
}
