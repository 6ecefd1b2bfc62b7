/*
 * Allocation that cannot fail, as tmux's xmalloc.c: a daemon out of memory
 * has nothing better to do than say so and stop (fatal()). Library-like
 * code that reports errors to its caller (libtracetrap, the parsers)
 * keeps calling malloc() itself.
 */
#ifndef TT_XMALLOC_H
#define TT_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t size);
void	*xcalloc(size_t nmemb, size_t size);
char	*xstrdup(const char *);

#endif
