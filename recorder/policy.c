/*
 * Trigger policy: decides, for every trigger, whether it opens a snapshot,
 * joins the open one, or is refused, and counts every decision by source
 * and outcome. See policy.h and DESIGN.md "Trigger policy".
 *
 * policy_decide() is on the hot path of the trigger socket, so it never
 * allocates: the source table and the rings of accept times are sized when
 * the configuration is applied. Time is CLOCK_MONOTONIC milliseconds passed
 * in by the caller; every difference is computed so that a "now" older than
 * a stored time counts as no time elapsed instead of wrapping around.
 *
 * This file is the policy's order, its source table, its counters and
 * status; the arithmetic of the rate limits themselves, for one set of
 * limits, is policy_limits.c.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "policy.h"
#include "policy_limits.h"

#define POLICY_NAME_MAX		32
/* The named sources plus the slot reserved for POLICY_SOURCE_OTHER. */
#define POLICY_SLOTS_MAX	(POLICY_SOURCES_MAX + 1)

struct policy_rule {
	struct policy_source_conf conf;	/* name always NUL-terminated */
	struct policy_state	 state;
};

struct policy_slot {
	char			 name[POLICY_NAME_MAX + 1];
	struct policy_rule	*rule;	/* conf entry of that name, or NULL */
	uint64_t		 counters[POLICY_OUTCOME_COUNT];
};

struct policy {
	struct policy_limits	 limits;
	uint64_t		 coalesce_ms;
	int			 only_listed;
	struct policy_state	 global;

	struct policy_rule	 rules[POLICY_SOURCES_MAX];
	size_t			 nrules;

	struct policy_slot	 slots[POLICY_SLOTS_MAX];
	size_t			 nslots;
	size_t			 nnamed;	/* slots not counting "other" */

	int			 is_open;	/* accepted, not frozen */
	int			 has_frozen;
	uint64_t		 frozen_at_ms;

	double			(*rnd)(void *);
	void			*rnd_arg;
	uint64_t		 rnd_state;
};

static const char *const policy_global_names[] = {
	"cooldown", "burst", "max_per_day"
};
static const char *const policy_source_names[] = {
	"source_cooldown", "source_burst", "source_max_per_day"
};

/*
 * xorshift64*: the default source of randomness. Sampling needs neither
 * cryptographic quality nor reproducibility, only independence from the
 * trigger stream.
 */
static double
policy_default_rnd(void *arg)
{
	uint64_t	*state = arg;
	uint64_t	 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

static uint64_t
policy_seed(const struct policy *p)
{
	struct timespec	 ts;
	uint64_t	 seed;

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	seed ^= (uint64_t)getpid() << 32;
	seed ^= (uint64_t)(uintptr_t)p;
	/* xorshift never leaves the all-zero state. */
	if (seed == 0)
		seed = 0x9E3779B97F4A7C15ULL;
	return seed;
}

/* Conf names are char[33] that a caller may have filled to the last byte. */
static size_t
policy_conf_name_length(const struct policy_source_conf *sc)
{
	return strnlen(sc->name, POLICY_NAME_MAX);
}

static struct policy_rule *
policy_find_rule(struct policy *p, const char *name)
{
	size_t	 i;

	for (i = 0; i < p->nrules; i++) {
		if (strcmp(p->rules[i].conf.name, name) == 0)
			return &p->rules[i];
	}
	return NULL;
}

static struct policy_slot *
policy_add_slot(struct policy *p, const char *name)
{
	struct policy_slot	*slot = &p->slots[p->nslots++];

	size_t			 length;

	/* Callers pass names of at most POLICY_NAME_MAX bytes. */
	length = strnlen(name, POLICY_NAME_MAX);
	memset(slot, 0, sizeof *slot);
	memcpy(slot->name, name, length);
	slot->rule = policy_find_rule(p, slot->name);
	return slot;
}

/*
 * Finds the slot counting source, entering it if there is room. Names that
 * do not fit (table full, or longer than a source name may be) go to the
 * POLICY_SOURCE_OTHER slot; *is_exact tells the caller that the slot is not
 * the source's own.
 */
static struct policy_slot *
policy_lookup(struct policy *p, const char *source, int *is_exact)
{
	size_t	 i;

	*is_exact = 0;
	if (strnlen(source, POLICY_NAME_MAX + 1) <= POLICY_NAME_MAX) {
		for (i = 0; i < p->nslots; i++) {
			if (strcmp(p->slots[i].name, source) == 0) {
				*is_exact = 1;
				return &p->slots[i];
			}
		}
		if (p->nnamed < POLICY_SOURCES_MAX) {
			p->nnamed++;
			*is_exact = 1;
			return policy_add_slot(p, source);
		}
	}
	for (i = 0; i < p->nslots; i++) {
		if (strcmp(p->slots[i].name, POLICY_SOURCE_OTHER) == 0)
			return &p->slots[i];
	}
	/* Only the reserved slot is left, and "other" is not in the table. */
	return policy_add_slot(p, POLICY_SOURCE_OTHER);
}

static void
policy_free_rings(struct policy *p)
{
	size_t	 i;

	free(p->global.day.times);
	for (i = 0; i < p->nrules; i++)
		free(p->rules[i].state.day.times);
}

/*
 * Applies conf: allocates every ring first and changes nothing if one
 * allocation fails, then carries the state of the global limits and of
 * sources that stay configured over to the new limits.
 */
static int
policy_apply(struct policy *p, const struct policy_conf *conf)
{
	static const struct policy_limits	 no_limits;
	struct policy_rule			*rules, *rule, *old;
	struct policy_state			 global;
	struct policy_day			 day;
	const struct policy_source_conf		*sc;
	const struct policy_limits		*old_limits;
	size_t					 i, j, n, nrules = 0;
	unsigned				 size;
	int					 is_duplicate;

	if ((rules = calloc(POLICY_SOURCES_MAX, sizeof *rules)) == NULL)
		return -1;

	global = p->global;
	if (policy_limits_resize_day(&p->global.day, conf->limits.max_per_day,
	    &global.day) == -1)
		goto error;
	policy_limits_rescale(&p->limits, &conf->limits, &global);

	n = conf->nsources;
	if (n > POLICY_SOURCES_MAX)
		n = POLICY_SOURCES_MAX;
	for (i = 0; i < n; i++) {
		sc = &conf->sources[i];
		rule = &rules[nrules];
		rule->conf = *sc;
		rule->conf.name[policy_conf_name_length(sc)] = '\0';

		/* The first entry of a name wins, as in the source table. */
		is_duplicate = 0;
		for (j = 0; j < nrules; j++) {
			if (strcmp(rules[j].conf.name, rule->conf.name) == 0)
				is_duplicate = 1;
		}
		if (is_duplicate)
			continue;

		memset(&rule->state, 0, sizeof rule->state);
		if ((old = policy_find_rule(p, rule->conf.name)) != NULL) {
			rule->state = old->state;
			old_limits = old->conf.has_limits ?
			    &old->conf.limits : &no_limits;
		} else
			old_limits = &no_limits;
		size = rule->conf.has_limits ? rule->conf.limits.max_per_day : 0;
		/* Until then the rule still points at the old ring. */
		if (policy_limits_resize_day(&rule->state.day, size, &day) == -1)
			goto error;
		rule->state.day = day;
		nrules++;
		policy_limits_rescale(old_limits, rule->conf.has_limits ?
		    &rule->conf.limits : &no_limits, &rule->state);
	}

	policy_free_rings(p);
	p->global = global;
	p->limits = conf->limits;
	p->coalesce_ms = conf->coalesce_ms;
	p->only_listed = conf->only_listed;
	memcpy(p->rules, rules, nrules * sizeof *rules);
	p->nrules = nrules;
	free(rules);

	/* Rules moved, so every slot looks its rule up again. */
	for (i = 0; i < p->nslots; i++)
		p->slots[i].rule = policy_find_rule(p, p->slots[i].name);
	for (i = 0; i < p->nrules; i++) {
		if (p->nnamed >= POLICY_SOURCES_MAX)
			break;
		for (j = 0; j < p->nslots; j++) {
			if (strcmp(p->slots[j].name, p->rules[i].conf.name) == 0)
				break;
		}
		if (j == p->nslots) {
			p->nnamed++;
			policy_add_slot(p, p->rules[i].conf.name);
		}
	}
	return 0;

error:
	/* Only the rings of the rules counted in nrules are new ones. */
	free(global.day.times);
	for (i = 0; i < nrules; i++)
		free(rules[i].state.day.times);
	free(rules);
	return -1;
}

struct policy *
policy_new(const struct policy_conf *conf, double (*rnd)(void *),
    void *rnd_arg)
{
	struct policy	*p;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	if (rnd == NULL) {
		p->rnd_state = policy_seed(p);
		p->rnd = policy_default_rnd;
		p->rnd_arg = &p->rnd_state;
	} else {
		p->rnd = rnd;
		p->rnd_arg = rnd_arg;
	}
	if (policy_apply(p, conf) == -1) {
		free(p);
		return NULL;
	}
	return p;
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	policy_free_rings(p);
	free(p);
}

/*
 * The header gives no way to report failure here: when memory for the new
 * rings cannot be had, the old configuration simply stays in force, which
 * is what a bad reload does anyway.
 */
void
policy_reconfigure(struct policy *p, const struct policy_conf *conf)
{
	(void)policy_apply(p, conf);
}

/*
 * Step 1, the source filter and sampling: FILTERED, SAMPLED_OUT, or
 * ACCEPTED to go on. Finds the source's counters and rule on the way.
 */
static enum policy_outcome
policy_check_source(struct policy *p, const char **source,
    struct policy_slot **slot, struct policy_rule **rule)
{
	int is_exact;

	if (*source == NULL)
		*source = POLICY_SOURCE_OTHER;
	*slot = policy_lookup(p, *source, &is_exact);
	if (is_exact)
		*rule = (*slot)->rule;
	else if (strnlen(*source, POLICY_NAME_MAX + 1) <= POLICY_NAME_MAX)
		*rule = policy_find_rule(p, *source);
	else
		*rule = NULL;

	if (*rule != NULL ? !(*rule)->conf.is_enabled : p->only_listed)
		return POLICY_FILTERED;
	if (*rule != NULL && (*rule)->conf.sample < 1.0 &&
	    p->rnd(p->rnd_arg) >= (*rule)->conf.sample)
		return POLICY_SAMPLED_OUT;
	return POLICY_ACCEPTED;
}

enum policy_outcome
policy_filter(struct policy *p, const char *source)
{
	struct policy_slot	*slot;
	struct policy_rule	*rule;
	enum policy_outcome	 outcome;

	outcome = policy_check_source(p, &source, &slot, &rule);
	if (outcome != POLICY_ACCEPTED)
		slot->counters[outcome]++;
	return outcome;
}

struct policy_decision
policy_decide(struct policy *p, const char *source, uint64_t now_ms)
{
	struct policy_decision	 decision;
	struct policy_slot	*slot;
	struct policy_rule	*rule;

	memset(&decision, 0, sizeof decision);
	decision.outcome = policy_check_source(p, &source, &slot, &rule);
	if (decision.outcome != POLICY_ACCEPTED)
		goto end;
	if (policy_is_open(p, now_ms)) {
		decision.outcome = POLICY_COALESCED;
		decision.is_after_freeze = !p->is_open;
		goto end;
	}

	policy_limits_check(&p->limits, &p->global, now_ms,
	    policy_global_names, &decision);
	if (rule != NULL && rule->conf.has_limits) {
		policy_limits_check(&rule->conf.limits, &rule->state, now_ms,
		    policy_source_names, &decision);
	}
	if (decision.limit != NULL) {
		decision.outcome = POLICY_RATE_LIMITED;
		goto end;
	}

	policy_limits_consume(&p->limits, &p->global, now_ms);
	if (rule != NULL) {
		if (rule->conf.has_limits) {
			policy_limits_consume(&rule->conf.limits, &rule->state,
			    now_ms);
		} else {
			/* Kept so that limits added by a reload see it. */
			rule->state.has_accepted = 1;
			rule->state.last_accept_ms = now_ms;
		}
	}
	p->is_open = 1;
	decision.outcome = POLICY_ACCEPTED;

end:
	slot->counters[decision.outcome]++;
	return decision;
}

void
policy_snapshot_frozen(struct policy *p, uint64_t now_ms)
{
	/* A stray call must not stretch the coalescing window. */
	if (!p->is_open)
		return;
	p->is_open = 0;
	p->has_frozen = 1;
	p->frozen_at_ms = now_ms;
}

void
policy_snapshot_failed(struct policy *p)
{
	p->is_open = 0;
	p->has_frozen = 0;
}

/*
 * Open means a trigger arriving now would join the snapshot: its record
 * has not started yet, or started less than coalesce_ms ago.
 */
int
policy_is_open(const struct policy *p, uint64_t now_ms)
{
	if (p->is_open)
		return 1;
	if (p->has_frozen &&
	    policy_limits_elapsed(now_ms, p->frozen_at_ms) < p->coalesce_ms)
		return 1;
	return 0;
}

void
policy_count(struct policy *p, const char *source,
    enum policy_outcome outcome)
{
	struct policy_slot	*slot;
	int			 is_exact;

	if ((unsigned)outcome >= POLICY_OUTCOME_COUNT)
		return;
	if (source == NULL)
		source = POLICY_SOURCE_OTHER;
	slot = policy_lookup(p, source, &is_exact);
	slot->counters[outcome]++;
}

const char *
policy_outcome_name(enum policy_outcome outcome)
{
	switch (outcome) {
	case POLICY_ACCEPTED:
		return "accepted";
	case POLICY_COALESCED:
		return "coalesced";
	case POLICY_FILTERED:
		return "filtered";
	case POLICY_SAMPLED_OUT:
		return "sampled_out";
	case POLICY_RATE_LIMITED:
		return "rate_limited";
	case POLICY_MALFORMED:
		return "malformed";
	case POLICY_FAILED:
		return "failed";
	case POLICY_FORWARDED:
		return "forwarded";
	case POLICY_OUTCOME_COUNT:
		break;
	}
	return "unknown";
}

void
policy_foreach_count(const struct policy *p,
    void (*cb)(const char *source, const char *outcome, uint64_t count,
    void *arg), void *arg)
{
	const struct policy_slot	*slot;
	enum policy_outcome		 outcome;
	size_t				 i;

	for (i = 0; i < p->nslots; i++) {
		slot = &p->slots[i];
		for (outcome = 0; outcome < POLICY_OUTCOME_COUNT; outcome++) {
			if (slot->counters[outcome] == 0)
				continue;
			cb(slot->name, policy_outcome_name(outcome),
			    slot->counters[outcome], arg);
		}
	}
}

/* JSON integers are signed 64-bit; larger counts are shown saturated. */
static json_t *
policy_json_integer(uint64_t value)
{
	if (value > INT64_MAX)
		value = INT64_MAX;
	return json_integer((json_int_t)value);
}

static int
policy_json_set(json_t *object, const char *key, json_t *value)
{
	/* json_object_set_new() takes the reference even when it fails. */
	if (value == NULL)
		return -1;
	return json_object_set_new(object, key, value);
}

static json_t *
policy_json_counters(const struct policy *p)
{
	const struct policy_slot	*slot;
	json_t				*counters, *outcomes;
	enum policy_outcome		 outcome;
	size_t				 i;

	if ((counters = json_object()) == NULL)
		return NULL;
	for (i = 0; i < p->nslots; i++) {
		slot = &p->slots[i];
		outcomes = NULL;
		for (outcome = 0; outcome < POLICY_OUTCOME_COUNT; outcome++) {
			if (slot->counters[outcome] == 0)
				continue;
			if (outcomes == NULL) {
				if ((outcomes = json_object()) == NULL)
					goto error;
				if (json_object_set_new(counters, slot->name,
				    outcomes) == -1)
					goto error;
			}
			if (policy_json_set(outcomes,
			    policy_outcome_name(outcome),
			    policy_json_integer(slot->counters[outcome])) == -1)
				goto error;
		}
	}
	return counters;

error:
	json_decref(counters);
	return NULL;
}

json_t *
policy_status(const struct policy *p, uint64_t now_ms)
{
	const struct policy_limits	*limits = &p->limits;
	json_t				*status, *tokens;
	uint64_t			 elapsed, remaining = 0;

	if ((status = json_object()) == NULL)
		return NULL;

	if (limits->burst == 0)
		tokens = json_null();
	else if (limits->refill_ms == 0)
		tokens = policy_json_integer(limits->burst);
	else {
		tokens = policy_json_integer(policy_limits_credit(limits,
		    &p->global, now_ms) / limits->refill_ms);
	}
	if (limits->cooldown_ms != 0 && p->global.has_accepted) {
		elapsed = policy_limits_elapsed(now_ms, p->global.last_accept_ms);
		if (elapsed < limits->cooldown_ms)
			remaining = limits->cooldown_ms - elapsed;
	}

	if (policy_json_set(status, "tokens", tokens) == -1 ||
	    policy_json_set(status, "burst",
	    policy_json_integer(limits->burst)) == -1 ||
	    policy_json_set(status, "cooldown_ms",
	    policy_json_integer(limits->cooldown_ms)) == -1 ||
	    policy_json_set(status, "cooldown_remaining_ms",
	    policy_json_integer(remaining)) == -1 ||
	    policy_json_set(status, "day_count",
	    policy_json_integer(policy_limits_day_count(&p->global.day,
	    now_ms))) == -1 ||
	    policy_json_set(status, "max_per_day",
	    policy_json_integer(limits->max_per_day)) == -1 ||
	    policy_json_set(status, "coalesce_ms",
	    policy_json_integer(p->coalesce_ms)) == -1 ||
	    policy_json_set(status, "open",
	    json_boolean(policy_is_open(p, now_ms))) == -1 ||
	    policy_json_set(status, "counters",
	    policy_json_counters(p)) == -1) {
		json_decref(status);
		return NULL;
	}
	return status;
}
