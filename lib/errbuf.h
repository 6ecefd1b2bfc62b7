/*
 * Library-like code reports errors into a caller's buffer instead of
 * logging (Redis anet.c style); err may be NULL when the caller does not
 * care.
 */
#ifndef TT_ERRBUF_H
#define TT_ERRBUF_H

#include <stddef.h>

void	errbuf_set(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
