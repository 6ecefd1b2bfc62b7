/*
 * The rate limits of the trigger policy (DESIGN.md, step 3) for one set
 * of limits and what it remembers: cooldown, token bucket and rolling
 * 24 h cap. policy.c runs one set globally and one per source. Pure
 * arithmetic on CLOCK_MONOTONIC milliseconds; nothing here allocates but
 * policy_limits_resize_day(), which runs when a configuration is applied.
 */
#ifndef TT_POLICY_LIMITS_H
#define TT_POLICY_LIMITS_H

#include <stdint.h>

#include "policy.h"

#define POLICY_DAY_MS		(24ULL * 60 * 60 * 1000)

/* Accept times of the last 24 h, oldest overwritten first. */
struct policy_day {
	uint64_t	*times;
	unsigned	 size;		/* max_per_day when allocated */
	unsigned	 count;
	unsigned	 next;		/* where the next time is written */
};

/*
 * What the limits remember about past accepts. The token bucket is kept as
 * credit in milliseconds of refill (one token is refill_ms of credit) so it
 * refills continuously with exact integer arithmetic.
 */
struct policy_state {
	int			 has_accepted;
	uint64_t		 last_accept_ms;
	uint64_t		 credit_ms;
	uint64_t		 credit_at_ms;
	struct policy_day	 day;
};

/* Time from then to now; a clock that seems to go backwards gives 0. */
uint64_t	 policy_limits_elapsed(uint64_t now_ms, uint64_t then_ms);

/*
 * Checks limits without changing anything, keeping in decision the
 * refusal the trigger has to wait longest for; names are the three
 * limits' names ("cooldown", "burst", "max_per_day" or their "source_"
 * forms).
 */
void		 policy_limits_check(const struct policy_limits *,
		    const struct policy_state *, uint64_t now_ms,
		    const char *const *names, struct policy_decision *);
/* Spends the budget of one accepted trigger. */
void		 policy_limits_consume(const struct policy_limits *,
		    struct policy_state *, uint64_t now_ms);

/*
 * A ring of size holding the most recent times of old (left alone, so a
 * failed reconfiguration changes nothing); -1 when out of memory.
 */
int		 policy_limits_resize_day(const struct policy_day *old,
		    unsigned size, struct policy_day *out);
/* Carries bucket credit over from old limits to new ones. */
void		 policy_limits_rescale(const struct policy_limits *old,
		    const struct policy_limits *new, struct policy_state *);

/* The bucket's credit at now_ms, in milliseconds of refill. */
uint64_t	 policy_limits_credit(const struct policy_limits *,
		    const struct policy_state *, uint64_t now_ms);
/* Accepts of the last 24 h the ring holds. */
unsigned	 policy_limits_day_count(const struct policy_day *,
		    uint64_t now_ms);

#endif
