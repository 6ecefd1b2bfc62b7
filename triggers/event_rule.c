/*
 * LTTng event-rule triggers (event_rule.h): what the trigger of a rule is
 * made of and named, and the loop's rule set: the rules it runs, the
 * notifications the thread (event_rule_channel.c) hands it, the triggers
 * they become, status and metrics. Registering is event_rule_sync.c's.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <lttng/lttng.h>

#include "clock.h"
#include "log.h"
#include "tracetrap.h"
#include "trigger_sink.h"
#include "event_rule.h"
#include "event_rule_channel.h"
#include "xmalloc.h"

#define EVENT_RULE_PREFIX	"tracetrap."
/* Part of the hash: a new way to build triggers gives new names. */
#define EVENT_RULE_SHAPE	"1"
#define EVENT_RULE_HASH_LEN	16
#define EVENT_RULE_RESEND_MS	50	/* waking the thread again */
#define EVENT_RULE_LOG_US	1000000	/* a rule logs once a second */
#define EVENT_RULE_UNAVAILABLE	"(unavailable)"
#define EVENT_RULE_LABEL_PREFIX	"capture."

struct event_rule {
	struct event_rule_conf	 conf;
	char			 trigger[EVENT_RULE_TRIGGER_MAX];
	char			 keys[TRIGGER_CAPTURES_MAX][TRIGGER_NAME_MAX];
	size_t			 nkeys;
	/*
	 * The trigger a reload replaced. It stays registered until the
	 * loop runs the new one, and notifications queued before the switch
	 * still name it: they fire, with its captures' keys, until the new
	 * trigger's first notification (both notify for an event meanwhile).
	 */
	char			 retired[EVENT_RULE_TRIGGER_MAX];
	char			 retired_keys[TRIGGER_CAPTURES_MAX]
				    [TRIGGER_NAME_MAX];
	size_t			 retired_nkeys;
	int			 has_notified;	/* the new trigger has */
	int			 is_registered;
	int			 is_listening;
	char			 error[EVENT_RULE_ERROR_MAX];
	uint64_t		 notifications;
	uint64_t		 fires;
	int64_t			 last_fire_realtime_us;
	uint64_t		 logged_us;	/* monotonic, last log line */
	uint64_t		 unlogged;	/* notifications since */
};

struct event_rule_set {
	struct event_base	*base;
	struct worker		*lttng;		/* the LTTng worker */
	struct trigger_sink	 sink;
	char			 session[EVENT_RULE_SESSION_MAX];
	struct event_rule	 rules[EVENT_RULES_MAX];
	size_t			 n;
	uint64_t		 dropped;	/* LTTng's, channel-wide */
	uint64_t		 stray;		/* of no rule of ours */
	uint64_t		 stray_logged;	/* stray at the last reload */
	int			 is_connected;
	char			 channel_error[EVENT_RULE_ERROR_MAX];
	struct event_rule_message message;	/* the one being read */
	struct event		*message_ev;
	struct event		*resend_ev;
	struct event_rule_channel channel;	/* the thread */
	struct event_rule_conf	 wanted[EVENT_RULE_WANTED_MAX];
};

/* ---- what a rule's trigger is ---- */

static uint64_t
event_rule_hash(uint64_t h, const char *s)
{
	/* FNV-1a; the NUL goes in too, so "ab","c" differs from "a","bc". */
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++ != '\0');
	return h;
}

void
event_rule_trigger_name(const char *session, const struct event_rule_conf *c,
    char *out, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;

	h = event_rule_hash(h, EVENT_RULE_SHAPE);
	h = event_rule_hash(h, c->event);
	h = event_rule_hash(h, c->filter);
	h = event_rule_hash(h, c->capture);
	snprintf(out, len, EVENT_RULE_PREFIX "%s.%s.%016llx", session, c->name,
	    (unsigned long long)h);
}

static int
event_rule_is_name_char(char ch)
{
	return ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '_' || ch == '-');
}

/*
 * Read from the right: a session name may hold dots, a rule name and the
 * hash may not, so "tracetrap.a.b.r.HASH" is session "a.b" and never "a".
 */
int
event_rule_is_ours(const char *name, const char *session)
{
	const char	*p, *hash, *rule;
	size_t		 i, plen = strlen(EVENT_RULE_PREFIX);

	if (strncmp(name, EVENT_RULE_PREFIX, plen) != 0)
		return 0;
	p = name + plen;
	if ((hash = strrchr(p, '.')) == NULL ||
	    strlen(hash + 1) != EVENT_RULE_HASH_LEN)
		return 0;
	for (i = 1; i <= EVENT_RULE_HASH_LEN; i++)
		if (!((hash[i] >= '0' && hash[i] <= '9') ||
		    (hash[i] >= 'a' && hash[i] <= 'f')))
			return 0;
	for (rule = hash; rule > p && rule[-1] != '.'; rule--)
		if (!event_rule_is_name_char(rule[-1]))
			return 0;
	if (rule == hash || rule == p)
		return 0;
	return (size_t)(rule - 1 - p) == strlen(session) &&
	    strncmp(p, session, strlen(session)) == 0;
}

size_t
event_rule_label_keys(const struct event_rule_conf *c,
    char keys[][TRIGGER_NAME_MAX], size_t max)
{
	const char	*cursor, *item;
	char		 suffix[8];
	size_t		 len, n = 0, i, j, room, plen;
	unsigned	 k;
	int		 is_taken;

	plen = strlen(EVENT_RULE_LABEL_PREFIX);
	for (cursor = c->capture; n < max && conf_list_next(&cursor, &item,
	    &len);) {
		if (len == 0)
			continue;
		for (k = 1;; k++) {
			suffix[0] = '\0';
			if (k > 1)
				snprintf(suffix, sizeof(suffix), "-%u", k);
			room = TRIGGER_NAME_MAX - 1 - plen - strlen(suffix);
			snprintf(keys[n], TRIGGER_NAME_MAX, "%s%.*s%s",
			    EVENT_RULE_LABEL_PREFIX, (int)(len < room ? len :
			    room), item, suffix);
			/* Fields are [A-Za-z0-9_]: keys want lower case. */
			for (j = plen; keys[n][j] != '\0'; j++)
				if (keys[n][j] >= 'A' && keys[n][j] <= 'Z')
					keys[n][j] += 'a' - 'A';
			is_taken = 0;
			for (i = 0; i < n; i++)
				if (strcmp(keys[i], keys[n]) == 0)
					is_taken = 1;
			if (!is_taken)
				break;
		}
		n++;
	}
	return n;
}

/* Only so that the call fits in 80 columns. */
static enum lttng_condition_status
event_rule_append_capture(struct lttng_condition *condition,
    struct lttng_event_expr *expr)
{
	return lttng_condition_event_rule_matches_append_capture_descriptor(
	    condition, expr);
}

struct lttng_condition *
event_rule_condition_new(const struct event_rule_conf *c, const char **key,
    char *err, size_t errlen)
{
	struct lttng_event_rule	*rule;
	struct lttng_condition	*condition = NULL;
	struct lttng_event_expr	*expr;
	enum lttng_condition_status status;
	const char		*cursor, *item;
	char			 field[TRIGGER_CAPTURE_MAX];
	size_t			 len;

	*key = "event";
	if ((rule = lttng_event_rule_user_tracepoint_create()) == NULL)
		goto nomem;
	if (lttng_event_rule_user_tracepoint_set_name_pattern(rule,
	    c->event) != LTTNG_EVENT_RULE_STATUS_OK) {
		snprintf(err, errlen, "LTTng refused the name pattern");
		goto error;
	}
	*key = "filter";
	if (c->filter[0] != '\0' && lttng_event_rule_user_tracepoint_set_filter(
	    rule, c->filter) != LTTNG_EVENT_RULE_STATUS_OK) {
		snprintf(err, errlen, "LTTng refused it");
		goto error;
	}
	*key = "event";
	if ((condition = lttng_condition_event_rule_matches_create(rule)) ==
	    NULL)
		goto nomem;
	*key = "capture";
	for (cursor = c->capture; conf_list_next(&cursor, &item, &len);) {
		if (len == 0)
			continue;
		snprintf(field, sizeof(field), "%.*s", (int)len, item);
		if ((expr = lttng_event_expr_event_payload_field_create(field))
		    == NULL)
			goto nomem;
		status = event_rule_append_capture(condition, expr);
		if (status != LTTNG_CONDITION_STATUS_OK) {
			lttng_event_expr_destroy(expr);
			snprintf(err, errlen, "LTTng refused the field '%s'",
			    field);
			goto error;
		}
	}
	lttng_event_rule_destroy(rule);
	return condition;
nomem:
	snprintf(err, errlen, "out of memory");
error:
	lttng_condition_destroy(condition);
	lttng_event_rule_destroy(rule);
	return NULL;
}

int
event_rule_confs_differ(const char *session_a, const struct trigger_confs *a,
    const char *session_b, const struct trigger_confs *b)
{
	size_t	 i;

	if (a->nrules != b->nrules || strcmp(session_a, session_b) != 0)
		return 1;
	for (i = 0; i < a->nrules; i++)
		if (strcmp(a->rules[i].name, b->rules[i].name) != 0 ||
		    strcmp(a->rules[i].event, b->rules[i].event) != 0 ||
		    strcmp(a->rules[i].filter, b->rules[i].filter) != 0 ||
		    strcmp(a->rules[i].capture, b->rules[i].capture) != 0)
			return 1;
	return 0;
}

/* ---- the loop's side ---- */

static void
event_rule_on_resend(evutil_socket_t fd, short events, void *arg)
{
	struct event_rule_set	*set = arg;
	struct timeval		 tv = { 0, EVENT_RULE_RESEND_MS * 1000 };

	(void)fd;
	(void)events;
	if (!event_rule_channel_is_behind(&set->channel))
		return;
	event_rule_channel_wake(&set->channel);
	evtimer_add(set->resend_ev, &tv);
}

/* The rule a notification is for, and the keys of its captures. */
static struct event_rule *
event_rule_find(struct event_rule_set *set, const char *trigger,
    char (**keys)[TRIGGER_NAME_MAX], size_t *nkeys)
{
	struct event_rule	*r;
	size_t			 i;

	for (i = 0; i < set->n; i++) {
		r = &set->rules[i];
		if (strcmp(r->trigger, trigger) == 0) {
			r->has_notified = 1;
			*keys = r->keys;
			*nkeys = r->nkeys;
			return r;
		}
	}
	for (i = 0; i < set->n; i++) {
		r = &set->rules[i];
		if (r->retired[0] != '\0' && !r->has_notified &&
		    strcmp(r->retired, trigger) == 0) {
			*keys = r->retired_keys;
			*nkeys = r->retired_nkeys;
			return r;
		}
	}
	return NULL;
}

static void
event_rule_fire(struct event_rule_set *set, struct event_rule *r,
    char (*keys)[TRIGGER_NAME_MAX], size_t nkeys,
    const struct event_rule_message *m)
{
	struct tracetrap_label	 labels[2 + TRIGGER_CAPTURES_MAX];
	char			 summary[512];
	size_t			 i, at = 0;
	uint64_t		 now = clock_monotonic_us();

	/* The rule and its event: the relay's analysis finds the event by
	 * that name and the captures (lib/analyze_rules.c). */
	labels[0].key = "rule";
	labels[0].value = r->conf.name;
	labels[1].key = "event";
	labels[1].value = r->conf.event;
	summary[0] = '\0';
	for (i = 0; i < nkeys; i++) {
		labels[2 + i].key = keys[i];
		labels[2 + i].value = i < m->nvalues &&
		    !(m->unavailable & (1U << i)) ? m->values[i] :
		    EVENT_RULE_UNAVAILABLE;
		if (at < sizeof(summary))
			at += (size_t)snprintf(summary + at, sizeof(summary) -
			    at, " %s=%s", keys[i] + strlen(
			    EVENT_RULE_LABEL_PREFIX), labels[2 + i].value);
	}
	r->notifications++;
	r->unlogged++;
	/* A storm of matches must not become a storm of log lines. */
	if (now - r->logged_us >= EVENT_RULE_LOG_US || r->logged_us == 0) {
		log_warnx("lttng event rule %s: %s matched%s%s", r->conf.name,
		    r->conf.event, summary, r->unlogged > 1 ? " (and more "
		    "since the last line)" : "");
		r->logged_us = now;
		r->unlogged = 0;
	}
	r->fires++;
	r->last_fire_realtime_us = clock_realtime_us();
	trigger_sink_fire(&set->sink, "lttng", r->conf.reason,
	    r->conf.is_cluster, labels, 2 + nkeys);
}

static void
event_rule_on_state(struct event_rule_set *set,
    const struct event_rule_message *m)
{
	size_t	 i;

	if (m->is_connected != (uint32_t)set->is_connected) {
		if (m->is_connected)
			log_info("event rules: listening to the session "
			    "daemon's notifications");
		else
			log_warnx("event rules: no notification channel (no "
			    "session daemon?); trying again every %d ms",
			    EVENT_RULE_RETRY_MS);
	}
	set->is_connected = m->is_connected != 0;
	if (strcmp(set->channel_error, m->error) != 0 && m->error[0] != '\0')
		log_warnx("event rules: %s", m->error);
	snprintf(set->channel_error, sizeof(set->channel_error), "%s",
	    m->error);
	/* An older generation's bits would name other rules. */
	if (m->generation != set->channel.generation && m->is_connected)
		return;
	for (i = 0; i < set->n; i++)
		set->rules[i].is_listening = (m->listening >> i) & 1;
}

static void
event_rule_on_message(evutil_socket_t fd, short events, void *arg)
{
	struct event_rule_set		*set = arg;
	struct event_rule_message	*m = &set->message;
	struct event_rule		*r;
	char				(*keys)[TRIGGER_NAME_MAX];
	ssize_t				 n;
	size_t				 i, nkeys;

	(void)events;
	while ((n = recv(fd, m, sizeof(*m), MSG_DONTWAIT)) ==
	    (ssize_t)sizeof(*m)) {
		m->trigger[sizeof(m->trigger) - 1] = '\0';
		m->error[sizeof(m->error) - 1] = '\0';
		for (i = 0; i < TRIGGER_CAPTURES_MAX; i++)
			m->values[i][EVENT_RULE_VALUE_MAX - 1] = '\0';
		switch (m->type) {
		case EVENT_RULE_NOTIFICATION:
			if ((r = event_rule_find(set, m->trigger, &keys,
			    &nkeys)) != NULL)
				event_rule_fire(set, r, keys, nkeys, m);
			else if (set->stray++ == set->stray_logged) {
				/* A replaced trigger, until it goes. */
				log_debug("event rules: ignoring notifications "
				    "of trigger '%s', no longer ours",
				    m->trigger);
			}
			break;
		case EVENT_RULE_DROPPED:
			if (set->dropped++ == 0)
				log_warnx("event rules: the session daemon "
				    "dropped notifications (the recorder read "
				    "them too slowly); counted in status");
			break;
		case EVENT_RULE_STATE:
			event_rule_on_state(set, m);
			break;
		}
	}
}

struct event_rule_set *
event_rule_set_new(struct event_base *base, struct worker *lttng,
    const struct trigger_sink *sink)
{
	struct event_rule_set	*set;

	set = xcalloc(1, sizeof(*set));
	set->base = base;
	set->lttng = lttng;
	set->sink = *sink;
	event_rule_channel_init(&set->channel);
	return set;
}

void
event_rule_set_sync(struct event_rule_set *set,
    struct event_rule_sync_job *job)
{
	event_rule_sync_submit(set->lttng, job);
}

void
event_rule_set_free(struct event_rule_set *set)
{
	if (set == NULL)
		return;
	/* Stuck inside liblttng-ctl: the thread keeps its memory. */
	if (event_rule_channel_stop(&set->channel) == -1)
		return;
	if (set->message_ev != NULL)
		event_free(set->message_ev);
	if (set->resend_ev != NULL)
		event_free(set->resend_ev);
	event_rule_channel_close(&set->channel);
	free(set);
}

/*
 * Gives the thread the conditions to subscribe: the running rules first
 * (so that its STATE bits name them by index), then those of next.
 */
static void
event_rule_want(struct event_rule_set *set, const struct trigger_confs *next)
{
	size_t	 i, n = 0;

	for (i = 0; i < set->n; i++)
		set->wanted[n++] = set->rules[i].conf;
	for (i = 0; next != NULL && i < next->nrules; i++)
		set->wanted[n++] = next->rules[i];
	event_rule_channel_want(&set->channel, set->wanted, n);
	if (!set->channel.is_running && n > 0) {
		event_rule_channel_start(&set->channel);
		set->message_ev = event_new(set->base,
		    set->channel.messages[0], EV_READ | EV_PERSIST,
		    event_rule_on_message, set);
		event_add(set->message_ev, NULL);
		set->resend_ev = evtimer_new(set->base, event_rule_on_resend,
		    set);
	}
	/* Until the thread has taken it (event_rule_channel.c). */
	event_rule_on_resend(-1, 0, set);
}

void
event_rule_set_configure(struct event_rule_set *set, const char *session,
    const struct trigger_confs *confs)
{
	struct event_rule	*old, *r, *previous;
	size_t			 nold = set->n, i, j;

	old = xmalloc(sizeof(set->rules));
	memcpy(old, set->rules, sizeof(set->rules));
	snprintf(set->session, sizeof(set->session), "%s", session);
	memset(set->rules, 0, sizeof(set->rules));
	for (i = 0; i < confs->nrules; i++) {
		r = &set->rules[i];
		r->conf = confs->rules[i];
		event_rule_trigger_name(session, &r->conf, r->trigger,
		    sizeof(r->trigger));
		r->nkeys = event_rule_label_keys(&r->conf, r->keys,
		    TRIGGER_CAPTURES_MAX);
		previous = NULL;
		for (j = 0; j < nold && previous == NULL; j++)
			if (strcmp(old[j].trigger, r->trigger) == 0)
				previous = &old[j];
		if (previous != NULL) {
			/* The same trigger, going on (new reason, maybe). */
			r->is_registered = previous->is_registered;
			r->is_listening = previous->is_listening;
			memcpy(r->error, previous->error, sizeof(r->error));
			r->has_notified = previous->has_notified;
			memcpy(r->retired, previous->retired,
			    sizeof(r->retired));
			memcpy(r->retired_keys, previous->retired_keys,
			    sizeof(r->retired_keys));
			r->retired_nkeys = previous->retired_nkeys;
		}
		for (j = 0; j < nold && previous == NULL; j++)
			if (strcmp(old[j].conf.name, r->conf.name) == 0)
				previous = &old[j];
		if (previous == NULL)
			continue;
		if (strcmp(previous->trigger, r->trigger) != 0) {
			/* The rule changed: its old trigger is retiring. */
			memcpy(r->retired, previous->trigger,
			    sizeof(r->retired));
			memcpy(r->retired_keys, previous->keys,
			    sizeof(r->retired_keys));
			r->retired_nkeys = previous->nkeys;
		}
		/* The counters are the rule's, whatever its definition. */
		r->notifications = previous->notifications;
		r->fires = previous->fires;
		r->last_fire_realtime_us = previous->last_fire_realtime_us;
		r->logged_us = previous->logged_us;
	}
	set->n = confs->nrules;
	set->stray_logged = set->stray;
	free(old);
	event_rule_want(set, NULL);
}

void
event_rule_set_prepare(struct event_rule_set *set,
    const struct trigger_confs *next)
{
	event_rule_want(set, next);
}

void
event_rule_set_synced(struct event_rule_set *set,
    const struct event_rule_sync *sync)
{
	struct event_rule	*r;
	size_t			 i, j;

	for (i = 0; i < set->n; i++) {
		r = &set->rules[i];
		if (!sync->is_done) {
			r->is_registered = 0;
			snprintf(r->error, sizeof(r->error), "not registered: "
			    "%s", sync->error);
			continue;
		}
		for (j = 0; j < EVENT_RULES_MAX; j++) {
			if (strcmp(sync->results[j].trigger, r->trigger) != 0)
				continue;
			r->is_registered = sync->results[j].is_registered;
			memcpy(r->error, sync->results[j].error,
			    sizeof(r->error));
		}
	}
	/* A session daemon that came back: no need to wait to reconnect. */
	if (sync->is_done && !set->is_connected)
		event_rule_channel_wake(&set->channel);
}

void
event_rule_set_lost(struct event_rule_set *set, const char *why)
{
	size_t	 i;

	for (i = 0; i < set->n; i++) {
		set->rules[i].is_registered = 0;
		snprintf(set->rules[i].error, sizeof(set->rules[i].error),
		    "not registered: %s", why);
	}
}

size_t
event_rule_set_count(const struct event_rule_set *set)
{
	return set == NULL ? 0 : set->n;
}

static const char *
event_rule_state(const struct event_rule *r)
{
	if (!r->is_registered)
		return "unregistered";
	return r->is_listening ? "armed" : "not_listening";
}

void
event_rule_set_status(const struct event_rule_set *set, json_t *array)
{
	const struct event_rule	*r;
	const char		*cursor, *item;
	char			 when[64];
	json_t			*o, *capture;
	size_t			 i, len;

	for (i = 0; set != NULL && i < set->n; i++) {
		r = &set->rules[i];
		when[0] = '\0';
		if (r->last_fire_realtime_us != 0)
			clock_format_utc(r->last_fire_realtime_us, when,
			    sizeof(when));
		capture = json_array();
		for (cursor = r->conf.capture; conf_list_next(&cursor, &item,
		    &len);)
			if (len > 0)
				json_array_append_new(capture,
				    json_stringn(item, len));
		o = json_pack("{s:s, s:s, s:s, s:s?, s:o, s:s, s:s, s:s, s:b, "
		    "s:b, s:s, s:I, s:I, s:I, s:s?}",
		    "name", r->conf.name, "kind", "lttng-event",
		    "event", r->conf.event,
		    "filter", r->conf.filter[0] != '\0' ? r->conf.filter : NULL,
		    "capture", capture, "trigger", r->trigger,
		    "scope", r->conf.is_cluster ? "cluster" : "node",
		    "reason", r->conf.reason,
		    "registered", r->is_registered,
		    "listening", r->is_listening,
		    "state", event_rule_state(r),
		    "notifications", (json_int_t)r->notifications,
		    "fires", (json_int_t)r->fires,
		    /* LTTng counts drops per channel, not per trigger. */
		    "dropped", (json_int_t)(set->dropped +
		    atomic_load(&set->channel.unsent)),
		    "last_fire", when[0] != '\0' ? when : NULL);
		if (r->error[0] != '\0')
			json_object_set_new(o, "error", json_string(r->error));
		else if (r->is_registered && !r->is_listening &&
		    set->channel_error[0] != '\0')
			json_object_set_new(o, "error",
			    json_string(set->channel_error));
		json_array_append_new(array, o);
	}
}

void
event_rule_set_metrics_fires(const struct event_rule_set *set,
    struct evbuffer *out)
{
	size_t	 i;

	for (i = 0; set != NULL && i < set->n; i++)
		evbuffer_add_printf(out, "tracetrap_watcher_fires_total{"
		    "watcher=\"%s\",kind=\"lttng-event\"} %llu\n",
		    set->rules[i].conf.name,
		    (unsigned long long)set->rules[i].fires);
}

void
event_rule_set_metrics(const struct event_rule_set *set, struct evbuffer *out)
{
	size_t	 i;

	if (set == NULL)
		return;
	evbuffer_add_printf(out, "# HELP tracetrap_event_rule_registered 1 "
	    "when the session daemon holds the rule's trigger.\n"
	    "# TYPE tracetrap_event_rule_registered gauge\n");
	for (i = 0; i < set->n; i++)
		evbuffer_add_printf(out, "tracetrap_event_rule_registered{"
		    "watcher=\"%s\"} %d\n", set->rules[i].conf.name,
		    set->rules[i].is_registered);
	evbuffer_add_printf(out, "# HELP tracetrap_event_rule_notifications_"
	    "dropped_total Times the session daemon said it dropped "
	    "notifications (one or more each), and notifications the thread "
	    "could not queue.\n"
	    "# TYPE tracetrap_event_rule_notifications_dropped_total counter\n"
	    "tracetrap_event_rule_notifications_dropped_total %llu\n"
	    "# HELP tracetrap_event_rule_notifications_ignored_total "
	    "Notifications of a trigger a reload replaced.\n"
	    "# TYPE tracetrap_event_rule_notifications_ignored_total counter\n"
	    "tracetrap_event_rule_notifications_ignored_total %llu\n"
	    "# HELP tracetrap_event_rule_channel_up 1 while the notification "
	    "channel to the session daemon is connected.\n"
	    "# TYPE tracetrap_event_rule_channel_up gauge\n"
	    "tracetrap_event_rule_channel_up %d\n",
	    (unsigned long long)(set->dropped +
	    atomic_load(&set->channel.unsent)),
	    (unsigned long long)set->stray, set->is_connected);
}
