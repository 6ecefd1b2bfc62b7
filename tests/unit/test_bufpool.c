/* Unit tests of lib/bufpool.c: buffers come back, and no more are kept. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bufpool.h"

static void
test_reuse(void **state)
{
	struct bufpool	*pool = bufpool_new(4096, 2);
	char		*a, *b, *c;

	(void)state;
	assert_int_equal(bufpool_size(pool), 4096);
	a = bufpool_get(pool);
	b = bufpool_get(pool);
	c = bufpool_get(pool);
	memset(a, 1, 4096);
	memset(c, 3, 4096);
	bufpool_put(pool, a);
	bufpool_put(pool, b);
	/* Past keep: freed, not kept (the sanitizer build sees a leak else). */
	bufpool_put(pool, c);
	bufpool_put(pool, NULL);
	/* The last given back comes first: the likeliest in the cache. */
	assert_ptr_equal(bufpool_get(pool), b);
	assert_ptr_equal(bufpool_get(pool), a);
	bufpool_put(pool, a);
	bufpool_put(pool, b);
	bufpool_free(pool);
	bufpool_free(NULL);
}

/* keep 0: a plain allocator. */
static void
test_keep_nothing(void **state)
{
	struct bufpool	*pool = bufpool_new(64, 0);
	char		*a = bufpool_get(pool);

	(void)state;
	memset(a, 0, 64);
	bufpool_put(pool, a);
	bufpool_free(pool);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_keep_nothing),
	};

	return cmocka_run_group_tests_name("bufpool", tests, NULL, NULL);
}
