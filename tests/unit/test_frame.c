/* Unit tests of lib/frame.c: the relay link's frame header rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

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

/*
 * frame_pull_chunk: the data lands in the caller's buffer, the frame
 * leaves the input whole, and nothing is taken before it is all there.
 */
static void
test_pull_chunk(void **state)
{
	struct evbuffer		*in = evbuffer_new(), *part = evbuffer_new();
	struct frame_chunk	 c;
	uint8_t			 data[8], header[FRAME_HEADER_SIZE];
	char			 err[128];

	(void)state;
	assert_int_equal(frame_push_chunk(in, 2, 1ULL << 33, "abcdef", 6), 0);
	assert_int_equal(frame_pull_chunk(in, &c, data, sizeof(data), err,
	    sizeof(err)), 1);
	assert_int_equal(c.file_index, 2);
	assert_true(c.offset == 1ULL << 33);
	assert_int_equal(c.length, 6);
	assert_ptr_equal(c.data, data);
	assert_memory_equal(data, "abcdef", 6);
	assert_int_equal(evbuffer_get_length(in), 0);

	/* Not whole yet: nothing taken; then whole, across two chains. */
	assert_int_equal(frame_push_chunk(in, 0, 0, "xyz", 3), 0);
	evbuffer_remove_buffer(in, part, FRAME_HEADER_SIZE +
	    FRAME_CHUNK_HEADER_SIZE + 1);
	assert_int_equal(frame_pull_chunk(part, &c, data, sizeof(data), err,
	    sizeof(err)), 0);
	assert_int_equal(evbuffer_get_length(part), FRAME_HEADER_SIZE +
	    FRAME_CHUNK_HEADER_SIZE + 1);
	evbuffer_add_buffer(part, in);
	assert_int_equal(frame_pull_chunk(part, &c, data, sizeof(data), err,
	    sizeof(err)), 1);
	assert_memory_equal(data, "xyz", 3);
	assert_int_equal(evbuffer_get_length(part), 0);

	/* More data than the caller's buffer holds. */
	assert_int_equal(frame_push_chunk(in, 0, 0, "123456789", 9), 0);
	assert_int_equal(frame_pull_chunk(in, &c, data, sizeof(data), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "upload_chunk of 9 bytes exceeds 8");
	evbuffer_drain(in, evbuffer_get_length(in));

	/* Another type, or a chunk shorter than its own header. */
	frame_header(header, FRAME_PING, 0);
	evbuffer_add(in, header, sizeof(header));
	assert_int_equal(frame_pull_chunk(in, &c, data, sizeof(data), err,
	    sizeof(err)), -1);
	evbuffer_drain(in, evbuffer_get_length(in));
	frame_header(header, FRAME_UPLOAD_CHUNK, 4);
	evbuffer_add(in, header, sizeof(header));
	evbuffer_add(in, "abcd", 4);
	assert_int_equal(frame_pull_chunk(in, &c, data, sizeof(data), err,
	    sizeof(err)), -1);
	evbuffer_free(part);
	evbuffer_free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_needs_more),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_chunk),
		cmocka_unit_test(test_pull_chunk),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
