/*
 * Durations ("250ms", "2s", "5m", "1h"; a bare number is seconds) and sizes
 * ("4096", "64k", "8M", "1G"; binary multiples). Both return 0 on success,
 * -1 with a message in err on a bad value; they never log.
 */
#ifndef TT_UNITS_H
#define TT_UNITS_H

#include <stddef.h>
#include <stdint.h>

int	units_parse_duration_ms(const char *text, uint64_t *ms,
	    char *err, size_t errlen);
int	units_parse_size(const char *text, uint64_t *bytes,
	    char *err, size_t errlen);
int	units_parse_bool(const char *text, int *value,
	    char *err, size_t errlen);

/*
 * An unsigned decimal number: digits only, no sign, no space, no "0x"
 * (strtoull() would take all three). Returns 0, -1 when text is not one,
 * -2 when it does not fit in 64 bits. Plain C, for libtracetrap's codec
 * too.
 */
int	units_parse_decimal(const char *text, uint64_t *value);

#endif
