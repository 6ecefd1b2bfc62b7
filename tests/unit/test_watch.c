/*
 * Unit tests of triggers/watch.c, the threshold state machine of the
 * sampling watchers: sustain timing on an injected clock, hysteresis
 * edges in both directions, and the checks of the limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "watch.h"

#define T0	1000000		/* ms; any monotonic start */

static const struct watch_limits above = {
	WATCH_ABOVE, 90.0, 70.0, 10 * 1000,
};

static void
expect(struct watch_state *w, const struct watch_limits *l, double value,
    uint64_t now_ms, enum watch_edge edge, enum watch_phase phase)
{
	assert_int_equal(watch_update(w, l, value, now_ms, now_ms), edge);
	assert_string_equal(watch_phase_name(w->phase), watch_phase_name(phase));
}

/*
 * Fires once past the threshold for sustain (less 20 ms of timer slack),
 * not a tick before.
 */
static void
test_sustain(void **state)
{
	struct watch_state w;

	(void)state;
	watch_init(&w);
	expect(&w, &above, 50, T0, WATCH_EDGE_NONE, WATCH_ARMED);
	expect(&w, &above, 90, T0 + 1000, WATCH_EDGE_CROSSED, WATCH_PENDING);
	assert_int_equal(w.since_ms, T0 + 1000);
	expect(&w, &above, 95, T0 + 5000, WATCH_EDGE_NONE, WATCH_PENDING);
	expect(&w, &above, 99, T0 + 10979, WATCH_EDGE_NONE, WATCH_PENDING);
	expect(&w, &above, 91, T0 + 11000, WATCH_EDGE_FIRE, WATCH_FIRED);
	assert_int_equal(w.fires, 1);
	assert_int_equal(w.last_fire_ms, T0 + 11000);
}

/* A dip below the threshold before sustain starts the wait again. */
static void
test_recovered_before_sustain(void **state)
{
	struct watch_state w;

	(void)state;
	watch_init(&w);
	expect(&w, &above, 95, T0, WATCH_EDGE_CROSSED, WATCH_PENDING);
	expect(&w, &above, 89.9, T0 + 9000, WATCH_EDGE_RECOVERED,
	    WATCH_ARMED);
	expect(&w, &above, 95, T0 + 10000, WATCH_EDGE_CROSSED, WATCH_PENDING);
	expect(&w, &above, 95, T0 + 19979, WATCH_EDGE_NONE, WATCH_PENDING);
	expect(&w, &above, 95, T0 + 20000, WATCH_EDGE_FIRE, WATCH_FIRED);
	assert_int_equal(w.fires, 1);
}

/* Fired: no second fire until back below rearm, whatever happens above. */
static void
test_hysteresis(void **state)
{
	struct watch_state w;

	(void)state;
	watch_init(&w);
	expect(&w, &above, 95, T0, WATCH_EDGE_CROSSED, WATCH_PENDING);
	expect(&w, &above, 95, T0 + 10000, WATCH_EDGE_FIRE, WATCH_FIRED);
	/* Between rearm and threshold: still fired. */
	expect(&w, &above, 80, T0 + 11000, WATCH_EDGE_NONE, WATCH_FIRED);
	expect(&w, &above, 99, T0 + 30000, WATCH_EDGE_NONE, WATCH_FIRED);
	/* At rearm exactly is not back: strictly below is. */
	expect(&w, &above, 70, T0 + 31000, WATCH_EDGE_NONE, WATCH_FIRED);
	expect(&w, &above, 69.9, T0 + 32000, WATCH_EDGE_REARMED,
	    WATCH_ARMED);
	expect(&w, &above, 95, T0 + 33000, WATCH_EDGE_CROSSED, WATCH_PENDING);
	expect(&w, &above, 95, T0 + 43000, WATCH_EDGE_FIRE, WATCH_FIRED);
	assert_int_equal(w.fires, 2);
}

/* Available memory: the bad side is below. */
static void
test_below(void **state)
{
	static const struct watch_limits below = {
		WATCH_BELOW, 10.0, 12.5, 2000,
	};
	struct watch_state w;

	(void)state;
	watch_init(&w);
	expect(&w, &below, 50, T0, WATCH_EDGE_NONE, WATCH_ARMED);
	expect(&w, &below, 10, T0 + 1000, WATCH_EDGE_CROSSED, WATCH_PENDING);
	expect(&w, &below, 3, T0 + 3000, WATCH_EDGE_FIRE, WATCH_FIRED);
	expect(&w, &below, 12, T0 + 4000, WATCH_EDGE_NONE, WATCH_FIRED);
	expect(&w, &below, 12.6, T0 + 5000, WATCH_EDGE_REARMED, WATCH_ARMED);
}

/* sustain 0 fires at the first sample past the threshold. */
static void
test_no_sustain(void **state)
{
	static const struct watch_limits now = { WATCH_ABOVE, 1, 1, 0 };
	struct watch_state w;

	(void)state;
	watch_init(&w);
	expect(&w, &now, 1, T0, WATCH_EDGE_FIRE, WATCH_FIRED);
	/* rearm == threshold: anything below re-arms. */
	expect(&w, &now, 0.5, T0 + 1, WATCH_EDGE_REARMED, WATCH_ARMED);
}

/* A clock that steps back while pending restarts the wait, never fires. */
static void
test_clock_back(void **state)
{
	struct watch_state w;

	(void)state;
	watch_init(&w);
	expect(&w, &above, 95, T0 + 50000, WATCH_EDGE_CROSSED, WATCH_PENDING);
	expect(&w, &above, 95, T0, WATCH_EDGE_NONE, WATCH_PENDING);
	assert_int_equal(w.since_ms, T0);
	expect(&w, &above, 95, T0 + 9979, WATCH_EDGE_NONE, WATCH_PENDING);
	expect(&w, &above, 95, T0 + 10000, WATCH_EDGE_FIRE, WATCH_FIRED);
}

/*
 * A rate past the threshold has been past it since the previous sample:
 * that window counts towards sustain, so a load that starts between two
 * ticks fires within sustain and one tick.
 */
static void
test_rate_window(void **state)
{
	static const struct watch_limits two = { WATCH_ABOVE, 50, 10, 2000 };
	static const struct watch_limits one = { WATCH_ABOVE, 50, 10, 1000 };
	struct watch_state w;

	(void)state;
	watch_init(&w);
	assert_int_equal(watch_update(&w, &two, 80, T0, T0 + 1000),
	    WATCH_EDGE_CROSSED);
	assert_int_equal(w.since_ms, T0);
	assert_int_equal(watch_update(&w, &two, 80, T0 + 1000, T0 + 1979),
	    WATCH_EDGE_NONE);
	/* A timer a little early (999 ms) still makes the window. */
	assert_int_equal(watch_update(&w, &two, 80, T0 + 1979, T0 + 1980),
	    WATCH_EDGE_FIRE);
	/* sustain = one tick: the window itself is enough, 999 ms too. */
	watch_init(&w);
	assert_int_equal(watch_update(&w, &one, 80, T0, T0 + 999),
	    WATCH_EDGE_FIRE);
	/* A window that would start in the future is now. */
	watch_init(&w);
	assert_int_equal(watch_update(&w, &one, 80, T0 + 5000, T0),
	    WATCH_EDGE_CROSSED);
	assert_int_equal(w.since_ms, T0);
}

static void
test_limits_check(void **state)
{
	struct watch_limits l = above;

	(void)state;
	assert_string_equal(watch_limits_check(&l), "");
	l.rearm = 95;
	assert_non_null(strstr(watch_limits_check(&l), "rearm must not be "
	    "above"));
	l.direction = WATCH_BELOW;
	l.threshold = 10;
	l.rearm = 5;
	assert_non_null(strstr(watch_limits_check(&l), "rearm must not be "
	    "below"));
	l.rearm = 10;
	assert_string_equal(watch_limits_check(&l), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sustain),
		cmocka_unit_test(test_recovered_before_sustain),
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_below),
		cmocka_unit_test(test_no_sustain),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_rate_window),
		cmocka_unit_test(test_limits_check),
	};

	return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
