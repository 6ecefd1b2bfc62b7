/*
 * Unit tests of the trigger policy (recorder/policy.c). Time and randomness
 * are driven by the tests, so every outcome and retry_after is exact.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "policy.h"

#define DAY_MS		(24ULL * 60 * 60 * 1000)
/* Monotonic clocks do not start at 0; neither do these tests. */
#define T0		1000000ULL

struct fake_rnd {
	const double	*values;
	size_t		 nvalues;
	size_t		 calls;
};

static double
fake_rnd_next(void *arg)
{
	struct fake_rnd	*fake = arg;
	double		 value;

	value = fake->values[fake->calls % fake->nvalues];
	fake->calls++;
	return value;
}

struct count_entry {
	char		 source[64];
	char		 outcome[32];
	uint64_t	 count;
};

struct count_list {
	struct count_entry	 entries[512];
	size_t			 n;
	uint64_t		 total;
};

static void
count_list_add(const char *source, const char *outcome, uint64_t count,
    void *arg)
{
	struct count_list	*list = arg;
	struct count_entry	*entry;

	assert_true(list->n < sizeof list->entries / sizeof list->entries[0]);
	entry = &list->entries[list->n++];
	snprintf(entry->source, sizeof entry->source, "%s", source);
	snprintf(entry->outcome, sizeof entry->outcome, "%s", outcome);
	entry->count = count;
	list->total += count;
}

static void
count_list_collect(const struct policy *p, struct count_list *list)
{
	memset(list, 0, sizeof *list);
	policy_foreach_count(p, count_list_add, list);
}

static uint64_t
count_list_get(const struct count_list *list, const char *source,
    const char *outcome)
{
	size_t	 i;

	for (i = 0; i < list->n; i++) {
		if (strcmp(list->entries[i].source, source) == 0 &&
		    strcmp(list->entries[i].outcome, outcome) == 0)
			return list->entries[i].count;
	}
	return 0;
}

static void
conf_init(struct policy_conf *conf)
{
	memset(conf, 0, sizeof *conf);
}

static struct policy_source_conf *
conf_add_source(struct policy_conf *conf, const char *name, int is_enabled,
    double sample)
{
	struct policy_source_conf	*sc;

	assert_true(conf->nsources < POLICY_SOURCES_MAX);
	sc = &conf->sources[conf->nsources++];
	memset(sc, 0, sizeof *sc);
	snprintf(sc->name, sizeof sc->name, "%s", name);
	sc->is_enabled = is_enabled;
	sc->sample = sample;
	return sc;
}

/* Decides and checks the outcome by name, so a failure reads plainly. */
static struct policy_decision
decide_expect(struct policy *p, const char *source, uint64_t now_ms,
    enum policy_outcome expected)
{
	struct policy_decision	 d;

	d = policy_decide(p, source, now_ms);
	assert_string_equal(policy_outcome_name(d.outcome),
	    policy_outcome_name(expected));
	if (expected != POLICY_RATE_LIMITED) {
		assert_null(d.limit);
		assert_int_equal(d.retry_after_ms, 0);
	}
	return d;
}

static void
expect_limited(struct policy *p, const char *source, uint64_t now_ms,
    const char *limit, uint64_t retry_after_ms)
{
	struct policy_decision	 d;

	d = decide_expect(p, source, now_ms, POLICY_RATE_LIMITED);
	assert_non_null(d.limit);
	assert_string_equal(d.limit, limit);
	assert_int_equal(d.retry_after_ms, retry_after_ms);
}

/* Accepts, then ends the snapshot at once so the next trigger is judged. */
static void
accept_and_done(struct policy *p, const char *source, uint64_t now_ms)
{
	decide_expect(p, source, now_ms, POLICY_ACCEPTED);
	policy_snapshot_frozen(p, now_ms);
}

static void
test_outcome_names(void **state)
{
	(void)state;
	assert_string_equal(policy_outcome_name(POLICY_ACCEPTED), "accepted");
	assert_string_equal(policy_outcome_name(POLICY_COALESCED), "coalesced");
	assert_string_equal(policy_outcome_name(POLICY_FILTERED), "filtered");
	assert_string_equal(policy_outcome_name(POLICY_SAMPLED_OUT),
	    "sampled_out");
	assert_string_equal(policy_outcome_name(POLICY_RATE_LIMITED),
	    "rate_limited");
	assert_string_equal(policy_outcome_name(POLICY_MALFORMED), "malformed");
	assert_string_equal(policy_outcome_name(POLICY_FAILED), "failed");
}

static void
test_filter(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;

	(void)state;
	conf_init(&conf);
	conf_add_source(&conf, "off", 0, 1.0);
	conf_add_source(&conf, "on", 1, 1.0);
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	decide_expect(p, "off", T0, POLICY_FILTERED);
	accept_and_done(p, "on", T0 + 1);
	/* Unlisted sources are enabled unless only_listed is set. */
	accept_and_done(p, "unlisted", T0 + 2);

	conf.only_listed = 1;
	policy_reconfigure(p, &conf);
	decide_expect(p, "unlisted", T0 + 3, POLICY_FILTERED);
	decide_expect(p, "off", T0 + 4, POLICY_FILTERED);
	accept_and_done(p, "on", T0 + 5);
	policy_free(p);
}

/* The filter alone (cluster triggers): counted refusals, no budget spent. */
static void
test_filter_only(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;
	struct count_list	 counts;
	int			 i;

	(void)state;
	conf_init(&conf);
	conf.limits.burst = 1;
	conf.limits.refill_ms = 1000000;
	conf_add_source(&conf, "off", 0, 1.0);
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	assert_int_equal(policy_filter(p, "off"), POLICY_FILTERED);
	for (i = 0; i < 3; i++)
		assert_int_equal(policy_filter(p, "on"), POLICY_ACCEPTED);
	count_list_collect(p, &counts);
	assert_int_equal(count_list_get(&counts, "off", "filtered"), 1);
	/* A pass is for the caller to count as what it becomes. */
	assert_int_equal(counts.total, 1);
	/* Passing spent nothing: the one token is still there. */
	accept_and_done(p, "on", T0);
	policy_free(p);
}

static void
test_sampling(void **state)
{
	static const double	 values[] = { 0.25, 0.5, 0.75, 0.49 };
	struct fake_rnd		 fake = { values, 4, 0 };
	struct policy_conf	 conf;
	struct policy		*p;

	(void)state;
	conf_init(&conf);
	conf_add_source(&conf, "half", 1, 0.5);
	conf_add_source(&conf, "never", 1, 0.0);
	conf_add_source(&conf, "always", 1, 1.0);
	p = policy_new(&conf, fake_rnd_next, &fake);
	assert_non_null(p);

	/* Kept when rnd() < sample: 0.25 yes, 0.5 no (>=), 0.75 no. */
	accept_and_done(p, "half", T0);
	decide_expect(p, "half", T0 + 1, POLICY_SAMPLED_OUT);
	decide_expect(p, "half", T0 + 2, POLICY_SAMPLED_OUT);
	assert_int_equal(fake.calls, 3);

	/* 0.49 is below 0.5 but not below 0: a zero sample drops all. */
	decide_expect(p, "never", T0 + 3, POLICY_SAMPLED_OUT);
	assert_int_equal(fake.calls, 4);

	/* Full sampling and unlisted sources never consume randomness. */
	accept_and_done(p, "always", T0 + 4);
	accept_and_done(p, "unlisted", T0 + 5);
	assert_int_equal(fake.calls, 4);
	policy_free(p);
}

static void
test_coalescing(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;

	(void)state;
	conf_init(&conf);
	conf.coalesce_ms = 500;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	assert_false(policy_is_open(p, T0));
	decide_expect(p, "a", T0, POLICY_ACCEPTED);
	assert_true(policy_is_open(p, T0));
	/* Open until its record starts, whatever the time: in the trace. */
	assert_false(decide_expect(p, "b", T0 + 10000,
	    POLICY_COALESCED).is_after_freeze);
	policy_snapshot_frozen(p, T0 + 20000);
	/* Then for coalesce_ms: the window is [freeze, freeze + coalesce). */
	assert_true(policy_is_open(p, T0 + 20499));
	assert_true(decide_expect(p, "a", T0 + 20499,
	    POLICY_COALESCED).is_after_freeze);
	assert_false(policy_is_open(p, T0 + 20500));
	decide_expect(p, "a", T0 + 20500, POLICY_ACCEPTED);
	policy_free(p);
}

/*
 * coalesce = 0: nothing joins a snapshot whose record started; the next
 * trigger gets its own at once, and its own trace.
 */
static void
test_no_coalescing_after_freeze(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;
	struct policy_decision	 d;

	(void)state;
	conf_init(&conf);
	conf.coalesce_ms = 0;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);
	decide_expect(p, "a", T0, POLICY_ACCEPTED);
	/* Delayed, not frozen yet: joins, and is in the trace. */
	d = decide_expect(p, "a", T0 + 100, POLICY_COALESCED);
	assert_false(d.is_after_freeze);
	policy_snapshot_frozen(p, T0 + 200);
	decide_expect(p, "a", T0 + 200, POLICY_ACCEPTED);
	/* The first one's record is still running: a second freeze. */
	policy_snapshot_frozen(p, T0 + 201);
	decide_expect(p, "a", T0 + 400, POLICY_ACCEPTED);
	/* A stray freeze (nothing open) changes nothing. */
	policy_snapshot_frozen(p, T0 + 401);
	policy_snapshot_frozen(p, T0 + 402);
	decide_expect(p, "a", T0 + 402, POLICY_ACCEPTED);
	policy_free(p);
}

/* A failed snapshot closes at once: the next trigger is not swallowed. */
static void
test_failed_snapshot_no_window(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;

	(void)state;
	conf_init(&conf);
	conf.coalesce_ms = 5000;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);
	decide_expect(p, "a", T0, POLICY_ACCEPTED);
	decide_expect(p, "a", T0 + 10, POLICY_COALESCED);
	policy_snapshot_failed(p);
	assert_false(policy_is_open(p, T0 + 20));
	decide_expect(p, "a", T0 + 20, POLICY_ACCEPTED);
	policy_free(p);
}

static void
test_cooldown(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;

	(void)state;
	conf_init(&conf);
	conf.limits.cooldown_ms = 1000;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	/* The first trigger has no previous accept to cool down from. */
	accept_and_done(p, "a", T0);
	expect_limited(p, "a", T0 + 1, "cooldown", 999);
	expect_limited(p, "b", T0 + 999, "cooldown", 1);
	accept_and_done(p, "b", T0 + 1000);
	/* Refusals do not restart the cooldown. */
	expect_limited(p, "a", T0 + 1400, "cooldown", 600);
	accept_and_done(p, "a", T0 + 2000);
	policy_free(p);
}

static void
test_burst(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;

	(void)state;
	conf_init(&conf);
	conf.limits.burst = 2;
	conf.limits.refill_ms = 1000;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	/*
	 * The bucket starts full (2 tokens) and refills continuously: after
	 * two accepts at T0 and T0 + 1 it holds 2 ms worth of refill at
	 * T0 + 2, so one whole token is 998 ms away, due at T0 + 1000.
	 */
	accept_and_done(p, "a", T0);
	accept_and_done(p, "a", T0 + 1);
	expect_limited(p, "a", T0 + 2, "burst", 998);
	expect_limited(p, "a", T0 + 999, "burst", 1);
	accept_and_done(p, "a", T0 + 1000);
	/* Empty again, with 1 ms of the next token refilled at T0 + 1001. */
	expect_limited(p, "a", T0 + 1001, "burst", 999);

	/* A long pause refills up to burst, not beyond. */
	accept_and_done(p, "a", T0 + 100000);
	accept_and_done(p, "a", T0 + 100000);
	expect_limited(p, "a", T0 + 100000, "burst", 1000);
	policy_free(p);
}

static void
test_max_per_day(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;

	(void)state;
	conf_init(&conf);
	conf.limits.max_per_day = 3;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	accept_and_done(p, "a", T0 + 1000);
	accept_and_done(p, "a", T0 + 2000);
	accept_and_done(p, "a", T0 + 3000);
	/* The window rolls: the oldest accept frees its place 24 h later. */
	expect_limited(p, "a", T0 + 4000, "max_per_day", DAY_MS - 3000);
	expect_limited(p, "a", T0 + 1000 + DAY_MS - 1, "max_per_day", 1);
	accept_and_done(p, "a", T0 + 1000 + DAY_MS);
	/* Now the accept at T0 + 2000 is the oldest of the last 24 h. */
	expect_limited(p, "a", T0 + 1001 + DAY_MS, "max_per_day", 999);
	accept_and_done(p, "a", T0 + 2000 + DAY_MS);
	accept_and_done(p, "a", T0 + 3000 + DAY_MS);
	expect_limited(p, "a", T0 + 3001 + DAY_MS, "max_per_day",
	    DAY_MS - 2001);
	policy_free(p);
}

static void
test_largest_retry_after_wins(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;

	(void)state;
	conf_init(&conf);
	conf.limits.cooldown_ms = 100;
	conf.limits.burst = 1;
	conf.limits.refill_ms = 10000;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);
	accept_and_done(p, "a", T0);
	/* cooldown wants 50 more ms, the bucket 9950: report the bucket. */
	expect_limited(p, "a", T0 + 50, "burst", 9950);
	policy_free(p);

	conf.limits.cooldown_ms = 5000;
	conf.limits.refill_ms = 1000;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);
	accept_and_done(p, "a", T0);
	/* cooldown wants 4900 more ms, the bucket 900: report cooldown. */
	expect_limited(p, "a", T0 + 100, "cooldown", 4900);
	policy_free(p);
}

static void
test_refusal_spends_nothing(void **state)
{
	struct policy_conf		 conf;
	struct policy_source_conf	*sc;
	struct policy			*p;

	(void)state;
	conf_init(&conf);
	conf.limits.burst = 2;
	conf.limits.refill_ms = 1000000;
	sc = conf_add_source(&conf, "a", 1, 1.0);
	sc->has_limits = 1;
	sc->limits.cooldown_ms = 1000;
	sc->limits.max_per_day = 1;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	accept_and_done(p, "a", T0);
	/*
	 * "a" is refused by its own limits while the global bucket still
	 * has a token; that token must survive for "b". The day cap waits
	 * longer than the cooldown, so it is the one reported.
	 */
	expect_limited(p, "a", T0 + 1, "source_max_per_day", DAY_MS - 1);
	expect_limited(p, "a", T0 + 2, "source_max_per_day", DAY_MS - 2);
	accept_and_done(p, "b", T0 + 3);
	/* Now the global bucket is empty; it refuses "b" for 1000000 - 3. */
	expect_limited(p, "b", T0 + 3, "burst", 1000000 - 3);
	policy_free(p);
}

static void
test_per_source_limits(void **state)
{
	struct policy_conf		 conf;
	struct policy_source_conf	*sc;
	struct policy			*p;

	(void)state;
	conf_init(&conf);
	conf.limits.burst = 10;
	conf.limits.refill_ms = 1000;
	sc = conf_add_source(&conf, "noisy", 1, 1.0);
	sc->has_limits = 1;
	sc->limits.burst = 1;
	sc->limits.refill_ms = 60000;
	sc = conf_add_source(&conf, "slow", 1, 1.0);
	sc->has_limits = 1;
	sc->limits.cooldown_ms = 30000;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	accept_and_done(p, "noisy", T0);
	expect_limited(p, "noisy", T0 + 10, "source_burst", 59990);
	/* Other sources only see the global limits. */
	accept_and_done(p, "quiet", T0 + 20);
	accept_and_done(p, "slow", T0 + 30);
	expect_limited(p, "slow", T0 + 40, "source_cooldown", 29990);
	/* A whole refill later "noisy" has its token again. */
	accept_and_done(p, "noisy", T0 + 60000);
	policy_free(p);
}

static void
test_order(void **state)
{
	static const double	 values[] = { 0.9 };
	struct fake_rnd		 fake = { values, 1, 0 };
	struct policy_conf	 conf;
	struct policy		*p;
	json_t			*status;
	int			 i;

	(void)state;
	conf_init(&conf);
	conf.limits.burst = 2;
	conf.limits.refill_ms = 1000000;
	conf_add_source(&conf, "off", 0, 1.0);
	conf_add_source(&conf, "rare", 1, 0.1);
	p = policy_new(&conf, fake_rnd_next, &fake);
	assert_non_null(p);

	decide_expect(p, "a", T0, POLICY_ACCEPTED);
	/* Filter and sampling come before coalescing. */
	decide_expect(p, "off", T0 + 1, POLICY_FILTERED);
	decide_expect(p, "rare", T0 + 2, POLICY_SAMPLED_OUT);
	/* Coalesced triggers join the snapshot without spending tokens. */
	for (i = 0; i < 5; i++)
		decide_expect(p, "a", T0 + 3 + i, POLICY_COALESCED);
	status = policy_status(p, T0 + 10);
	assert_non_null(status);
	assert_int_equal(json_integer_value(json_object_get(status, "tokens")),
	    1);
	json_decref(status);
	policy_snapshot_frozen(p, T0 + 10);

	/* The second token is still there; only then is the bucket empty. */
	accept_and_done(p, "a", T0 + 11);
	expect_limited(p, "a", T0 + 12, "burst", 1000000 - 12);
	policy_free(p);
}

static void
test_storm(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;
	struct policy_decision	 d;
	struct count_list	 list;
	uint64_t		 accepted = 0, limited = 0, i;

	(void)state;
	conf_init(&conf);
	conf.limits.cooldown_ms = 0;
	conf.limits.burst = 3;
	conf.limits.refill_ms = 100;
	conf.coalesce_ms = 0;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	for (i = 0; i < 1000; i++) {
		d = policy_decide(p, "storm", T0 + i);
		if (d.outcome == POLICY_ACCEPTED) {
			accepted++;
			policy_snapshot_frozen(p, T0 + i);
		} else {
			assert_int_equal(d.outcome, POLICY_RATE_LIMITED);
			assert_string_equal(d.limit, "burst");
			limited++;
		}
	}
	/*
	 * The bucket starts full, so the triggers at 0, 1 and 2 ms take its
	 * 3 tokens. It was never full after the first accept, so no refill
	 * was lost to the cap: by time t it has granted floor(t / 100) more
	 * tokens, one each at 100, 200, ..., 900 ms. The last trigger is at
	 * 999 ms, so the accepts are 3 + floor(999 / 100) = 3 + 9 = 12.
	 */
	assert_int_equal(accepted, 3 + 999 / 100);
	assert_int_equal(accepted, 12);
	assert_int_equal(limited, 1000 - 12);

	count_list_collect(p, &list);
	assert_int_equal(list.total, 1000);
	assert_int_equal(count_list_get(&list, "storm", "accepted"), 12);
	assert_int_equal(count_list_get(&list, "storm", "rate_limited"), 988);
	policy_free(p);
}

static void
test_table_overflow(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;
	struct count_list	 list;
	char			 name[40];
	int			 i;

	(void)state;
	conf_init(&conf);
	conf_add_source(&conf, "configured0", 1, 1.0);
	conf_add_source(&conf, "configured1", 1, 1.0);
	conf.coalesce_ms = 0;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	/* 70 new names: 62 fit beside the 2 configured ones, 8 do not. */
	for (i = 0; i < 70; i++) {
		snprintf(name, sizeof name, "dyn%d", i);
		policy_count(p, name, POLICY_MALFORMED);
	}
	/* A name longer than 32 bytes is never a source of its own. */
	policy_count(p, "a-source-name-longer-than-32-bytes", POLICY_MALFORMED);
	policy_count(p, "configured1", POLICY_FAILED);

	count_list_collect(p, &list);
	assert_int_equal(list.n, 64);
	/* First-seen order, configured sources first. */
	assert_string_equal(list.entries[0].source, "configured1");
	assert_string_equal(list.entries[1].source, "dyn0");
	assert_string_equal(list.entries[62].source, "dyn61");
	assert_string_equal(list.entries[63].source, POLICY_SOURCE_OTHER);
	assert_int_equal(list.entries[63].count, 9);
	assert_int_equal(count_list_get(&list, "dyn62", "malformed"), 0);

	/* Names past the table still decide normally. */
	decide_expect(p, "dyn99", T0, POLICY_ACCEPTED);
	policy_snapshot_frozen(p, T0);
	count_list_collect(p, &list);
	assert_int_equal(count_list_get(&list, "other", "accepted"), 1);

	/* A source configured later when the table is full is still judged
	 * by its conf entry, and counted under "other". */
	conf_add_source(&conf, "late", 0, 1.0);
	policy_reconfigure(p, &conf);
	decide_expect(p, "late", T0 + 1, POLICY_FILTERED);
	count_list_collect(p, &list);
	assert_int_equal(count_list_get(&list, "other", "filtered"), 1);
	policy_free(p);
}

static void
test_reconfigure(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;
	struct count_list	 list;
	json_t			*status;

	(void)state;
	conf_init(&conf);
	conf.limits.burst = 4;
	conf.limits.refill_ms = 1000;
	conf_add_source(&conf, "off", 0, 1.0);
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	accept_and_done(p, "a", T0);
	decide_expect(p, "off", T0 + 1, POLICY_FILTERED);
	decide_expect(p, "a", T0 + 2, POLICY_ACCEPTED);

	/*
	 * The bucket holds 2.002 tokens at T0 + 2 (4, minus 2, plus 2 ms of
	 * refill). A shorter refill_ms keeps the token count; the new burst
	 * of 1 clamps it to one token.
	 */
	conf.limits.burst = 1;
	conf.limits.refill_ms = 500;
	conf.nsources = 0;
	policy_reconfigure(p, &conf);

	status = policy_status(p, T0 + 2);
	assert_non_null(status);
	assert_int_equal(json_integer_value(json_object_get(status, "tokens")),
	    1);
	assert_int_equal(json_integer_value(json_object_get(status, "burst")),
	    1);
	/* The open snapshot survives the reload. */
	assert_true(json_is_true(json_object_get(status, "open")));
	json_decref(status);

	count_list_collect(p, &list);
	assert_int_equal(count_list_get(&list, "a", "accepted"), 2);
	assert_int_equal(count_list_get(&list, "off", "filtered"), 1);
	assert_int_equal(list.total, 3);

	decide_expect(p, "a", T0 + 3, POLICY_COALESCED);
	policy_snapshot_frozen(p, T0 + 3);
	/* One token (500 ms of credit, plus 1 ms), then the bucket is dry. */
	accept_and_done(p, "a", T0 + 3);
	expect_limited(p, "a", T0 + 4, "burst", 499);
	/* "off" is no longer configured, so it is enabled now. */
	expect_limited(p, "off", T0 + 5, "burst", 498);
	policy_free(p);
}

static void
test_reconfigure_day_history(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;
	json_t			*status;

	(void)state;
	conf_init(&conf);
	conf.limits.max_per_day = 3;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);
	accept_and_done(p, "a", T0);
	accept_and_done(p, "a", T0 + 1000);
	accept_and_done(p, "a", T0 + 2000);

	/* A smaller ring keeps the most recent accepts: T0 + 1000, + 2000. */
	conf.limits.max_per_day = 2;
	policy_reconfigure(p, &conf);
	status = policy_status(p, T0 + 3000);
	assert_non_null(status);
	assert_int_equal(json_integer_value(json_object_get(status,
	    "day_count")), 2);
	json_decref(status);
	expect_limited(p, "a", T0 + 3000, "max_per_day", DAY_MS - 2000);

	/* A larger one keeps them all and lets one more in. */
	conf.limits.max_per_day = 3;
	policy_reconfigure(p, &conf);
	accept_and_done(p, "a", T0 + 3000);
	expect_limited(p, "a", T0 + 4000, "max_per_day", DAY_MS - 3000);
	policy_free(p);
}

static void
test_reconfigure_keeps_cooldown(void **state)
{
	struct policy_conf		 conf;
	struct policy_source_conf	*sc;
	struct policy			*p;

	(void)state;
	conf_init(&conf);
	sc = conf_add_source(&conf, "a", 1, 1.0);
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);
	accept_and_done(p, "a", T0);

	/* Cooldowns added by a reload count from accepts made before it. */
	conf.limits.cooldown_ms = 100;
	sc->has_limits = 1;
	sc->limits.cooldown_ms = 1000;
	policy_reconfigure(p, &conf);
	expect_limited(p, "a", T0 + 10, "source_cooldown", 990);
	expect_limited(p, "b", T0 + 10, "cooldown", 90);
	policy_free(p);
}

static void
test_status(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;
	json_t			*status, *counters;

	(void)state;
	conf_init(&conf);
	conf.limits.cooldown_ms = 2000;
	conf.limits.burst = 3;
	conf.limits.refill_ms = 1000;
	conf.limits.max_per_day = 10;
	conf.coalesce_ms = 250;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	status = policy_status(p, T0);
	assert_non_null(status);
	assert_int_equal(json_integer_value(json_object_get(status, "tokens")),
	    3);
	assert_int_equal(json_integer_value(json_object_get(status,
	    "cooldown_remaining_ms")), 0);
	assert_int_equal(json_object_size(json_object_get(status,
	    "counters")), 0);
	assert_true(json_is_false(json_object_get(status, "open")));
	json_decref(status);

	decide_expect(p, "a", T0, POLICY_ACCEPTED);
	decide_expect(p, "b", T0 + 100, POLICY_COALESCED);
	policy_snapshot_frozen(p, T0 + 200);
	policy_count(p, "b", POLICY_MALFORMED);

	status = policy_status(p, T0 + 300);
	assert_non_null(status);
	assert_int_equal(json_object_size(status), 9);
	/* 3 tokens - 1 + 300 ms of a 1000 ms refill: 2 whole tokens. */
	assert_int_equal(json_integer_value(json_object_get(status, "tokens")),
	    2);
	assert_int_equal(json_integer_value(json_object_get(status, "burst")),
	    3);
	assert_int_equal(json_integer_value(json_object_get(status,
	    "cooldown_ms")), 2000);
	assert_int_equal(json_integer_value(json_object_get(status,
	    "cooldown_remaining_ms")), 1700);
	assert_int_equal(json_integer_value(json_object_get(status,
	    "day_count")), 1);
	assert_int_equal(json_integer_value(json_object_get(status,
	    "max_per_day")), 10);
	assert_int_equal(json_integer_value(json_object_get(status,
	    "coalesce_ms")), 250);
	/* Done at T0 + 200, coalescing until T0 + 450. */
	assert_true(json_is_true(json_object_get(status, "open")));
	counters = json_object_get(status, "counters");
	assert_true(json_is_object(counters));
	assert_int_equal(json_object_size(counters), 2);
	assert_int_equal(json_object_size(json_object_get(counters, "a")), 1);
	assert_int_equal(json_integer_value(json_object_get(
	    json_object_get(counters, "a"), "accepted")), 1);
	assert_int_equal(json_object_size(json_object_get(counters, "b")), 2);
	assert_int_equal(json_integer_value(json_object_get(
	    json_object_get(counters, "b"), "coalesced")), 1);
	assert_int_equal(json_integer_value(json_object_get(
	    json_object_get(counters, "b"), "malformed")), 1);
	json_decref(status);

	status = policy_status(p, T0 + 450);
	assert_true(json_is_false(json_object_get(status, "open")));
	json_decref(status);

	/* Without a bucket there are no tokens to show. */
	conf.limits.burst = 0;
	policy_reconfigure(p, &conf);
	status = policy_status(p, T0 + 500);
	assert_true(json_is_null(json_object_get(status, "tokens")));
	assert_int_equal(json_integer_value(json_object_get(status, "burst")),
	    0);
	json_decref(status);
	policy_free(p);
}

static void
test_clock_backwards(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;
	json_t			*status;

	(void)state;
	conf_init(&conf);
	conf.limits.cooldown_ms = 1000;
	conf.limits.burst = 1;
	conf.limits.refill_ms = 100;
	conf.limits.max_per_day = 1;
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);
	accept_and_done(p, "a", T0 + 10000);

	/*
	 * An earlier "now" counts as no time elapsed: waits are bounded by
	 * the limits, never near 2^64. The day cap runs from the stored
	 * accept time, so it waits 24 h from there.
	 */
	expect_limited(p, "a", T0, "max_per_day", DAY_MS + 10000);
	status = policy_status(p, T0);
	assert_non_null(status);
	assert_int_equal(json_integer_value(json_object_get(status,
	    "cooldown_remaining_ms")), 1000);
	assert_int_equal(json_integer_value(json_object_get(status, "tokens")),
	    0);
	assert_int_equal(json_integer_value(json_object_get(status,
	    "day_count")), 1);
	json_decref(status);
	policy_free(p);
}

static void
test_count(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;
	struct count_list	 list;

	(void)state;
	conf_init(&conf);
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	policy_count(p, "a", POLICY_MALFORMED);
	policy_count(p, "a", POLICY_MALFORMED);
	policy_count(p, "b", POLICY_FAILED);
	/* Out of range outcomes are ignored rather than written past. */
	policy_count(p, "b", POLICY_OUTCOME_COUNT);
	count_list_collect(p, &list);
	assert_int_equal(list.n, 2);
	assert_string_equal(list.entries[0].source, "a");
	assert_string_equal(list.entries[0].outcome, "malformed");
	assert_int_equal(list.entries[0].count, 2);
	assert_string_equal(list.entries[1].source, "b");
	assert_string_equal(list.entries[1].outcome, "failed");
	assert_int_equal(list.entries[1].count, 1);
	policy_free(p);
}

static void
test_default_rnd(void **state)
{
	struct policy_conf	 conf;
	struct policy		*p;
	struct count_list	 list;
	struct policy_decision	 d;
	uint64_t		 kept, i;

	(void)state;
	conf_init(&conf);
	conf_add_source(&conf, "half", 1, 0.5);
	p = policy_new(&conf, NULL, NULL);
	assert_non_null(p);

	for (i = 0; i < 10000; i++) {
		d = policy_decide(p, "half", T0 + i);
		if (d.outcome == POLICY_ACCEPTED)
			policy_snapshot_frozen(p, T0 + i);
	}
	count_list_collect(p, &list);
	kept = count_list_get(&list, "half", "accepted");
	/* Binomial(10000, 0.5): 4000..6000 is over 20 standard deviations. */
	assert_in_range(kept, 4000, 6000);
	assert_int_equal(kept + count_list_get(&list, "half", "sampled_out"),
	    10000);
	policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome_names),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_filter_only),
		cmocka_unit_test(test_sampling),
		cmocka_unit_test(test_coalescing),
		cmocka_unit_test(test_no_coalescing_after_freeze),
		cmocka_unit_test(test_failed_snapshot_no_window),
		cmocka_unit_test(test_cooldown),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_max_per_day),
		cmocka_unit_test(test_largest_retry_after_wins),
		cmocka_unit_test(test_refusal_spends_nothing),
		cmocka_unit_test(test_per_source_limits),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_storm),
		cmocka_unit_test(test_table_overflow),
		cmocka_unit_test(test_reconfigure),
		cmocka_unit_test(test_reconfigure_day_history),
		cmocka_unit_test(test_reconfigure_keeps_cooldown),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_default_rnd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
