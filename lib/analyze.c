/*
 * The snapshot analyzer (analyze.h): one pass over a snapshot's traces
 * through trace_reader.c, each event counted, its requests paired, its
 * kernel switches followed and the triggers' events sought; then the
 * summary assembled (analyze_json.c, analyze_kernel.c, analyze_rules.c,
 * analyze_http.c) and written. analyze_run.h is what these files share.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"
#include "analyze_run.h"
#include "errbuf.h"
#include "file.h"
#include "text.h"

size_t
analyze_hash(int64_t v)
{
	uint64_t x = (uint64_t)v * 0x9e3779b97f4a7c15ULL;

	return (size_t)(x >> 40);
}

void
analyze_copy(char *dst, size_t len, const char *src)
{
	text_utf8_copy(dst, len, src ? src : "", src ? strlen(src) : 0);
}

static struct an_class *
an_class_of(struct analyze_run *a, const struct trace_event *ev)
{
	struct an_class	*grown, *c;
	const char	*name = ev->cls->name;
	size_t		 i, r;

	if (ev->cls->index >= a->nclasses) {
		grown = realloc(a->classes, (ev->cls->index + 1) *
		    sizeof(*grown));
		if (grown == NULL)
			return NULL;
		memset(grown + a->nclasses, 0, (ev->cls->index + 1 -
		    a->nclasses) * sizeof(*grown));
		a->classes = grown;
		a->nclasses = ev->cls->index + 1;
	}
	c = &a->classes[ev->cls->index];
	if (c->is_known)
		return c;
	c->is_known = 1;
	c->kind = AN_OTHER;
	for (i = 0; i < sizeof(c->f) / sizeof(c->f[0]); i++)
		c->f[i] = -1;
	if (strcmp(name, "tracetrap_httpd:request_begin") == 0) {
		c->kind = AN_REQUEST_BEGIN;
		c->f[0] = trace_class_member(ev->cls, "request_id");
		c->f[1] = trace_class_member(ev->cls, "method");
		c->f[2] = trace_class_member(ev->cls, "uri");
		c->f[3] = trace_class_member(ev->cls, "vhost");
	} else if (strcmp(name, "tracetrap_httpd:request_end") == 0) {
		c->kind = AN_REQUEST_END;
		c->f[0] = trace_class_member(ev->cls, "request_id");
		c->f[1] = trace_class_member(ev->cls, "method");
		c->f[2] = trace_class_member(ev->cls, "uri");
		c->f[3] = trace_class_member(ev->cls, "vhost");
		c->f[4] = trace_class_member(ev->cls, "status");
		c->f[5] = trace_class_member(ev->cls, "duration_us");
		c->f[6] = trace_class_member(ev->cls, "triggered");
	} else if (strcmp(name, "sched_switch") == 0 &&
	    strcmp(ev->stream->domain, "kernel") == 0) {
		c->kind = AN_SCHED_SWITCH;
		c->f[0] = trace_class_member(ev->cls, "prev_tid");
		c->f[1] = trace_class_member(ev->cls, "next_tid");
		c->f[2] = trace_class_member(ev->cls, "prev_comm");
		c->f[3] = trace_class_member(ev->cls, "next_comm");
	}
	for (r = 0; r < a->nrules; r++)
		if (fnmatch(a->rules[r].pattern, name, 0) == 0)
			c->rules |= UINT64_C(1) << r;
	return c;
}

static struct an_process *
an_process_of(struct analyze_run *a, int64_t vpid, const char *procname)
{
	struct an_process	*p;
	size_t			 i = analyze_hash(vpid) & (AN_PROCESS_SLOTS - 1);

	while ((p = a->processes[i]) != NULL) {
		if (p->vpid == vpid)
			goto found;
		i = (i + 1) & (AN_PROCESS_SLOTS - 1);
	}
	if (a->nprocesses >= AN_PROCESSES_MAX ||
	    (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	a->processes[i] = p;
	a->nprocesses++;
	p->vpid = vpid;
found:
	/* The latest name: a process that exec()s takes its new one. */
	if (procname != NULL && strncmp(p->procname, procname,
	    sizeof(p->procname)) != 0)
		analyze_copy(p->procname, sizeof(p->procname), procname);
	return p;
}


/* Doubles the timeline's bucket width until ts fits. */
static size_t
an_bucket(struct analyze_run *a, int64_t ts)
{
	struct an_process	*p;
	size_t			 i, b;

	if (ts < a->first_ns)
		return 0;
	while ((uint64_t)(ts - a->first_ns) / (uint64_t)a->bucket_ns >=
	    AN_BUCKETS) {
		a->bucket_ns *= 2;
		for (i = 0; i < AN_PROCESS_SLOTS; i++) {
			if ((p = a->processes[i]) == NULL)
				continue;
			for (b = 0; b < AN_BUCKETS; b++)
				p->series[b] = b < AN_BUCKETS / 2 ?
				    p->series[2 * b] + p->series[2 * b + 1] : 0;
		}
	}
	return (size_t)((uint64_t)(ts - a->first_ns) / (uint64_t)a->bucket_ns);
}

const char *
analyze_string(const struct trace_event *ev, int index)
{
	const char *s = trace_field_string(trace_event_member(ev, index));

	return s != NULL ? s : "";
}

int64_t
analyze_int(const struct trace_event *ev, int index, int64_t absent)
{
	int64_t v;

	return trace_field_int(trace_event_member(ev, index), &v) == 0 ? v :
	    absent;
}





static int
an_on_event(void *arg, struct trace_event *ev)
{
	struct analyze_run		*a = arg;
	struct an_class		*c;
	struct an_process	*p;
	uint64_t		 rules;
	size_t			 r;

	if ((c = an_class_of(a, ev)) == NULL)
		return 0;
	c->events++;
	if (a->first_ns == 0)
		a->first_ns = ev->ts_ns;
	if (ev->ts_ns > a->last_ns)
		a->last_ns = ev->ts_ns;
	if (ev->cpu >= 0 && ev->cpu < AN_CPUS_MAX)
		a->cpus[ev->cpu].events++;
	if ((p = an_process_of(a, ev->vpid, ev->procname)) != NULL) {
		p->events++;
		p->series[an_bucket(a, ev->ts_ns)]++;
	} else {
		a->processes_dropped++;
	}
	if (strcmp(ev->stream->domain, "kernel") == 0) {
		a->has_kernel = 1;
		a->kernel_events++;
	}
	switch (c->kind) {
	case AN_REQUEST_BEGIN:
		analyze_http_begin(a->http, analyze_string(ev, c->f[0]),
		    analyze_string(ev, c->f[1]), analyze_string(ev, c->f[2]),
		    analyze_string(ev, c->f[3]), ev->vpid, ev->vtid, ev->ts_ns);
		break;
	case AN_REQUEST_END:
		analyze_http_end(a->http, analyze_string(ev, c->f[0]),
		    analyze_string(ev, c->f[1]), analyze_string(ev, c->f[2]),
		    analyze_string(ev, c->f[3]), (int)analyze_int(ev, c->f[4], 0),
		    (uint64_t)analyze_int(ev, c->f[5], 0), analyze_int(ev, c->f[6], 0) != 0,
		    ev->vpid, ev->vtid, ev->ts_ns);
		break;
	case AN_SCHED_SWITCH:
		analyze_kernel_switch(a, c, ev);
		break;
	default:
		break;
	}
	for (rules = c->rules, r = 0; rules != 0; rules >>= 1, r++)
		if (rules & 1)
			analyze_rules_candidate(&a->rules[r], ev);
	return 0;
}

static void
an_on_discarded(void *arg, struct trace_stream *st, int is_packets,
    uint64_t count, int64_t begin_ns, int64_t end_ns)
{
	struct analyze_run	*a = arg;
	struct an_gap	*g;

	if (a->ngaps >= AN_GAPS_MAX) {
		a->gaps_dropped++;
		return;
	}
	g = &a->gaps[a->ngaps++];
	snprintf(g->stream, sizeof(g->stream), "%s", st->path);
	g->is_packets = is_packets;
	g->count = count;
	g->begin_ns = begin_ns;
	g->end_ns = end_ns;
}












void
analyze_trace_root(const char *dir, char *root, size_t len)
{
	struct stat st;

	snprintf(root, len, "%s/trace", dir);
	if (lstat(root, &st) == -1 || !S_ISDIR(st.st_mode))
		snprintf(root, len, "%s", dir);
}

json_t *
analyze_load_json(const char *path, size_t max, char *err, size_t errlen)
{
	json_error_t	 jerr;
	struct stat	 st;
	json_t		*j;
	size_t		 len;
	char		*text;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (text = file_read_all(fd, max, &len)) == NULL) {
		errbuf_set(err, errlen, "%s: not a readable regular file of at "
		    "most %zu bytes", path, max);
		close(fd);
		return NULL;
	}
	close(fd);
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (j == NULL)
		errbuf_set(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
	return j;
}

static void
an_free(struct analyze_run *a)
{
	size_t i;

	for (i = 0; i < AN_PROCESS_SLOTS; i++)
		free(a->processes[i]);
	for (i = 0; i < AN_THREAD_SLOTS; i++)
		free(a->threads[i]);
	for (i = 0; i < a->nrules; i++) {
		if (a->rules[i].best != NULL)
			bt_message_put_ref(a->rules[i].best);
		json_decref(a->rules[i].found);
	}
	analyze_http_free(a->http);
	trace_run_free(&a->run);
	free(a->classes);
	free(a);
}



static void
an_manifest_ids(const json_t *triggers, const char ***ids, size_t *n)
{
	const json_t	*t;
	const char	*id;
	size_t		 i;

	*n = 0;
	*ids = calloc(json_array_size(triggers) + 1, sizeof(char *));
	json_array_foreach(triggers, i, t)
		if (*ids != NULL && i < AN_TRIGGERS_MAX && (id =
		    json_string_value(json_object_get(json_object_get(t,
		    "labels"), "request_id"))) != NULL)
			(*ids)[(*n)++] = id;
}

/* The summary's head, from the manifest alone; *manifest is kept. */
static json_t *
an_skeleton(const char *dir, json_t **manifest)
{
	static const char *const keys[] = { "id", "node", "incident",
	    "taken_at", "taken_at_us" };
	json_t		*summary, *v;
	char		 path[PATH_MAX], err[512], when[32];
	time_t		 now = time(NULL);
	struct tm	 tm;
	size_t		 i;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	summary = json_pack("{s:i, s:s}", "analyzer_version", ANALYZER_VERSION,
	    "analyzed_at", when);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if ((*manifest = analyze_load_json(path, ANALYZE_MANIFEST_MAX, err,
	    sizeof(err))) == NULL) {
		if (access(path, F_OK) == 0)
			json_object_set_new(summary, "manifest_error",
			    json_string(err));
		*manifest = json_object();
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = json_object_get(*manifest, keys[i])) != NULL)
			json_object_set(summary, keys[i], v);
	return summary;
}

/* The fixed fields, there even when nothing could be read. */
static void
an_fill_empty(json_t *summary)
{
	if (json_object_get(summary, "requests") != NULL)
		return;
	json_object_set_new(summary, "events", json_integer(0));
	json_object_set_new(summary, "discarded_events", json_integer(0));
	json_object_set_new(summary, "requests_total", json_integer(0));
	json_object_set_new(summary, "requests", json_array());
	json_object_set_new(summary, "by_name", json_object());
	json_object_set_new(summary, "by_process", json_array());
	json_object_set_new(summary, "span", json_pack("{s:i, s:i}",
	    "first_ns", 0, "last_ns", 0));
}

static const json_t *
an_manifest_triggers(const json_t *manifest)
{
	const json_t *t = json_object_get(manifest, "triggers");

	return json_is_array(t) ? t : NULL;
}

json_t *
analyze_failed(const char *dir, const char *why)
{
	json_t	*manifest, *summary = an_skeleton(dir, &manifest);

	json_object_set_new(summary, "error", json_string(why));
	an_fill_empty(summary);
	json_object_set_new(summary, "triggers", analyze_rules_json(NULL,
	    an_manifest_triggers(manifest), NULL));
	json_object_set_new(summary, "partial", json_false());
	json_decref(manifest);
	return summary;
}

json_t *
analyze_snapshot(const char *dir, const struct analyze_options *opt)
{
	static const struct trace_reader_ops ops = {
		an_on_event, an_on_discarded, analyze_rules_end,
	};
	struct analyze_run	*a;
	struct ctf_dir	 ctf;
	json_t		*summary, *manifest;
	const json_t	*triggers;
	const char	**dirs = NULL, **ids = NULL;
	char		 root[PATH_MAX], err[512];
	size_t		 i, nids;

	memset(&ctf, 0, sizeof(ctf));
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->bucket_ns = 1000000;		/* 1 ms, doubled as the span needs */
	summary = an_skeleton(dir, &manifest);
	triggers = an_manifest_triggers(manifest);
	an_manifest_ids(triggers, &ids, &nids);
	a->http = analyze_http_new(ids, nids);
	free(ids);
	analyze_rules_from(a, triggers);
	analyze_trace_root(dir, root, sizeof(root));
	if (a->http == NULL)
		goto fail;
	if (ctf_dir_scan(root, &ctf, err, sizeof(err)) == -1) {
		json_object_set_new(summary, "error", json_string(err));
		goto finish;
	}
	if ((dirs = calloc(ctf.ntraces, sizeof(*dirs))) == NULL)
		goto fail;
	for (i = 0; i < ctf.ntraces; i++)
		dirs[i] = ctf.traces[i].path;
	a->run.dirs = dirs;
	a->run.ndirs = ctf.ntraces;
	a->run.cpu_budget_ns = opt != NULL ? opt->cpu_budget_ms * 1000000 : 0;
	json_object_set_new(summary, "trace_bytes",
	    json_integer((json_int_t)ctf.bytes));
	if (trace_reader_run(&a->run, &ops, a) == -1) {
		json_object_set_new(summary, "error", json_string(a->run.error));
		goto finish;
	}
	json_object_set_new(summary, "span", json_pack("{s:I, s:I, s:I}",
	    "first_ns", (json_int_t)a->first_ns,
	    "last_ns", (json_int_t)a->last_ns,
	    "end_ns", (json_int_t)analyze_json_trace_end(a)));
	json_object_set_new(summary, "events",
	    json_integer((json_int_t)a->run.events));
	analyze_json_streams(a, &ctf, summary);
	json_object_set_new(summary, "by_name", analyze_json_by_name(a));
	analyze_json_processes(a, summary);
	json_object_set_new(summary, "by_cpu", analyze_json_by_cpu(a));
	analyze_http_json(a->http, analyze_json_trace_end(a), summary);
	analyze_kernel_json(a, manifest, summary);
finish:
	an_fill_empty(summary);
	json_object_set_new(summary, "triggers", analyze_rules_json(a, triggers,
	    json_object_get(summary, "requests")));
	json_object_set_new(summary, "partial", json_boolean(
	    a->run.is_partial));
	if (a->run.is_partial)
		json_object_set_new(summary, "partial_reason",
		    json_string(a->run.partial_reason));
	if (a->run.warnings[0] != '\0')
		json_object_set_new(summary, "warnings",
		    json_string(a->run.warnings));
	json_object_set_new(summary, "cpu_ms",
	    json_integer((json_int_t)(a->run.cpu_ns / 1000000)));
	json_decref(manifest);
	free(dirs);
	ctf_dir_free(&ctf);
	an_free(a);
	return summary;
fail:
	json_decref(manifest);
	json_decref(summary);
	free(dirs);
	ctf_dir_free(&ctf);
	an_free(a);
	return NULL;
}

int
analyze_write(const char *dir, const json_t *summary, char *err,
    size_t errlen)
{
	char	 tmp[PATH_MAX], path[PATH_MAX];
	char	*text;
	size_t	 len, off = 0;
	ssize_t	 n;
	int	 fd, dfd;

	snprintf(path, sizeof(path), "%s/%s", dir, ANALYZE_SUMMARY);
	/* A name of its own: two writers never share a temporary file. */
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, ANALYZE_SUMMARY);
	if ((text = json_dumps(summary, JSON_COMPACT)) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	len = strlen(text);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		goto fail;
	fchmod(fd, 0644);
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto fail_unlink;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1)
		goto fail_unlink;
	if (rename(tmp, path) == -1)
		goto fail_unlink;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	free(text);
	return 0;
fail_unlink:
	errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
	unlink(tmp);
	free(text);
	return -1;
fail:
	errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
	free(text);
	return -1;
}
