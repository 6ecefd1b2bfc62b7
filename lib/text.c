#include <string.h>

#include "text.h"

size_t
text_utf8_length(const unsigned char *p, size_t avail)
{
	size_t	 n, i;
	unsigned cp;

	if (avail == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (avail < n)
		return 0;
	cp = p[0] & (0xff >> (n + 1));
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

char *
text_utf8_copy(char *dst, size_t dstlen, const char *src, size_t len)
{
	const unsigned char	*p = (const unsigned char *)src;
	size_t			 at = 0, i = 0, n;

	while (i < len && p[i] != '\0') {
		n = text_utf8_length(p + i, len - i);
		if (at + (n ? n : 1) >= dstlen)
			break;
		if (n == 0) {
			dst[at++] = '?';
			i++;
			continue;
		}
		memcpy(dst + at, p + i, n);
		at += n;
		i += n;
	}
	dst[at] = '\0';
	return dst;
}

/* U+200E, U+200F, U+202A..U+202E, U+2066..U+2069 (3-byte forms). */
static int
text_is_format(const unsigned char *p)
{
	if (p[0] != 0xe2)
		return 0;
	if (p[1] == 0x80)
		return p[2] == 0x8e || p[2] == 0x8f ||
		    (p[2] >= 0xaa && p[2] <= 0xae);
	return p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9;
}

char *
text_terminal_safe(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 n, i, len = strlen(s);

	for (i = 0; i < len; i += n) {
		n = text_utf8_length(p + i, len - i);
		if (n == 0) {
			p[i] = '?';
			n = 1;
		} else if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f)) {
			p[i] = '?';
		} else if ((n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) ||
		    (n == 2 && p[i] == 0xd8 && p[i + 1] == 0x9c) ||
		    (n == 3 && text_is_format(p + i))) {
			/*
			 * C1 controls, and the marks and overrides that make
			 * a terminal show text in another order than it is
			 * (U+061C, U+200E/F, U+202A..E, U+2066..9). The
			 * length is kept, so the string stays UTF-8.
			 */
			memset(p + i, '?', n);
		}
	}
	return s;
}
