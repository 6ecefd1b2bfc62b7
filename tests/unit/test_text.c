/*
 * Unit tests of lib/text.c: strict UTF-8, copies cut at a character
 * boundary, and nothing a terminal would act on left in printed text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "text.h"

static void
test_utf8_length(void **state)
{
	(void)state;
	assert_int_equal(text_utf8_length((const unsigned char *)"a", 1), 1);
	assert_int_equal(text_utf8_length((const unsigned char *)"\xc3\xa9",
	    2), 2);
	assert_int_equal(text_utf8_length((const unsigned char *)"\xe2\x82\xac",
	    3), 3);
	assert_int_equal(text_utf8_length(
	    (const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	/* Cut short, overlong, surrogate, past U+10FFFF, stray byte. */
	assert_int_equal(text_utf8_length((const unsigned char *)"\xe2\x82",
	    2), 0);
	assert_int_equal(text_utf8_length((const unsigned char *)"\xc0\xaf",
	    2), 0);
	assert_int_equal(text_utf8_length((const unsigned char *)"\xed\xa0\x80",
	    3), 0);
	assert_int_equal(text_utf8_length(
	    (const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
	assert_int_equal(text_utf8_length((const unsigned char *)"\x80", 1), 0);
}

static void
test_copy(void **state)
{
	char out[8];

	(void)state;
	/* Invalid bytes become '?'; the copy stops before a cut character. */
	text_utf8_copy(out, sizeof(out), "a\xffz", 3);
	assert_string_equal(out, "a?z");
	text_utf8_copy(out, sizeof(out), "abcde\xe2\x82\xac", 8);
	assert_string_equal(out, "abcde");
	text_utf8_copy(out, sizeof(out), "abc", 2);
	assert_string_equal(out, "ab");
	text_utf8_copy(out, 1, "abc", 3);
	assert_string_equal(out, "");
}

static void
test_terminal_safe(void **state)
{
	char s[64];

	(void)state;
	/* ESC sequences (colors, OSC 52 clipboard), BEL, DEL, C1 CSI. */
	strcpy(s, "x\x1b]52;c;AAAA\x07y\x7f\xc2\x9bz\r\n");
	text_terminal_safe(s);
	assert_string_equal(s, "x?]52;c;AAAA?y???z??");
	strcpy(s, "caf\xc3\xa9 \xe2\x82\xac");
	text_terminal_safe(s);
	assert_string_equal(s, "caf\xc3\xa9 \xe2\x82\xac");
	strcpy(s, "\xff\xfe");
	text_terminal_safe(s);
	assert_string_equal(s, "??");
	/* RIGHT-TO-LEFT OVERRIDE, LEFT-TO-RIGHT ISOLATE, ARABIC LETTER MARK. */
	strcpy(s, "a\xe2\x80\xae" "b\xe2\x81\xa6" "c\xd8\x9c" "d");
	text_terminal_safe(s);
	assert_string_equal(s, "a???b???c??d");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_length),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_terminal_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
