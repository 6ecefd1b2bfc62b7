/*
 * The rate limits of one set of limits (policy_limits.h). The token bucket
 * is kept as credit in milliseconds of refill (one token is refill_ms of
 * credit) so it refills continuously with exact integer arithmetic;
 * every difference of times is computed so that a "now" older than a
 * stored time counts as no time elapsed instead of wrapping around.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_limits.h"

static uint64_t
policy_add(uint64_t a, uint64_t b)
{
	if (a > UINT64_MAX - b)
		return UINT64_MAX;
	return a + b;
}

static uint64_t
policy_mul(uint64_t a, uint64_t b)
{
	if (b != 0 && a > UINT64_MAX / b)
		return UINT64_MAX;
	return a * b;
}

/* Time from then to now; a clock that seems to go backwards gives 0. */
uint64_t
policy_limits_elapsed(uint64_t now_ms, uint64_t then_ms)
{
	if (now_ms <= then_ms)
		return 0;
	return now_ms - then_ms;
}

static int
policy_bucket_is_active(const struct policy_limits *limits)
{
	return limits->burst > 0 && limits->refill_ms > 0;
}

static uint64_t
policy_bucket_capacity(const struct policy_limits *limits)
{
	return policy_mul(limits->burst, limits->refill_ms);
}

/* Credit at now_ms, refilled since the last update but not stored. */
uint64_t
policy_limits_credit(const struct policy_limits *limits,
    const struct policy_state *state, uint64_t now_ms)
{
	uint64_t	 credit, capacity;

	capacity = policy_bucket_capacity(limits);
	credit = policy_add(state->credit_ms,
	    policy_limits_elapsed(now_ms, state->credit_at_ms));
	if (credit > capacity)
		credit = capacity;
	return credit;
}

static unsigned
policy_day_oldest(const struct policy_day *day)
{
	return (day->next + day->size - day->count) % day->size;
}

static int
policy_day_is_young(uint64_t time_ms, uint64_t now_ms)
{
	return policy_limits_elapsed(now_ms, time_ms) < POLICY_DAY_MS;
}

static void
policy_day_push(struct policy_day *day, uint64_t now_ms)
{
	if (day->size == 0)
		return;
	day->times[day->next] = now_ms;
	day->next = (day->next + 1) % day->size;
	if (day->count < day->size)
		day->count++;
}

unsigned
policy_limits_day_count(const struct policy_day *day, uint64_t now_ms)
{
	unsigned	 i, index, young = 0;

	if (day->size == 0)
		return 0;
	index = policy_day_oldest(day);
	for (i = 0; i < day->count; i++) {
		if (policy_day_is_young(day->times[index], now_ms))
			young++;
		index = (index + 1) % day->size;
	}
	return young;
}

/*
 * Builds a ring of the new size holding the most recent times of the old
 * one. The old ring is left alone so that a failed reconfiguration changes
 * nothing.
 */
int
policy_limits_resize_day(const struct policy_day *old, unsigned size,
    struct policy_day *out)
{
	unsigned	 keep, i, index;

	memset(out, 0, sizeof *out);
	if (size == 0)
		return 0;
	if ((out->times = calloc(size, sizeof *out->times)) == NULL)
		return -1;
	out->size = size;
	keep = old->count < size ? old->count : size;
	if (keep == 0)
		return 0;
	index = (old->next + old->size - keep) % old->size;
	for (i = 0; i < keep; i++) {
		out->times[i] = old->times[index];
		index = (index + 1) % old->size;
	}
	out->count = keep;
	out->next = keep % size;
	return 0;
}

/*
 * Carries bucket credit over to new limits: whole and partial tokens are
 * kept (so a change of refill_ms does not mint or destroy tokens) and then
 * clamped to the new burst. A bucket that did not exist starts full.
 */
void
policy_limits_rescale(const struct policy_limits *old,
    const struct policy_limits *new, struct policy_state *state)
{
	unsigned __int128	 scaled;
	uint64_t		 capacity;

	if (!policy_bucket_is_active(new)) {
		state->credit_ms = 0;
		return;
	}
	capacity = policy_bucket_capacity(new);
	if (!policy_bucket_is_active(old)) {
		state->credit_ms = capacity;
		return;
	}
	scaled = (unsigned __int128)state->credit_ms * new->refill_ms /
	    old->refill_ms;
	if (scaled > capacity)
		scaled = capacity;
	state->credit_ms = (uint64_t)scaled;
}

static int
policy_cooldown_wait(const struct policy_limits *limits,
    const struct policy_state *state, uint64_t now_ms, uint64_t *retry_after)
{
	uint64_t	 elapsed;

	if (limits->cooldown_ms == 0 || !state->has_accepted)
		return 0;
	elapsed = policy_limits_elapsed(now_ms, state->last_accept_ms);
	if (elapsed >= limits->cooldown_ms)
		return 0;
	*retry_after = limits->cooldown_ms - elapsed;
	return 1;
}

static int
policy_bucket_wait(const struct policy_limits *limits,
    const struct policy_state *state, uint64_t now_ms, uint64_t *retry_after)
{
	uint64_t	 credit;

	if (!policy_bucket_is_active(limits))
		return 0;
	credit = policy_limits_credit(limits, state, now_ms);
	if (credit >= limits->refill_ms)
		return 0;
	*retry_after = limits->refill_ms - credit;
	return 1;
}

static int
policy_day_wait(const struct policy_state *state, uint64_t now_ms,
    uint64_t *retry_after)
{
	const struct policy_day	*day = &state->day;
	uint64_t		 oldest;

	if (day->size == 0 || day->count < day->size)
		return 0;
	/*
	 * Times are written in order, so when the oldest of a full ring is
	 * younger than 24 h, all of them are.
	 */
	oldest = day->times[policy_day_oldest(day)];
	if (!policy_day_is_young(oldest, now_ms))
		return 0;
	*retry_after = policy_add(oldest, POLICY_DAY_MS) - now_ms;
	return 1;
}

/* Keeps the refusal the trigger has to wait longest for. */
static void
policy_refuse(struct policy_decision *decision, const char *limit,
    uint64_t retry_after)
{
	if (decision->limit == NULL ||
	    retry_after > decision->retry_after_ms) {
		decision->limit = limit;
		decision->retry_after_ms = retry_after;
	}
}

/*
 * Checks one set of limits without changing anything: a refused trigger
 * must not spend budget, so nothing is consumed until every limit, global
 * and per source, has agreed.
 */
void
policy_limits_check(const struct policy_limits *limits,
    const struct policy_state *state, uint64_t now_ms,
    const char *const *names, struct policy_decision *decision)
{
	uint64_t	 retry_after;

	if (policy_cooldown_wait(limits, state, now_ms, &retry_after))
		policy_refuse(decision, names[0], retry_after);
	if (policy_bucket_wait(limits, state, now_ms, &retry_after))
		policy_refuse(decision, names[1], retry_after);
	if (policy_day_wait(state, now_ms, &retry_after))
		policy_refuse(decision, names[2], retry_after);
}

/* Spends the budget of one accepted trigger; called only once all pass. */
void
policy_limits_consume(const struct policy_limits *limits, struct policy_state *state,
    uint64_t now_ms)
{
	uint64_t	 credit;

	state->has_accepted = 1;
	state->last_accept_ms = now_ms;
	if (policy_bucket_is_active(limits)) {
		credit = policy_limits_credit(limits, state, now_ms);
		state->credit_ms = credit - limits->refill_ms;
		/* Never move backwards, or the same time would refill twice. */
		if (now_ms > state->credit_at_ms)
			state->credit_at_ms = now_ms;
	}
	policy_day_push(&state->day, now_ms);
}
