/* Unit tests of lib/frame.c: the relay link's frame header rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "protocol.h"

static void
test_round_trip(void **state)
{
	uint8_t		buf[FRAME_HEADER_SIZE + 5];
	struct frame	f;
	char		err[128];

	(void)state;
	assert_int_equal(frame_header(buf, FRAME_PING, 5), 0);
	memcpy(buf + FRAME_HEADER_SIZE, "{}   ", 5);
	assert_int_equal(frame_parse(buf, sizeof(buf), &f, err, sizeof(err)),
	    1);
	assert_int_equal(f.type, FRAME_PING);
	assert_int_equal(f.length, 5);
	assert_ptr_equal(f.payload, buf + FRAME_HEADER_SIZE);
}

static void
test_needs_more(void **state)
{
	uint8_t		buf[FRAME_HEADER_SIZE + 10];
	struct frame	f;
	char		err[128];
	size_t		i;

	(void)state;
	frame_header(buf, FRAME_ACK, 10);
	/* Every prefix shorter than the whole frame asks for more bytes. */
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(frame_parse(buf, i, &f, err, sizeof(err)), 0);
	assert_int_equal(frame_parse(buf, sizeof(buf), &f, err, sizeof(err)),
	    1);
}

static void
test_rejects(void **state)
{
	uint8_t		buf[FRAME_HEADER_SIZE];
	struct frame	f;
	char		err[128];

	(void)state;
	frame_header(buf, FRAME_PING, 0);
	buf[4] = 99;
	assert_int_equal(frame_parse(buf, sizeof(buf), &f, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "unknown frame type 99"));

	frame_header(buf, FRAME_PING, 0);
	buf[6] = 1;
	assert_int_equal(frame_parse(buf, sizeof(buf), &f, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "reserved"));

	/* Oversized: rejected from the header alone, before any payload. */
	frame_header(buf, FRAME_PING, 0);
	buf[0] = 0x00;
	buf[1] = 0x01;		/* 65536 + .. > FRAME_CONTROL_MAX */
	buf[2] = 0x00;
	buf[3] = 0x01;
	assert_int_equal(frame_parse(buf, sizeof(buf), &f, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "exceeds"));

	assert_int_equal(frame_header(buf, FRAME_HELLO, FRAME_CONTROL_MAX + 1),
	    -1);
	assert_int_equal(frame_header(buf, FRAME_UPLOAD_BEGIN,
	    FRAME_MANIFEST_MAX), 0);
}

static void
test_chunk(void **state)
{
	uint8_t			buf[FRAME_HEADER_SIZE +
				    FRAME_CHUNK_HEADER_SIZE + 3];
	struct frame		f;
	struct frame_chunk	c;
	char			err[128];

	(void)state;
	frame_header(buf, FRAME_UPLOAD_CHUNK, FRAME_CHUNK_HEADER_SIZE + 3);
	frame_chunk_header(buf + FRAME_HEADER_SIZE, 7, 0x123456789aULL);
	memcpy(buf + FRAME_HEADER_SIZE + FRAME_CHUNK_HEADER_SIZE, "abc", 3);
	assert_int_equal(frame_parse(buf, sizeof(buf), &f, err, sizeof(err)),
	    1);
	assert_int_equal(frame_chunk_decode(&f, &c, err, sizeof(err)), 0);
	assert_int_equal(c.file_index, 7);
	assert_true(c.offset == 0x123456789aULL);
	assert_int_equal(c.length, 3);
	assert_memory_equal(c.data, "abc", 3);

	f.length = FRAME_CHUNK_HEADER_SIZE - 1;
	assert_int_equal(frame_chunk_decode(&f, &c, err, sizeof(err)), -1);
	f.type = FRAME_PING;
	f.length = 20;
	assert_int_equal(frame_chunk_decode(&f, &c, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_needs_more),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_chunk),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
