/*
 * Unit tests of lib/ini.c. A recording handler writes what it is called
 * with into a log, "[section]\n" and "section.key=<value>\n", so each test
 * states the exact sequence of calls it expects next to the errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ini.h"

struct recorder {
	char	 log[16384];
	size_t	 used;
	/* Key the handler refuses, with "bad key" as its message. */
	const char *refuse;
};

static int
record(void *arg, const char *section, const char *key, const char *value,
    char *err, size_t errlen)
{
	struct recorder	*r = arg;
	int		 n;

	if (key == NULL)
		n = snprintf(r->log + r->used, sizeof r->log - r->used,
		    "[%s]\n", section);
	else
		n = snprintf(r->log + r->used, sizeof r->log - r->used,
		    "%s.%s=<%s>\n", section, key, value);
	assert_true(n > 0 && (size_t)n < sizeof r->log - r->used);
	r->used += n;
	if (r->refuse != NULL && key != NULL && strcmp(key, r->refuse) == 0) {
		snprintf(err, errlen, "bad key %s", key);
		return -1;
	}
	return 0;
}

/* Parses a NUL-terminated text; returns the error count. */
static int
parse(struct recorder *r, const char *text, char *errors, size_t errlen)
{
	memset(r, 0, sizeof *r);
	return ini_parse_buffer("t.conf", text, strlen(text), record, r,
	    errors, errlen);
}

static void
test_basic(void **state)
{
	struct recorder	 r;
	char		 errors[1024];

	(void)state;
	assert_int_equal(parse(&r,
	    "# comment\n"
	    "; other comment\n"
	    "   # indented comment\n"
	    "\n"
	    "  \t \n"
	    "[one]\n"
	    "a = 1\n"
	    "  b_2=two words  \n"
	    "[ two.x-y_Z ]\n"
	    "c =\n"
	    "d = x = y\n"
	    "e = # not a comment\n", errors, sizeof errors), 0);
	assert_string_equal(errors, "");
	assert_string_equal(r.log,
	    "[one]\n"
	    "one.a=<1>\n"
	    "one.b_2=<two words>\n"
	    "[two.x-y_Z]\n"
	    "two.x-y_Z.c=<>\n"
	    "two.x-y_Z.d=<x = y>\n"
	    "two.x-y_Z.e=<# not a comment>\n");
}

static void
test_empty(void **state)
{
	struct recorder	 r;
	char		 errors[64];

	(void)state;
	strcpy(errors, "garbage");
	assert_int_equal(parse(&r, "", errors, sizeof errors), 0);
	assert_string_equal(errors, "");
	assert_string_equal(r.log, "");
	assert_int_equal(ini_parse_buffer("t.conf", NULL, 0, record, &r,
	    errors, sizeof errors), 0);
}

/* Keys before any section are passed with section "". */
static void
test_no_section(void **state)
{
	struct recorder	 r;
	char		 errors[64];

	(void)state;
	assert_int_equal(parse(&r, "a = 1\n", errors, sizeof errors), 0);
	assert_string_equal(r.log, ".a=<1>\n");
}

static void
test_quotes(void **state)
{
	struct recorder	 r;
	char		 errors[1024];

	(void)state;
	assert_int_equal(parse(&r,
	    "[s]\n"
	    "a = \"  spaced  \"\n"
	    "b = \"\"\n"
	    "c = say \"hi\"\n"
	    "d = \"a\"b\"\n"
	    "e = \"#x\"\n", errors, sizeof errors), 0);
	assert_string_equal(r.log,
	    "[s]\n"
	    "s.a=<  spaced  >\n"
	    "s.b=<>\n"
	    "s.c=<say \"hi\">\n"
	    "s.d=<a\"b>\n"
	    "s.e=<#x>\n");

	assert_int_equal(parse(&r, "[s]\na = \"open\nb = \"\n", errors,
	    sizeof errors), 2);
	assert_string_equal(errors,
	    "t.conf:2: a: missing closing '\"' in value\n"
	    "t.conf:3: b: missing closing '\"' in value\n");
	assert_string_equal(r.log, "[s]\n");
}

static void
test_crlf(void **state)
{
	struct recorder	 r;
	char		 errors[1024];

	(void)state;
	assert_int_equal(parse(&r, "[s]\r\na = 1\r\nb = \"x \"\r\n\r\n",
	    errors, sizeof errors), 0);
	assert_string_equal(r.log, "[s]\ns.a=<1>\ns.b=<x >\n");
}

static void
test_no_final_newline(void **state)
{
	struct recorder	 r;
	char		 errors[1024];

	(void)state;
	assert_int_equal(parse(&r, "[s]\na = last", errors, sizeof errors), 0);
	assert_string_equal(r.log, "[s]\ns.a=<last>\n");
	assert_int_equal(parse(&r, "[s]\na = last\r", errors, sizeof errors),
	    0);
	assert_string_equal(r.log, "[s]\ns.a=<last>\n");
	assert_int_equal(parse(&r, "[s]", errors, sizeof errors), 0);
	assert_string_equal(r.log, "[s]\n");
}

/* A NUL byte is an error on its line; the lines after it still count. */
static void
test_nul_byte(void **state)
{
	static const char	 text[] = "[s]\na = 1\0x\nb = 2\n";
	struct recorder		 r;
	char			 errors[1024];

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(ini_parse_buffer("t.conf", text, sizeof text - 1,
	    record, &r, errors, sizeof errors), 1);
	assert_string_equal(errors, "t.conf:2: NUL byte in line\n");
	assert_string_equal(r.log, "[s]\ns.b=<2>\n");
}

static void
test_long_line(void **state)
{
	static char	 text[3 * 4096 + 64];
	struct recorder	 r;
	char		 errors[1024];
	size_t		 len;

	(void)state;
	/* 4095 bytes is the longest line accepted... */
	len = snprintf(text, sizeof text, "[s]\nv = ");
	memset(text + len, 'x', 4095 - 4);
	len += 4095 - 4;
	text[len++] = '\n';
	/* ...its CR not counted... */
	memset(text + len, ';', 4095);
	len += 4095;
	text[len++] = '\r';
	text[len++] = '\n';
	/* ...and 4096 is too long. */
	memset(text + len, ';', 4096);
	len += 4096;
	len += snprintf(text + len, sizeof text - len, "\nb = 2\n");

	memset(&r, 0, sizeof r);
	assert_int_equal(ini_parse_buffer("t.conf", text, len, record, &r,
	    errors, sizeof errors), 1);
	assert_string_equal(errors,
	    "t.conf:4: line too long (more than 4095 bytes)\n");
	assert_int_equal(strlen(r.log), strlen("[s]\ns.v=<>\n") + 4091 +
	    strlen("s.b=<2>\n"));
	assert_non_null(strstr(r.log, "s.b=<2>\n"));

	/* The same without a final newline. */
	memset(&r, 0, sizeof r);
	assert_int_equal(ini_parse_buffer("t.conf", text + 4 + 4096 + 4097,
	    4096, record, &r, errors, sizeof errors), 1);
	assert_string_equal(errors,
	    "t.conf:1: line too long (more than 4095 bytes)\n");
}

static void
test_syntax_errors(void **state)
{
	struct recorder	 r;
	char		 errors[2048];

	(void)state;
	assert_int_equal(parse(&r,
	    "[s]\n"
	    "novalue\n"				/* 2 */
	    "= 1\n"				/* 3 */
	    "Upper = 1\n"			/* 4 */
	    "a b = 1\n"				/* 5 */
	    "ok = 1\n"
	    "[bad name]\n"			/* 7 */
	    "skipped = 1\n"
	    "[unclosed\n"			/* 9 */
	    "[]\n"				/* 10 */
	    "[t] # comment\n"			/* 11 */
	    "[u/v]\n"				/* 12 */
	    "[w]\n"
	    "last = 1\n", errors, sizeof errors), 9);
	assert_string_equal(errors,
	    "t.conf:2: missing '=' (expected key = value, [section] or a # "
	    "comment)\n"
	    "t.conf:3: missing key before '='\n"
	    "t.conf:4: invalid key 'Upper' (expected lowercase letters, "
	    "digits and '_')\n"
	    "t.conf:5: invalid key 'a b' (expected lowercase letters, digits "
	    "and '_')\n"
	    "t.conf:7: invalid section name 'bad name' (expected letters, "
	    "digits, '.', '_' and '-')\n"
	    "t.conf:9: missing ']' after section name\n"
	    "t.conf:10: empty section name\n"
	    "t.conf:11: unexpected text '# comment' after section header "
	    "(comments must be on their own line)\n"
	    "t.conf:12: invalid section name 'u/v' (expected letters, "
	    "digits, '.', '_' and '-')\n");
	/* Keys under a broken header are not given to the handler. */
	assert_string_equal(r.log, "[s]\ns.ok=<1>\n[w]\nw.last=<1>\n");
}

/* Handler errors get file:line too, and parsing goes on after them. */
static void
test_handler_errors(void **state)
{
	struct recorder	 r;
	const char	*text;
	char		 errors[1024];

	(void)state;
	memset(&r, 0, sizeof r);
	r.refuse = "bad";
	text = "[s]\nbad = 1\ngood = 2\n\nbad = 3\n";
	assert_int_equal(ini_parse_buffer("dir/x.conf", text, strlen(text),
	    record, &r, errors, sizeof errors), 2);
	assert_string_equal(errors,
	    "dir/x.conf:2: bad key bad\n"
	    "dir/x.conf:5: bad key bad\n");
	assert_string_equal(r.log, "[s]\ns.bad=<1>\ns.good=<2>\ns.bad=<3>\n");
}

/* Control characters from the input never reach the error text. */
static void
test_error_sanitized(void **state)
{
	struct recorder	 r;
	char		 errors[256];

	(void)state;
	assert_int_equal(parse(&r, "A\x1b[2J\t= 1\n", errors, sizeof errors),
	    1);
	assert_string_equal(errors, "t.conf:1: invalid key 'A?[2J' (expected "
	    "lowercase letters, digits and '_')\n");
}

/* Errors past the buffer are counted; the text is cut and terminated. */
static void
test_error_truncated(void **state)
{
	struct recorder	 r;
	char		 errors[40];

	(void)state;
	memset(errors, 'x', sizeof errors);
	assert_int_equal(parse(&r, "a\nb\nc\nd\n[s]\nk = v\n", errors,
	    sizeof errors), 4);
	assert_int_equal(strlen(errors), sizeof errors - 1);
	assert_memory_equal(errors, "t.conf:1: missing '='", 21);
	assert_string_equal(r.log, "[s]\ns.k=<v>\n");

	/* No buffer at all. */
	assert_int_equal(parse(&r, "a\nb\n", NULL, 0), 2);
	assert_int_equal(parse(&r, "a\nb\n", errors, 0), 2);
	assert_int_equal(parse(&r, "a\n", errors, 1), 1);
	assert_string_equal(errors, "");
}

/* Every byte value, so a signed char never indexes anything. */
static void
test_all_bytes(void **state)
{
	struct recorder	 r;
	char		 text[3 * 256], errors[4096];
	size_t		 i, len = 0;

	(void)state;
	for (i = 1; i < 256; i++) {
		if (i == '\n')
			continue;
		text[len++] = (char)i;
		text[len++] = '=';
		text[len++] = '\n';
	}
	memset(&r, 0, sizeof r);
	assert_true(ini_parse_buffer("t.conf", text, len, record, &r, errors,
	    sizeof errors) > 200);
}

/* Logs "line:section.key=<value>" (or "line:[section]") of every call. */
static int
record_line(void *arg, unsigned long line, const char *section,
    const char *key, const char *value, char *err, size_t errlen)
{
	struct recorder	*r = arg;
	int		 n;

	if (key == NULL)
		n = snprintf(r->log + r->used, sizeof r->log - r->used,
		    "%lu:[%s]\n", line, section);
	else
		n = snprintf(r->log + r->used, sizeof r->log - r->used,
		    "%lu:%s.%s=<%s>\n", line, section, key, value);
	assert_true(n > 0 && (size_t)n < sizeof r->log - r->used);
	r->used += n;
	if (r->refuse != NULL && key != NULL && strcmp(key, r->refuse) == 0) {
		snprintf(err, errlen, "bad key %s", key);
		return -1;
	}
	return 0;
}

/* The line handler is told the line of each call, as errors count them. */
static void
test_line_handler(void **state)
{
	static const char	*text = "# comment\r\n"
				    "\r\n"
				    "[s]\r\n"
				    "a = 1\r\n"
				    "broken\n"
				    "[bad\n"
				    "skipped = 1\n"
				    "[t]\n"
				    "\n"
				    "a = 2";
	struct recorder		 r;
	char			 errors[1024];

	(void)state;
	memset(&r, 0, sizeof r);
	r.refuse = "a";
	assert_int_equal(ini_parse_buffer_lines("t.conf", text, strlen(text),
	    record_line, &r, errors, sizeof errors), 4);
	assert_string_equal(r.log,
	    "3:[s]\n"
	    "4:s.a=<1>\n"
	    "8:[t]\n"
	    "10:t.a=<2>\n");
	assert_string_equal(errors,
	    "t.conf:4: bad key a\n"
	    "t.conf:5: missing '=' (expected key = value, [section] or a # "
	    "comment)\n"
	    "t.conf:6: missing ']' after section name\n"
	    "t.conf:10: bad key a\n");
}

/* Errors a caller adds after the parse look like the parser's own. */
static void
test_append_error(void **state)
{
	char	 errors[128];

	(void)state;
	errors[0] = '\0';
	ini_append_error(errors, sizeof errors, "t.conf", 7, "[s] k: %s %d",
	    "bad", 1);
	ini_append_error(errors, sizeof errors, "t.conf", 0, "no line");
	ini_append_error(errors, sizeof errors, NULL, 2, "tab\there");
	assert_string_equal(errors,
	    "t.conf:7: [s] k: bad 1\n"
	    "t.conf: no line\n"
	    "(config):2: tab?here\n");

	/* Cut at the end of the buffer, and then left alone. */
	memset(errors, 0, sizeof errors);
	memset(errors, 'x', sizeof errors - 20);
	ini_append_error(errors, sizeof errors, "t.conf", 123, "long message");
	assert_int_equal(strlen(errors), sizeof errors - 1);
	assert_memory_equal(errors + sizeof errors - 20, "t.conf:123: long "
	    "me", 19);
	ini_append_error(errors, sizeof errors, "t.conf", 1, "more");
	assert_int_equal(strlen(errors), sizeof errors - 1);
	ini_append_error(NULL, 0, "t.conf", 1, "nowhere");
	ini_append_error(errors, 0, "t.conf", 1, "nowhere");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_no_section),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_handler_errors),
		cmocka_unit_test(test_error_sanitized),
		cmocka_unit_test(test_error_truncated),
		cmocka_unit_test(test_all_bytes),
		cmocka_unit_test(test_line_handler),
		cmocka_unit_test(test_append_error),
	};

	return cmocka_run_group_tests_name("ini", tests, NULL, NULL);
}
