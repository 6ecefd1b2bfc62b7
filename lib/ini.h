/*
 * A small INI reader that, unlike inih as Debian builds it, tells the
 * handler the line number, so every configuration error names file:line.
 *
 * Syntax: "[section]" lines, "key = value" lines, comments starting with
 * '#' or ';' (whole lines only, so values may contain them), blank lines.
 * Keys and section names are trimmed; values are trimmed and may be
 * wrapped in double quotes to keep surrounding spaces.
 */
#ifndef TT_INI_H
#define TT_INI_H

#include <stddef.h>

/*
 * Called for every key, and once per section header with key == NULL.
 * Returns 0, or -1 after writing a message (without file:line) to err.
 */
typedef int (*ini_handler)(void *arg, const char *section, const char *key,
    const char *value, char *err, size_t errlen);

/*
 * Parses text and calls handler. Syntax errors and handler errors are
 * collected, "name:line: message\n" each, into errors (truncated to
 * errlen), and parsing goes on. Returns the number of errors.
 */
int	ini_parse_buffer(const char *name, const char *text, size_t len,
	    ini_handler handler, void *arg, char *errors, size_t errlen);

/*
 * The same, for a handler that is also told the line number: a check that
 * can only run once the whole file is read (a key file readable by others,
 * two keys that must agree) can then still name the line to fix.
 */
typedef int (*ini_line_handler)(void *arg, unsigned long line,
    const char *section, const char *key, const char *value, char *err,
    size_t errlen);

int	ini_parse_buffer_lines(const char *name, const char *text, size_t len,
	    ini_line_handler handler, void *arg, char *errors, size_t errlen);

/*
 * Appends "name:line: message\n" to errors as the parser does (or
 * "name: message\n" when line is 0), for the checks a caller runs after
 * it. errors must hold a string (the parser leaves one).
 */
void	ini_append_error(char *errors, size_t errlen, const char *name,
	    unsigned long line, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

#endif
