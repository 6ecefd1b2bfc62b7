/*
 * Parsers of mod_tracetrap's directive values (directive.h). They run at
 * configuration time only, in the parent, so they favour messages that
 * say what to write over speed.
 */
#include <stdio.h>
#include <string.h>

#include "directive.h"

#define US_PER_MS	1000ULL
#define US_PER_S	(1000ULL * 1000)

int
directive_parse_duration(const char *text, uint64_t *us, char *err,
    size_t errlen)
{
	const char	*p = text, *unit;
	uint64_t	 whole = 0, fraction = 0, scale, multiplier, value;
	unsigned	 digits = 0, fraction_digits = 0;

	while (*p >= '0' && *p <= '9') {
		/* Anything with more than 12 digits is far above a day. */
		if (++digits > 12)
			goto too_long;
		whole = whole * 10 + (uint64_t)(*p++ - '0');
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (++fraction_digits > 6) {
				snprintf(err, errlen, "'%s' has more than six "
				    "decimals", text);
				return -1;
			}
			fraction = fraction * 10 + (uint64_t)(*p++ - '0');
		}
		if (fraction_digits == 0)
			goto bad;
	}
	if (digits == 0)
		goto bad;
	unit = p;
	if (strcmp(unit, "us") == 0)
		multiplier = 1;
	else if (strcmp(unit, "ms") == 0)
		multiplier = US_PER_MS;
	else if (strcmp(unit, "s") == 0)
		multiplier = US_PER_S;
	else if (*unit == '\0') {
		snprintf(err, errlen, "'%s' needs a unit: us, ms or s "
		    "(for example 500ms or 2s)", text);
		return -1;
	} else
		goto bad;

	value = whole * multiplier;
	for (scale = 1; fraction_digits > 0; fraction_digits--)
		scale *= 10;
	if (fraction * multiplier % scale != 0) {
		snprintf(err, errlen, "'%s' is finer than a microsecond", text);
		return -1;
	}
	value += fraction * multiplier / scale;
	if (value == 0) {
		snprintf(err, errlen, "'%s' is zero; use Off to disable", text);
		return -1;
	}
	if (value > DIRECTIVE_DURATION_MAX_US)
		goto too_long;
	*us = value;
	return 0;

too_long:
	snprintf(err, errlen, "'%s' is longer than a day", text);
	return -1;
bad:
	snprintf(err, errlen, "'%s' is not a duration (for example 500ms, "
	    "2s, 1.5s or 1500us)", text);
	return -1;
}

/* Reads 1-3 digits as a status; -1 when text is not one. */
static int
directive_status_number(const char *text, size_t len)
{
	int	value = 0;
	size_t	i;

	if (len != 3)
		return -1;
	for (i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		value = value * 10 + (text[i] - '0');
	}
	return value;
}

static void
directive_add_range(struct directive_statuses *set, int low, int high)
{
	int	status;

	for (status = low; status <= high; status++)
		set->bits[status / 8] |= (unsigned char)(1u << (status % 8));
}

int
directive_parse_status(const char *token, struct directive_statuses *set,
    char *err, size_t errlen)
{
	const char	*dash;
	int		 low, high;

	if (strlen(token) == 3 && token[0] >= '1' && token[0] <= '5' &&
	    strcmp(token + 1, "xx") == 0) {
		low = (token[0] - '0') * 100;
		directive_add_range(set, low, low + 99);
		return 0;
	}
	if ((dash = strchr(token, '-')) != NULL) {
		low = directive_status_number(token, (size_t)(dash - token));
		high = directive_status_number(dash + 1, strlen(dash + 1));
	} else
		low = high = directive_status_number(token, strlen(token));
	if (low == -1 || high == -1) {
		snprintf(err, errlen, "'%s' is not a status, a range or a "
		    "class (for example 500, 500-599 or 5xx)", token);
		return -1;
	}
	if (low < DIRECTIVE_STATUS_MIN || high > DIRECTIVE_STATUS_MAX) {
		snprintf(err, errlen, "'%s': statuses are %d-%d", token,
		    DIRECTIVE_STATUS_MIN, DIRECTIVE_STATUS_MAX);
		return -1;
	}
	if (low > high) {
		snprintf(err, errlen, "'%s' runs backwards", token);
		return -1;
	}
	directive_add_range(set, low, high);
	return 0;
}

int
directive_has_status(const struct directive_statuses *set, int status)
{
	if (status < 0 || status > DIRECTIVE_STATUS_MAX)
		return 0;
	return (set->bits[status / 8] >> (status % 8)) & 1;
}

int
directive_format_duration(uint64_t us, char *buf, size_t size)
{
	uint64_t	unit, tenths;
	const char	*name;

	if (us < US_PER_MS)
		return snprintf(buf, size, "%llu us", (unsigned long long)us);
	if (us < US_PER_S) {
		unit = US_PER_MS;
		name = "ms";
	} else {
		unit = US_PER_S;
		name = "s";
	}
	tenths = us * 10 / unit;
	if (tenths % 10 == 0)
		return snprintf(buf, size, "%llu %s",
		    (unsigned long long)(tenths / 10), name);
	return snprintf(buf, size, "%llu.%llu %s",
	    (unsigned long long)(tenths / 10),
	    (unsigned long long)(tenths % 10), name);
}
