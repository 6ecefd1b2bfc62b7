/*
 * Text from outside — a node's manifest, a trace's fields — on its way
 * to JSON (which must be valid UTF-8) or to a terminal (where an escape
 * sequence could rewrite the screen or the clipboard).
 */
#ifndef TT_TEXT_H
#define TT_TEXT_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at p (avail bytes), 0 if none. */
size_t	text_utf8_length(const unsigned char *p, size_t avail);

/*
 * Copies at most len bytes of src into dst (dstlen > 0, always
 * terminated), cut at a character boundary and at the first NUL; a byte
 * that is not part of valid UTF-8 becomes '?'. Returns dst.
 */
char	*text_utf8_copy(char *dst, size_t dstlen, const char *src, size_t len);

/*
 * Makes s safe to print: control characters (C0, DEL, and C1 as UTF-8:
 * U+0080..U+009F), the bidirectional marks and overrides that reorder
 * what a terminal shows, and invalid UTF-8 become '?', in place.
 * Returns s.
 */
char	*text_terminal_safe(char *s);

#endif
