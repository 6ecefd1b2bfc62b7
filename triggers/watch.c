/*
 * The shared threshold state machine of the sampling watchers (watch.h).
 */
#include <string.h>

#include "watch.h"

#define WATCH_SLACK_MS	20

void
watch_init(struct watch_state *w)
{
	memset(w, 0, sizeof(*w));
	w->phase = WATCH_ARMED;
}

static int
watch_is_past(const struct watch_limits *l, double value, double limit)
{
	return l->direction == WATCH_ABOVE ? value >= limit : value <= limit;
}

/* Back on the safe side of rearm: strictly, so rearm == threshold works. */
static int
watch_is_back(const struct watch_limits *l, double value)
{
	return l->direction == WATCH_ABOVE ? value < l->rearm :
	    value > l->rearm;
}

/*
 * Past the threshold for sustain, give or take WATCH_SLACK_MS: a timer
 * of 1 s fires 999 ms after the last one as often as 1001, and that must
 * not cost a whole tick more.
 */
static int
watch_is_sustained(const struct watch_limits *l, uint64_t since_ms,
    uint64_t now_ms)
{
	return now_ms - since_ms + WATCH_SLACK_MS >= l->sustain_ms;
}

static enum watch_edge
watch_enter(struct watch_state *w, enum watch_phase phase, uint64_t now_ms,
    enum watch_edge edge)
{
	w->phase = phase;
	w->since_ms = now_ms;
	if (edge == WATCH_EDGE_FIRE) {
		w->fires++;
		w->last_fire_ms = now_ms;
	}
	return edge;
}

enum watch_edge
watch_update(struct watch_state *w, const struct watch_limits *l,
    double value, uint64_t from_ms, uint64_t now_ms)
{
	if (from_ms > now_ms)
		from_ms = now_ms;
	switch (w->phase) {
	case WATCH_ARMED:
		if (!watch_is_past(l, value, l->threshold))
			return WATCH_EDGE_NONE;
		if (watch_is_sustained(l, from_ms, now_ms))
			return watch_enter(w, WATCH_FIRED, now_ms,
			    WATCH_EDGE_FIRE);
		watch_enter(w, WATCH_PENDING, now_ms, WATCH_EDGE_CROSSED);
		w->since_ms = from_ms;
		return WATCH_EDGE_CROSSED;
	case WATCH_PENDING:
		if (!watch_is_past(l, value, l->threshold))
			return watch_enter(w, WATCH_ARMED, now_ms,
			    WATCH_EDGE_RECOVERED);
		/* A clock that went back (it should not) restarts the wait. */
		if (now_ms < w->since_ms)
			w->since_ms = now_ms;
		if (!watch_is_sustained(l, w->since_ms, now_ms))
			return WATCH_EDGE_NONE;
		return watch_enter(w, WATCH_FIRED, now_ms, WATCH_EDGE_FIRE);
	case WATCH_FIRED:
		if (!watch_is_back(l, value))
			return WATCH_EDGE_NONE;
		return watch_enter(w, WATCH_ARMED, now_ms, WATCH_EDGE_REARMED);
	}
	return WATCH_EDGE_NONE;
}

const char *
watch_phase_name(enum watch_phase phase)
{
	switch (phase) {
	case WATCH_ARMED:
		return "armed";
	case WATCH_PENDING:
		return "pending";
	case WATCH_FIRED:
		return "fired";
	}
	return "?";
}

const char *
watch_limits_check(const struct watch_limits *l)
{
	/* Re-arming needs a value strictly below rearm: 0 never is. */
	if (l->direction == WATCH_ABOVE && l->rearm <= 0)
		return "rearm must be above 0 (nothing falls below 0, so the "
		    "watcher would never re-arm)";
	if (l->direction == WATCH_ABOVE && l->rearm > l->threshold)
		return "rearm must not be above threshold (the watcher would "
		    "re-arm while still firing)";
	if (l->direction == WATCH_BELOW && l->rearm < l->threshold)
		return "rearm must not be below threshold (the watcher would "
		    "re-arm while still firing)";
	return "";
}
