#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis.h"
#include "analyze.h"
#include "catalog.h"
#include "clock.h"
#include "file.h"
#include "histogram.h"
#include "isolate.h"
#include "log.h"
#include "store.h"
#include "store_backend.h"
#include "trace_events.h"
#include "worker.h"

#define ANALYSIS_THREADS_MAX	16
#define ANALYSIS_NICE		10	/* threads and children */
#define ANALYSIS_BACKFILL_BATCH	8
#define ANALYSIS_QUERY_CPU_S	30
#define ANALYSIS_QUERY_TIMEOUT	30000
#define ANALYSIS_QUERY_RANGE	(256u << 20)	/* packets copied per query */
#define ANALYSIS_TMP		".query"	/* under the store */
/* The relay's own binary, as it was started, even if replaced since. */
#define ANALYSIS_SELF		"/proc/self/exe"

struct analysis_job {
	char			 id[128];
	char			 rel[PATH_MAX];
	int64_t			 submitted_ms;
	int			 is_backfill;
	TAILQ_ENTRY(analysis_job) entry;
};
TAILQ_HEAD(analysis_jobs, analysis_job);

struct analysis_thread {
	struct analysis		*a;
	pthread_t		 thread;
	unsigned		 index;
	char			 current[128];	/* the id being analyzed */
};

/* A drill-down: the trace read in a child. */
struct analysis_query {
	struct analysis		*a;
	char			 rel[PATH_MAX];
	struct trace_query	 q;
	analysis_done		 done;
	void			*arg;
	json_t			*answer;
	int			 status;
	char			 error[600];
};

struct analysis {
	struct event_base	*base;
	int			 cancel[2];	/* readable once stopping */
	char			 store_dir[PATH_MAX];
	char			 catalog_path[PATH_MAX];
	char			 tmp_dir[PATH_MAX];
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	/* Under lock: */
	struct analysis_config	 conf;
	struct analysis_jobs	 fresh;		/* after an ACK */
	struct analysis_jobs	 backfill;
	unsigned		 nfresh;
	double			 tokens;	/* backfill budget */
	int64_t			 tokens_ms;
	int			 is_stopping;
	unsigned		 uploads;	/* analysis_uploads() */
	unsigned		 threads_waiting; /* for uploads to end */
	struct analysis_stats	 stats;
	struct histogram	 ready_ms;
	/* Threads. */
	struct analysis_thread	 threads[ANALYSIS_THREADS_MAX];
	unsigned		 nthreads;
	struct worker		*queries;	/* query threads, one queue */
	unsigned		 queries_pending;	/* loop only */
};

static int64_t
analysis_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct isolate_limits *
analysis_limits(const struct analysis *a, const struct analysis_config *c,
    struct isolate_limits *l)
{
	/* The budget marks a summary partial; the limit kills a stuck child. */
	l->cpu_seconds = (unsigned)(c->cpu_budget_ms / 1000) * 2 + 10;
	l->memory_bytes = c->memory_bytes;
	l->timeout_ms = c->timeout_ms;
	l->nice = ANALYSIS_NICE;
	l->cancel_fd = a->cancel[0];
	return l;
}

/*
 * Marks a snapshot that could not be analyzed or whose summary could
 * not be stored as failed, so that the backfill does not pick it again
 * and again.
 */
static void
analysis_give_up(struct analysis *a, struct catalog *catalog,
    const struct analysis_job *job, const char *dir, const char *why)
{
	json_t	*failed;
	char	 err[512];

	(void)a;
	log_warnx("analysis: %s: %s", job->id, why);
	if (catalog == NULL || (failed = analyze_failed(dir, why)) == NULL)
		return;
	if (catalog_set_summary(catalog, job->id, failed, err,
	    sizeof(err)) == -1)
		log_debug("analysis: %s: catalog: %s", job->id, err);
	json_decref(failed);
}

/* Analysis thread: one snapshot, from its child to the catalog. */
static void
analysis_run(struct analysis *a, struct catalog *catalog,
    struct analysis_job *job, const struct analysis_config *conf)
{
	struct isolate_limits	 limits;
	char			 dir[PATH_MAX * 2], budget[32], err[600];
	char			 why[700];
	char			*argv[] = { ANALYSIS_SELF, "--analyze", dir,
				    "--budget", budget, NULL };
	json_t			*summary;
	int			 is_failed;
	int64_t			 ms;

	snprintf(dir, sizeof(dir), "%s/%s", a->store_dir, job->rel);
	snprintf(budget, sizeof(budget), "%" PRIu64, conf->cpu_budget_ms);
	if (!store_is_valid_path(job->rel)) {
		analysis_give_up(a, catalog, job, dir, "the catalog holds a bad "
		    "path for it");
		return;
	}
	/* s3: from the cache, where an upload leaves it; else fetched. */
	switch (store_localize(a->store_dir, job->rel, err, sizeof(err))) {
	case STORE_OK:
		break;
	case STORE_NOT_FOUND:
		/* Retention got there first (its row goes with it). */
		log_debug("analysis: %s: gone before its analysis", job->id);
		return;
	default:
		/* Left unanalyzed: the backfill comes back to it. */
		log_warnx("analysis: %s: %s", job->id, err);
		return;
	}
	summary = isolate_exec(argv, analysis_limits(a, conf, &limits), err,
	    sizeof(err));
	if (summary == NULL) {
		snprintf(why, sizeof(why), "the analyzer %s", err);
		log_warnx("analysis: %s: %s", job->id, why);
		if ((summary = analyze_failed(dir, why)) == NULL)
			return;
	}
	is_failed = json_object_get(summary, "error") != NULL;
	if (analyze_write(dir, summary, err, sizeof(err)) == -1) {
		snprintf(why, sizeof(why), "summary.json: %s", err);
		analysis_give_up(a, catalog, job, dir, why);
		json_decref(summary);
		return;
	}
	/* Next to the snapshot's objects; the catalog has it either way. */
	if (store_put_summary(a->store_dir, job->rel, err, sizeof(err)) !=
	    STORE_OK)
		log_warnx("analysis: %s: summary.json: %s", job->id, err);
	if (catalog != NULL && catalog_set_summary(catalog, job->id, summary,
	    err, sizeof(err)) == -1)
		log_warnx("analysis: %s: catalog: %s", job->id, err);
	json_decref(summary);
	ms = analysis_now_ms() - job->submitted_ms;
	pthread_mutex_lock(&a->lock);
	if (is_failed)
		a->stats.failed++;
	else
		a->stats.done++;
	if (job->is_backfill)
		a->stats.backfilled++;
	else
		histogram_add(&a->ready_ms, ms > 0 ? (uint64_t)ms : 0);
	pthread_mutex_unlock(&a->lock);
	log_debug("analysis: %s: %s in %" PRId64 " ms", job->id, is_failed ?
	    "unreadable" : "summarized", ms);
}

/* Under lock: id is being analyzed or waits among the new ones. */
static int
analysis_is_current(struct analysis *a, const char *id)
{
	struct analysis_job	*job;
	unsigned		 i;

	for (i = 0; i < a->nthreads; i++)
		if (strcmp(a->threads[i].current, id) == 0)
			return 1;
	TAILQ_FOREACH(job, &a->fresh, entry)
		if (strcmp(job->id, id) == 0)
			return 1;
	return 0;
}

/*
 * Thread 0, under lock, queue empty: fills the backfill list from the
 * catalog, within the per-minute budget. Drops the lock to query.
 */
static void
analysis_refill(struct analysis *a, struct catalog *catalog)
{
	struct analysis_job	*job;
	json_t			*todo, *row;
	int64_t			 now = analysis_now_ms();
	unsigned		 rate = a->conf.backfill_per_minute;
	size_t			 i, want;

	if (rate == 0 || catalog == NULL)
		return;
	a->tokens += (double)(now - a->tokens_ms) * rate / 60000.0;
	a->tokens_ms = now;
	if (a->tokens > rate)
		a->tokens = rate;
	if (a->tokens < 1)
		return;
	want = a->tokens < ANALYSIS_BACKFILL_BATCH ? (size_t)a->tokens :
	    ANALYSIS_BACKFILL_BATCH;
	pthread_mutex_unlock(&a->lock);
	todo = catalog_unanalyzed(catalog, ANALYZER_VERSION, (int)want +
	    (int)a->nthreads);
	pthread_mutex_lock(&a->lock);
	json_array_foreach(todo, i, row) {
		const char *id = json_string_value(json_object_get(row, "id"));
		const char *path = json_string_value(json_object_get(row,
		    "path"));

		if (id == NULL || path == NULL || analysis_is_current(a, id) ||
		    a->tokens < 1)
			continue;
		if ((job = calloc(1, sizeof(*job))) == NULL)
			break;
		snprintf(job->id, sizeof(job->id), "%s", id);
		snprintf(job->rel, sizeof(job->rel), "%s", path);
		job->submitted_ms = now;
		job->is_backfill = 1;
		TAILQ_INSERT_TAIL(&a->backfill, job, entry);
		a->tokens -= 1;
	}
	json_decref(todo);
}

/*
 * Under lock: how long the next job should still wait for the uploads in
 * progress to end, in ms (0: start it).
 */
static int64_t
analysis_wait_ms(struct analysis *a)
{
	struct analysis_job	*job;
	int64_t			 age;

	if (a->uploads == 0 || a->conf.wait_for_uploads_ms == 0)
		return 0;
	if ((job = TAILQ_FIRST(&a->fresh)) == NULL &&
	    (job = TAILQ_FIRST(&a->backfill)) == NULL)
		return 0;
	age = analysis_now_ms() - job->submitted_ms;
	if (age >= (int64_t)a->conf.wait_for_uploads_ms)
		return 0;
	return (int64_t)a->conf.wait_for_uploads_ms - age;
}

static void *
analysis_thread_main(void *arg)
{
	struct analysis_thread	*t = arg;
	struct analysis		*a = t->a;
	struct analysis_config	 conf;
	struct analysis_job	*job;
	struct catalog		*catalog;
	struct timespec		 until;
	char			 err[512];
	int64_t			 wait_ms;

	/* Linux: a thread's nice value is its own. */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), ANALYSIS_NICE);
	if ((catalog = catalog_open(a->catalog_path, NULL, NULL, err,
	    sizeof(err))) == NULL)
		log_warnx("analysis: catalog: %s (summaries will not be "
		    "indexed)", err);
	pthread_mutex_lock(&a->lock);
	while (!a->is_stopping) {
		if ((wait_ms = analysis_wait_ms(a)) > 0) {
			clock_deadline(CLOCK_MONOTONIC, (uint64_t)wait_ms,
			    &until);
			a->threads_waiting++;
			pthread_cond_timedwait(&a->wake, &a->lock, &until);
			a->threads_waiting--;
			continue;
		}
		if ((job = TAILQ_FIRST(&a->fresh)) != NULL) {
			TAILQ_REMOVE(&a->fresh, job, entry);
			a->nfresh--;
		} else if ((job = TAILQ_FIRST(&a->backfill)) != NULL) {
			TAILQ_REMOVE(&a->backfill, job, entry);
		} else {
			if (t->index == 0)
				analysis_refill(a, catalog);
			if (!TAILQ_EMPTY(&a->backfill) || a->is_stopping)
				continue;
			clock_deadline(CLOCK_MONOTONIC, 1000, &until);
			pthread_cond_timedwait(&a->wake, &a->lock, &until);
			continue;
		}
		snprintf(t->current, sizeof(t->current), "%s", job->id);
		a->stats.running++;
		conf = a->conf;
		pthread_mutex_unlock(&a->lock);
		analysis_run(a, catalog, job, &conf);
		free(job);
		pthread_mutex_lock(&a->lock);
		a->stats.running--;
		t->current[0] = '\0';
	}
	pthread_mutex_unlock(&a->lock);
	catalog_close(catalog);
	return NULL;
}

struct analysis *
analysis_start(struct event_base *base, const char *store_dir, const char *catalog_path,
    const struct analysis_config *conf, char *err, size_t errlen)
{
	struct analysis		*a;
	pthread_condattr_t	 attr;
	unsigned		 i;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->base = base;
	if (pipe2(a->cancel, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		free(a);
		return NULL;
	}
	snprintf(a->store_dir, sizeof(a->store_dir), "%s", store_dir);
	snprintf(a->catalog_path, sizeof(a->catalog_path), "%s", catalog_path);
	snprintf(a->tmp_dir, sizeof(a->tmp_dir), "%s/%s", store_dir,
	    ANALYSIS_TMP);
	/* Leftovers of queries a crash or a killed child cut short. */
	file_remove_tree(a->tmp_dir, 0, NULL, 0);
	if (mkdir(a->tmp_dir, 0700) == -1) {
		snprintf(err, errlen, "%s: %s", a->tmp_dir, strerror(errno));
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	/* Timed waits against the clock the job ages are measured on. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&a->wake, &attr);
	pthread_condattr_destroy(&attr);
	TAILQ_INIT(&a->fresh);
	TAILQ_INIT(&a->backfill);
	a->conf = *conf;
	a->tokens_ms = analysis_now_ms();
	a->tokens = 1;
	/* None: this relay stores and serves, and analyzes nothing. */
	a->nthreads = conf->workers > ANALYSIS_THREADS_MAX ?
	    ANALYSIS_THREADS_MAX : conf->workers;
	a->queries = worker_start_threads(base, conf->query_threads,
	    "tt-query");
	for (i = 0; i < a->nthreads; i++) {
		a->threads[i].a = a;
		a->threads[i].index = i;
		if (pthread_create(&a->threads[i].thread, NULL,
		    analysis_thread_main, &a->threads[i]) != 0)
			fatalx("analysis: pthread_create");
		pthread_setname_np(a->threads[i].thread, "tt-analysis");
	}
	return a;
}

void
analysis_configure(struct analysis *a, const struct analysis_config *conf)
{
	pthread_mutex_lock(&a->lock);
	a->conf = *conf;
	/* A shorter wait_for_uploads applies to the jobs waiting now. */
	pthread_cond_broadcast(&a->wake);
	pthread_mutex_unlock(&a->lock);
}

void
analysis_stop(struct analysis *a)
{
	struct analysis_job	*job;
	unsigned		 i;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->is_stopping = 1;
	pthread_cond_broadcast(&a->wake);
	pthread_mutex_unlock(&a->lock);
	/* Running children are killed (isolate.h: cancel_fd), not awaited. */
	close(a->cancel[1]);
	for (i = 0; i < a->nthreads; i++)
		pthread_join(a->threads[i].thread, NULL);
	worker_stop(a->queries);
	while ((job = TAILQ_FIRST(&a->fresh)) != NULL) {
		TAILQ_REMOVE(&a->fresh, job, entry);
		free(job);
	}
	while ((job = TAILQ_FIRST(&a->backfill)) != NULL) {
		TAILQ_REMOVE(&a->backfill, job, entry);
		free(job);
	}
	close(a->cancel[0]);
	pthread_cond_destroy(&a->wake);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void
analysis_submit(struct analysis *a, const char *id, const char *rel_path)
{
	struct analysis_job *job;

	if (a == NULL || a->nthreads == 0)
		return;
	pthread_mutex_lock(&a->lock);
	a->stats.submitted++;
	/* A full queue drops it: the backfill finds it again later. */
	if (a->nfresh >= a->conf.queue_max ||
	    (job = calloc(1, sizeof(*job))) == NULL) {
		a->stats.dropped++;
		pthread_mutex_unlock(&a->lock);
		return;
	}
	snprintf(job->id, sizeof(job->id), "%s", id);
	snprintf(job->rel, sizeof(job->rel), "%s", rel_path);
	job->submitted_ms = analysis_now_ms();
	TAILQ_INSERT_TAIL(&a->fresh, job, entry);
	a->nfresh++;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
}

void
analysis_uploads(struct analysis *a, unsigned n)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->uploads = n;
	if (n == 0)
		pthread_cond_broadcast(&a->wake);
	pthread_mutex_unlock(&a->lock);
}

void
analysis_get_stats(struct analysis *a, struct analysis_stats *st)
{
	pthread_mutex_lock(&a->lock);
	*st = a->stats;
	st->queued = a->nfresh;
	/* While one thread waits, every new snapshot queued does. */
	st->waiting = a->threads_waiting > 0 ? a->nfresh : 0;
	st->ready_p50_ms = histogram_quantile(&a->ready_ms, 0.50);
	st->ready_p99_ms = histogram_quantile(&a->ready_ms, 0.99);
	st->ready_max_ms = a->ready_ms.max;
	st->ready_count = a->ready_ms.count;
	pthread_mutex_unlock(&a->lock);
	st->queries_refused = a->stats.queries_refused;
}

/* Query thread: the drill-down, in a child. */
static void
analysis_query_run(void *arg)
{
	struct analysis_query	*qr = arg;
	struct analysis		*a = qr->a;
	struct isolate_limits	 limits = { ANALYSIS_QUERY_CPU_S, 0,
				    ANALYSIS_QUERY_TIMEOUT, 0, a->cancel[0] };
	char			 dir[PATH_MAX * 2];
	char			 num[6][32], budget[32], err[512];
	char			 tmp[PATH_MAX + 16];
	char			*argv[24];
	size_t			 n = 0;

	qr->status = 200;
	if (!store_is_valid_path(qr->rel)) {
		qr->status = 500;
		snprintf(qr->error, sizeof(qr->error), "the catalog holds a bad "
		    "path for this snapshot; see the relay's log");
		return;
	}
	pthread_mutex_lock(&a->lock);
	limits.memory_bytes = a->conf.memory_bytes;
	pthread_mutex_unlock(&a->lock);
	/* The child's packets go under a directory of ours: a killed child
	 * leaves nothing behind. */
	snprintf(tmp, sizeof(tmp), "%s/q.XXXXXX", a->tmp_dir);
	if (mkdtemp(tmp) == NULL) {
		qr->status = 500;
		snprintf(qr->error, sizeof(qr->error), "%s: %s", tmp,
		    strerror(errno));
		return;
	}
	snprintf(dir, sizeof(dir), "%s/%s", a->store_dir, qr->rel);
	/* s3: the trace fetched into the cache when it is not there. */
	switch (store_localize(a->store_dir, qr->rel, err, sizeof(err))) {
	case STORE_OK:
		break;
	case STORE_NOT_FOUND:
		qr->status = 404;
		break;
	case STORE_UNAVAILABLE:
		qr->status = 503;
		break;
	default:
		qr->status = 500;
		break;
	}
	if (qr->status != 200) {
		file_remove_tree(tmp, 0, NULL, 0);
		snprintf(qr->error, sizeof(qr->error), "%s", err);
		return;
	}
	snprintf(num[0], sizeof(num[0]), "%" PRId64, qr->q.from_ns);
	snprintf(num[1], sizeof(num[1]), "%" PRId64, qr->q.to_ns);
	snprintf(num[2], sizeof(num[2]), "%" PRId64, qr->q.vpid);
	snprintf(num[3], sizeof(num[3]), "%" PRId64, qr->q.vtid);
	snprintf(num[4], sizeof(num[4]), "%zu", qr->q.limit);
	snprintf(budget, sizeof(budget), "%d", ANALYSIS_QUERY_CPU_S * 500);
	argv[n++] = ANALYSIS_SELF;
	argv[n++] = "--events";
	argv[n++] = dir;
	argv[n++] = "--from";
	argv[n++] = num[0];
	argv[n++] = "--to";
	argv[n++] = num[1];
	argv[n++] = "--vpid";
	argv[n++] = num[2];
	argv[n++] = "--vtid";
	argv[n++] = num[3];
	argv[n++] = "--limit";
	argv[n++] = num[4];
	argv[n++] = "--budget";
	argv[n++] = budget;
	argv[n++] = "--tmpdir";
	argv[n++] = tmp;
	if (qr->q.name[0] != '\0') {
		argv[n++] = "--name";
		argv[n++] = qr->q.name;
	}
	argv[n] = NULL;
	qr->answer = isolate_exec(argv, &limits, err, sizeof(err));
	file_remove_tree(tmp, 0, NULL, 0);
	if (qr->answer == NULL) {
		qr->status = 500;
		snprintf(qr->error, sizeof(qr->error), "reading the trace: the "
		    "reader %s", err);
	} else if (json_object_get(qr->answer, "error") != NULL) {
		qr->status = 422;
		snprintf(qr->error, sizeof(qr->error), "%s", json_string_value(
		    json_object_get(qr->answer, "error")) ?: "unreadable");
		json_decref(qr->answer);
		qr->answer = NULL;
	}
}

static void
analysis_query_done(void *arg)
{
	struct analysis_query *qr = arg;

	qr->a->queries_pending--;
	qr->done(qr->arg, qr->answer, qr->status, qr->error);
	free(qr);
}

static int
analysis_query_submit(struct analysis *a, struct analysis_query *qr)
{
	if (a->queries_pending >= a->conf.queries_max) {
		pthread_mutex_lock(&a->lock);
		a->stats.queries_refused++;
		pthread_mutex_unlock(&a->lock);
		free(qr);
		return -1;
	}
	a->queries_pending++;
	pthread_mutex_lock(&a->lock);
	a->stats.queries++;
	pthread_mutex_unlock(&a->lock);
	worker_submit(a->queries, analysis_query_run, analysis_query_done, qr);
	return 0;
}

int
analysis_events(struct analysis *a, const char *rel_path,
    const struct trace_query *q, analysis_done done, void *arg)
{
	struct analysis_query *qr;

	if ((qr = calloc(1, sizeof(*qr))) == NULL)
		return -1;
	qr->a = a;
	snprintf(qr->rel, sizeof(qr->rel), "%s", rel_path);
	qr->q = *q;
	qr->done = done;
	qr->arg = arg;
	return analysis_query_submit(a, qr);
}
