/*
 * The values of mod_tracetrap's directives: durations ("500ms", "2s",
 * "1500us", "1.5s") and HTTP status lists ("500-599", "404", "5xx").
 *
 * Kept free of Apache headers so that the unit tests (tests/unit/
 * test_directive.c) can drive every rule without a server. Like the
 * project's other parsers, a failure returns -1 with a sentence in the
 * caller's buffer; the module puts the directive's name in front of it.
 */
#ifndef TT_DIRECTIVE_H
#define TT_DIRECTIVE_H

#include <stddef.h>
#include <stdint.h>

/* The statuses an HTTP server can send. */
#define DIRECTIVE_STATUS_MIN	100
#define DIRECTIVE_STATUS_MAX	599

/* The longest threshold accepted: a day. */
#define DIRECTIVE_DURATION_MAX_US	(24ULL * 3600 * 1000 * 1000)

/* A set of statuses, one bit per code from 0 to DIRECTIVE_STATUS_MAX. */
struct directive_statuses {
	unsigned char	bits[(DIRECTIVE_STATUS_MAX + 8) / 8];
};

/*
 * Parses a duration with a unit: us, ms or s, the number an integer or a
 * decimal fraction ("1.5s"). A bare number is refused (was "500" meant as
 * seconds or milliseconds?), so is 0 and anything above a day or finer
 * than a microsecond.
 */
int	directive_parse_duration(const char *text, uint64_t *us, char *err,
	    size_t errlen);

/*
 * Adds one token to set: a status ("404"), a range ("500-599") or a
 * class ("5xx"). Statuses are 100-599; a range must not run backwards.
 */
int	directive_parse_status(const char *token, struct directive_statuses *set,
	    char *err, size_t errlen);

/* Whether status is in set; a status outside 0-599 never is. */
int	directive_has_status(const struct directive_statuses *set, int status);

/*
 * Writes a duration for people: "850 us", "500 ms", "2.3 s" (one decimal,
 * cut, not rounded, so a value is never shown above what it was).
 * Returns what snprintf returns.
 */
int	directive_format_duration(uint64_t us, char *buf, size_t size);

#endif
