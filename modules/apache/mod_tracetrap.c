/*
 * mod_tracetrap: Apache httpd asks the flight recorder for a snapshot when
 * a request is slow or fails, and puts every request into the trace, so
 * that the snapshot shows what that request was doing.
 *
 * Per request: post_read_request takes a CLOCK_MONOTONIC start (request_rec's
 * request_time is wall clock, which steps) into the request's own
 * request_config, so nothing is shared between the threads of the event or
 * worker MPMs, and fires tracetrap_httpd:request_begin. log_transaction, run
 * before mod_log_config's, measures the request, fires request_end, and when
 * the request broke a rule of its location (TraceTrapSlowRequest,
 * TraceTrapOnStatus) sends one trigger datagram through libtracetrap:
 * MSG_DONTWAIT, no fork, no lock, no answer awaited (DESIGN.md, "The Apache
 * module never talks LTTng and never blocks a request").
 *
 * A flood of slow requests is cut at the source: each child sends at most
 * TraceTrapMaxPerSecond triggers a second (one atomic word, safe under the
 * threaded MPMs); the recorder's own limits decide what becomes a snapshot.
 * Triggers sent, dropped (recorder absent or its queue full) and held back
 * by that limit are counted for all children together in an anonymous
 * shared mapping made by the parent, shown by mod_status.
 *
 * Tracepoints: the probes live in tracetrap_httpd_tp.so, linked with
 * liblttng-ust, which this module loads in child_init, in every child after
 * the fork. Loading liblttng-ust in the parent (linking it into this module)
 * would start its listener threads and register the parent with the session
 * daemon; the children, made by fork() without lttng-ust's fork hooks, would
 * then inherit a tracer whose threads do not exist in them and never
 * register: their events would be lost. Loaded after the fork, each child
 * starts its own tracer and needs no fork hook. The module itself only holds
 * the call sites (LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE), a predicted
 * branch each while no session enables the events.
 */
#include <sys/types.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_status.h"
#include "unixd.h"

#include "apr_optional_hooks.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include "tracetrap.h"

#include "mod_tracetrap.h"

#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#include "tracetrap_httpd_tp.h"

#define TRAP_WARNING_INTERVAL_S		60
#define TRAP_PROVIDER			"tracetrap_httpd_tp.so"
#define TRAP_RETAINED_KEY		"mod_tracetrap"
#define TRAP_SOURCE			"apache"

/* Why a request triggers: a bit each. */
#define TRAP_CAUSE_SLOW			0x1
#define TRAP_CAUSE_STATUS		0x2

/* The request's own state, in r->request_config. */
struct trap_request {
	uint64_t	 start_us;	/* CLOCK_MONOTONIC, as LTTng's clock */
	const char	*id;		/* made when first needed */
	const char	*method;
	const char	*uri;
	const char	*vhost;
};

/* Every child's counts, in a mapping shared by all of them. */
struct trap_counters {
	_Atomic uint64_t	sent;
	_Atomic uint64_t	dropped;
	_Atomic uint64_t	limited;
};

/* Kept across restarts (ap_retained_data), so counts survive a reload. */
struct trap_retained {
	struct trap_counters	*counters;
};

static struct trap_counters	*trap_counters;
static const char		*trap_provider_path;

/*
 * The state of this process (a child), reset by child_init. The limiter
 * window packs the second (high half) and the triggers sent in it (low
 * half) in one word, so that a compare-and-swap moves both together.
 */
static struct {
	_Atomic uint64_t	window;
	_Atomic int64_t		warn_after_s;
	_Atomic uint64_t	next_id;
	apr_uint64_t		started_s;
	pid_t			pid;
} trap_child;

static uint64_t
trap_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
trap_count(_Atomic uint64_t *counter)
{
	atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

static uint64_t
trap_read(_Atomic uint64_t *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

/*
 * The per-child limit: at most max triggers in one second of the
 * monotonic clock. Lock-free; the loser of a race retries with the
 * winner's value.
 */
static int
trap_limiter_allow(int max)
{
	uint64_t	second, current, next;

	second = (trap_now_us() / 1000000) & 0xffffffff;
	current = atomic_load(&trap_child.window);
	do {
		if ((current >> 32) != second)
			next = second << 32 | 1;
		else if ((current & 0xffffffff) >= (uint64_t)max)
			return 0;
		else
			next = current + 1;
	} while (!atomic_compare_exchange_weak(&trap_child.window, &current,
	    next));
	return 1;
}

/* The request's id: mod_unique_id's when it is loaded, else our own. */
static const char *
trap_request_id(request_rec *r, struct trap_request *tr)
{
	const char	*id;

	if (tr->id != NULL)
		return tr->id;
	id = apr_table_get(r->subprocess_env, "UNIQUE_ID");
	if (id == NULL || *id == '\0') {
		/* pid and child start time: unique on this node. */
		id = apr_psprintf(r->pool, "%" APR_UINT64_T_HEX_FMT "-%"
		    APR_PID_T_FMT "-%" APR_UINT64_T_FMT, trap_child.started_s,
		    trap_child.pid, (apr_uint64_t)atomic_fetch_add(
		    &trap_child.next_id, 1));
	}
	tr->id = id;
	return id;
}

static int
trap_post_read_request(request_rec *r)
{
	struct trap_request	*tr;

	/* Internal redirects are part of the request they came from. */
	if (r->prev != NULL || r->main != NULL)
		return DECLINED;
	tr = apr_palloc(r->pool, sizeof *tr);
	tr->start_us = trap_now_us();
	tr->id = NULL;
	tr->method = r->method != NULL ? r->method : "";
	tr->uri = r->uri != NULL ? r->uri : "";
	tr->vhost = r->server->server_hostname != NULL ?
	    r->server->server_hostname : "";
	ap_set_module_config(r->request_config, &tracetrap_module, tr);
	if (lttng_ust_tracepoint_enabled(tracetrap_httpd, request_begin)) {
		lttng_ust_do_tracepoint(tracetrap_httpd, request_begin,
		    trap_request_id(r, tr), tr->method, tr->uri, tr->vhost);
	}
	return DECLINED;
}

static int
trap_cause(const struct trap_dir *dir, int status, uint64_t duration_us)
{
	int64_t	slow_us;
	int	cause = 0;

	if (dir->enabled == 0)
		return 0;
	slow_us = dir->slow_us != TRAP_UNSET ? dir->slow_us :
	    TRAP_DEFAULT_SLOW_US;
	if (slow_us > 0 && duration_us > (uint64_t)slow_us)
		cause |= TRAP_CAUSE_SLOW;
	if (dir->statuses != NULL &&
	    directive_has_status(dir->statuses, status))
		cause |= TRAP_CAUSE_STATUS;
	return cause;
}

/* The recorder wants methods as [A-Z]{1,16}; others are left out. */
static int
trap_is_method(const char *method)
{
	size_t	i;

	for (i = 0; method[i] != '\0'; i++) {
		if (i == 16 || method[i] < 'A' || method[i] > 'Z')
			return 0;
	}
	return i > 0;
}

/*
 * A dropped trigger is worth a warning (the recorder is down, or Apache's
 * user may not write to its socket), but not one per request: at most one
 * a minute per child.
 */
static void
trap_warn_dropped(request_rec *r, const char *socket, int error)
{
	int64_t	now_s, after;

	now_s = (int64_t)(trap_now_us() / 1000000);
	after = atomic_load(&trap_child.warn_after_s);
	if (now_s < after || !atomic_compare_exchange_strong(
	    &trap_child.warn_after_s, &after, now_s + TRAP_WARNING_INTERVAL_S))
		return;
	ap_log_rerror(APLOG_MARK, APLOG_WARNING, error, r, TTLOGNO(00001)
	    "trigger dropped: %s takes no datagram (is tracetrap-recorder "
	    "running, and may user %s write to it?); %" APR_UINT64_T_FMT
	    " dropped so far, "
	    "shown in /server-status; next warning in a minute at the "
	    "earliest", socket, ap_unixd_config.user_name != NULL ?
	    ap_unixd_config.user_name : "?",
	    trap_counters != NULL ? trap_read(&trap_counters->dropped) : 0);
}

static void
trap_fire(request_rec *r, struct trap_request *tr,
    const struct trap_dir *dir, int status, uint64_t duration_us, int cause)
{
	const struct trap_server	*server = trap_config_server(r->server);
	struct tracetrap_label		 labels[6];
	const char			*socket, *reason;
	char				 text[TRAP_REASON_MAX + 64];
	char				 took[32], limit[32], status_text[8];
	char				 duration_text[24];
	size_t				 n = 0;
	int				 max, error;

	max = server->max_per_second != TRAP_UNSET ? server->max_per_second :
	    TRAP_DEFAULT_MAX_PER_SECOND;
	if (!trap_limiter_allow(max)) {
		if (trap_counters != NULL)
			trap_count(&trap_counters->limited);
		return;
	}

	if (dir->reason != NULL)
		reason = dir->reason;
	else {
		directive_format_duration(duration_us, took, sizeof took);
		directive_format_duration((uint64_t)(dir->slow_us != TRAP_UNSET ?
		    dir->slow_us : TRAP_DEFAULT_SLOW_US), limit, sizeof limit);
		if (cause == (TRAP_CAUSE_SLOW | TRAP_CAUSE_STATUS)) {
			snprintf(text, sizeof text, "status %d, slow request "
			    "%s > %s", status, took, limit);
		} else if (cause == TRAP_CAUSE_SLOW) {
			snprintf(text, sizeof text, "slow request %s > %s",
			    took, limit);
		} else
			snprintf(text, sizeof text, "status %d", status);
		reason = text;
	}

	labels[n].key = "url";
	labels[n++].value = tr->uri;
	if (trap_is_method(tr->method)) {
		labels[n].key = "method";
		labels[n++].value = tr->method;
	}
	if (status >= 100 && status <= 999) {
		snprintf(status_text, sizeof status_text, "%d", status);
		labels[n].key = "status";
		labels[n++].value = status_text;
	}
	snprintf(duration_text, sizeof duration_text, "%llu",
	    (unsigned long long)duration_us);
	labels[n].key = "duration_us";
	labels[n++].value = duration_text;
	labels[n].key = "vhost";
	labels[n++].value = tr->vhost;
	labels[n].key = "request_id";
	labels[n++].value = trap_request_id(r, tr);

	socket = server->socket != NULL ? server->socket :
	    TRACETRAP_TRIGGER_SOCKET;
	if (tracetrap_trigger_to(socket, TRAP_SOURCE, reason,
	    dir->scope != TRAP_UNSET ? (enum tracetrap_scope)dir->scope :
	    TRACETRAP_SCOPE_NODE, labels, n) == 0) {
		if (trap_counters != NULL)
			trap_count(&trap_counters->sent);
		return;
	}
	error = errno;
	if (trap_counters != NULL)
		trap_count(&trap_counters->dropped);
	trap_warn_dropped(r, socket, error);
}

/*
 * Runs before mod_log_config's hook (APR_HOOK_FIRST): once a request's
 * access log line is written, its trigger has been sent, which lets the
 * tests wait on the log instead of sleeping.
 */
static int
trap_log_transaction(request_rec *r)
{
	struct trap_request	*tr;
	const struct trap_dir	*dir;
	request_rec		*last;
	uint64_t		 duration_us;
	int			 cause, status;

	tr = ap_get_module_config(r->request_config, &tracetrap_module);
	if (tr == NULL)
		return DECLINED;
	duration_us = trap_now_us() - tr->start_us;
	/* The final status, after internal redirects, as %>s logs it. */
	for (last = r; last->next != NULL; last = last->next)
		;
	status = last->status;
	/* The rules of the URL the client asked for. */
	dir = ap_get_module_config(r->per_dir_config, &tracetrap_module);
	cause = trap_cause(dir, status, duration_us);
	/* Into the ring before the trigger, so the snapshot holds it. */
	if (lttng_ust_tracepoint_enabled(tracetrap_httpd, request_end)) {
		lttng_ust_do_tracepoint(tracetrap_httpd, request_end,
		    trap_request_id(r, tr), tr->method, tr->uri, tr->vhost,
		    status, duration_us, cause != 0);
	}
	if (cause != 0)
		trap_fire(r, tr, dir, status, duration_us, cause);
	return DECLINED;
}

static int
trap_status_hook(request_rec *r, int flags)
{
	apr_uint64_t	sent = 0, dropped = 0, limited = 0;

	if (trap_counters != NULL) {
		sent = trap_read(&trap_counters->sent);
		dropped = trap_read(&trap_counters->dropped);
		limited = trap_read(&trap_counters->limited);
	}
	if (flags & AP_STATUS_SHORT) {
		ap_rprintf(r, "TraceTrapSent: %" APR_UINT64_T_FMT "\n"
		    "TraceTrapDropped: %" APR_UINT64_T_FMT "\n"
		    "TraceTrapLimited: %" APR_UINT64_T_FMT "\n", sent, dropped,
		    limited);
		return OK;
	}
	ap_rputs("<hr />\n<h2>mod_tracetrap</h2>\n<dl>\n", r);
	ap_rprintf(r, "<dt>Triggers sent to the recorder: %" APR_UINT64_T_FMT
	    "</dt>\n<dt>Triggers dropped (recorder absent or busy): %"
	    APR_UINT64_T_FMT "</dt>\n<dt>Triggers held back by "
	    "TraceTrapMaxPerSecond: %" APR_UINT64_T_FMT "</dt>\n</dl>\n",
	    sent, dropped, limited);
	return OK;
}

/* The provider sits next to this module: find our own file. */
static const char *
trap_find_provider(apr_pool_t *pool)
{
	Dl_info		 info;
	const char	*slash;

	if (dladdr(&tracetrap_module, &info) == 0 || info.dli_fname == NULL ||
	    (slash = strrchr(info.dli_fname, '/')) == NULL)
		return NULL;
	return apr_psprintf(pool, "%.*s/" TRAP_PROVIDER,
	    (int)(slash - info.dli_fname), info.dli_fname);
}

static int
trap_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
    server_rec *s)
{
	const struct trap_server	*server = trap_config_server(s);
	struct trap_retained		*retained;
	apr_shm_t			*shm;
	apr_status_t			 rv;
	int				 is_startup_pass;

	(void)plog;
	(void)ptemp;
	/* httpd reads its configuration twice at start; say things once. */
	is_startup_pass =
	    ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG;

	if ((retained = ap_retained_data_get(TRAP_RETAINED_KEY)) == NULL) {
		retained = ap_retained_data_create(TRAP_RETAINED_KEY,
		    sizeof *retained);
	}
	if (retained->counters == NULL) {
		/* Anonymous: inherited by every child, no file to clean up. */
		rv = apr_shm_create(&shm, sizeof *retained->counters, NULL,
		    s->process->pool);
		if (rv != APR_SUCCESS) {
			ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
			    TTLOGNO(00002) "no shared memory for the trigger "
			    "counters; /server-status will show none");
		} else {
			retained->counters = apr_shm_baseaddr_get(shm);
			memset(retained->counters, 0,
			    sizeof *retained->counters);
		}
	}
	trap_counters = retained->counters;

	trap_provider_path = NULL;
	if (server->has_events == 0)
		return OK;
	trap_provider_path = trap_find_provider(pconf);
	if (trap_provider_path == NULL ||
	    access(trap_provider_path, R_OK) != 0) {
		if (!is_startup_pass) {
			ap_log_error(APLOG_MARK, APLOG_WARNING,
			    trap_provider_path != NULL ? errno : 0, s,
			    TTLOGNO(00003) "tracepoints disabled: cannot read "
			    "%s (TraceTrapEvents Off silences this)",
			    trap_provider_path != NULL ? trap_provider_path :
			    TRAP_PROVIDER);
		}
		trap_provider_path = NULL;
	}
	return OK;
}

static void
trap_child_init(apr_pool_t *pchild, server_rec *s)
{
	(void)pchild;
	trap_child.pid = getpid();
	trap_child.started_s = (apr_uint64_t)time(NULL);
	atomic_store(&trap_child.window, 0);
	atomic_store(&trap_child.warn_after_s, 0);
	atomic_store(&trap_child.next_id, 0);

	if (trap_provider_path == NULL)
		return;
	/*
	 * Starts lttng-ust in this child: its constructor registers with
	 * the session daemon (waiting at most LTTNG_UST_REGISTER_TIMEOUT,
	 * 3 s by default, and only while one answers), and the probes'
	 * constructor connects this module's call sites. Never closed:
	 * liblttng-ust cannot be unloaded.
	 */
	if (dlopen(trap_provider_path, RTLD_NOW | RTLD_LOCAL) == NULL) {
		ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, TTLOGNO(00004)
		    "tracepoints disabled in this child: %s", dlerror());
	}
}

static void
trap_register_hooks(apr_pool_t *pool)
{
	/* UNIQUE_ID is set by mod_unique_id's post_read_request. */
	static const char * const after_unique_id[] = { "mod_unique_id.c",
	    NULL };

	(void)pool;
	ap_hook_post_config(trap_post_config, NULL, NULL, APR_HOOK_MIDDLE);
	ap_hook_child_init(trap_child_init, NULL, NULL, APR_HOOK_MIDDLE);
	ap_hook_post_read_request(trap_post_read_request, after_unique_id,
	    NULL, APR_HOOK_MIDDLE);
	ap_hook_log_transaction(trap_log_transaction, NULL, NULL,
	    APR_HOOK_FIRST);
	APR_OPTIONAL_HOOK(ap, status_hook, trap_status_hook, NULL, NULL,
	    APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(tracetrap) = {
	STANDARD20_MODULE_STUFF,
	trap_config_create_dir,
	trap_config_merge_dir,
	trap_config_create_server,
	trap_config_merge_server,
	trap_config_commands,
	trap_register_hooks,
	AP_MODULE_FLAG_NONE
};
