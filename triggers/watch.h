/*
 * The threshold logic every sampling watcher shares (cpu, memory): a value
 * past its threshold for `sustain` fires once; the watcher re-arms only
 * when the value comes back past `rearm` (hysteresis), so a value that
 * hovers around the threshold fires once, not at every tick.
 *
 *	ARMED --past threshold--> PENDING --for sustain--> FIRED
 *	  ^                          |                        |
 *	  +------back in range-------+                        |
 *	  +-------------------back past rearm-----------------+
 *
 * Pure logic: time comes in as milliseconds of a monotonic clock, so the
 * unit tests drive it exactly.
 */
#ifndef TT_WATCH_H
#define TT_WATCH_H

#include <stdint.h>

enum watch_direction {
	WATCH_ABOVE,		/* fires when value >= threshold */
	WATCH_BELOW,		/* fires when value <= threshold */
};

struct watch_limits {
	enum watch_direction	 direction;
	double			 threshold;
	double			 rearm;		/* on the safe side of it */
	uint64_t		 sustain_ms;	/* 0: fire at the first tick */
};

enum watch_phase {
	WATCH_ARMED,
	WATCH_PENDING,		/* past the threshold, not for long enough */
	WATCH_FIRED,		/* waiting to come back past rearm */
};

/* What an update changed, for the caller to log and act on. */
enum watch_edge {
	WATCH_EDGE_NONE,
	WATCH_EDGE_CROSSED,	/* ARMED -> PENDING */
	WATCH_EDGE_RECOVERED,	/* PENDING -> ARMED: not for long enough */
	WATCH_EDGE_FIRE,	/* -> FIRED: send a trigger */
	WATCH_EDGE_REARMED,	/* FIRED -> ARMED */
};

struct watch_state {
	enum watch_phase	 phase;
	uint64_t		 since_ms;	/* entered the current phase */
	uint64_t		 fires;
	uint64_t		 last_fire_ms;
};

void		 watch_init(struct watch_state *);
/*
 * One sample: value, as it stood from from_ms to now_ms. A rate (CPU use)
 * is an average over the time since the previous sample, so a value past
 * the threshold has been past it since that sample, and that time counts
 * towards sustain; an instant reading (memory) passes from_ms = now_ms.
 */
enum watch_edge	 watch_update(struct watch_state *, const struct watch_limits *,
		    double value, uint64_t from_ms, uint64_t now_ms);
const char	*watch_phase_name(enum watch_phase);
/* "" when the limits are usable, else what is wrong with them. */
const char	*watch_limits_check(const struct watch_limits *);

#endif
