/*
 * Unit tests of lib/conf.c and conf_value.c: the value types both
 * configuration loaders use, with their messages; comma lists; the
 * table-driven handler and the load on a copy, through a small loader of
 * its own; the checks of the files a key names; and the file reader's
 * limits. The loaders' own tests (test_config.c, test_relay_config.c)
 * check each key's wiring.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

#define ERR_MAX		8192
#define LOADER_CHECK_FILES 0x1	/* loader_check(): [b] ca and key */

/* The config of the test loader. */
struct test_conf {
	char		 name[16];
	int		 is_on;
	char		 address[CONF_HOST_MAX + 8];
	char		 ca[64];
	char		 key[64];
	uint64_t	 size;
	int		 is_resolved;
};

enum test_section {
	TEST_SECTION_A = CONF_SECTION_SKIP + 1,
	TEST_SECTION_B
};

struct test_state {
	struct conf_state	 cs;
	struct test_conf	 conf;
};

#define TEST_FIELD(f)	CONF_FIELD(struct test_conf, f)

static const struct conf_key test_keys[] = {
	{ TEST_SECTION_A, "name", conf_parse_name, TEST_FIELD(name), 0, 0, 0,
	  0 },
	{ TEST_SECTION_A, "on", conf_parse_bool, TEST_FIELD(is_on), 0, 0, 0,
	  0 },
	{ TEST_SECTION_B, "address", conf_parse_address, TEST_FIELD(address),
	  0, 0, CONF_EMPTY_OK, 0 },
	{ TEST_SECTION_B, "ca", conf_parse_path, TEST_FIELD(ca), 0, 64, 0,
	  0 },
	{ TEST_SECTION_B, "key", conf_parse_path, TEST_FIELD(key), 0, 64,
	  CONF_PRIVATE, 0 },
	{ TEST_SECTION_B, "size", conf_parse_size, TEST_FIELD(size), 4096,
	  65536, CONF_POWER_OF_TWO, 0 },
};

static const struct conf_section test_sections[] = {
	{ "a",	TEST_SECTION_A },
	{ "b",	TEST_SECTION_B },
};

static const struct conf_table test_table = {
	test_keys, sizeof test_keys / sizeof test_keys[0],
	test_sections, sizeof test_sections / sizeof test_sections[0],
	"a or b"
};

static void
loader_resolve(void *arg)
{
	struct test_state	*st = arg;

	st->conf.is_resolved = 1;
}

/* [b] ca and key; a default is named at the address line. */
static int
loader_check(void *arg, const char *name, int flags, char *err, size_t errlen)
{
	struct test_state	*st = arg;
	const struct conf_key	*address;
	int			 nerrors = 0;

	if (!(flags & LOADER_CHECK_FILES))
		return 0;
	address = conf_find_key(&test_table, TEST_SECTION_B, "address");
	if (conf_check_file(&st->cs, conf_find_key(&test_table,
	    TEST_SECTION_B, "ca"), address, &st->conf, " (the default)",
	    name, err, errlen) == -1)
		nerrors++;
	if (conf_check_file(&st->cs, conf_find_key(&test_table,
	    TEST_SECTION_B, "key"), address, &st->conf, " (the default)",
	    name, err, errlen) == -1)
		nerrors++;
	return nerrors;
}

static const struct conf_loader test_loader = {
	&test_table, conf_handler, loader_resolve, loader_check,
	sizeof(struct test_state), offsetof(struct test_state, conf),
	sizeof(struct test_conf)
};

static void
set_defaults(struct test_conf *conf)
{
	memset(conf, 0, sizeof *conf);
	snprintf(conf->name, sizeof conf->name, "default");
	snprintf(conf->ca, sizeof conf->ca, "/nonexistent/ca.pem");
	snprintf(conf->key, sizeof conf->key, "/nonexistent/node.key");
	conf->size = 8192;
}

/* Loads text over the defaults, as "t.conf". */
static int
load(struct test_conf *conf, const char *text, int flags, char *err)
{
	set_defaults(conf);
	return conf_load_buffer(&test_loader, conf, "t.conf", text,
	    strlen(text), flags, err, ERR_MAX);
}

/* Runs parse on value, which it must take into dst. */
static void
parse_ok(conf_parser parse, const struct conf_key *k, const char *value,
    void *dst)
{
	char	 err[512];

	err[0] = '\0';
	if (parse(NULL, k, value, dst, err, sizeof err) != 0)
		fail_msg("'%s': %s", value, err);
}

/* The same for a string field, which must then be want. */
static void
parse_str(conf_parser parse, const struct conf_key *k, const char *value,
    const char *want)
{
	char	 dst[CONF_LIST_MAX];

	memset(dst, 'x', sizeof dst);
	parse_ok(parse, k, value, dst);
	assert_string_equal(dst, want);
}

/* Runs parse on value, which it must refuse with message want. */
static void
parse_bad(conf_parser parse, const struct conf_key *k, const char *value,
    const char *want)
{
	char	 dst[CONF_LIST_MAX], err[512];

	memset(dst, 'x', sizeof dst);
	assert_int_equal(parse(NULL, k, value, dst, err, sizeof err), -1);
	assert_string_equal(err, want);
	/* A refused value leaves its field alone. */
	assert_int_equal(dst[0], 'x');
}

static void
test_name(void **state)
{
	struct conf_key	 k = { 0, "name", conf_parse_name, 0, 8, 0, 0, 0,
			    0, NULL };

	(void)state;
	parse_str(conf_parse_name, &k, "a", "a");
	parse_str(conf_parse_name, &k, "Web-01.", "Web-01.");
	parse_str(conf_parse_name, &k, "._-", "._-");
	parse_bad(conf_parse_name, &k, "", "invalid name '' (expected 1 to 7 "
	    "letters, digits, '.', '_' or '-')");
	parse_bad(conf_parse_name, &k, "abcdefgh", "invalid name 'abcdefgh' "
	    "(expected 1 to 7 letters, digits, '.', '_' or '-')");
	parse_bad(conf_parse_name, &k, "a b", "invalid name 'a b' (expected "
	    "1 to 7 letters, digits, '.', '_' or '-')");
	parse_bad(conf_parse_name, &k, "a/b", "invalid name 'a/b' (expected "
	    "1 to 7 letters, digits, '.', '_' or '-')");

	assert_int_equal(conf_is_name("a.B_9-", 6), 1);
	assert_int_equal(conf_is_name("", 0), 1);
	assert_int_equal(conf_is_name("a:b", 3), 0);
	/* Only len bytes count. */
	assert_int_equal(conf_is_name("ab/", 2), 1);
}

static void
test_path(void **state)
{
	struct conf_key	 k = { 0, "p", conf_parse_path, 0, 64, 0, 8, 0, 0,
			    NULL };
	struct conf_key	 e = { 0, "p", conf_parse_path, 0, 64, 0, 64,
			    CONF_EMPTY_OK, 0, NULL };

	(void)state;
	parse_str(conf_parse_path, &k, "/", "/");
	parse_str(conf_parse_path, &k, "/a b/c", "/a b/c");
	parse_bad(conf_parse_path, &k, "", "invalid path '' (expected an "
	    "absolute path)");
	parse_bad(conf_parse_path, &k, "a/b", "invalid path 'a/b' (expected "
	    "an absolute path)");
	parse_bad(conf_parse_path, &k, "/a\tb", "invalid path '/a\tb' "
	    "(expected an absolute path)");
	parse_bad(conf_parse_path, &k, "/a\x7f", "invalid path '/a\x7f' "
	    "(expected an absolute path)");

	/* max bounds the length with its NUL. */
	parse_str(conf_parse_path, &k, "/234567", "/234567");
	parse_bad(conf_parse_path, &k, "/2345678", "path too long (8 bytes, "
	    "at most 7)");

	parse_str(conf_parse_path, &e, "", "");
	parse_bad(conf_parse_path, &e, "x", "invalid path 'x' (expected \"\" "
	    "or an absolute path)");
}

static void
test_address(void **state)
{
	static const struct {
		const char	*address;
		const char	*host;
		unsigned	 port;
	} good[] = {
		{ "h:1", "h", 1 },
		{ "a-b.C9:65535", "a-b.C9", 65535 },
		{ "192.0.2.1:080", "192.0.2.1", 80 },
		{ "[fe80::1]:22", "fe80::1", 22 },
		{ "[::]:5443", "::", 5443 },
	};
	static const char	*bad[] = {
		"", "h", "h:", ":1", "h:0", "h:65536", "h:1x", "h_1:1", "h :1",
		"fe80::1:22", "[fe80::1]", "[fe80::1]:", "[x]:1", "[::1]:1]",
	};
	struct conf_key		 k = { 0, "a", conf_parse_address, 0, 64, 0,
				    0, 0, 0, NULL };
	struct conf_key		 e = { 0, "a", conf_parse_address, 0, 64, 0,
				    0, CONF_EMPTY_OK, 0, NULL };
	char			 host[CONF_HOST_MAX], want[512];
	uint16_t		 port;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		parse_str(conf_parse_address, &k, good[i].address,
		    good[i].address);
		assert_int_equal(conf_split_address(good[i].address, host,
		    sizeof host, &port), 0);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(want, sizeof want, "invalid address '%s' (expected "
		    "HOST:PORT or [IPv6]:PORT, HOST of letters, digits, '.' "
		    "and '-', PORT from 1 to 65535)", bad[i]);
		parse_bad(conf_parse_address, &k, bad[i], want);
	}

	/* "" for none, which the message then offers. */
	parse_str(conf_parse_address, &e, "", "");
	parse_bad(conf_parse_address, &e, "relay", "invalid address 'relay' "
	    "(expected \"\" for none, HOST:PORT or [IPv6]:PORT, HOST of "
	    "letters, digits, '.' and '-', PORT from 1 to 65535)");

	/* The host must fit the caller's buffer. */
	assert_int_equal(conf_split_address("relay:1", host, 5, &port), -1);
	assert_int_equal(conf_split_address("rela:1", host, 5, &port), 0);
	k.size = 8;
	parse_str(conf_parse_address, &k, "relay:1", "relay:1");
	parse_bad(conf_parse_address, &k, "relay:10", "invalid address "
	    "'relay:10' (expected HOST:PORT or [IPv6]:PORT, HOST of letters, "
	    "digits, '.' and '-', PORT from 1 to 65535)");
}

static void
test_mode(void **state)
{
	struct conf_key	 k = { 0, "mode", conf_parse_mode, 0, 0, 0, 0777, 0,
			    0, NULL };
	mode_t		 mode;

	(void)state;
	parse_ok(conf_parse_mode, &k, "0660", &mode);
	assert_int_equal(mode, 0660);
	parse_ok(conf_parse_mode, &k, "777", &mode);
	assert_int_equal(mode, 0777);
	parse_ok(conf_parse_mode, &k, "0", &mode);
	assert_int_equal(mode, 0);
	parse_bad(conf_parse_mode, &k, "0778", "invalid mode '0778' "
	    "(expected octal permissions up to 0777, e.g. 0660)");
	parse_bad(conf_parse_mode, &k, "1000", "invalid mode '1000' "
	    "(expected octal permissions up to 0777, e.g. 0660)");
	parse_bad(conf_parse_mode, &k, "", "invalid mode '' (expected octal "
	    "permissions up to 0777, e.g. 0660)");
	parse_bad(conf_parse_mode, &k, "-1", "invalid mode '-1' (expected "
	    "octal permissions up to 0777, e.g. 0660)");
	parse_bad(conf_parse_mode, &k, "0000000000000000000000000001000",
	    "invalid mode '0000000000000000000000000001000' (expected octal "
	    "permissions up to 0777, e.g. 0660)");
}

static void
test_uint(void **state)
{
	struct conf_key	 k = { 0, "n", conf_parse_uint, 0, 0, 0, 10000, 0,
			    0, NULL };
	struct conf_key	 p = { 0, "n", conf_parse_uint, 0, 0, 2, 1024,
			    CONF_POWER_OF_TWO, 0, NULL };
	static const char *bad[] = { "", "10001", "-1", "+1", " 1", "0x10",
			    "3.5", "1k", "99999999999999999999999",
			    "4294967296" };
	unsigned	 v;
	char		 want[512];
	size_t		 i;

	(void)state;
	parse_ok(conf_parse_uint, &k, "0", &v);
	assert_int_equal(v, 0);
	parse_ok(conf_parse_uint, &k, "010000", &v);
	assert_int_equal(v, 10000);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(want, sizeof want, "invalid integer '%s' (expected a "
		    "decimal integer from 0 to 10000)", bad[i]);
		parse_bad(conf_parse_uint, &k, bad[i], want);
	}

	parse_ok(conf_parse_uint, &p, "1024", &v);
	assert_int_equal(v, 1024);
	parse_bad(conf_parse_uint, &p, "3", "invalid integer '3' (expected a "
	    "power of two from 2 to 1024)");
	parse_bad(conf_parse_uint, &p, "1", "invalid integer '1' (expected a "
	    "power of two from 2 to 1024)");
	parse_bad(conf_parse_uint, &p, "2048", "invalid integer '2048' "
	    "(expected a power of two from 2 to 1024)");
}

static void
test_size(void **state)
{
	struct conf_key	 min = { 0, "s", conf_parse_size, 0, 0, 1024 * 1024,
			    UINT64_MAX, 0, 0, NULL };
	struct conf_key	 range = { 0, "s", conf_parse_size, 0, 0, 4096,
			    256 * 1024, 0, 0, NULL };
	struct conf_key	 p = { 0, "s", conf_parse_size, 0, 0, 4096,
			    UINT64_MAX, CONF_POWER_OF_TWO, 0, NULL };
	struct conf_key	 prange = { 0, "s", conf_parse_size, 0, 0, 1000,
			    1024 * 1024 * 1024, CONF_POWER_OF_TWO, 0, NULL };
	uint64_t	 v;

	(void)state;
	parse_ok(conf_parse_size, &min, "1G", &v);
	assert_true(v == 1024 * 1024 * 1024);
	parse_bad(conf_parse_size, &min, "1023k", "invalid size '1023k' "
	    "(expected a size of at least 1M)");
	parse_bad(conf_parse_size, &min, "1T", "invalid size '1T' (expected "
	    "e.g. 4096, 64k, 8M, 1G)");
	parse_bad(conf_parse_size, &min, "-1", "invalid size '-1' (expected "
	    "e.g. 4096, 64k, 8M, 1G)");

	parse_ok(conf_parse_size, &range, "4k", &v);
	assert_int_equal(v, 4096);
	parse_bad(conf_parse_size, &range, "4095", "invalid size '4095' "
	    "(expected a size from 4k to 256k)");
	parse_bad(conf_parse_size, &range, "1M", "invalid size '1M' "
	    "(expected a size from 4k to 256k)");

	parse_ok(conf_parse_size, &p, "8k", &v);
	parse_bad(conf_parse_size, &p, "12k", "invalid size '12k' (expected "
	    "a power of two of at least 4k)");
	parse_bad(conf_parse_size, &p, "0", "invalid size '0' (expected a "
	    "power of two of at least 4k)");
	/* Bounds that are no round unit are written in bytes. */
	parse_bad(conf_parse_size, &prange, "512", "invalid size '512' "
	    "(expected a power of two from 1000 to 1G)");
}

static void
test_duration(void **state)
{
	struct conf_key	 any = { 0, "d", conf_parse_duration, 0, 0, 0,
			    UINT64_MAX, 0, 0, NULL };
	struct conf_key	 nonzero = { 0, "d", conf_parse_duration, 0, 0, 1,
			    3600 * 1000, 0, 0, NULL };
	struct conf_key	 range = { 0, "d", conf_parse_duration, 0, 0, 1000,
			    60 * 1000, 0, 0, NULL };
	uint64_t	 ms;
	char		 buf[32];

	(void)state;
	parse_ok(conf_parse_duration, &any, "0", &ms);
	assert_int_equal(ms, 0);
	parse_bad(conf_parse_duration, &any, "1d", "invalid duration '1d' "
	    "(expected e.g. 500ms, 2s, 5m, 1h)");

	/* A minimum of 1ms reads as "not 0". */
	parse_bad(conf_parse_duration, &nonzero, "0ms", "invalid duration "
	    "'0ms' (must not be 0)");
	parse_bad(conf_parse_duration, &nonzero, "61m", "invalid duration "
	    "'61m' (must be at most 1h)");
	parse_bad(conf_parse_duration, &range, "999ms", "invalid duration "
	    "'999ms' (must be at least 1s)");
	parse_bad(conf_parse_duration, &range, "60001ms", "invalid duration "
	    "'60001ms' (must be at most 1m)");
	parse_ok(conf_parse_duration, &range, "1m", &ms);
	assert_int_equal(ms, 60 * 1000);

	conf_format_duration(0, buf, sizeof buf);
	assert_string_equal(buf, "0ms");
	conf_format_duration(250, buf, sizeof buf);
	assert_string_equal(buf, "250ms");
	conf_format_duration(2000, buf, sizeof buf);
	assert_string_equal(buf, "2s");
	conf_format_duration(90 * 1000, buf, sizeof buf);
	assert_string_equal(buf, "90s");
	conf_format_duration(120 * 1000, buf, sizeof buf);
	assert_string_equal(buf, "2m");
	conf_format_duration(7200 * 1000, buf, sizeof buf);
	assert_string_equal(buf, "2h");
}

static void
test_bool(void **state)
{
	struct conf_key	 k = { 0, "b", conf_parse_bool, 0, 0, 0, 0, 0,
			    0, NULL };
	int		 v = -1;

	(void)state;
	parse_ok(conf_parse_bool, &k, "yes", &v);
	assert_int_equal(v, 1);
	parse_ok(conf_parse_bool, &k, "off", &v);
	assert_int_equal(v, 0);
	parse_bad(conf_parse_bool, &k, "maybe", "invalid boolean 'maybe' "
	    "(expected yes or no)");
}

static void
test_default_name(void **state)
{
	char	 name[64], small[4], host[256];

	(void)state;
	memset(name, 0xa5, sizeof name);
	conf_default_name(name, sizeof name);
	assert_true(strlen(name) > 0 && strlen(name) < sizeof name);
	assert_int_equal(conf_is_name(name, strlen(name)), 1);
	if (gethostname(host, sizeof host) == 0 && host[0] != '\0' &&
	    strlen(host) < sizeof name && conf_is_name(host, strlen(host)))
		assert_string_equal(name, host);

	/* Cut to the buffer, never past it. */
	memset(small, 0xa5, sizeof small);
	conf_default_name(small, sizeof small);
	assert_true(strlen(small) > 0 && strlen(small) < sizeof small);
	assert_int_equal(conf_is_name(small, strlen(small)), 1);
}

static int
is_item(const char *s, size_t len)
{
	return (len > 0 && len < 8 && conf_is_name(s, len));
}

static void
test_list(void **state)
{
	const char	*cursor, *item;
	char		 dst[16], err[512];
	size_t		 len;
	int		 n;

	(void)state;
	/* Every item, trimmed, the empty ones too. */
	cursor = " a ,\tb c,,";
	assert_int_equal(conf_list_next(&cursor, &item, &len), 1);
	assert_int_equal(len, 1);
	assert_memory_equal(item, "a", 1);
	assert_int_equal(conf_list_next(&cursor, &item, &len), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(item, "b c", 3);
	assert_int_equal(conf_list_next(&cursor, &item, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(conf_list_next(&cursor, &item, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(conf_list_next(&cursor, &item, &len), 0);
	for (n = 0, cursor = ""; conf_list_next(&cursor, &item, &len); n++)
		assert_int_equal(len, 0);
	assert_int_equal(n, 1);

	assert_int_equal(conf_list_has("web-1,web-10,db", "web-10", 6), 1);
	assert_int_equal(conf_list_has("web-1,web-10,db", "db", 2), 1);
	assert_int_equal(conf_list_has("web-1,web-10,db", "web", 3), 0);
	assert_int_equal(conf_list_has("web-1,web-10,db", "web-1,", 6), 0);
	assert_int_equal(conf_list_has("a,,b", "", 0), 0);
	assert_int_equal(conf_list_has("", "a", 1), 0);

	assert_int_equal(conf_list_parse(" a , b,a ", dst, sizeof dst,
	    is_item, 0, "item", "items", err, sizeof err), 0);
	assert_string_equal(dst, "a,b,a");
	assert_int_equal(conf_list_parse(" a , b,a ", dst, sizeof dst,
	    is_item, CONF_LIST_UNIQUE, "item", "items", err, sizeof err),
	    0);
	assert_string_equal(dst, "a,b");
	assert_int_equal(conf_list_parse("", dst, sizeof dst, is_item, 0,
	    "item", "items", err, sizeof err), 0);
	assert_string_equal(dst, "");

	/* Errors leave dst alone. */
	assert_int_equal(conf_list_parse("a,,b", dst, sizeof dst,
	    is_item, 0, "item", "names of 1 to 7 letters", err,
	    sizeof err), -1);
	assert_string_equal(err, "invalid item '' in 'a,,b' (expected names "
	    "of 1 to 7 letters)");
	assert_int_equal(conf_list_parse("a, b/c", dst, sizeof dst,
	    is_item, 0, "item", "items", err, sizeof err), -1);
	assert_string_equal(err, "invalid item 'b/c' in 'a, b/c' (expected "
	    "items)");
	assert_string_equal(dst, "");

	/* 15 bytes fit with the NUL; repeats do not count. */
	assert_int_equal(conf_list_parse("abcdefg,abcdefg", dst, sizeof dst,
	    is_item, 0, "item", "items", err, sizeof err), 0);
	assert_string_equal(dst, "abcdefg,abcdefg");
	assert_int_equal(conf_list_parse("abcdefg,abcdef,a", dst, sizeof dst,
	    is_item, CONF_LIST_UNIQUE, "item", "items", err, sizeof err),
	    -1);
	assert_string_equal(err, "list too long (at most 15 bytes)");
	assert_int_equal(conf_list_parse("abcdefg,abcdefg,abcdefg", dst,
	    sizeof dst, is_item, CONF_LIST_UNIQUE, "item", "items", err,
	    sizeof err), 0);
	assert_string_equal(dst, "abcdefg");
}

static void
test_handler_messages(void **state)
{
	struct test_conf	 conf, defaults;
	char			 err[ERR_MAX];

	(void)state;
	set_defaults(&defaults);
	assert_int_equal(load(&conf,
	    "[a]\n"
	    "name = web-01\n"
	    "on = yes\n"
	    "[b]\n"
	    "address = relay:5443\n"
	    "ca = /x/ca.pem\n"
	    "size = 64k\n", 0, err), 0);
	assert_string_equal(err, "");
	assert_string_equal(conf.name, "web-01");
	assert_int_equal(conf.is_on, 1);
	assert_string_equal(conf.address, "relay:5443");
	assert_string_equal(conf.ca, "/x/ca.pem");
	assert_int_equal(conf.size, 65536);
	assert_int_equal(conf.is_resolved, 1);

	/*
	 * Every error of the file, at its line; the keys of a section named
	 * wrong are not reported one by one.
	 */
	assert_int_equal(load(&conf,
	    "stray = 1\n"
	    "[a]\n"
	    "nmae = x\n"
	    "on = perhaps\n"
	    "[c]\n"
	    "name = y\n"
	    "[b]\n"
	    "size = 12k\n"
	    "name = z\n"
	    "[a]\n"
	    "name = ok\n", 0, err), -1);
	assert_string_equal(err,
	    "t.conf:1: key 'stray' outside of any [section]\n"
	    "t.conf:3: [a] unknown key 'nmae' (expected name, on)\n"
	    "t.conf:4: [a] on: invalid boolean 'perhaps' (expected yes or "
	    "no)\n"
	    "t.conf:5: unknown section [c] (expected a or b)\n"
	    "t.conf:8: [b] size: invalid size '12k' (expected a power of two "
	    "from 4k to 64k)\n"
	    "t.conf:9: [b] unknown key 'name' (expected address, ca, key, "
	    "size)\n");
	/* A failed load leaves the config as it was, even its good lines. */
	assert_memory_equal(&conf, &defaults, sizeof conf);

	/* The unknown-key list is cut, never overrun. */
	set_defaults(&conf);
	assert_int_equal(conf_load_buffer(&test_loader, &conf, "t.conf",
	    "[b]\nx = 1\n", 10, 0, err, 40), -1);
	assert_int_equal(strlen(err), 39);
	assert_int_equal(conf_load_buffer(&test_loader, &conf, "t.conf",
	    "[b]\nx = 1\n", 10, 0, NULL, 0), -1);
}

/* The line a check names: its key's, the fallback's, the header's, none. */
static void
test_check_line(void **state)
{
	struct conf_state	 cs;
	const struct conf_key	*ca, *address;

	(void)state;
	memset(&cs, 0, sizeof cs);
	cs.table = &test_table;
	ca = conf_find_key(&test_table, TEST_SECTION_B, "ca");
	address = conf_find_key(&test_table, TEST_SECTION_B, "address");
	assert_non_null(ca);
	assert_non_null(address);
	assert_null(conf_find_key(&test_table, TEST_SECTION_A, "ca"));
	assert_null(conf_find_key(&test_table, TEST_SECTION_B, "CA"));

	assert_int_equal(conf_check_line(&cs, ca, address), 0);
	cs.section_line[TEST_SECTION_B] = 3;
	assert_int_equal(conf_check_line(&cs, ca, address), 3);
	assert_int_equal(conf_is_set(&cs, address), 0);
	cs.key_line[address - test_keys] = 5;
	assert_int_equal(conf_is_set(&cs, address), 1);
	assert_int_equal(conf_check_line(&cs, ca, address), 5);
	assert_int_equal(conf_check_line(&cs, ca, NULL), 3);
	cs.key_line[ca - test_keys] = 7;
	assert_int_equal(conf_check_line(&cs, ca, address), 7);
	assert_int_equal(conf_is_refused(&cs, ca), 0);
	cs.is_key_refused[ca - test_keys] = 1;
	assert_int_equal(conf_is_refused(&cs, ca), 1);
}

static void
test_check_file(void **state)
{
	struct test_conf	 conf;
	char			 template[] = "/tmp/test_conf.XXXXXX";
	char			*dir, ca[64], key[64], text[512], want[1024];
	char			 err[ERR_MAX];
	int			 fd;

	(void)state;
	assert_non_null(dir = mkdtemp(template));
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	snprintf(key, sizeof key, "%s/node.key", dir);
	assert_true((fd = open(ca, O_WRONLY | O_CREAT | O_EXCL, 0644)) != -1);
	close(fd);
	assert_true((fd = open(key, O_WRONLY | O_CREAT | O_EXCL, 0600)) !=
	    -1);
	close(fd);
	assert_int_equal(chmod(ca, 0644), 0);
	assert_int_equal(chmod(key, 0600), 0);

	snprintf(text, sizeof text, "[b]\nca = %s\nkey = %s\n", ca, key);
	assert_int_equal(load(&conf, text, LOADER_CHECK_FILES, err), 0);
	assert_string_equal(err, "");

	/* Only a private key must not be readable by group or others. */
	assert_int_equal(chmod(key, 0640), 0);
	assert_int_equal(load(&conf, text, LOADER_CHECK_FILES, err), -1);
	snprintf(want, sizeof want, "t.conf:3: [b] key: %s is readable by "
	    "group or others (chmod 600 it)\n", key);
	assert_string_equal(err, want);
	assert_int_equal(chmod(key, 0604), 0);
	assert_int_equal(load(&conf, text, LOADER_CHECK_FILES, err), -1);
	assert_string_equal(err, want);
	assert_int_equal(chmod(key, 0400), 0);
	assert_int_equal(load(&conf, text, LOADER_CHECK_FILES, err), 0);

	/* Defaults get the hint, at the fallback's line, else the header. */
	assert_int_equal(load(&conf, "[a]\n[b]\n\naddress = r:1\n",
	    LOADER_CHECK_FILES, err), -1);
	assert_string_equal(err,
	    "t.conf:4: [b] ca: /nonexistent/ca.pem: No such file or "
	    "directory (the default)\n"
	    "t.conf:4: [b] key: /nonexistent/node.key: No such file or "
	    "directory (the default)\n");
	assert_int_equal(load(&conf, "[b]\n", LOADER_CHECK_FILES, err), -1);
	assert_non_null(strstr(err, "t.conf:1: [b] ca: "));
	assert_int_equal(load(&conf, "", LOADER_CHECK_FILES, err), -1);
	assert_non_null(strstr(err, "t.conf: [b] ca: "));

	/* A directory, after the errors of single lines. */
	snprintf(text, sizeof text, "[b]\nca = %s\nkey = %s\nsize = 1\n", dir,
	    key);
	assert_int_equal(load(&conf, text, LOADER_CHECK_FILES, err), -1);
	snprintf(want, sizeof want,
	    "t.conf:4: [b] size: invalid size '1' (expected a power of two "
	    "from 4k to 64k)\n"
	    "t.conf:2: [b] ca: %s is not a regular file\n", dir);
	assert_string_equal(err, want);

	/* A refused path is reported once, at its line. */
	snprintf(text, sizeof text, "[b]\nca = %s\nkey = node.key\n", ca);
	assert_int_equal(load(&conf, text, LOADER_CHECK_FILES, err), -1);
	assert_string_equal(err, "t.conf:3: [b] key: invalid path 'node.key' "
	    "(expected an absolute path)\n");

	assert_int_equal(unlink(ca), 0);
	assert_int_equal(unlink(key), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* From a file: its errors, then the file's own, named by its path. */
static void
test_load_file(void **state)
{
	struct test_conf	 conf;
	char			 path[] = "/tmp/test_conf.XXXXXX", want[256];
	char			 err[ERR_MAX];
	const char		*text = "[a]\nname = fromfile\non = x\n";
	int			 fd;

	(void)state;
	set_defaults(&conf);
	assert_int_equal(conf_load(&test_loader, &conf, "/nonexistent/t.conf",
	    0, err, sizeof err), -1);
	assert_string_equal(err, "/nonexistent/t.conf: No such file or "
	    "directory\n");
	assert_int_equal(conf_load(&test_loader, &conf, "/", 0, err,
	    sizeof err), -1);
	assert_string_equal(err, "/: Is a directory\n");
	assert_int_equal(conf_load(&test_loader, &conf, "/nonexistent/t.conf",
	    0, NULL, 0), -1);

	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, text, strlen(text)), strlen(text));
	close(fd);
	assert_int_equal(conf_load(&test_loader, &conf, path, 0, err,
	    sizeof err), -1);
	snprintf(want, sizeof want, "%s:3: [a] on: invalid boolean 'x' "
	    "(expected yes or no)\n", path);
	assert_string_equal(err, want);
	assert_string_equal(conf.name, "default");

	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) != -1);
	assert_int_equal(write(fd, text, strlen(text) - 7), strlen(text) - 7);
	close(fd);
	assert_int_equal(conf_load(&test_loader, &conf, path, 0, err,
	    sizeof err), 0);
	assert_string_equal(err, "");
	assert_string_equal(conf.name, "fromfile");
	unlink(path);
}

/* A file over CONF_FILE_MAX is refused before it is parsed. */
static void
test_load_large_file(void **state)
{
	struct test_conf	 conf;
	char			 path[] = "/tmp/test_conf.XXXXXX", want[256];
	char			 err[ERR_MAX], block[4096];
	int			 fd, i;

	(void)state;
	memset(block, '#', sizeof block);
	block[sizeof block - 1] = '\n';
	assert_true((fd = mkstemp(path)) != -1);
	for (i = 0; i < CONF_FILE_MAX / (int)sizeof block; i++)
		assert_int_equal(write(fd, block, sizeof block), sizeof block);
	set_defaults(&conf);
	assert_int_equal(conf_load(&test_loader, &conf, path, 0, err,
	    sizeof err), 0);
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	assert_int_equal(conf_load(&test_loader, &conf, path, 0, err,
	    sizeof err), -1);
	snprintf(want, sizeof want, "%s: file too large (more than 1048576 "
	    "bytes)\n", path);
	assert_string_equal(err, want);
	unlink(path);
}

/* A choice: its index, or a message listing every name. */
static void
test_choice(void **state)
{
	static const char *const three[] = { "cpu", "memory", "io", NULL };
	static const char *const two[] = { "some", "full", NULL };
	char err[128];

	(void)state;
	assert_int_equal(conf_choice("io", three, "resource", err, sizeof err),
	    2);
	assert_int_equal(conf_choice("disk", three, "resource", err,
	    sizeof err), -1);
	assert_string_equal(err, "invalid resource 'disk' (expected cpu, "
	    "memory or io)");
	assert_int_equal(conf_choice("", two, "kind", err, sizeof err), -1);
	assert_string_equal(err, "invalid kind '' (expected some or full)");
	/* A short buffer is cut, never overrun. */
	assert_int_equal(conf_choice("disk", three, "resource", err, 20), -1);
	assert_int_equal(strlen(err), 19);
}

static int
is_lower(char c)
{
	return (c >= 'a' && c <= 'z');
}

/* conf_parse_url: "" or a scheme and a rest of allowed bytes. */
static void
test_parse_url(void **state)
{
	static const char *const schemes[] = { "a://", "bb://", NULL };
	char	 dst[8];

	(void)state;
	memset(dst, 'x', sizeof dst);
	assert_int_equal(conf_parse_url("", schemes, is_lower, dst,
	    sizeof dst), 0);
	assert_string_equal(dst, "");
	assert_int_equal(conf_parse_url("bb://xy", schemes, is_lower, dst,
	    sizeof dst), 0);
	assert_string_equal(dst, "bb://xy");
	/* No rest, another scheme, a bad byte, one byte too long. */
	assert_int_equal(conf_parse_url("a://", schemes, is_lower, dst,
	    sizeof dst), -1);
	assert_int_equal(conf_parse_url("c://x", schemes, is_lower, dst,
	    sizeof dst), -1);
	assert_int_equal(conf_parse_url("a://x/y", schemes, is_lower, dst,
	    sizeof dst), -1);
	assert_int_equal(conf_parse_url("a://xyzw", schemes, is_lower, dst,
	    sizeof dst), -1);
	assert_string_equal(dst, "bb://xy");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choice),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_default_name),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_handler_messages),
		cmocka_unit_test(test_check_line),
		cmocka_unit_test(test_check_file),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_large_file),
		cmocka_unit_test(test_parse_url),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
