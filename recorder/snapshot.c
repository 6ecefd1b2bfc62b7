/*
 * From trigger to published snapshot, on the main thread:
 *
 *   snapshot_trigger() -> policy_decide()
 *     ACCEPTED  -> new snapshot, [delay_ms] -> RECORD job on the worker
 *     COALESCED -> the trigger joins the open snapshot's triggers[]
 *   RECORD done -> spool index, eviction, waiters answered; a trigger that
 *   joined after the manifest was written is added by a MANIFEST job.
 *
 * The manifest is composed here (this thread owns the triggers) and
 * completed by the worker with the files it hashed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "recorder.h"
#include "xmalloc.h"

static void	snapshot_record(struct snapshot *);

const char *
snapshot_state_name(enum snapshot_state state)
{
	switch (state) {
	case SNAPSHOT_DELAYED:
		return "delayed";
	case SNAPSHOT_RECORDING:
		return "recording";
	case SNAPSHOT_PUBLISHING:
		return "publishing";
	case SNAPSHOT_DONE:
		return "recorded";
	case SNAPSHOT_FAILED:
		return "failed";
	}
	return "unknown";
}

int
snapshot_is_finished(const struct snapshot *snap)
{
	return snap->state == SNAPSHOT_DONE || snap->state == SNAPSHOT_FAILED;
}

static json_t *
snapshot_trigger_json(const struct trigger *t)
{
	json_t	*labels = json_object();
	char	 when[64];
	size_t	 i;

	for (i = 0; i < t->nlabels; i++)
		json_object_set_new(labels, t->labels[i].key,
		    json_string(t->labels[i].value));
	clock_format_utc(t->received_at_us, when, sizeof(when));
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:I, s:{s:I, s:I, s:I}}",
	    "source", t->source, "reason", t->reason,
	    "scope", t->scope == TRIGGER_SCOPE_CLUSTER ? "cluster" : "node",
	    "labels", labels, "received_at", when,
	    "received_at_us", (json_int_t)t->received_at_us,
	    "sender", "pid", (json_int_t)t->sender_pid,
	    "uid", (json_int_t)t->sender_uid, "gid", (json_int_t)t->sender_gid);
}

static void
snapshot_make_id(struct recorder *rec, char *id, size_t len, int64_t now_us)
{
	time_t		 sec = (time_t)(now_us / 1000000);
	struct tm	 tm;
	char		 stamp[32];

	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(id, len, "%s-%s-%llu", rec->conf.node_name, stamp,
	    (unsigned long long)++rec->sequence);
}

static void
snapshot_answer_waiters(struct snapshot *snap)
{
	struct snapshot_waiter *w;

	while ((w = TAILQ_FIRST(&snap->waiters)) != NULL) {
		TAILQ_REMOVE(&snap->waiters, w, entry);
		w->cb(snap, w->arg);
		free(w);
	}
}

static void
snapshot_free(struct snapshot *snap)
{
	if (snap->delay_ev != NULL)
		event_free(snap->delay_ev);
	json_decref(snap->triggers);
	json_decref(snap->manifest);
	free(snap);
}

/* Keeps the recent list bounded; finished snapshots only are dropped. */
static void
snapshot_trim(struct recorder *rec)
{
	struct snapshot *snap, *prev;

	snap = TAILQ_LAST(&rec->recent, snapshots);
	while (rec->nrecent > RECORDER_RECENT_MAX && snap != NULL) {
		prev = TAILQ_PREV(snap, snapshots, entry);
		if (snapshot_is_finished(snap) && snap != rec->open &&
		    !snap->is_manifest_writing &&
		    TAILQ_EMPTY(&snap->waiters)) {
			TAILQ_REMOVE(&rec->recent, snap, entry);
			rec->nrecent--;
			snapshot_free(snap);
		}
		snap = prev;
	}
}

static json_t *
snapshot_session_json(const struct recorder *rec)
{
	const struct config	*c = &rec->conf;
	json_t			*channels;

	channels = json_pack("[{s:s, s:s, s:I, s:i, s:b, s:s}]",
	    "name", "tracetrap", "domain", "ust",
	    "subbuf_size", (json_int_t)c->subbuf_size,
	    "subbuf_count", (int)c->subbuf_count, "overwrite", 1,
	    "buffers", c->is_per_pid_buffers ? "per-pid" : "per-uid");
	if (rec->session_state.is_kernel_available)
		json_array_append_new(channels, json_pack(
		    "{s:s, s:s, s:I, s:i, s:b, s:s}",
		    "name", "tracetrap-kernel", "domain", "kernel",
		    "subbuf_size", (json_int_t)c->subbuf_size,
		    "subbuf_count", (int)c->subbuf_count, "overwrite", 1,
		    "buffers", "global"));
	return json_pack("{s:s, s:o, s:I, s:s, s:s, s:s}",
	    "name", c->session_name, "channels", channels,
	    "ring_bytes_per_cpu", (json_int_t)(c->subbuf_size * c->subbuf_count),
	    "ust_events", c->ust_events,
	    "kernel_events", rec->session_state.is_kernel_available ?
	    c->kernel_events : "",
	    "output", c->output[0] != '\0' ? c->output : "spool");
}

static json_t *
snapshot_skeleton(struct recorder *rec, struct snapshot *snap)
{
	char when[64];

	clock_format_utc(snap->taken_at_us, when, sizeof(when));
	return json_pack("{s:s, s:s, s:s?, s:s, s:I, s:O, s:o, s:s}",
	    "id", snap->id, "node", rec->conf.node_name, "incident",
	    snap->incident[0] != '\0' ? snap->incident : NULL,
	    "taken_at", when, "taken_at_us", (json_int_t)snap->taken_at_us,
	    "triggers", snap->triggers,
	    "session", snapshot_session_json(rec),
	    "tracetrap_version", TRACETRAP_VERSION);
}

static void
snapshot_on_manifest(struct session_job *job, void *arg)
{
	struct snapshot *snap = arg;

	snap->is_manifest_writing = 0;
	if (!job->is_ok)
		log_warnx("snapshot %s: manifest update failed: %s", snap->id,
		    job->error);
	else
		recorder->stats.manifest_updates++;
	session_job_free(job);
	/* More triggers may have joined while this write ran. */
	if (json_array_size(snap->triggers) > snap->published_triggers)
		snapshot_record(snap);
}

/* Rewrites the published manifest with the triggers that joined since. */
static void
snapshot_update_manifest(struct snapshot *snap)
{
	struct session_job *job;

	if (snap->is_manifest_writing)
		return;
	json_object_set(snap->manifest, "triggers", snap->triggers);
	json_object_set_new(snap->manifest, "triggers_omitted",
	    json_integer((json_int_t)snap->triggers_omitted));
	job = session_job_new(SESSION_JOB_MANIFEST, &recorder->conf, snap->id,
	    snapshot_on_manifest, snap);
	job->manifest = json_dumps(snap->manifest,
	    JSON_INDENT(2) | JSON_SORT_KEYS);
	snap->published_triggers = json_array_size(snap->triggers);
	snap->is_manifest_writing = 1;
	session_submit(recorder->session, job);
}

static void
snapshot_on_removed(struct session_job *job, void *arg)
{
	(void)arg;
	if (!job->is_ok) {
		recorder->stats.spool_remove_failed++;
		log_warnx("spool: cannot remove %s: %s", job->id, job->error);
	}
	session_job_free(job);
}

static void
snapshot_evict_one(const char *id, int was_uploaded, void *arg)
{
	struct recorder		*rec = arg;
	struct session_job	*job;

	log_warnx("spool: over %llu bytes, evicting %s snapshot %s",
	    (unsigned long long)rec->spool.max_bytes,
	    was_uploaded ? "uploaded" : "NOT uploaded", id);
	job = session_job_new(SESSION_JOB_REMOVE, &rec->conf, id,
	    snapshot_on_removed, NULL);
	session_submit(rec->session, job);
}

/* The snapshot failed, recorded or not: nothing more may join it. */
static void
snapshot_failed(struct snapshot *snap, const char *error)
{
	struct recorder *rec = recorder;

	snap->state = SNAPSHOT_FAILED;
	snprintf(snap->error, sizeof(snap->error), "%s", error);
	rec->stats.snapshots_failed++;
	policy_count(rec->policy, json_string_value(json_object_get(
	    json_array_get(snap->triggers, 0), "source")), POLICY_FAILED);
	log_warnx("snapshot %s: failed: %s", snap->id, snap->error);
	/* The next one may work; a later snapshot's window stays its own. */
	if (rec->open == snap) {
		policy_snapshot_failed(rec->policy);
		rec->open = NULL;
	}
	snapshot_answer_waiters(snap);
	snapshot_trim(rec);
}

static void
snapshot_on_published(struct session_job *job, void *arg)
{
	struct snapshot		*snap = arg;
	struct recorder		*rec = recorder;
	struct spool_entry	*e;
	json_error_t		 jerr;
	int			 is_network = job->conf.output[0] != '\0';

	snap->duration_us = clock_monotonic_us() - snap->accepted_us;
	snap->published_at_us = job->published_at_us;
	if (job->is_ok &&
	    (snap->manifest = json_loads(job->manifest, 0, &jerr)) == NULL)
		snprintf(job->error, sizeof(job->error),
		    "worker returned a bad manifest: %s", jerr.text);
	if (!job->is_ok || snap->manifest == NULL) {
		spool_forget(&rec->spool, snap->id);
		snapshot_failed(snap, job->error);
		session_job_free(job);
		return;
	}
	snap->state = SNAPSHOT_DONE;
	snap->bytes = job->bytes;
	snprintf(snap->path, sizeof(snap->path), "%s", job->path);
	rec->stats.snapshots_recorded++;
	log_info("snapshot %s: recorded, %llu bytes, lttng %llu us, hash "
	    "%llu us, sync and publish %llu us, total %llu us", snap->id,
	    (unsigned long long)snap->bytes,
	    (unsigned long long)snap->record_us,
	    (unsigned long long)job->hash_us,
	    (unsigned long long)job->publish_us,
	    (unsigned long long)snap->duration_us);
	/* A network snapshot's entry is its manifest alone: job->bytes. */
	if (is_network)
		spool_add(&rec->spool, snap->id, snap->bytes,
		    snap->taken_at_us);
	else if ((e = spool_published(&rec->spool, snap->id)) != NULL &&
	    e->is_uploaded)
		relay_link_mark_uploaded(rec->relay_link, snap->id);
	/* Evictable now, and so may be the ones a burst published with it. */
	spool_evict(&rec->spool, snap->id, snapshot_evict_one, rec);
	relay_link_kick(rec->relay_link);
	session_job_free(job);
	if (json_array_size(snap->triggers) > snap->published_triggers)
		snapshot_update_manifest(snap);
	snapshot_answer_waiters(snap);
	snapshot_trim(rec);
}

/*
 * Hashed: the spool counts it (the directory, manifest included, as a
 * rescan at start does) and the uploader may send it while the disk
 * worker syncs and publishes it: the relay verifies every byte against
 * this manifest's sha256, and an incident's snapshot is on the relay a
 * local fsync sooner.
 */
static void
snapshot_on_hashed(struct session_job *job, void *arg)
{
	struct snapshot		*snap = arg;
	struct recorder		*rec = recorder;

	if (!job->is_ok) {
		snapshot_failed(snap, job->error);
		session_job_free(job);
		return;
	}
	if (job->conf.output[0] == '\0') {
		spool_add_partial(&rec->spool, snap->id, job->partial,
		    job->manifest, job->bytes + strlen(job->manifest),
		    snap->taken_at_us);
		spool_evict(&rec->spool, snap->id, snapshot_evict_one, rec);
		relay_link_kick(rec->relay_link);
	}
	job->type = SESSION_JOB_PUBLISH;
	job->done = snapshot_on_published;
	session_submit(rec->session, job);
}

/*
 * A trigger that came after the snapshot was handed to the LTTng worker
 * was marked after the freeze; the record may have started later than
 * that (the worker was busy): those before its start are in the trace.
 */
static void
snapshot_unmark_frozen(struct snapshot *snap)
{
	json_t	*t;
	size_t	 i;

	json_array_foreach(snap->triggers, i, t)
		if (json_is_true(json_object_get(t, "after_freeze")) &&
		    json_integer_value(json_object_get(t, "received_at_us")) <
		    snap->record_started_at_us)
			json_object_del(t, "after_freeze");
}

/*
 * The record returned: the LTTng worker is free for the next one, and
 * the disk worker hashes and publishes this one (the same job, as HASH
 * then PUBLISH).
 */
static void
snapshot_on_recorded(struct session_job *job, void *arg)
{
	struct snapshot		*snap = arg;
	struct recorder		*rec = recorder;
	json_t			*skeleton;

	snap->record_us = job->record_us;
	snap->record_started_at_us = job->record_started_at_us;
	rec->session_state = job->state;
	if (!job->is_ok) {
		snapshot_failed(snap, job->error);
		session_job_free(job);
		return;
	}
	snapshot_unmark_frozen(snap);
	snap->state = SNAPSHOT_PUBLISHING;
	skeleton = snapshot_skeleton(rec, snap);
	json_object_set_new(skeleton, "triggers_omitted",
	    json_integer((json_int_t)snap->triggers_omitted));
	job->manifest = json_dumps(skeleton, JSON_COMPACT);
	json_decref(skeleton);
	snap->published_triggers = json_array_size(snap->triggers);
	job->type = SESSION_JOB_HASH;
	job->done = snapshot_on_hashed;
	session_submit(rec->session, job);
}

/*
 * Hands the snapshot to the LTTng worker: the ring buffers freeze when
 * its record starts. A trigger after this point joins only as "after
 * the freeze" (policy.h).
 */
static void
snapshot_record(struct snapshot *snap)
{
	struct recorder		*rec = recorder;
	struct session_job	*job;

	if (snapshot_is_finished(snap)) {
		snapshot_update_manifest(snap);
		return;
	}
	snap->state = SNAPSHOT_RECORDING;
	snap->taken_at_us = clock_realtime_us();
	snap->is_network = rec->conf.output[0] != '\0';
	if (rec->open == snap)
		policy_snapshot_frozen(rec->policy,
		    clock_monotonic_us() / 1000);
	job = session_job_new(SESSION_JOB_RECORD, &rec->conf, snap->id,
	    snapshot_on_recorded, snap);
	session_submit(rec->session, job);
}

static void
snapshot_on_delay(evutil_socket_t fd, short events, void *arg)
{
	struct snapshot	*snap = arg;
	uint64_t	 delay_us = recorder->conf.delay_ms * 1000;
	uint64_t	 waited_us = clock_monotonic_us() - snap->accepted_us;
	struct timeval	 tv;

	(void)fd;
	(void)events;
	/*
	 * libevent rounds its wait to milliseconds and may wake a little
	 * early: the delay is a promise of at least that much aftermath.
	 */
	if (waited_us < delay_us) {
		tv.tv_sec = (time_t)((delay_us - waited_us) / 1000000);
		tv.tv_usec = (suseconds_t)((delay_us - waited_us) % 1000000);
		evtimer_add(snap->delay_ev, &tv);
		return;
	}
	snapshot_record(snap);
}

static struct snapshot *
snapshot_new(struct recorder *rec, const struct trigger *t,
    const char *incident)
{
	struct snapshot *snap;

	snap = xcalloc(1, sizeof(*snap));
	TAILQ_INIT(&snap->waiters);
	snapshot_make_id(rec, snap->id, sizeof(snap->id),
	    clock_realtime_us());
	if (incident != NULL)
		snprintf(snap->incident, sizeof(snap->incident), "%s",
		    incident);
	snap->triggers = json_array();
	json_array_append_new(snap->triggers, snapshot_trigger_json(t));
	snap->accepted_us = clock_monotonic_us();
	TAILQ_INSERT_HEAD(&rec->recent, snap, entry);
	rec->nrecent++;
	log_info("snapshot %s: trigger from %s (pid %d): %s%s%s", snap->id,
	    t->source, (int)t->sender_pid, t->reason,
	    incident != NULL ? "; incident " : "",
	    incident != NULL ? incident : "");
	return snap;
}

/*
 * A cluster-scope trigger goes to the relay, whose fleet budget decides;
 * the relay then asks every recorder, this one included, for a snapshot.
 * It passes the source filter first, like any trigger. Then, as a local
 * trigger joins the snapshot open before it, one within [limits]
 * coalesce of the last one forwarded is counted coalesced: it would only
 * join the incident that one opens, and a storm of them must not become
 * a storm of frames (a link that cannot keep up refuses them anyway).
 * Without a link it is an ordinary trigger of this node. Returns 1 when
 * decided here.
 */
static int
snapshot_forward(struct recorder *rec, const struct trigger *t,
    struct policy_decision *decision)
{
	uint64_t	 now = clock_monotonic_us(), window;
	json_t		*o;

	if (t->scope != TRIGGER_SCOPE_CLUSTER ||
	    !relay_link_is_ready(rec->relay_link))
		return 0;
	memset(decision, 0, sizeof(*decision));
	decision->outcome = policy_filter(rec->policy, t->source);
	if (decision->outcome != POLICY_ACCEPTED)
		return 1;
	window = rec->conf.policy.coalesce_ms * 1000;
	if (rec->has_forwarded && now - rec->forwarded_at_us < window) {
		decision->outcome = POLICY_COALESCED;
		policy_count(rec->policy, t->source, POLICY_COALESCED);
		return 1;
	}
	o = snapshot_trigger_json(t);
	if (relay_link_cluster_trigger(rec->relay_link, o) == -1)
		return 0;
	rec->has_forwarded = 1;
	rec->forwarded_at_us = now;
	decision->outcome = POLICY_FORWARDED;
	policy_count(rec->policy, t->source, POLICY_FORWARDED);
	log_info("cluster trigger from %s forwarded to the relay: %s",
	    t->source, t->reason);
	return 1;
}

/*
 * The relay's SNAPSHOT_REQUEST for a cluster incident: the fleet budget
 * was spent there, so no local limit applies; the snapshot is filed
 * under the incident's id.
 */
void
snapshot_request(struct recorder *rec, const struct trigger *t,
    const char *incident)
{
	struct snapshot *snap;

	policy_count(rec->policy, t->source, POLICY_ACCEPTED);
	snap = snapshot_new(rec, t, incident);
	snapshot_record(snap);
	snapshot_trim(rec);
}

struct policy_decision
snapshot_trigger(struct recorder *rec, const struct trigger *t,
    struct snapshot **joined)
{
	struct policy_decision	 decision;
	struct snapshot		*snap;
	struct timeval		 tv;
	json_t			*o;

	*joined = NULL;
	if (snapshot_forward(rec, t, &decision))
		return decision;
	decision = policy_decide(rec->policy, t->source,
	    clock_monotonic_us() / 1000);
	switch (decision.outcome) {
	case POLICY_COALESCED:
		if ((snap = rec->open) == NULL)
			break;
		/*
		 * A storm joins thousands of triggers: the manifest lists the
		 * first ones and counts the rest, bounding memory and rewrites.
		 */
		if (json_array_size(snap->triggers) >= SNAPSHOT_TRIGGERS_MAX) {
			snap->triggers_omitted++;
			*joined = snap;
			break;
		}
		o = snapshot_trigger_json(t);
		/* Its moment is not in the trace (policy.h). */
		if (decision.is_after_freeze)
			json_object_set_new(o, "after_freeze", json_true());
		json_array_append_new(snap->triggers, o);
		log_debug("trigger from %s joins snapshot %s%s", t->source,
		    snap->id, decision.is_after_freeze ? " after its freeze" :
		    "");
		if (snap->state == SNAPSHOT_DONE)
			snapshot_update_manifest(snap);
		*joined = snap;
		break;
	case POLICY_ACCEPTED:
		snap = snapshot_new(rec, t, NULL);
		rec->open = snap;
		*joined = snap;
		if (t->scope == TRIGGER_SCOPE_CLUSTER)
			log_info("snapshot %s: cluster scope, but the relay "
			    "link is down: recorded on this node only",
			    snap->id);
		if (rec->conf.delay_ms > 0) {
			snap->state = SNAPSHOT_DELAYED;
			snap->delay_ev = evtimer_new(rec->base,
			    snapshot_on_delay, snap);
			tv.tv_sec = (time_t)(rec->conf.delay_ms / 1000);
			tv.tv_usec = (suseconds_t)(rec->conf.delay_ms % 1000) *
			    1000;
			evtimer_add(snap->delay_ev, &tv);
		} else
			snapshot_record(snap);
		snapshot_trim(rec);
		break;
	default:
		break;
	}
	return decision;
}

void
snapshot_wait(struct snapshot *snap, snapshot_waiter_cb cb, void *arg)
{
	struct snapshot_waiter *w;

	if (snapshot_is_finished(snap)) {
		cb(snap, arg);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&snap->waiters, w, entry);
}

void
snapshot_unwait(struct snapshot *snap, snapshot_waiter_cb cb, void *arg)
{
	struct snapshot_waiter *w;

	TAILQ_FOREACH(w, &snap->waiters, entry) {
		if (w->cb == cb && w->arg == arg) {
			TAILQ_REMOVE(&snap->waiters, w, entry);
			free(w);
			return;
		}
	}
}

json_t *
snapshot_json(const struct snapshot *snap)
{
	json_t	*o;
	char	 when[64];

	o = json_pack("{s:s, s:s?, s:s, s:I}", "id", snap->id, "incident",
	    snap->incident[0] != '\0' ? snap->incident : NULL,
	    "state", snapshot_state_name(snap->state),
	    "triggers", (json_int_t)json_array_size(snap->triggers));
	if (snap->taken_at_us != 0) {
		clock_format_utc(snap->taken_at_us, when, sizeof(when));
		json_object_set_new(o, "taken_at", json_string(when));
	}
	if (snap->state == SNAPSHOT_DONE) {
		json_object_set_new(o, "path", json_string(snap->path));
		json_object_set_new(o, "bytes",
		    json_integer((json_int_t)snap->bytes));
		json_object_set_new(o, "duration_ms",
		    json_real((double)snap->duration_us / 1000.0));
		json_object_set_new(o, "record_ms",
		    json_real((double)snap->record_us / 1000.0));
		json_object_set_new(o, "record_started_at_us", json_integer(
		    (json_int_t)snap->record_started_at_us));
		json_object_set_new(o, "published_at_us", json_integer(
		    (json_int_t)snap->published_at_us));
		json_object_set_new(o, "upload", json_string(
		    snap->is_uploaded ? "stored" : recorder->relay_link == NULL ?
		    "no_relay" : "pending"));
	}
	if (snap->state == SNAPSHOT_FAILED) {
		json_object_set_new(o, "error", json_string(snap->error));
		/* Sent while its publish ran: the node lost it, not the relay. */
		if (snap->is_uploaded)
			json_object_set_new(o, "upload", json_string("stored"));
	}
	return o;
}

json_t *
snapshot_list_json(struct recorder *rec)
{
	struct snapshot		*snap;
	struct spool_entry	*e;
	json_t			*recent = json_array(), *spooled = json_array();

	TAILQ_FOREACH(snap, &rec->recent, entry)
		json_array_append_new(recent, snapshot_json(snap));
	TAILQ_FOREACH_REVERSE(e, &rec->spool.entries, spool_entries, entry)
		json_array_append_new(spooled, json_pack("{s:s, s:I, s:b, "
		    "s:b}", "id", e->id, "bytes", (json_int_t)e->bytes,
		    "uploaded", e->is_uploaded,
		    "published", e->partial[0] == '\0'));
	return json_pack("{s:o, s:o}", "recent", recent, "spool", spooled);
}

/* Delayed snapshots are recorded now: a stop must not lose a trigger. */
void
snapshot_shutdown(struct recorder *rec)
{
	struct snapshot *snap;

	TAILQ_FOREACH(snap, &rec->recent, entry) {
		if (snap->state != SNAPSHOT_DELAYED)
			continue;
		evtimer_del(snap->delay_ev);
		snapshot_record(snap);
	}
}

/*
 * At exit, after the session and the control socket are gone (their
 * callbacks and waiters with them): what is left of the recent list.
 */
void
snapshot_free_all(struct recorder *rec)
{
	struct snapshot		*snap;
	struct snapshot_waiter	*w;

	while ((snap = TAILQ_FIRST(&rec->recent)) != NULL) {
		TAILQ_REMOVE(&rec->recent, snap, entry);
		while ((w = TAILQ_FIRST(&snap->waiters)) != NULL) {
			TAILQ_REMOVE(&snap->waiters, w, entry);
			free(w);
		}
		snapshot_free(snap);
	}
	rec->nrecent = 0;
	rec->open = NULL;
}
