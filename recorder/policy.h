/*
 * The trigger policy of DESIGN.md, in its order: source filter and sampling,
 * coalescing, rate limits (cooldown, token bucket, rolling 24 h cap; global
 * and per source). Pure logic: time comes in as CLOCK_MONOTONIC milliseconds
 * and randomness through a callback, so unit tests drive it exactly.
 *
 * The recorder calls policy_decide() for every trigger; on ACCEPTED it opens
 * a snapshot and must call policy_snapshot_frozen() when that snapshot's
 * record starts (the ring buffers are frozen then), or
 * policy_snapshot_failed(). Until the freeze every trigger that passes the
 * filter is COALESCED into the open snapshot, and its trace will hold the
 * trigger's moment. For coalesce_ms after the freeze a trigger is still
 * COALESCED, but is_after_freeze says the trace ends before it; with
 * coalesce_ms = 0 it is decided anew (its own snapshot, limits
 * permitting). Delay (delay_ms) is applied by the caller; the snapshot is
 * open meanwhile.
 */
#ifndef TT_POLICY_H
#define TT_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define POLICY_SOURCES_MAX	64	/* distinct source names counted */
#define POLICY_SOURCE_OTHER	"other"	/* counts names past the table */

struct policy_limits {
	uint64_t	 cooldown_ms;	/* 0: no cooldown */
	unsigned	 burst;		/* bucket size; 0: no bucket */
	uint64_t	 refill_ms;	/* one token per refill_ms */
	unsigned	 max_per_day;	/* rolling 24 h; 0: no cap */
};

struct policy_source_conf {
	char			 name[33];
	int			 is_enabled;
	double			 sample;	/* keep probability, 0..1 */
	int			 has_limits;	/* limits below apply too */
	struct policy_limits	 limits;
};

struct policy_conf {
	struct policy_limits	 limits;	/* global */
	uint64_t		 coalesce_ms;
	/* Sources not listed are enabled unless only_listed is set. */
	int			 only_listed;
	struct policy_source_conf sources[POLICY_SOURCES_MAX];
	size_t			 nsources;
};

enum policy_outcome {
	POLICY_ACCEPTED = 0,
	POLICY_COALESCED,
	POLICY_FILTERED,	/* source disabled */
	POLICY_SAMPLED_OUT,
	POLICY_RATE_LIMITED,
	/* Not produced by policy_decide(); counted by the recorder. */
	POLICY_MALFORMED,
	POLICY_FAILED,		/* accepted, but the snapshot failed */
	POLICY_FORWARDED,	/* cluster scope: sent to the relay */
	POLICY_OUTCOME_COUNT
};

struct policy_decision {
	enum policy_outcome	 outcome;
	/* For RATE_LIMITED: "cooldown", "burst" or "max_per_day", prefixed
	 * with "source_" when a per-source limit refused. */
	const char		*limit;
	uint64_t		 retry_after_ms;	/* RATE_LIMITED only */
	/* COALESCED into a snapshot whose record had started already. */
	int			 is_after_freeze;
};

struct policy;

/* rnd returns a uniform double in [0, 1); NULL means drand48-like default. */
struct policy	*policy_new(const struct policy_conf *conf,
		    double (*rnd)(void *), void *rnd_arg);
void		 policy_free(struct policy *);
/* New limits; counters, tokens, history and the open snapshot are kept. */
void		 policy_reconfigure(struct policy *, const struct policy_conf *);

struct policy_decision policy_decide(struct policy *, const char *source,
		    uint64_t now_ms);
/*
 * Only the first step (filter and sampling), for triggers that skip the
 * local limits (cluster scope: the relay's fleet budget decides). Counts
 * FILTERED and SAMPLED_OUT; ACCEPTED, uncounted, means it passed.
 */
enum policy_outcome policy_filter(struct policy *, const char *source);
void		 policy_snapshot_frozen(struct policy *, uint64_t now_ms);
/*
 * The open snapshot failed (before or after its freeze): it closes with
 * no coalescing window, so the
 * next trigger may try again (limits permitting: the budget it used stays
 * spent, which keeps a broken disk from being hammered).
 */
void		 policy_snapshot_failed(struct policy *);
int		 policy_is_open(const struct policy *, uint64_t now_ms);

void		 policy_count(struct policy *, const char *source,
		    enum policy_outcome);
const char	*policy_outcome_name(enum policy_outcome);

/* Calls cb for every non-zero counter, sources in first-seen order. */
void		 policy_foreach_count(const struct policy *,
		    void (*cb)(const char *source, const char *outcome,
		    uint64_t count, void *arg), void *arg);

/*
 * {"tokens":N|null,"burst":N,"cooldown_remaining_ms":N,"day_count":N,
 *  "max_per_day":N,"open":bool,"counters":{source:{outcome:N}}}
 */
json_t		*policy_status(const struct policy *, uint64_t now_ms);

#endif
