/*
 * Unit tests for lib/datagram.c, the codec both ends share. Decoding:
 * every rule of datagram.h is broken once, and the error message is
 * checked to name what was wrong. Encoding: every datagram written is
 * read back by the decoder, whatever the values (mended, cut, refused).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datagram.h"

/* A trigger is about 5 KB: kept off the test's stack. */
static struct trigger	test_trigger;
static char		test_err[256];
static char		test_buf[DATAGRAM_MAX];

static int
test_parse(const char *data, size_t len)
{
	test_err[0] = '\0';
	return datagram_parse(data, len, &test_trigger, test_err,
	    sizeof test_err);
}

static int
test_parse_string(const char *data)
{
	return test_parse(data, strlen(data));
}

/* Expects data to be refused with an error that contains expected. */
static void
test_refused(const char *data, size_t len, const char *expected)
{
	int	rc;

	rc = test_parse(data, len);
	if (rc != -1 || strstr(test_err, expected) == NULL) {
		fail_msg("parse of '%.*s' returned %d, error '%s', expected "
		    "'%s'", (int)len, data, rc, test_err, expected);
	}
}

static void
test_refused_string(const char *data, const char *expected)
{
	test_refused(data, strlen(data), expected);
}

static void
test_accepted_string(const char *data)
{
	if (test_parse_string(data) != 0)
		fail_msg("parse of '%s' failed: %s", data, test_err);
}

static const char test_full_datagram[] =
    "v=1\n"
    "source=apache\n"
    "reason=slow request: 2.5 s > 1 s, café ☕ 🐢\n"
    "scope=cluster\n"
    "url=/api/v1/orders?id=42&x=a=b\n"
    "method=POST\n"
    "status=503\n"
    "duration_us=2500000\n"
    "request_id=YbD2-xy_z\n"
    "pid=18446744073709551615\n"
    "\n"
    "build.id=abc-123\n"
    "empty=\n";

static void
test_check_full(const struct trigger *t)
{
	assert_string_equal(t->source, "apache");
	assert_string_equal(t->reason,
	    "slow request: 2.5 s > 1 s, café ☕ 🐢");
	assert_int_equal(t->scope, TRIGGER_SCOPE_CLUSTER);
	assert_int_equal(t->nlabels, 8);
	assert_string_equal(t->labels[0].key, "url");
	assert_string_equal(t->labels[0].value, "/api/v1/orders?id=42&x=a=b");
	assert_string_equal(t->labels[7].key, "empty");
	assert_string_equal(trigger_label(t, "method"), "POST");
	assert_string_equal(trigger_label(t, "status"), "503");
	assert_string_equal(trigger_label(t, "duration_us"), "2500000");
	assert_string_equal(trigger_label(t, "request_id"), "YbD2-xy_z");
	assert_string_equal(trigger_label(t, "pid"), "18446744073709551615");
	assert_string_equal(trigger_label(t, "build.id"), "abc-123");
	assert_string_equal(trigger_label(t, "empty"), "");
	assert_null(trigger_label(t, "source"));
	assert_null(trigger_label(t, "reason"));
	assert_null(trigger_label(t, "missing"));
	assert_null(trigger_label(t, NULL));
}

static void
test_full(void **state)
{
	(void)state;
	assert_int_equal(test_parse_string(test_full_datagram), 0);
	test_check_full(&test_trigger);
}

static void
test_defaults(void **state)
{
	(void)state;
	/* No final "\n", and empty lines around it. */
	test_accepted_string("v=1");
	assert_string_equal(test_trigger.source, "app");
	assert_string_equal(test_trigger.reason, "");
	assert_int_equal(test_trigger.scope, TRIGGER_SCOPE_NODE);
	assert_int_equal(test_trigger.nlabels, 0);

	test_accepted_string("\n\nv=1\n\nscope=node\n\n");
	assert_int_equal(test_trigger.scope, TRIGGER_SCOPE_NODE);
	assert_string_equal(test_trigger.source, "app");
}

static void
test_resets_everything(void **state)
{
	(void)state;
	memset(&test_trigger, 0x5a, sizeof test_trigger);
	test_accepted_string("v=1\nx=1\n");
	assert_int_equal(test_trigger.nlabels, 1);
	assert_null(test_trigger.labels[1].key);
	assert_int_equal(test_trigger.sender_pid, 0);
	assert_int_equal(test_trigger.sender_uid, 0);
	assert_int_equal(test_trigger.sender_gid, 0);
	assert_int_equal(test_trigger.received_at_us, 0);

	/* A failed parse leaves nothing from the previous one. */
	test_refused_string("v=2\n", "unsupported");
	assert_int_equal(test_trigger.nlabels, 0);
	assert_null(test_trigger.labels[0].key);
}

static void
test_version(void **state)
{
	(void)state;
	test_refused_string("source=x\nreason=y\n", "missing v=1");
	test_refused_string("\n\n\n", "missing v=1");
	test_refused_string("v=2\n", "line 1: unsupported version '2'");
	test_refused_string("reason=r\nv=\n", "line 2: unsupported version ''");
	test_refused_string("v=01\n", "unsupported version '01'");
	test_refused_string("v=1 \n", "unsupported version '1 '");
	/* v need not be first. */
	test_accepted_string("reason=r\nv=1\n");
}

static void
test_duplicate(void **state)
{
	(void)state;
	test_refused_string("v=1\nsource=a\nsource=b\n",
	    "line 3: duplicate key 'source'");
	test_refused_string("v=1\nv=1\n", "line 2: duplicate key 'v'");
	test_refused_string("v=1\nreason=\nreason=\n",
	    "line 3: duplicate key 'reason'");
	test_refused_string("v=1\nscope=node\nscope=node\n",
	    "line 3: duplicate key 'scope'");
	test_refused_string("v=1\nx=1\ny=2\nx=1\n",
	    "line 4: duplicate key 'x'");
	test_refused_string("v=1\nstatus=200\nstatus=500\n",
	    "line 3: duplicate key 'status'");
}

static void
test_bad_key(void **state)
{
	char	key[TRIGGER_KEY_MAX + 2], line[128];

	(void)state;
	test_refused_string("v=1\n\nFoo=bar\n",
	    "line 3: key 'Foo' has invalid characters");
	test_refused_string("v=1\na b=c\n", "key 'a b' has invalid");
	test_refused_string("v=1\nk\x01y=1\n", "key 'k?y' has invalid");
	test_refused_string("v=1\ncafé=1\n", "key 'caf?" "?' has invalid");
	test_refused_string("v=1\n=x\n", "line 2: empty key");
	test_refused_string("v=1\nnoequals\n",
	    "line 2: expected key=value, got 'noequals'");

	memset(key, 'k', sizeof key);
	key[TRIGGER_KEY_MAX] = '\0';
	snprintf(line, sizeof line, "v=1\n%s=ok\n", key);
	test_accepted_string(line);
	key[TRIGGER_KEY_MAX] = 'k';
	key[TRIGGER_KEY_MAX + 1] = '\0';
	snprintf(line, sizeof line, "v=1\n%s=ok\n", key);
	test_refused_string(line, "longer than 32 bytes");
	/* The quoted key is cut, so a huge key makes a short message. */
	assert_non_null(strstr(test_err, "kkk...'"));
}

static void
test_source(void **state)
{
	char	source[TRIGGER_SOURCE_MAX + 2], line[128];

	(void)state;
	test_accepted_string("v=1\nsource=my_app-2\n");
	assert_string_equal(test_trigger.source, "my_app-2");
	test_refused_string("v=1\nsource=Apache\n",
	    "line 2: source 'Apache' is not [a-z0-9_-]{1,32}");
	test_refused_string("v=1\nsource=\n", "source '' is not");
	test_refused_string("v=1\nsource=a.b\n", "source 'a.b' is not");
	test_refused_string("v=1\nsource=a b\n", "source 'a b' is not");

	memset(source, 's', sizeof source);
	source[TRIGGER_SOURCE_MAX] = '\0';
	snprintf(line, sizeof line, "v=1\nsource=%s\n", source);
	test_accepted_string(line);
	source[TRIGGER_SOURCE_MAX] = 's';
	source[TRIGGER_SOURCE_MAX + 1] = '\0';
	snprintf(line, sizeof line, "v=1\nsource=%s\n", source);
	test_refused_string(line, "is not [a-z0-9_-]{1,32}");
}

static void
test_scope(void **state)
{
	(void)state;
	test_accepted_string("v=1\nscope=cluster\n");
	assert_int_equal(test_trigger.scope, TRIGGER_SCOPE_CLUSTER);
	test_refused_string("v=1\nscope=global\n",
	    "line 2: scope 'global' is neither node nor cluster");
	test_refused_string("v=1\nscope=Node\n", "scope 'Node'");
	test_refused_string("v=1\nscope=\n", "scope ''");
}

static void
test_status(void **state)
{
	(void)state;
	test_accepted_string("v=1\nstatus=100\n");
	test_accepted_string("v=1\nstatus=999\n");
	test_refused_string("v=1\nx=1\nreason=\nstatus=99\n",
	    "line 4: status '99' out of range 100..999");
	test_refused_string("v=1\nstatus=1000\n",
	    "status '1000' out of range");
	test_refused_string("v=1\nstatus=99999999999999999999999\n",
	    "out of range 100..999");
	test_refused_string("v=1\nstatus=ok\n",
	    "line 2: status 'ok' is not an unsigned decimal number");
	test_refused_string("v=1\nstatus=\n", "status '' is not");
}

static void
test_numbers(void **state)
{
	(void)state;
	test_accepted_string("v=1\nduration_us=0\npid=1\n");
	test_accepted_string("v=1\nduration_us=18446744073709551615\n");
	test_refused_string("v=1\nduration_us=12ms\n",
	    "line 2: duration_us '12ms' is not an unsigned decimal number");
	test_refused_string("v=1\nduration_us=1.5\n", "is not an unsigned");
	test_refused_string("v=1\nduration_us=\n", "is not an unsigned");
	test_refused_string("v=1\nduration_us=18446744073709551616\n",
	    "line 2: duration_us '18446744073709551616' does not fit in "
	    "64 bits");
	test_refused_string("v=1\npid=+5\n",
	    "line 2: pid '+5' is not an unsigned decimal number");
	test_refused_string("v=1\npid=-5\n", "pid '-5' is not");
	test_refused_string("v=1\npid= 5\n", "pid ' 5' is not");
	test_refused_string("v=1\npid=0x10\n", "pid '0x10' is not");
}

static void
test_method(void **state)
{
	(void)state;
	test_accepted_string("v=1\nmethod=PROPFIND\n");
	test_refused_string("v=1\nmethod=get\n",
	    "line 2: method 'get' is not [A-Z]{1,16}");
	test_refused_string("v=1\nmethod=\n", "method '' is not");
	test_refused_string("v=1\nmethod=ABCDEFGHIJKLMNOPQ\n",
	    "method 'ABCDEFGHIJKLMNOPQ' is not");
	test_accepted_string("v=1\nmethod=ABCDEFGHIJKLMNOP\n");
}

static void
test_control_characters(void **state)
{
	(void)state;
	test_refused_string("v=1\nreason=a\tb\n",
	    "line 2: control character 0x09 in value of 'reason'");
	test_refused_string("v=1\nurl=/a\x7f\n",
	    "control character 0x7f in value of 'url'");
	test_refused_string("v=1\nx=a\rb\n", "control character 0x0d");
	test_refused_string("v=1\nx=\x1b[31m\n", "control character 0x1b");
	/* U+0085 is not a control character by the protocol's rule. */
	test_accepted_string("v=1\nx=\xc2\x85\n");
}

static void
test_crlf(void **state)
{
	(void)state;
	test_refused_string("v=1\r\n", "line 1: ends in \\r\\n, not \\n");
	test_refused_string("v=1\nreason=x\r\n", "line 2: ends in \\r\\n");
	test_refused_string("v=1\n\r\n", "line 2: ends in \\r\\n");
	test_refused_string("v=1\nreason=x\r", "line 2: ends in \\r\\n");
}

static void
test_nul(void **state)
{
	(void)state;
	test_refused("v=1\n\0", 5, "line 2: NUL byte at offset 4");
	test_refused("v=1\nreason=a\0b\n", 15, "NUL byte at offset 12");
	test_refused("\0", 1, "NUL byte at offset 0");
}

static void
test_empty(void **state)
{
	(void)state;
	test_refused("", 0, "empty datagram");
	test_refused("v=1\n", 0, "empty datagram");
}

static void
test_size(void **state)
{
	static char	data[DATAGRAM_MAX + 2];
	size_t		len;

	(void)state;
	len = (size_t)snprintf(data, sizeof data, "v=1\nreason=");
	memset(data + len, 'r', DATAGRAM_MAX - len - 1);
	data[DATAGRAM_MAX - 1] = '\n';
	assert_int_equal(test_parse(data, DATAGRAM_MAX), 0);
	assert_int_equal(strlen(test_trigger.reason), DATAGRAM_MAX - len - 1);

	/* The last line may end at the last byte, without "\n". */
	data[DATAGRAM_MAX - 1] = 'r';
	assert_int_equal(test_parse(data, DATAGRAM_MAX), 0);
	assert_int_equal(strlen(test_trigger.reason), DATAGRAM_MAX - len);

	data[DATAGRAM_MAX] = '\n';
	test_refused(data, DATAGRAM_MAX + 1,
	    "datagram of 4097 bytes exceeds 4096");
	test_refused(data, (size_t)-1, "exceeds 4096");
}

static void
test_utf8(void **state)
{
	(void)state;
	/* Overlong forms of '/', of U+0000 and of U+FFFF. */
	test_refused_string("v=1\nreason=\xc0\xaf\n",
	    "line 2: invalid UTF-8 at offset 11");
	test_refused_string("v=1\nreason=\xc1\xbf\n", "invalid UTF-8");
	test_refused_string("v=1\nreason=\xe0\x80\xaf\n", "invalid UTF-8");
	test_refused_string("v=1\nreason=\xe0\x9f\xbf\n", "invalid UTF-8");
	test_refused_string("v=1\nreason=\xf0\x80\x80\xaf\n",
	    "invalid UTF-8");
	test_refused_string("v=1\nreason=\xf0\x8f\xbf\xbf\n",
	    "invalid UTF-8");
	/* Surrogates U+D800 and U+DFFF. */
	test_refused_string("v=1\nreason=\xed\xa0\x80\n", "invalid UTF-8");
	test_refused_string("v=1\nreason=\xed\xbf\xbf\n", "invalid UTF-8");
	/* Truncated sequences, at the end and in the middle. */
	test_refused_string("v=1\nreason=\xe2\x82", "invalid UTF-8 at "
	    "offset 11");
	test_refused_string("v=1\nreason=\xe2\x82x\n", "invalid UTF-8");
	test_refused_string("v=1\nreason=\xf0\x9f\x90\n", "invalid UTF-8");
	test_refused_string("v=1\nreason=\xc3", "invalid UTF-8");
	/* Above U+10FFFF, and bytes that never appear. */
	test_refused_string("v=1\nreason=\xf4\x90\x80\x80\n",
	    "invalid UTF-8");
	test_refused_string("v=1\nreason=\xf5\x80\x80\x80\n",
	    "invalid UTF-8");
	test_refused_string("v=1\nreason=\xff\n", "invalid UTF-8");
	/* A lone continuation byte. */
	test_refused_string("v=1\nreason=\x80\n", "invalid UTF-8");

	/* The edges that are valid. */
	test_accepted_string("v=1\nreason=\xc2\x80\xdf\xbf\xe0\xa0\x80"
	    "\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80"
	    "\xf4\x8f\xbf\xbf\n");
}

static void
test_labels_max(void **state)
{
	static char	data[DATAGRAM_MAX];
	size_t		len, i;

	(void)state;
	len = (size_t)snprintf(data, sizeof data, "v=1\nsource=a\n");
	for (i = 0; i < TRIGGER_LABELS_MAX; i++) {
		len += (size_t)snprintf(data + len, sizeof data - len,
		    "label%zu=%zu\n", i, i);
	}
	assert_int_equal(test_parse(data, len), 0);
	assert_int_equal(test_trigger.nlabels, TRIGGER_LABELS_MAX);
	assert_string_equal(trigger_label(&test_trigger, "label31"), "31");

	snprintf(data + len, sizeof data - len, "one_more=x\n");
	test_refused_string(data, "line 35: more than 32 labels");
}

static void
test_copy(void **state)
{
	struct trigger	*src, *dst;

	(void)state;
	src = malloc(sizeof *src);
	dst = malloc(sizeof *dst);
	assert_non_null(src);
	assert_non_null(dst);

	assert_int_equal(datagram_parse(test_full_datagram,
	    strlen(test_full_datagram), src, NULL, 0), 0);
	src->sender_pid = 42;
	src->received_at_us = 1700000000000000;
	trigger_copy(dst, src);
	memset(src, 0xaa, sizeof *src);
	free(src);
	test_check_full(dst);
	assert_int_equal(dst->sender_pid, 42);
	assert_int_equal(dst->received_at_us, 1700000000000000);

	/* Defaults: the source is a constant and the reason is in text. */
	src = malloc(sizeof *src);
	assert_non_null(src);
	assert_int_equal(datagram_parse("v=1", 3, src, NULL, 0), 0);
	trigger_copy(dst, src);
	free(src);
	assert_string_equal(dst->source, "app");
	assert_string_equal(dst->reason, "");

	/* Copying onto itself changes nothing. */
	trigger_copy(dst, dst);
	assert_string_equal(dst->source, "app");
	free(dst);
}

static void
test_no_error_buffer(void **state)
{
	(void)state;
	assert_int_equal(datagram_parse("v=2", 3, &test_trigger, NULL, 0), -1);
	assert_int_equal(datagram_parse("v=2", 3, &test_trigger, test_err, 1),
	    -1);
	assert_string_equal(test_err, "");
}

/* Parses what datagram_encode() wrote, failing the test if it cannot. */
static void
test_parse_encoded(size_t len)
{
	char	err[256];

	assert_true(len > 0 && len <= DATAGRAM_MAX);
	if (datagram_parse(test_buf, len, &test_trigger, err, sizeof err) != 0)
		fail_msg("'%.*s' does not parse: %s", (int)len, test_buf, err);
}

/* Returns 1 if s is well-formed UTF-8 without control characters. */
static int
test_is_clean(const char *s)
{
	static struct trigger	t;
	char			data[DATAGRAM_MAX];
	int			len;

	len = snprintf(data, sizeof data, "v=1\nx=%s", s);
	if (len < 0 || (size_t)len >= sizeof data)
		return 0;
	return datagram_parse(data, (size_t)len, &t, NULL, 0) == 0;
}

/* ---- encoding ---- */

static void
test_encode_round_trip(void **state)
{
	const struct tracetrap_label	labels[] = {
		{ "url", "/api/v1/orders?id=42&x=a=b" },
		{ "method", "POST" },
		{ "status", "503" },
		{ "duration_us", "2500000" },
		{ "request_id", "YbD2-xy_z" },
		{ "pid", "4242" },
		{ "build.id", "café ☕ 🐢" },
		{ "empty", NULL },
	};

	(void)state;
	test_parse_encoded(datagram_encode(test_buf, sizeof test_buf, "my_app-2",
	    "disk full: 0 bytes left", TRACETRAP_SCOPE_CLUSTER, labels, 8));
	assert_string_equal(test_trigger.source, "my_app-2");
	assert_string_equal(test_trigger.reason, "disk full: 0 bytes left");
	assert_int_equal(test_trigger.scope, TRIGGER_SCOPE_CLUSTER);
	assert_int_equal(test_trigger.nlabels, 8);
	assert_string_equal(trigger_label(&test_trigger, "url"),
	    "/api/v1/orders?id=42&x=a=b");
	assert_string_equal(trigger_label(&test_trigger, "method"), "POST");
	assert_string_equal(trigger_label(&test_trigger, "status"), "503");
	assert_string_equal(trigger_label(&test_trigger, "duration_us"),
	    "2500000");
	assert_string_equal(trigger_label(&test_trigger, "pid"), "4242");
	assert_string_equal(trigger_label(&test_trigger, "build.id"),
	    "café ☕ 🐢");
	assert_string_equal(trigger_label(&test_trigger, "empty"), "");
}

static void
test_encode_sanitizes(void **state)
{
	const struct tracetrap_label	labels[] = {
		{ "query", "a\nv=2\nsource=evil" },
		{ "bytes", "\xff\xc0\xafok\xed\xa0\x80!\xe2\x82" },
	};

	(void)state;
	test_parse_encoded(datagram_encode(test_buf, sizeof test_buf, NULL,
	    "line one\r\nline two\ttab\x7f\x1b[0m", TRACETRAP_SCOPE_NODE,
	    labels, 2));
	assert_string_equal(test_trigger.reason,
	    "line one  line two tab  [0m");
	assert_string_equal(test_trigger.source, "app");
	assert_int_equal(test_trigger.nlabels, 2);
	assert_string_equal(trigger_label(&test_trigger, "query"),
	    "a v=2 source=evil");
	assert_string_equal(trigger_label(&test_trigger, "bytes"),
	    "?\?\?ok?\?\?!??");
}

static void
test_encode_truncates(void **state)
{
	static char			 reason[3 * DATAGRAM_MAX];
	static char			 turtles[2 * DATAGRAM_MAX];
	struct tracetrap_label		 labels[3];
	const char			*value;
	size_t				 len, i, reason_len, turtles_len;

	(void)state;
	/* An odd first byte so that a cut by bytes would split a "é". */
	reason[0] = 'x';
	for (i = 1; i + 2 < sizeof reason; i += 2)
		memcpy(reason + i, "é", 2);
	for (i = 0; i + 4 < sizeof turtles; i += 4)
		memcpy(turtles + i, "🐢", 4);
	labels[0].key = "status";
	labels[0].value = "504";
	labels[1].key = "turtles";
	labels[1].value = turtles;
	labels[2].key = "short";
	labels[2].value = "kept whole";

	len = datagram_encode(test_buf, sizeof test_buf, "apache", reason,
	    TRACETRAP_SCOPE_NODE, labels, 3);
	assert_true(len <= DATAGRAM_MAX);
	/* Almost nothing is wasted: at most a cut sequence per value. */
	assert_true(len >= DATAGRAM_MAX - 8);
	test_parse_encoded(len);
	assert_string_equal(trigger_label(&test_trigger, "status"), "504");
	assert_string_equal(trigger_label(&test_trigger, "short"),
	    "kept whole");
	value = trigger_label(&test_trigger, "turtles");
	assert_non_null(value);
	reason_len = strlen(test_trigger.reason);
	turtles_len = strlen(value);
	assert_true(test_is_clean(value));
	assert_int_equal(turtles_len % 4, 0);
	assert_int_equal(reason_len % 2, 1);
	/* The two long values share the room fairly. */
	assert_true(reason_len + 4 >= turtles_len &&
	    turtles_len + 4 >= reason_len);

	/* A small buffer is a smaller limit, not a failure. */
	len = datagram_encode(test_buf, 100, "apache", reason,
	    TRACETRAP_SCOPE_NODE, labels, 3);
	assert_true(len > 0 && len <= 100);
	test_parse_encoded(len);
	assert_string_equal(trigger_label(&test_trigger, "status"), "504");

	/* Too small for the fixed part: nothing is written. */
	assert_int_equal(datagram_encode(test_buf, 30, NULL, NULL,
	    TRACETRAP_SCOPE_NODE, NULL, 0), 0);
	assert_int_equal(datagram_encode(test_buf, 0, NULL, NULL,
	    TRACETRAP_SCOPE_NODE, NULL, 0), 0);
}

static void
test_encode_invalid(void **state)
{
	struct tracetrap_label	labels[TRIGGER_LABELS_MAX + 1];
	char			keys[TRIGGER_LABELS_MAX + 1][16];
	const char		*bad_keys[] = { "Foo", "a b", "", "v", "source",
				    "reason", "scope", "é",
				    "k23456789012345678901234567890123" };
	const char		*bad_sources[] = { "Apache", "", "a.b",
				    "s23456789012345678901234567890123" };
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
		labels[0].key = bad_keys[i];
		labels[0].value = "x";
		if (datagram_encode(test_buf, sizeof test_buf, NULL, NULL,
		    TRACETRAP_SCOPE_NODE, labels, 1) != 0)
			fail_msg("key '%s' was accepted", bad_keys[i]);
	}
	labels[0].key = NULL;
	assert_int_equal(datagram_encode(test_buf, sizeof test_buf, NULL,
	    NULL, TRACETRAP_SCOPE_NODE, labels, 1), 0);
	labels[0].key = "k2345678901234567890123456789012";
	assert_int_not_equal(datagram_encode(test_buf, sizeof test_buf, NULL,
	    NULL, TRACETRAP_SCOPE_NODE, labels, 1), 0);

	for (i = 0; i < sizeof bad_sources / sizeof bad_sources[0]; i++) {
		if (datagram_encode(test_buf, sizeof test_buf, bad_sources[i],
		    NULL, TRACETRAP_SCOPE_NODE, NULL, 0) != 0)
			fail_msg("source '%s' was accepted", bad_sources[i]);
	}
	assert_int_equal(datagram_encode(test_buf, sizeof test_buf, NULL,
	    NULL, (enum tracetrap_scope)7, NULL, 0), 0);
	assert_int_equal(datagram_encode(NULL, sizeof test_buf, NULL, NULL,
	    TRACETRAP_SCOPE_NODE, NULL, 0), 0);
	assert_int_equal(datagram_encode(test_buf, sizeof test_buf, NULL,
	    NULL, TRACETRAP_SCOPE_NODE, NULL, 1), 0);

	/* Values the recorder would refuse, dropping the whole trigger. */
	labels[0].key = "status";
	labels[0].value = "99";
	assert_int_equal(datagram_encode(test_buf, sizeof test_buf, NULL,
	    NULL, TRACETRAP_SCOPE_NODE, labels, 1), 0);
	labels[0].key = "pid";
	labels[0].value = "-1";
	assert_int_equal(datagram_encode(test_buf, sizeof test_buf, NULL,
	    NULL, TRACETRAP_SCOPE_NODE, labels, 1), 0);
	labels[0].key = "method";
	labels[0].value = "get";
	assert_int_equal(datagram_encode(test_buf, sizeof test_buf, NULL,
	    NULL, TRACETRAP_SCOPE_NODE, labels, 1), 0);

	/* Duplicates, and one label more than the recorder keeps. */
	labels[0].key = "x";
	labels[0].value = "1";
	labels[1] = labels[0];
	assert_int_equal(datagram_encode(test_buf, sizeof test_buf, NULL,
	    NULL, TRACETRAP_SCOPE_NODE, labels, 2), 0);
	for (i = 0; i <= TRIGGER_LABELS_MAX; i++) {
		snprintf(keys[i], sizeof keys[i], "label%zu", i);
		labels[i].key = keys[i];
		labels[i].value = keys[i];
	}
	test_parse_encoded(datagram_encode(test_buf, sizeof test_buf, NULL, NULL,
	    TRACETRAP_SCOPE_NODE, labels, TRIGGER_LABELS_MAX));
	assert_int_equal(test_trigger.nlabels, TRIGGER_LABELS_MAX);
	assert_int_equal(datagram_encode(test_buf, sizeof test_buf, NULL,
	    NULL, TRACETRAP_SCOPE_NODE, labels, TRIGGER_LABELS_MAX + 1), 0);
}

/*
 * Whatever the values, a datagram that datagram_encode() produced must
 * be accepted by the recorder. Random bytes, random lengths, fixed seed.
 */
static void
test_encode_always_parses(void **state)
{
	static char		values[TRIGGER_LABELS_MAX + 1][1500];
	char			keys[TRIGGER_LABELS_MAX][16];
	struct tracetrap_label	labels[TRIGGER_LABELS_MAX];
	unsigned int		seed = 12345;
	size_t			round, nlabels, i, j, len;

	(void)state;
	for (round = 0; round < 2000; round++) {
		nlabels = (size_t)rand_r(&seed) % (TRIGGER_LABELS_MAX + 1);
		for (i = 0; i <= nlabels; i++) {
			len = (size_t)rand_r(&seed) % sizeof values[i];
			if (rand_r(&seed) % 2)
				len %= 40;
			for (j = 0; j < len; j++)
				values[i][j] = (char)(1 + rand_r(&seed) % 255);
			values[i][len] = '\0';
		}
		for (i = 0; i < nlabels; i++) {
			snprintf(keys[i], sizeof keys[i], "k%zu", i);
			labels[i].key = keys[i];
			labels[i].value = values[i + 1];
		}
		len = datagram_encode(test_buf, sizeof test_buf, "fuzz",
		    values[0], TRACETRAP_SCOPE_CLUSTER, labels, nlabels);
		test_parse_encoded(len);
		assert_int_equal(test_trigger.nlabels, nlabels);
	}
}

/* A trigger this process makes: the same door, itself as the sender. */
static void
test_trigger_new(void **state)
{
	const struct tracetrap_label	 labels[] = {
		{ "watcher", "web-cpu" },
		{ "value", "97.5" },
	};
	const struct tracetrap_label	 bad[] = { { "Bad Key", "x" } };
	struct trigger			*t;
	char				 err[256];

	(void)state;
	t = trigger_new("cpu", "busy", TRACETRAP_SCOPE_CLUSTER, labels, 2,
	    err, sizeof err);
	assert_non_null(t);
	assert_string_equal(t->source, "cpu");
	assert_string_equal(t->reason, "busy");
	assert_int_equal(t->scope, TRIGGER_SCOPE_CLUSTER);
	assert_string_equal(trigger_label(t, "value"), "97.5");
	assert_int_equal(t->sender_pid, getpid());
	assert_int_equal(t->sender_uid, getuid());
	assert_true(t->received_at_us > 0);
	free(t);

	assert_null(trigger_new("cpu", "busy", TRACETRAP_SCOPE_NODE, bad, 1,
	    err, sizeof err));
	assert_string_equal(err, "a label does not fit");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_resets_everything),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_bad_key),
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_method),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_labels_max),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_no_error_buffer),
		cmocka_unit_test(test_encode_round_trip),
		cmocka_unit_test(test_encode_sanitizes),
		cmocka_unit_test(test_encode_truncates),
		cmocka_unit_test(test_encode_invalid),
		cmocka_unit_test(test_encode_always_parses),
		cmocka_unit_test(test_trigger_new),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
