/*
 * cpu and memory watchers (watcher.h): building, sampling, hysteresis
 * through watch.c, triggers into the recorder's sink, status. Which pids
 * a process or pid-file watcher follows is watcher_process.c. The PSI
 * watchers live in psi.c; this file owns their set so that one build
 * reports every problem of the new configuration at once.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "clock.h"
#include "event_rule.h"
#include "ini.h"
#include "log.h"
#include "metrics.h"
#include "procstat.h"
#include "psi.h"
#include "tracetrap.h"
#include "trigger_sink.h"
#include "watch.h"
#include "watcher.h"
#include "watcher_set.h"
#include "xmalloc.h"

/* root + "/" + rest, without doubling the slash of root "/". */
void
watcher_join(char *out, size_t len, const char *root, const char *rest)
{
	size_t n = strlen(root);

	snprintf(out, len, "%s%s%s", root, n > 0 && root[n - 1] == '/' ? "" :
	    "/", rest);
}

void
watcher_proc_path(const struct watchers *set, char *out, size_t len,
    const char *rest)
{
	char	 sub[PATH_MAX];

	snprintf(sub, sizeof(sub), "proc/%s", rest);
	watcher_join(out, len, set->procfs_root, sub);
}

static const char *
watcher_kind_name(const struct watcher *w)
{
	return w->conf.kind == WATCHER_CPU ? "cpu" : "memory";
}

/* "process:nginx", "system".. for messages and status. */
static void
watcher_target_text(const struct watcher_conf *c, char *out, size_t len)
{
	if (c->target == WATCHER_SYSTEM)
		snprintf(out, len, "system");
	else
		snprintf(out, len, "%s:%s", trigger_config_target_name(
		    c->target), c->target_arg);
}

/* A value as an operator reads it: "93.2%", "512.0M". */
static void
watcher_format(const struct watcher *w, double v, char *out, size_t len)
{
	static const char	*units[] = { "", "k", "M", "G", "T" };
	size_t			 u = 0;

	if (w->conf.kind == WATCHER_CPU || w->conf.is_percent) {
		snprintf(out, len, "%.1f%%", v);
		return;
	}
	while (v >= 1024 && u < sizeof(units) / sizeof(units[0]) - 1) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, "%.1f%s", v, units[u]);
}

/* ---- sampling ---- */

/*
 * Reads the matched processes' stat files: the sum of their CPU ticks
 * since the last sample (a pid whose start time changed is another
 * process: it starts a new baseline) and of their RSS. A process that
 * is gone leaves the list.
 */
static void
watcher_read_pids(struct watcher *w, uint64_t *ticks, uint64_t *rss_bytes)
{
	struct procstat_task	 task;
	struct watcher_pid	*p;
	char			 path[PATH_MAX], rel[32];
	char			 buf[4096];
	size_t			 i;

	*ticks = *rss_bytes = 0;
	for (i = 0; i < w->npids; i++) {
		p = &w->pids[i];
		snprintf(rel, sizeof(rel), "%d/stat", (int)p->pid);
		watcher_proc_path(w->set, path, sizeof(path), rel);
		if (watcher_read(w->set, &p->fd, path, buf, sizeof(buf)) <= 0 ||
		    procstat_parse_task(buf, &task) == -1) {
			watcher_drop_pid(w, i--);
			continue;
		}
		/*
		 * A recycled pid under another name is not ours any more;
		 * the rescan's cache learns the name it has now.
		 */
		if (w->conf.target == WATCHER_PROCESS &&
		    strcmp(task.comm, w->conf.target_arg) != 0) {
			watcher_comm_learn(w->set, p->pid, task.comm);
			watcher_drop_pid(w, i--);
			continue;
		}
		if (p->has_prev && p->start_ticks == task.start_ticks)
			*ticks += procstat_delta(p->cpu_ticks, task.cpu_ticks);
		p->start_ticks = task.start_ticks;
		p->cpu_ticks = task.cpu_ticks;
		p->has_prev = 1;
		*rss_bytes += task.rss_pages * (uint64_t)w->set->page_size;
	}
}

/*
 * Takes one sample into w->value. Returns 1 with a value, 0 when this was
 * the first sample of a rate (no value yet), -1 with w->error set.
 */
static int
watcher_sample(struct watcher *w, uint64_t now_us)
{
	struct procstat_cpu	 cpu;
	char			 buf[WATCHER_FILE_MAX];
	uint64_t		 elapsed = now_us - w->prev_us, a, b;
	double			 v = 0;
	int			 has_rate = w->has_prev;

	w->error[0] = '\0';
	if (w->conf.target == WATCHER_PROCESS ||
	    w->conf.target == WATCHER_PIDFILE) {
		watcher_read_pids(w, &a, &b);
		if (w->conf.kind == WATCHER_CPU)
			v = procstat_share_percent(0, a,
			    (uint64_t)w->set->hz, elapsed);
		else {
			v = (double)b;
			has_rate = 1;
		}
		goto done;
	}
	if (watcher_read(w->set, &w->fd, w->path, buf, sizeof(buf)) == -1) {
		snprintf(w->error, sizeof(w->error), "%s: %s", w->path,
		    strerror(errno));
		return -1;
	}
	if (w->conf.kind == WATCHER_CPU && w->conf.target == WATCHER_SYSTEM) {
		if (procstat_parse_stat(buf, &cpu) == -1)
			goto bad;
		if (has_rate)
			v = procstat_cpu_percent(&w->prev_cpu, &cpu);
		w->prev_cpu = cpu;
	} else if (w->conf.kind == WATCHER_CPU) {
		if (procstat_parse_cgroup_cpu(buf, &a) == -1)
			goto bad;
		if (has_rate)
			v = procstat_share_percent(w->prev_usage_usec, a,
			    1000000, elapsed);
		w->prev_usage_usec = a;
	} else if (w->conf.target == WATCHER_SYSTEM) {
		if (procstat_parse_meminfo(buf, &a, &b) == -1 || b == 0)
			goto bad;
		v = w->conf.is_percent ? 100.0 * (double)a / (double)b :
		    (double)a;
		has_rate = 1;
	} else {
		if (procstat_parse_uint(buf, &a) == -1)
			goto bad;
		v = (double)a;
		has_rate = 1;
	}
done:
	w->has_prev = 1;
	w->prev_us = now_us;
	/* No time between two samples gives no rate: keep the last one. */
	if (!has_rate || v < 0)
		return 0;
	w->value = v;
	w->has_value = 1;
	return 1;
bad:
	snprintf(w->error, sizeof(w->error), "%s: not in the format the "
	    "kernel writes", w->path);
	return -1;
}

/* ---- firing ---- */

static void
watcher_fire(struct watcher *w)
{
	struct tracetrap_label	 labels[4];
	char			 value[32], threshold[32], target[300];
	char			 reason[TRIGGER_REASON_MAX + 96];

	watcher_format(w, w->value, value, sizeof(value));
	watcher_format(w, w->limits.threshold, threshold, sizeof(threshold));
	watcher_target_text(&w->conf, target, sizeof(target));
	snprintf(reason, sizeof(reason), "%s: %s %s %s for %llu ms",
	    w->conf.reason, value, w->limits.direction == WATCH_ABOVE ?
	    ">=" : "<=", threshold, (unsigned long long)w->conf.sustain_ms);
	labels[0].key = "watcher";
	labels[0].value = w->conf.name;
	labels[1].key = "value";
	labels[1].value = value;
	labels[2].key = "threshold";
	labels[2].value = threshold;
	labels[3].key = "target";
	labels[3].value = target;
	w->last_fire_realtime_us = clock_realtime_us();
	trigger_sink_fire(&w->set->sink, watcher_kind_name(w), reason,
	    w->conf.is_cluster, labels, 4);
}

static void
watcher_update(struct watcher *w, uint64_t now_us)
{
	char		 value[32], limit[32];
	uint64_t	 from_us;
	int		 ret;

	/* A rate is an average since the previous sample (watch.h). */
	from_us = w->conf.kind == WATCHER_CPU && w->has_prev ? w->prev_us :
	    now_us;
	ret = watcher_sample(w, now_us);
	w->samples++;
	if (ret == -1) {
		log_debug("%s watcher %s: %s", watcher_kind_name(w),
		    w->conf.name, w->error);
		return;
	}
	if (ret == 0)
		return;
	watcher_format(w, w->value, value, sizeof(value));
	switch (watch_update(&w->state, &w->limits, w->value, from_us / 1000,
	    now_us / 1000)) {
	case WATCH_EDGE_NONE:
		break;
	case WATCH_EDGE_CROSSED:
		watcher_format(w, w->limits.threshold, limit, sizeof(limit));
		log_info("%s watcher %s: %s, past %s; fires if it stays %llu "
		    "ms", watcher_kind_name(w), w->conf.name, value, limit,
		    (unsigned long long)w->limits.sustain_ms);
		break;
	case WATCH_EDGE_RECOVERED:
		log_info("%s watcher %s: %s, back before sustain",
		    watcher_kind_name(w), w->conf.name, value);
		break;
	case WATCH_EDGE_FIRE:
		watcher_format(w, w->limits.threshold, limit, sizeof(limit));
		log_warnx("%s watcher %s: fired: %s past %s for %llu ms",
		    watcher_kind_name(w), w->conf.name, value, limit,
		    (unsigned long long)w->limits.sustain_ms);
		watcher_fire(w);
		break;
	case WATCH_EDGE_REARMED:
		watcher_format(w, w->limits.rearm, limit, sizeof(limit));
		log_info("%s watcher %s: re-armed: %s, back past %s",
		    watcher_kind_name(w), w->conf.name, value, limit);
		break;
	}
}

static void
watcher_on_tick(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	watcher_update(arg, clock_monotonic_us());
}

/* ---- building ---- */

/* The file a system or cgroup watcher reads; "" for process targets. */
static void
watcher_path(const struct watchers *set, const struct watcher_conf *c,
    char *out, size_t len)
{
	char	 rel[PATH_MAX];

	out[0] = '\0';
	switch (c->target) {
	case WATCHER_SYSTEM:
		watcher_proc_path(set, out, len, c->kind == WATCHER_CPU ?
		    "stat" : "meminfo");
		break;
	case WATCHER_CGROUP:
		snprintf(rel, sizeof(rel), "sys/fs/cgroup/%s/%s",
		    c->target_arg, c->kind == WATCHER_CPU ? "cpu.stat" :
		    "memory.current");
		watcher_join(out, len, set->sysfs_root, rel);
		break;
	case WATCHER_PIDFILE:
		snprintf(out, len, "%s", c->target_arg);
		break;
	case WATCHER_PROCESS:
		break;
	}
}

static struct watcher *
watcher_new(struct watchers *set, const struct watcher_conf *c)
{
	struct watcher *w;

	w = xcalloc(1, sizeof(*w));
	w->pids = xcalloc(WATCHER_PIDS_MAX, sizeof(*w->pids));
	w->set = set;
	w->fd = -1;
	w->conf = *c;
	w->limits.direction = c->kind == WATCHER_MEMORY &&
	    c->target == WATCHER_SYSTEM ? WATCH_BELOW : WATCH_ABOVE;
	w->limits.threshold = c->threshold;
	w->limits.rearm = c->rearm;
	w->limits.sustain_ms = c->sustain_ms;
	watch_init(&w->state);
	watcher_path(set, c, w->path, sizeof(w->path));
	return w;
}

static void
watcher_free(struct watcher *w)
{
	size_t i;

	if (w->tick != NULL)
		event_free(w->tick);
	watcher_close(w->set, &w->fd);
	for (i = 0; i < w->npids; i++)
		watcher_close(w->set, &w->pids[i].fd);
	free(w->pids);
	free(w);
}

/* What the running system must offer this watcher; "" when it does. */
static void
watcher_check(struct watcher *w, char *problem, size_t len)
{
	char	 buf[WATCHER_FILE_MAX];

	problem[0] = '\0';
	switch (w->conf.target) {
	case WATCHER_PROCESS:
		if (w->npids == 0)
			snprintf(problem, len, "no process named '%s' is "
			    "running", w->conf.target_arg);
		break;
	case WATCHER_PIDFILE:
		if (w->npids == 0)
			snprintf(problem, len, "%s does not name a running "
			    "process", w->path);
		break;
	case WATCHER_SYSTEM:
	case WATCHER_CGROUP:
		if (procstat_read(w->path, buf, sizeof(buf)) == -1)
			snprintf(problem, len, "cannot read %s: %s%s", w->path,
			    strerror(errno), w->conf.target == WATCHER_CGROUP ?
			    " (is it a cgroup v2 directory with the "
			    "controller enabled?)" : "");
		else if (watcher_sample(w, clock_monotonic_us()) == -1)
			snprintf(problem, len, "%s", w->error);
		break;
	}
}

struct watchers *
watchers_new(const struct trigger_confs *confs,
    const struct trigger_sink *sink, const char *name, char *err, size_t errlen)
{
	const struct watcher_conf	*c;
	struct watchers			*set;
	struct watcher			*w;
	char				 problem[PATH_MAX + 128];
	size_t				 i;
	int				 nerrors = 0;

	if (errlen > 0)
		err[0] = '\0';
	set = xcalloc(1, sizeof(*set));
	set->sink = *sink;
	snprintf(set->procfs_root, sizeof(set->procfs_root), "%s",
	    confs->procfs_root);
	snprintf(set->sysfs_root, sizeof(set->sysfs_root), "%s",
	    confs->sysfs_root);
	set->rescan_ms = confs->process_rescan_ms;
	set->hz = sysconf(_SC_CLK_TCK);
	set->page_size = sysconf(_SC_PAGESIZE);
	if (set->hz <= 0)
		set->hz = 100;
	for (i = 0; i < confs->nwatchers; i++) {
		c = &confs->watchers[i];
		w = watcher_new(set, c);
		set->list[set->n++] = w;
		if (c->target == WATCHER_PROCESS)
			set->nprocess++;
		else if (c->target == WATCHER_PIDFILE)
			set->npidfile++;
	}
	watchers_rescan(set);
	for (i = 0; i < set->n; i++) {
		w = set->list[i];
		watcher_check(w, problem, sizeof(problem));
		if (problem[0] == '\0')
			continue;
		ini_append_error(err, errlen, name, w->conf.target_line != 0 ?
		    w->conf.target_line : w->conf.line, "[trigger.%s.%s] "
		    "target: %s", watcher_kind_name(w), w->conf.name, problem);
		nerrors++;
	}
	set->psi = psi_set_new(confs, sink, name, err, errlen,
	    &nerrors);
	if (nerrors > 0) {
		watchers_free(set);
		return NULL;
	}
	return set;
}

void
watchers_start(struct watchers *set, struct event_base *base,
    struct watchers *previous)
{
	struct watcher	*w, *old;
	struct timeval	 tv;
	size_t		 i, j;

	set->base = base;
	for (i = 0; i < set->n; i++) {
		w = set->list[i];
		for (j = 0; previous != NULL && j < previous->n; j++) {
			old = previous->list[j];
			if (trigger_config_watcher_differs(&old->conf,
			    &w->conf))
				continue;
			/* Same settings: the same watcher, going on. */
			w->state = old->state;
			w->last_fire_realtime_us = old->last_fire_realtime_us;
		}
		w->tick = event_new(set->base, -1, EV_PERSIST,
		    watcher_on_tick, w);
		tv.tv_sec = (time_t)(w->conf.interval_ms / 1000);
		tv.tv_usec = (suseconds_t)(w->conf.interval_ms % 1000) * 1000;
		event_add(w->tick, &tv);
	}
	if (set->nprocess > 0 || set->npidfile > 0) {
		set->rescan = event_new(set->base, -1, EV_PERSIST,
		    watchers_on_rescan, set);
		tv.tv_sec = (time_t)(set->rescan_ms / 1000);
		tv.tv_usec = (suseconds_t)(set->rescan_ms % 1000) * 1000;
		event_add(set->rescan, &tv);
	}
	psi_set_start(set->psi, base);
}

void
watchers_free(struct watchers *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		watcher_free(set->list[i]);
	if (set->rescan != NULL)
		event_free(set->rescan);
	free(set->comms);
	psi_set_free(set->psi);
	free(set);
}

size_t
watchers_count(const struct watchers *set)
{
	return set == NULL ? 0 : set->n + psi_set_count(set->psi);
}

void
watchers_tick_all(struct watchers *set, uint64_t now_us)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		watcher_update(set->list[i], now_us);
}

void
watchers_rescan_now(struct watchers *set)
{
	watchers_rescan(set);
}

/* ---- status ---- */

static json_t *
watcher_json(const struct watcher *w)
{
	char	 target[300], when[64] = "";
	json_t	*o;

	watcher_target_text(&w->conf, target, sizeof(target));
	if (w->last_fire_realtime_us != 0)
		clock_format_utc(w->last_fire_realtime_us, when,
		    sizeof(when));
	o = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:I, s:I, s:s, s:I, "
	    "s:s?, s:I}", "name", w->conf.name, "kind", watcher_kind_name(w),
	    "target", target, "unit", w->conf.kind == WATCHER_CPU ||
	    w->conf.is_percent ? "percent" : "bytes",
	    "threshold", w->limits.threshold, "rearm", w->limits.rearm,
	    "sustain_ms", (json_int_t)w->conf.sustain_ms,
	    "interval_ms", (json_int_t)w->conf.interval_ms,
	    "state", watch_phase_name(w->state.phase),
	    "fires", (json_int_t)w->state.fires,
	    "last_fire", when[0] != '\0' ? when : NULL,
	    "samples", (json_int_t)w->samples);
	if (w->has_value)
		json_object_set_new(o, "value", json_real(w->value));
	else
		json_object_set_new(o, "value", json_null());
	if (w->conf.target == WATCHER_PROCESS ||
	    w->conf.target == WATCHER_PIDFILE)
		json_object_set_new(o, "processes",
		    json_integer((json_int_t)w->npids));
	if (w->error[0] != '\0')
		json_object_set_new(o, "error", json_string(w->error));
	return o;
}

json_t *
watchers_status(const struct watchers *set)
{
	json_t	*a = json_array();
	size_t	 i;

	if (set == NULL)
		return a;
	for (i = 0; i < set->n; i++)
		json_array_append_new(a, watcher_json(set->list[i]));
	psi_set_status(set->psi, a);
	return a;
}

void
watchers_metrics(const struct watchers *set,
    const struct event_rule_set *rules, struct evbuffer *out)
{
	const struct watcher	*w;
	size_t			 i;

	if (set == NULL)
		return;
	metrics_head(out, "tracetrap_watcher_value", 1,
	    "A watcher's last reading (percent, bytes or PSI avg).");
	for (i = 0; i < set->n; i++) {
		w = set->list[i];
		if (w->has_value)
			evbuffer_add_printf(out, "tracetrap_watcher_value"
			    "{watcher=\"%s\",kind=\"%s\"} %.3f\n", w->conf.name,
			    watcher_kind_name(w), w->value);
	}
	metrics_head(out, "tracetrap_watcher_state", 1,
	    "A watcher's phase: 0 armed, 1 past its threshold (not for long "
	    "enough yet), 2 fired and waiting to rearm.");
	for (i = 0; i < set->n; i++) {
		w = set->list[i];
		evbuffer_add_printf(out, "tracetrap_watcher_state{watcher="
		    "\"%s\",kind=\"%s\"} %d\n", w->conf.name,
		    watcher_kind_name(w), (int)w->state.phase);
	}
	metrics_head(out, "tracetrap_watcher_fires_total", 0,
	    "Triggers fired by each watcher, PSI trigger and event rule.");
	for (i = 0; i < set->n; i++) {
		w = set->list[i];
		evbuffer_add_printf(out, "tracetrap_watcher_fires_total{watcher="
		    "\"%s\",kind=\"%s\"} %llu\n", w->conf.name,
		    watcher_kind_name(w), (unsigned long long)w->state.fires);
	}
	psi_set_metrics(set->psi, out);
	event_rule_set_metrics_fires(rules, out);
	metrics_head(out, "tracetrap_watcher_rescans_total", 0,
	    "Rescans of the process table for pid and comm watchers.");
	evbuffer_add_printf(out, "tracetrap_watcher_rescans_total %llu\n",
	    (unsigned long long)set->rescans);
}
