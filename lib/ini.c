/*
 * The INI reader of ini.h. It works on a buffer rather than a FILE so the
 * same code serves config_load(), the unit tests and the fuzzer, and it
 * never allocates: each line is copied into a stack buffer, which is why
 * lines are limited to INI_LINE_MAX - 1 bytes.
 *
 * Every input byte may be hostile (the fuzzer feeds it anything), so the
 * reader never trusts a length it did not compute, rejects NUL bytes rather
 * than letting them cut a line short silently, and strips control
 * characters from the messages it writes, since they end up in logs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ini.h"

#define INI_LINE_MAX	4096	/* one line with its NUL */
#define INI_MESSAGE_MAX	1024	/* one error message, without file:line */

struct ini_state {
	const char	*name;
	char		*errors;
	size_t		 errlen;
	int		 nerrors;

	/* One of the two is set. */
	ini_handler	 handler;
	ini_line_handler line_handler;
	void		*arg;

	/*
	 * After a section header that is malformed, the keys below it belong
	 * to no section we can name: they are skipped instead of being handed
	 * to the handler under the previous section, which would report a
	 * cascade of misleading errors (or, worse, accept them).
	 */
	int		 is_section_ok;
	char		 section[INI_LINE_MAX];
};

static void	ini_append(char *, size_t, const char *, unsigned long,
		    const char *, va_list) __attribute__((format(printf, 5, 0)));
static void	ini_error(struct ini_state *, unsigned long, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Locale-independent, unlike isspace(). */
static int
ini_is_space(char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f');
}

static int
ini_is_section_char(char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
}

static int
ini_is_key_char(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
}

/* Trims s in place and returns its first non-space byte. */
static char *
ini_trim(char *s)
{
	size_t	 len;

	while (ini_is_space(*s))
		s++;
	len = strlen(s);
	while (len > 0 && ini_is_space(s[len - 1]))
		s[--len] = '\0';
	return s;
}

/*
 * When the buffer is full the text is cut, but the buffer stays
 * NUL-terminated; the caller still counts the error, so its count is right
 * even if the text is not complete.
 */
static void
ini_append(char *errors, size_t errlen, const char *name, unsigned long line,
    const char *fmt, va_list ap)
{
	char	 msg[INI_MESSAGE_MAX];
	size_t	 i, used;
	int	 n;

	if (errors == NULL || errlen == 0)
		return;
	used = strnlen(errors, errlen - 1);
	if (used >= errlen - 1)
		return;

	vsnprintf(msg, sizeof msg, fmt, ap);
	for (i = 0; msg[i] != '\0'; i++) {
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	}

	if (line == 0)
		n = snprintf(errors + used, errlen - used, "%s: %s\n", name,
		    msg);
	else
		n = snprintf(errors + used, errlen - used, "%s:%lu: %s\n",
		    name, line, msg);
	if (n < 0)
		errors[used] = '\0';
}

void
ini_append_error(char *errors, size_t errlen, const char *name,
    unsigned long line, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	ini_append(errors, errlen, name != NULL ? name : "(config)", line,
	    fmt, ap);
	va_end(ap);
}

/* Counts the error and appends "name:line: message\n" to the buffer. */
static void
ini_error(struct ini_state *st, unsigned long line, const char *fmt, ...)
{
	va_list	 ap;

	st->nerrors++;
	va_start(ap, fmt);
	ini_append(st->errors, st->errlen, st->name, line, fmt, ap);
	va_end(ap);
}

/*
 * Calls the handler and reports its failure, with a fallback if it wrote
 * no message.
 */
static void
ini_call(struct ini_state *st, unsigned long line, const char *key,
    const char *value)
{
	char	 msg[INI_MESSAGE_MAX];
	int	 rc;

	msg[0] = '\0';
	if (st->line_handler != NULL)
		rc = st->line_handler(st->arg, line, st->section, key, value,
		    msg, sizeof msg);
	else
		rc = st->handler(st->arg, st->section, key, value, msg,
		    sizeof msg);
	if (rc != -1)
		return;
	if (*msg == '\0')
		ini_error(st, line, "rejected by the configuration");
	else
		ini_error(st, line, "%s", msg);
}

static void
ini_section(struct ini_state *st, unsigned long line, char *s)
{
	char	*close, *name, *rest;
	size_t	 i;

	st->is_section_ok = 0;
	st->section[0] = '\0';

	if ((close = strchr(s, ']')) == NULL) {
		ini_error(st, line, "missing ']' after section name");
		return;
	}
	*close = '\0';
	rest = ini_trim(close + 1);
	name = ini_trim(s + 1);
	if (*rest != '\0') {
		ini_error(st, line, "unexpected text '%s' after section "
		    "header (comments must be on their own line)", rest);
		return;
	}
	if (*name == '\0') {
		ini_error(st, line, "empty section name");
		return;
	}
	for (i = 0; name[i] != '\0'; i++) {
		if (!ini_is_section_char(name[i])) {
			ini_error(st, line, "invalid section name '%s' "
			    "(expected letters, digits, '.', '_' and '-')",
			    name);
			return;
		}
	}

	/* Both buffers are INI_LINE_MAX and name comes from the line. */
	memcpy(st->section, name, strlen(name) + 1);
	st->is_section_ok = 1;
	ini_call(st, line, NULL, NULL);
}

static void
ini_key(struct ini_state *st, unsigned long line, char *s)
{
	char	*equal, *key, *value;
	size_t	 i, len;

	if ((equal = strchr(s, '=')) == NULL) {
		ini_error(st, line, "missing '=' (expected key = value, "
		    "[section] or a # comment)");
		return;
	}
	*equal = '\0';
	key = ini_trim(s);
	value = ini_trim(equal + 1);

	if (*key == '\0') {
		ini_error(st, line, "missing key before '='");
		return;
	}
	for (i = 0; key[i] != '\0'; i++) {
		if (!ini_is_key_char(key[i])) {
			ini_error(st, line, "invalid key '%s' (expected "
			    "lowercase letters, digits and '_')", key);
			return;
		}
	}

	/* Quotes keep leading and trailing spaces; there are no escapes. */
	if (*value == '"') {
		len = strlen(value);
		if (len < 2 || value[len - 1] != '"') {
			ini_error(st, line, "%s: missing closing '\"' in value",
			    key);
			return;
		}
		value[len - 1] = '\0';
		value++;
	}

	if (!st->is_section_ok)
		return;
	ini_call(st, line, key, value);
}

static void
ini_line(struct ini_state *st, unsigned long line, char *s)
{
	while (ini_is_space(*s))
		s++;
	if (*s == '\0' || *s == '#' || *s == ';')
		return;
	if (*s == '[')
		ini_section(st, line, s);
	else
		ini_key(st, line, s);
}

static int
ini_parse(struct ini_state *st, const char *name, const char *text,
    size_t len, char *errors, size_t errlen)
{
	char			 line[INI_LINE_MAX];
	const char		*end, *eol, *next;
	unsigned long		 lineno = 0;
	size_t			 n;

	st->name = name != NULL ? name : "(config)";
	st->errors = errors;
	st->errlen = errlen;
	st->is_section_ok = 1;		/* keys before any [section] */
	if (errors != NULL && errlen > 0)
		errors[0] = '\0';

	if (text == NULL)
		return 0;
	end = text + len;
	while (text < end) {
		lineno++;
		if ((eol = memchr(text, '\n', end - text)) == NULL) {
			eol = end;
			next = end;
		} else
			next = eol + 1;
		n = eol - text;
		if (n > 0 && text[n - 1] == '\r')
			n--;

		if (n >= sizeof line)
			ini_error(st, lineno, "line too long (more than %zu "
			    "bytes)", sizeof line - 1);
		else if (memchr(text, '\0', n) != NULL)
			ini_error(st, lineno, "NUL byte in line");
		else {
			memcpy(line, text, n);
			line[n] = '\0';
			ini_line(st, lineno, line);
		}
		text = next;
	}
	return st->nerrors;
}

int
ini_parse_buffer(const char *name, const char *text, size_t len,
    ini_handler handler, void *arg, char *errors, size_t errlen)
{
	struct ini_state	 st;

	memset(&st, 0, sizeof st);
	st.handler = handler;
	st.arg = arg;
	return ini_parse(&st, name, text, len, errors, errlen);
}

int
ini_parse_buffer_lines(const char *name, const char *text, size_t len,
    ini_line_handler handler, void *arg, char *errors, size_t errlen)
{
	struct ini_state	 st;

	memset(&st, 0, sizeof st);
	st.line_handler = handler;
	st.arg = arg;
	return ini_parse(&st, name, text, len, errors, errlen);
}
