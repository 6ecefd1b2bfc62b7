/*
 * The trigger datagram codec (datagram.h, DESIGN.md trigger.sock).
 *
 * One set of rules for both directions: what datagram_parse() refuses,
 * datagram_encode() never writes, so a trigger an application formats
 * with libtracetrap is never dropped by the recorder for its form.
 *
 * Decoding: the bytes come from any local process, so nothing is
 * trusted: the whole datagram is checked for size, NUL bytes and strict
 * UTF-8 before a single byte is copied, and every line is then split in
 * place inside the trigger's own buffer. The parser never logs; the
 * caller decides how often a malformed datagram deserves a line in the
 * log.
 *
 * Encoding runs inside other people's hot paths (an Apache request, an
 * application in distress): it allocates nothing and takes no lock.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "datagram.h"
#include "errbuf.h"
#include "units.h"

#define DATAGRAM_SHOW_MAX	32	/* bytes of a bad key or value quoted */
#define DATAGRAM_SHOW_SIZE	(DATAGRAM_SHOW_MAX + sizeof "...")
/* One value per truncatable string: the reason and every label. */
#define DATAGRAM_VALUES_MAX	(TRIGGER_LABELS_MAX + 1)

/* ---- the rules ---- */

/* The keys that set a field of struct trigger; any other is a label. */
enum datagram_field {
	DATAGRAM_FIELD_VERSION = 0,
	DATAGRAM_FIELD_SOURCE,
	DATAGRAM_FIELD_REASON,
	DATAGRAM_FIELD_SCOPE,
	DATAGRAM_FIELD_LABEL,
};

static const char *datagram_field_names[DATAGRAM_FIELD_LABEL] = {
	"v", "source", "reason", "scope",
};

/* Numeric labels; status has a range of its own. */
enum datagram_number_kind {
	DATAGRAM_NUMBER_STATUS,
	DATAGRAM_NUMBER_U64,
};

/*
 * Copies at most DATAGRAM_SHOW_MAX bytes of text into out for an error
 * message, with anything but printable ASCII shown as '?': the message
 * ends up in a log line and must not carry the sender's control bytes or
 * a UTF-8 sequence cut in half.
 */
static const char *
datagram_show(const char *text, char *out, size_t outlen)
{
	size_t	i, n;

	n = 0;
	for (i = 0; text[i] != '\0' && n + 4 <= outlen; i++) {
		if (i == DATAGRAM_SHOW_MAX) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		if (text[i] >= 0x20 && text[i] < 0x7f)
			out[n++] = text[i];
		else
			out[n++] = '?';
	}
	out[n] = '\0';
	return out;
}

/*
 * Returns the length of the well-formed UTF-8 sequence at p (avail bytes
 * available), or 0. Only the shortest encoding of a scalar value is
 * accepted: no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static size_t
datagram_utf8_length(const unsigned char *p, size_t avail)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* below is overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* above is a surrogate */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* below is overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* above is past U+10FFFF */
	} else
		return 0;	/* continuation byte, 0xc0, 0xc1, 0xf5.. */
	if (avail < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return n;
}

static int
datagram_is_key_char(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-');
}

static int
datagram_is_source(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == TRIGGER_SOURCE_MAX)
			return 0;
		if (s[i] == '.' || !datagram_is_key_char(s[i]))
			return 0;
	}
	return i > 0;
}

static int
datagram_is_method(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == TRIGGER_METHOD_MAX || s[i] < 'A' || s[i] > 'Z')
			return 0;
	}
	return i > 0;
}

static int
datagram_check_number(size_t line, const char *key, const char *value,
    enum datagram_number_kind kind, char *err, size_t errlen)
{
	char		show[DATAGRAM_SHOW_SIZE];
	uint64_t	v = 0;
	int		rc;

	rc = units_parse_decimal(value, &v);
	if (rc == -1) {
		errbuf_set(err, errlen, "line %zu: %s '%s' is not an "
		    "unsigned decimal number", line, key,
		    datagram_show(value, show, sizeof show));
		return -1;
	}
	if (kind == DATAGRAM_NUMBER_STATUS && (rc == -2 || v < 100 ||
	    v > 999)) {
		errbuf_set(err, errlen, "line %zu: status '%s' out of "
		    "range 100..999", line,
		    datagram_show(value, show, sizeof show));
		return -1;
	}
	if (rc == -2) {
		errbuf_set(err, errlen, "line %zu: %s '%s' does not fit "
		    "in 64 bits", line, key,
		    datagram_show(value, show, sizeof show));
		return -1;
	}
	return 0;
}

/* Checks the value of a key kept as a label, when the key has rules. */
static int
datagram_check_label(size_t line, const char *key, const char *value,
    char *err, size_t errlen)
{
	char	show[DATAGRAM_SHOW_SIZE];

	if (strcmp(key, "status") == 0) {
		return datagram_check_number(line, key, value,
		    DATAGRAM_NUMBER_STATUS, err, errlen);
	}
	if (strcmp(key, "duration_us") == 0 || strcmp(key, "pid") == 0) {
		return datagram_check_number(line, key, value,
		    DATAGRAM_NUMBER_U64, err, errlen);
	}
	if (strcmp(key, "method") == 0 && !datagram_is_method(value)) {
		errbuf_set(err, errlen, "line %zu: method '%s' is not "
		    "[A-Z]{1,16}", line,
		    datagram_show(value, show, sizeof show));
		return -1;
	}
	return 0;
}

/* ---- encoding ---- */

/*
 * The keys whose values have a syntax (datagram_check_label): short
 * values the encoder never cuts.
 */
static int
datagram_is_checked_key(const char *key)
{
	return (strcmp(key, "status") == 0 ||
	    strcmp(key, "duration_us") == 0 || strcmp(key, "pid") == 0 ||
	    strcmp(key, "method") == 0);
}

/* A label's key: [a-z0-9_.-]{1,32}, and not one of the fields. */
static int
datagram_is_label_key(const char *key)
{
	size_t	i;

	if (key == NULL)
		return 0;
	for (i = 0; key[i] != '\0'; i++) {
		if (i == TRIGGER_KEY_MAX || !datagram_is_key_char(key[i]))
			return 0;
	}
	if (i == 0)
		return 0;
	for (i = 0; i < DATAGRAM_FIELD_LABEL; i++) {
		if (strcmp(key, datagram_field_names[i]) == 0)
			return 0;
	}
	return 1;
}

/*
 * Copies value into out, at most max bytes, made acceptable to the
 * recorder: control characters become spaces and each byte that is not
 * part of valid UTF-8 becomes '?'. Both replacements keep the length, and
 * the copy stops before a sequence that would not fit whole, so a cut
 * value is still valid UTF-8. Returns the bytes written.
 */
static size_t
datagram_copy_value(char *out, const char *value, size_t max)
{
	const unsigned char	*p = (const unsigned char *)value;
	size_t			 written = 0, n;

	while (*p != '\0') {
		/* NUL-terminated: the NUL is no continuation byte. */
		n = datagram_utf8_length(p, SIZE_MAX);
		if (n == 0 ? written + 1 > max : written + n > max)
			break;
		if (n == 0) {
			out[written++] = '?';
			p++;
		} else if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
			out[written++] = ' ';
			p++;
		} else {
			memcpy(out + written, p, n);
			written += n;
			p += n;
		}
	}
	return written;
}

/*
 * Shares budget bytes between values of lengths length[0..n-1] and sets
 * cap[i] to the bytes value i may use. Values shorter than an equal share
 * keep all their bytes and leave the rest to the longer ones, so only the
 * longest values are cut.
 */
static void
datagram_share(const size_t *length, size_t *cap, size_t n, size_t budget)
{
	int	is_capped[DATAGRAM_VALUES_MAX] = { 0 };
	size_t	left = n, share, i;
	int	has_progress;

	while (left > 0) {
		share = budget / left;
		has_progress = 0;
		for (i = 0; i < n; i++) {
			if (is_capped[i] || length[i] > share)
				continue;
			cap[i] = length[i];
			is_capped[i] = 1;
			budget -= length[i];
			left--;
			has_progress = 1;
		}
		if (has_progress)
			continue;
		for (i = 0; i < n; i++) {
			if (!is_capped[i])
				cap[i] = share;
		}
		break;
	}
}

static size_t
datagram_append(char *buf, size_t at, const char *text)
{
	size_t	len = strlen(text);

	memcpy(buf + at, text, len);
	return at + len;
}

size_t
datagram_encode(char *buf, size_t size, const char *source,
    const char *reason, enum tracetrap_scope scope,
    const struct tracetrap_label *labels, size_t nlabels)
{
	size_t		 length[DATAGRAM_VALUES_MAX];
	size_t		 cap[DATAGRAM_VALUES_MAX];
	int		 is_fixed[TRIGGER_LABELS_MAX];
	const char	*scope_name, *value;
	size_t		 limit, fixed, nvalues, at, i, j;

	if (buf == NULL || (labels == NULL && nlabels > 0))
		return 0;
	if (source == NULL)
		source = "app";
	if (reason == NULL)
		reason = "";
	if (!datagram_is_source(source))
		return 0;
	if (scope == TRACETRAP_SCOPE_NODE)
		scope_name = "node";
	else if (scope == TRACETRAP_SCOPE_CLUSTER)
		scope_name = "cluster";
	else
		return 0;
	if (nlabels > TRIGGER_LABELS_MAX)
		return 0;
	limit = size < DATAGRAM_MAX ? size : DATAGRAM_MAX;

	/*
	 * First what cannot be cut: the lines' keys and punctuation, and
	 * the short checked values. A value is measured only up to the
	 * limit, so a huge string costs no more than a small one.
	 */
	fixed = strlen("v=1\nsource=\nreason=\nscope=\n") + strlen(source) +
	    strlen(scope_name);
	length[0] = strnlen(reason, limit + 1);
	nvalues = 1;
	for (i = 0; i < nlabels; i++) {
		if (!datagram_is_label_key(labels[i].key))
			return 0;
		for (j = 0; j < i; j++) {
			if (strcmp(labels[j].key, labels[i].key) == 0)
				return 0;
		}
		value = labels[i].value != NULL ? labels[i].value : "";
		if (datagram_check_label(0, labels[i].key, value, NULL, 0) != 0)
			return 0;
		is_fixed[i] = datagram_is_checked_key(labels[i].key);
		fixed += strlen(labels[i].key) + strlen("=\n");
		if (is_fixed[i])
			fixed += strlen(value);
		else
			length[nvalues++] = strnlen(value, limit + 1);
	}
	if (fixed > limit)
		return 0;
	datagram_share(length, cap, nvalues, limit - fixed);

	at = datagram_append(buf, 0, "v=1\nsource=");
	at = datagram_append(buf, at, source);
	at = datagram_append(buf, at, "\nreason=");
	at += datagram_copy_value(buf + at, reason, cap[0]);
	at = datagram_append(buf, at, "\nscope=");
	at = datagram_append(buf, at, scope_name);
	at = datagram_append(buf, at, "\n");
	nvalues = 1;
	for (i = 0; i < nlabels; i++) {
		value = labels[i].value != NULL ? labels[i].value : "";
		at = datagram_append(buf, at, labels[i].key);
		at = datagram_append(buf, at, "=");
		if (is_fixed[i])
			at = datagram_append(buf, at, value);
		else {
			at += datagram_copy_value(buf + at, value,
			    cap[nvalues++]);
		}
		at = datagram_append(buf, at, "\n");
	}
	return at;
}

/* ---- decoding ---- */

/* Checks the raw bytes before anything is copied. */
static int
datagram_check_bytes(const unsigned char *data, size_t len, char *err,
    size_t errlen)
{
	size_t	i, n, line = 1;

	for (i = 0; i < len; i += n) {
		if (data[i] == '\0') {
			errbuf_set(err, errlen, "line %zu: NUL byte at "
			    "offset %zu", line, i);
			return -1;
		}
		if ((n = datagram_utf8_length(data + i, len - i)) == 0) {
			errbuf_set(err, errlen, "line %zu: invalid UTF-8 "
			    "at offset %zu", line, i);
			return -1;
		}
		if (data[i] == '\n')
			line++;
	}
	return 0;
}

/*
 * Splits one line (already NUL-terminated in t->text) and stores it.
 * has_field[] tracks the keys that are fields rather than labels, so
 * that a second occurrence is refused.
 */
static int
datagram_parse_line(struct trigger *t, size_t line, char *text,
    int *has_field, char *err, size_t errlen)
{
	char			 show[DATAGRAM_SHOW_SIZE];
	char			*key = text, *value, *equals;
	size_t			 keylen, i;
	enum datagram_field	 field;

	if ((equals = strchr(text, '=')) == NULL) {
		errbuf_set(err, errlen, "line %zu: expected key=value, "
		    "got '%s'", line, datagram_show(text, show, sizeof show));
		return -1;
	}
	*equals = '\0';
	value = equals + 1;

	keylen = (size_t)(equals - key);
	if (keylen == 0) {
		errbuf_set(err, errlen, "line %zu: empty key", line);
		return -1;
	}
	for (i = 0; i < keylen; i++) {
		if (!datagram_is_key_char(key[i])) {
			errbuf_set(err, errlen, "line %zu: key '%s' has "
			    "invalid characters", line,
			    datagram_show(key, show, sizeof show));
			return -1;
		}
	}
	if (keylen > TRIGGER_KEY_MAX) {
		errbuf_set(err, errlen, "line %zu: key '%s' longer than "
		    "%d bytes", line, datagram_show(key, show, sizeof show),
		    TRIGGER_KEY_MAX);
		return -1;
	}
	/* The key is known to be printable from here on. */
	for (i = 0; value[i] != '\0'; i++) {
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f) {
			errbuf_set(err, errlen, "line %zu: control "
			    "character 0x%02x in value of '%s'", line,
			    (unsigned char)value[i], key);
			return -1;
		}
	}

	for (field = 0; field < DATAGRAM_FIELD_LABEL; field++) {
		if (strcmp(key, datagram_field_names[field]) == 0)
			break;
	}
	if (field != DATAGRAM_FIELD_LABEL && has_field[field]) {
		errbuf_set(err, errlen, "line %zu: duplicate key '%s'",
		    line, key);
		return -1;
	}
	switch (field) {
	case DATAGRAM_FIELD_VERSION:
		if (strcmp(value, "1") != 0) {
			errbuf_set(err, errlen, "line %zu: unsupported "
			    "version '%s'", line,
			    datagram_show(value, show, sizeof show));
			return -1;
		}
		break;
	case DATAGRAM_FIELD_SOURCE:
		if (!datagram_is_source(value)) {
			errbuf_set(err, errlen, "line %zu: source '%s' is "
			    "not [a-z0-9_-]{1,32}", line,
			    datagram_show(value, show, sizeof show));
			return -1;
		}
		t->source = value;
		break;
	case DATAGRAM_FIELD_REASON:
		t->reason = value;
		break;
	case DATAGRAM_FIELD_SCOPE:
		if (strcmp(value, "node") == 0)
			t->scope = TRIGGER_SCOPE_NODE;
		else if (strcmp(value, "cluster") == 0)
			t->scope = TRIGGER_SCOPE_CLUSTER;
		else {
			errbuf_set(err, errlen, "line %zu: scope '%s' is "
			    "neither node nor cluster", line,
			    datagram_show(value, show, sizeof show));
			return -1;
		}
		break;
	case DATAGRAM_FIELD_LABEL:
		if (trigger_label(t, key) != NULL) {
			errbuf_set(err, errlen, "line %zu: duplicate key "
			    "'%s'", line, key);
			return -1;
		}
		if (datagram_check_label(line, key, value, err, errlen) != 0)
			return -1;
		if (t->nlabels == TRIGGER_LABELS_MAX) {
			errbuf_set(err, errlen, "line %zu: more than %d "
			    "labels", line, TRIGGER_LABELS_MAX);
			return -1;
		}
		t->labels[t->nlabels].key = key;
		t->labels[t->nlabels].value = value;
		t->nlabels++;
		return 0;
	}
	has_field[field] = 1;
	return 0;
}

int
datagram_parse(const char *data, size_t len, struct trigger *t, char *err,
    size_t errlen)
{
	char	*line, *end, *newline;
	size_t	 number;
	int	 has_field[DATAGRAM_FIELD_LABEL] = { 0 };

	memset(t, 0, sizeof *t);
	errbuf_set(err, errlen, "%s", "");

	if (len == 0) {
		errbuf_set(err, errlen, "empty datagram");
		return -1;
	}
	if (len > DATAGRAM_MAX) {
		errbuf_set(err, errlen, "datagram of %zu bytes exceeds %d",
		    len, DATAGRAM_MAX);
		return -1;
	}
	if (datagram_check_bytes((const unsigned char *)data, len, err,
	    errlen) != 0)
		return -1;

	memcpy(t->text, data, len);
	t->text[len] = '\0';
	end = t->text + len;

	/* The defaults; text[len] is always an empty string. */
	t->source = "app";
	t->reason = end;
	t->scope = TRIGGER_SCOPE_NODE;

	number = 0;
	for (line = t->text; line < end; line = newline + 1) {
		number++;
		newline = memchr(line, '\n', (size_t)(end - line));
		if (newline == NULL)
			newline = end;	/* a last line without "\n" */
		*newline = '\0';
		if (newline > line && newline[-1] == '\r') {
			errbuf_set(err, errlen, "line %zu: ends in \\r\\n, "
			    "not \\n", number);
			return -1;
		}
		if (newline == line)
			continue;
		if (datagram_parse_line(t, number, line, has_field, err,
		    errlen) != 0)
			return -1;
	}
	if (!has_field[DATAGRAM_FIELD_VERSION]) {
		errbuf_set(err, errlen, "missing v=1");
		return -1;
	}
	return 0;
}

/* ---- triggers ---- */

/*
 * Moves p from src->text to the same offset in dst->text. The default
 * source is a string constant, not in text, and stays as it is. The
 * comparison is done on integers because comparing pointers into
 * different objects is undefined.
 */
static const char *
trigger_rebase(const char *p, const struct trigger *src, struct trigger *dst)
{
	uintptr_t	base = (uintptr_t)src->text, at = (uintptr_t)p;

	if (p == NULL || at < base || at >= base + sizeof src->text)
		return p;
	return dst->text + (at - base);
}

void
trigger_copy(struct trigger *dst, const struct trigger *src)
{
	size_t	i;

	if (dst == src)
		return;
	memcpy(dst, src, sizeof *dst);
	dst->source = trigger_rebase(src->source, src, dst);
	dst->reason = trigger_rebase(src->reason, src, dst);
	for (i = 0; i < src->nlabels && i < TRIGGER_LABELS_MAX; i++) {
		dst->labels[i].key = trigger_rebase(src->labels[i].key, src,
		    dst);
		dst->labels[i].value = trigger_rebase(src->labels[i].value,
		    src, dst);
	}
}

const char *
trigger_label(const struct trigger *t, const char *key)
{
	size_t	i;

	if (key == NULL)
		return NULL;
	for (i = 0; i < t->nlabels && i < TRIGGER_LABELS_MAX; i++) {
		if (strcmp(t->labels[i].key, key) == 0)
			return t->labels[i].value;
	}
	return NULL;
}

struct trigger *
trigger_new(const char *source, const char *reason,
    enum tracetrap_scope scope, const struct tracetrap_label *labels,
    size_t nlabels, char *err, size_t errlen)
{
	struct trigger	*t;
	char		 text[DATAGRAM_MAX + 1];
	size_t		 n;

	n = datagram_encode(text, sizeof(text), source, reason, scope,
	    labels, nlabels);
	if (n == 0) {
		errbuf_set(err, errlen, "a label does not fit");
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	if (datagram_parse(text, n, t, err, errlen) == -1) {
		free(t);
		return NULL;
	}
	t->sender_pid = getpid();
	t->sender_uid = getuid();
	t->sender_gid = getgid();
	t->received_at_us = clock_realtime_us();
	return t;
}
