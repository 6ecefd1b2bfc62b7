/*
 * The few XML answers S3 gives (an error's Code and Message, a multipart
 * upload's UploadId, a ListObjectsV2 page), read without an XML library:
 * S3 writes flat, namespace-free elements whose text holds only the five
 * predefined entities and numeric references. Input comes from the
 * network; every length is checked (tests/fuzz/fuzz_s3_xml.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"

/*
 * Finds "<name>" or "<name attributes>" (not "<nameX"), from p to end;
 * returns where its content starts, NULL when absent.
 */
static const char *
find_open(const char *p, const char *end, const char *name, size_t name_len)
{
	while (p < end) {
		p = memchr(p, '<', (size_t)(end - p));
		if (p == NULL)
			return NULL;
		if ((size_t)(end - p) >= name_len + 2 &&
		    memcmp(p + 1, name, name_len) == 0) {
			if (p[1 + name_len] == '>')
				return p + name_len + 2;
			/* Attributes (a root's xmlns): skip to the '>'. */
			if (p[1 + name_len] == ' ') {
				const char	*gt;

				gt = memchr(p, '>', (size_t)(end - p));
				if (gt == NULL || gt[-1] == '/')
					return NULL;
				return gt + 1;
			}
		}
		p++;
	}
	return NULL;
}

static const char *
find_close(const char *p, const char *end, const char *name, size_t name_len)
{
	while (p < end) {
		p = memchr(p, '<', (size_t)(end - p));
		if (p == NULL)
			return NULL;
		if ((size_t)(end - p) >= name_len + 3 && p[1] == '/' &&
		    memcmp(p + 2, name, name_len) == 0 &&
		    p[2 + name_len] == '>')
			return p;
		p++;
	}
	return NULL;
}

static int
put_utf8(unsigned long c, char *out, size_t outlen, size_t *n)
{
	char	 b[4];
	size_t	 len, i;

	if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	if (c < 0x80) {
		b[0] = (char)c;
		len = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 0x3f));
		len = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		len = 3;
	} else {
		b[0] = (char)(0xf0 | (c >> 18));
		b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		len = 4;
	}
	if (*n + len >= outlen)
		return -1;
	for (i = 0; i < len; i++)
		out[(*n)++] = b[i];
	return 0;
}

/* Decodes the text [p, end) into out; returns its length or -1. */
static int
decode_text(const char *p, const char *end, char *out, size_t outlen)
{
	static const struct {
		const char	*name;
		char		 c;
	} entities[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' },
	};
	size_t	 n = 0, i, len;

	if (outlen == 0)
		return -1;
	while (p < end) {
		if (*p == '<')
			return -1;	/* a nested element: not text */
		if (*p == '\0')
			return -1;	/* would cut the text short */
		if (*p != '&') {
			if (n + 1 >= outlen)
				return -1;
			out[n++] = *p++;
			continue;
		}
		p++;
		if (p < end && *p == '#') {
			unsigned long	 c = 0;
			int		 base = 10, digits = 0;

			p++;
			if (p < end && (*p == 'x' || *p == 'X')) {
				base = 16;
				p++;
			}
			for (; p < end && *p != ';' && digits < 8; p++,
			    digits++) {
				int	 d;

				if (*p >= '0' && *p <= '9')
					d = *p - '0';
				else if (base == 16 && *p >= 'a' && *p <= 'f')
					d = *p - 'a' + 10;
				else if (base == 16 && *p >= 'A' && *p <= 'F')
					d = *p - 'A' + 10;
				else
					return -1;
				c = c * (unsigned long)base + (unsigned long)d;
			}
			if (digits == 0 || p >= end || *p != ';')
				return -1;
			p++;
			if (put_utf8(c, out, outlen, &n) < 0)
				return -1;
			continue;
		}
		for (i = 0; i < sizeof entities / sizeof entities[0]; i++) {
			len = strlen(entities[i].name);
			if ((size_t)(end - p) >= len &&
			    memcmp(p, entities[i].name, len) == 0)
				break;
		}
		if (i == sizeof entities / sizeof entities[0] ||
		    n + 1 >= outlen)
			return -1;
		out[n++] = entities[i].c;
		p += strlen(entities[i].name);
	}
	out[n] = '\0';
	return (int)n;
}

/* The text of <name> inside [p, end); its decoded length or -1. */
static int
element_text(const char *p, const char *end, const char *name, char *out,
    size_t outlen)
{
	size_t		 name_len = strlen(name);
	const char	*open, *close;
	int		 n;

	if (outlen > 0)
		out[0] = '\0';
	if ((open = find_open(p, end, name, name_len)) == NULL)
		return -1;
	if ((close = find_close(open, end, name, name_len)) == NULL)
		return -1;
	/* Never half a text: a failure leaves out empty. */
	if ((n = decode_text(open, close, out, outlen)) < 0 && outlen > 0)
		out[0] = '\0';
	return n;
}

int
s3_xml_text(const char *body, size_t len, const char *name, char *out,
    size_t outlen)
{
	return element_text(body, body + len, name, out, outlen);
}

static int
parse_size(const char *text, uint64_t *size)
{
	char			*end;
	unsigned long long	 v;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	v = strtoull(text, &end, 10);
	if (*end != '\0')
		return -1;
	*size = v;
	return 0;
}

int
s3_xml_list(const char *body, size_t len, s3_object_cb cb, void *arg,
    int *is_truncated, char *next_token, size_t next_token_len)
{
	const char		*end = body + len, *p, *open, *close;
	const char		*tag = "Contents";
	struct s3_object	 object;
	char			 key[S3_KEY_MAX + 1], text[64];
	char			*first;

	*is_truncated = 0;
	if (next_token_len > 0)
		next_token[0] = '\0';
	/* The page's own fields come before or after its Contents. */
	if (find_open(body, end, "ListBucketResult", 16) == NULL)
		return -1;
	if (element_text(body, end, "IsTruncated", text, sizeof text) >= 0)
		*is_truncated = strcmp(text, "true") == 0;
	if (*is_truncated && element_text(body, end, "NextContinuationToken",
	    next_token, next_token_len) <= 0)
		return -1;
	for (p = body; (open = find_open(p, end, tag, 8)) != NULL;
	    p = close + 11) {
		if ((close = find_close(open, end, tag, 8)) == NULL)
			return -1;
		memset(&object, 0, sizeof object);
		if (element_text(open, close, "Key", key, sizeof key) <= 0)
			return -1;
		if (element_text(open, close, "Size", text, sizeof text) < 0 ||
		    parse_size(text, &object.size) < 0)
			return -1;
		if (element_text(open, close, "ETag", text, sizeof text) >= 0) {
			first = text[0] == '"' ? text + 1 : text;
			first[strcspn(first, "\"")] = '\0';
			snprintf(object.etag, sizeof object.etag, "%s", first);
		}
		if (element_text(open, close, "LastModified", text,
		    sizeof text) >= 0)
			snprintf(object.last_modified,
			    sizeof object.last_modified, "%s", text);
		object.key = key;
		if (cb(&object, arg) != 0)
			return 1;
	}
	return 0;
}
