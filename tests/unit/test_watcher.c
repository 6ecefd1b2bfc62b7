/*
 * Unit tests of the watchers (triggers/watcher.c and watcher_process.c)
 * on a fixture /proc and cgroup tree
 * ([trigger] procfs_root and sysfs_root point at it), with an injected
 * clock: the system, process, pid file and cgroup samples, pid reuse, the
 * rescan, firing through the callback, and the start-up checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "datagram.h"
#include "trigger_sink.h"
#include "watcher.h"

#define SECOND	1000000ULL

struct fixture {
	char			 root[64];
	struct trigger_confs	 confs;
	int			 fires;
	char			 source[32];
	char			 watcher[64];
	char			 value[32];
	char			 err[4096];
	struct trigger_sink	 sink;
};

static void
put(struct fixture *f, const char *rel, const char *text)
{
	char	 path[256], dir[256], *slash;
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", f->root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = dir + strlen(f->root) + 1; (slash = strchr(slash, '/'))
	    != NULL; slash++) {
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

/* A /proc/PID/stat with these CPU ticks (utime) and start time. */
static void
put_task(struct fixture *f, int pid, const char *comm, uint64_t ticks,
    uint64_t start, uint64_t rss_pages)
{
	char	 rel[64], text[512];

	snprintf(text, sizeof(text), "%d (%s) S 1 1 1 0 -1 0 0 0 0 0 %llu 0 "
	    "0 0 20 0 1 0 %llu 1000 %llu 0\n", pid, comm,
	    (unsigned long long)ticks, (unsigned long long)start,
	    (unsigned long long)rss_pages);
	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	put(f, rel, text);
	snprintf(rel, sizeof(rel), "proc/%d/comm", pid);
	snprintf(text, sizeof(text), "%s\n", comm);
	put(f, rel, text);
}

static void
put_cpu(struct fixture *f, uint64_t busy, uint64_t idle)
{
	char text[128];

	snprintf(text, sizeof(text), "cpu  %llu 0 0 %llu 0 0 0 0 0 0\n",
	    (unsigned long long)busy, (unsigned long long)idle);
	put(f, "proc/stat", text);
}

static void
on_fire(void *arg, const struct trigger *t)
{
	struct fixture	*f = arg;
	const char	*value;

	f->fires++;
	snprintf(f->source, sizeof(f->source), "%s", t->source);
	if ((value = trigger_label(t, "watcher")) != NULL)
		snprintf(f->watcher, sizeof(f->watcher), "%s", value);
	if ((value = trigger_label(t, "value")) != NULL)
		snprintf(f->value, sizeof(f->value), "%s", value);
}

static struct watcher_conf *
add(struct fixture *f, enum watcher_kind kind, const char *name,
    enum watcher_target target, const char *arg, double threshold,
    double rearm, uint64_t sustain_ms)
{
	struct watcher_conf *w = &f->confs.watchers[f->confs.nwatchers++];

	memset(w, 0, sizeof(*w));
	w->kind = kind;
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->line = 10 + f->confs.nwatchers;
	w->target = target;
	snprintf(w->target_arg, sizeof(w->target_arg), "%s", arg);
	w->threshold = threshold;
	w->rearm = rearm;
	w->sustain_ms = sustain_ms;
	w->interval_ms = 1000;
	snprintf(w->reason, sizeof(w->reason), "test");
	return w;
}

static int
setup(void **state)
{
	struct fixture *f;

	assert_non_null(f = calloc(1, sizeof(*f)));
	f->sink.fire = on_fire;
	f->sink.arg = f;
	snprintf(f->root, sizeof(f->root), "/tmp/test_watcher.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	trigger_config_defaults(&f->confs);
	snprintf(f->confs.procfs_root, sizeof(f->confs.procfs_root), "%s",
	    f->root);
	snprintf(f->confs.sysfs_root, sizeof(f->confs.sysfs_root), "%s/",
	    f->root);
	put_cpu(f, 1000, 1000);
	put(f, "proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 500 kB\n");
	*state = f;
	return 0;
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* The value and state of a watcher, from the status JSON. */
static double
value_of(struct watchers *set, const char *name, const char **phase)
{
	static char	 state_name[32];
	json_t		*a = watchers_status(set), *o;
	double		 v = -1;
	size_t		 i;

	json_array_foreach(a, i, o) {
		if (strcmp(json_string_value(json_object_get(o, "name")),
		    name) != 0)
			continue;
		if (json_is_number(json_object_get(o, "value")))
			v = json_number_value(json_object_get(o, "value"));
		snprintf(state_name, sizeof(state_name), "%s",
		    json_string_value(json_object_get(o, "state")));
	}
	json_decref(a);
	if (phase != NULL)
		*phase = state_name;
	return v;
}

static int
processes_of(struct watchers *set, const char *name)
{
	json_t	*a = watchers_status(set), *o;
	size_t	 i;
	int	 n = -1;

	json_array_foreach(a, i, o) {
		if (strcmp(json_string_value(json_object_get(o, "name")),
		    name) == 0)
			n = (int)json_integer_value(json_object_get(o,
			    "processes"));
	}
	json_decref(a);
	return n;
}

static void
test_system_cpu(void **state)
{
	struct fixture	*f = *state;
	struct watchers	*set;
	const char	*phase;
	uint64_t	 t0;

	add(f, WATCHER_CPU, "sys", WATCHER_SYSTEM, "", 50, 40, 2000);
	set = watchers_new(&f->confs, &f->sink, "test.conf", f->err,
	    sizeof(f->err));
	assert_non_null(set);
	t0 = clock_monotonic_us();
	/* 75 of 100 ticks busy. */
	put_cpu(f, 1075, 1025);
	watchers_tick_all(set, t0 + SECOND);
	assert_true(value_of(set, "sys", &phase) > 74.9);
	assert_string_equal(phase, "pending");
	/*
	 * Past it since the sample watchers_new() took (just before t0):
	 * 2 s of sustain are over at the second tick.
	 */
	put_cpu(f, 1150, 1050);
	watchers_tick_all(set, t0 + 3 * SECOND / 2);
	assert_int_equal(f->fires, 0);
	put_cpu(f, 1225, 1075);
	watchers_tick_all(set, t0 + 2 * SECOND);
	assert_int_equal(f->fires, 1);
	assert_string_equal(f->source, "cpu");
	assert_string_equal(f->watcher, "sys");
	assert_string_equal(f->value, "75.0%");
	/* Idle again: 0 busy, re-armed; busy: pending, not fired yet. */
	put_cpu(f, 1225, 1175);
	watchers_tick_all(set, t0 + 4 * SECOND);
	assert_true(value_of(set, "sys", &phase) < 0.1);
	assert_string_equal(phase, "armed");
	watchers_free(set);
}

static void
test_process_pid_reuse(void **state)
{
	struct fixture	*f = *state;
	struct watchers	*set;
	char		 path[256];
	uint64_t	 t0;
	long		 hz = sysconf(_SC_CLK_TCK);
	int		 i;

	put_task(f, 100, "web", 1000, 500, 10);
	put_task(f, 200, "other", 0, 500, 10);
	add(f, WATCHER_CPU, "web", WATCHER_PROCESS, "web", 1000, 900, 0);
	set = watchers_new(&f->confs, &f->sink, "test.conf", f->err,
	    sizeof(f->err));
	assert_non_null(set);
	assert_int_equal(processes_of(set, "web"), 1);
	t0 = clock_monotonic_us();
	watchers_tick_all(set, t0);		/* baseline */
	put_task(f, 100, "web", 1000 + (uint64_t)hz, 500, 10);
	watchers_tick_all(set, t0 + SECOND);
	assert_true(value_of(set, "web", NULL) > 99.9);
	assert_true(value_of(set, "web", NULL) < 100.1);
	/* pid 100 reused by a new web: fewer ticks, another start time. */
	put_task(f, 100, "web", 5, 900, 10);
	watchers_tick_all(set, t0 + 2 * SECOND);
	assert_true(value_of(set, "web", NULL) < 0.1);
	put_task(f, 100, "web", 5 + (uint64_t)hz / 2, 900, 10);
	watchers_tick_all(set, t0 + 3 * SECOND);
	assert_true(value_of(set, "web", NULL) > 49.9);
	assert_true(value_of(set, "web", NULL) < 50.1);
	/* A second web appears, the first exits: the rescan follows. */
	put_task(f, 300, "web", 0, 950, 10);
	watchers_rescan_now(set);
	assert_int_equal(processes_of(set, "web"), 2);
	snprintf(path, sizeof(path), "%s/proc/100", f->root);
	nftw(path, remove_entry, 4, FTW_DEPTH | FTW_PHYS);
	watchers_rescan_now(set);
	assert_int_equal(processes_of(set, "web"), 1);
	/*
	 * pid 200 exec()s into a web: the name of a known pid is read
	 * again only at a refresh, every 6th rescan (the first was one).
	 */
	put_task(f, 200, "web", 0, 500, 10);
	for (i = 0; i < 3; i++) {
		watchers_rescan_now(set);
		assert_int_equal(processes_of(set, "web"), 1);
	}
	watchers_rescan_now(set);
	assert_int_equal(processes_of(set, "web"), 2);
	/*
	 * pid 300 exits and is recycled by another program: the tick sees
	 * the name in its stat, drops it, and the next rescan (no refresh)
	 * does not take it back from its cache.
	 */
	put_task(f, 300, "other", 0, 990, 10);
	watchers_tick_all(set, t0 + 4 * SECOND);
	assert_int_equal(processes_of(set, "web"), 1);
	watchers_rescan_now(set);
	assert_int_equal(processes_of(set, "web"), 1);
	assert_int_equal(f->fires, 0);
	watchers_free(set);
}

static void
test_memory_and_cgroup(void **state)
{
	struct fixture	*f = *state;
	struct watchers	*set;
	struct watcher_conf *w;
	uint64_t	 t0;
	long		 page = sysconf(_SC_PAGESIZE);

	put(f, "sys/fs/cgroup/app/cpu.stat", "usage_usec 0\n");
	put(f, "sys/fs/cgroup/app/memory.current", "1000\n");
	put_task(f, 100, "hog", 0, 1, 100);
	put(f, "run/hog.pid", "100\n");
	w = add(f, WATCHER_MEMORY, "avail", WATCHER_SYSTEM, "", 10, 12.5, 0);
	w->is_percent = 1;
	add(f, WATCHER_CPU, "cg", WATCHER_CGROUP, "app", 1000, 900, 0);
	add(f, WATCHER_MEMORY, "cgmem", WATCHER_CGROUP, "app", 4096, 2048, 0);
	w = add(f, WATCHER_MEMORY, "hog", WATCHER_PIDFILE, "", 200.0 * page,
	    100.0 * page, 0);
	snprintf(w->target_arg, sizeof(w->target_arg), "%s/run/hog.pid",
	    f->root);
	set = watchers_new(&f->confs, &f->sink, "test.conf", f->err,
	    sizeof(f->err));
	assert_non_null(set);
	t0 = clock_monotonic_us();
	put(f, "sys/fs/cgroup/app/cpu.stat", "usage_usec 500000\n");
	put(f, "proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 50 kB\n");
	watchers_tick_all(set, t0 + SECOND);
	assert_true(value_of(set, "cg", NULL) > 49.9);
	assert_true(value_of(set, "cg", NULL) < 50.1);
	assert_true(value_of(set, "avail", NULL) > 4.9);
	/* Available memory at 5 % of 10 % fired at once (sustain 0). */
	assert_int_equal(f->fires, 1);
	assert_string_equal(f->watcher, "avail");
	assert_string_equal(f->source, "memory");
	assert_true(value_of(set, "cgmem", NULL) > 999);
	assert_true(value_of(set, "hog", NULL) > 100.0 * page - 1);
	put_task(f, 100, "hog", 0, 1, 300);
	put(f, "sys/fs/cgroup/app/memory.current", "8192\n");
	watchers_tick_all(set, t0 + 2 * SECOND);
	assert_int_equal(f->fires, 3);
	watchers_free(set);
}

/* What only the running system can tell, named by line, all at once. */
static void
test_start_checks(void **state)
{
	struct fixture	*f = *state;
	struct watchers	*set;

	put_task(f, 100, "web", 0, 1, 1);
	add(f, WATCHER_CPU, "nope", WATCHER_PROCESS, "nosuch", 90, 80, 0);
	add(f, WATCHER_CPU, "cg", WATCHER_CGROUP, "missing", 90, 80, 0);
	add(f, WATCHER_MEMORY, "pf", WATCHER_PIDFILE, "/nonexistent/x.pid",
	    90, 80, 0);
	add(f, WATCHER_CPU, "web", WATCHER_PROCESS, "web", 90, 80, 0);
	set = watchers_new(&f->confs, &f->sink, "test.conf", f->err,
	    sizeof(f->err));
	assert_null(set);
	assert_non_null(strstr(f->err, "test.conf:11: [trigger.cpu.nope] "
	    "target: no process named 'nosuch' is running"));
	assert_non_null(strstr(f->err, "test.conf:12: [trigger.cpu.cg] "
	    "target: cannot read "));
	assert_non_null(strstr(f->err, "test.conf:13: [trigger.memory.pf] "
	    "target: /nonexistent/x.pid does not name a running process"));
	assert_null(strstr(f->err, "[trigger.cpu.web]"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_system_cpu, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_process_pid_reuse, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_memory_and_cgroup, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_start_checks, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("watcher", tests, NULL, NULL);
}
