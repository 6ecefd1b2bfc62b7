/*
 * Unit tests of triggers/trigger_config.c through the recorder's loader
 * (config_load_buffer): the [trigger.KIND.NAME] sections, their defaults,
 * and every refusal naming its line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static struct config *
load(const char *text, char *err, size_t errlen)
{
	struct config *c;

	assert_non_null(c = malloc(sizeof(*c)));
	config_defaults(c);
	err[0] = '\0';
	if (config_load_buffer(c, "t.conf", text, strlen(text), err,
	    errlen) == -1) {
		free(c);
		return NULL;
	}
	return c;
}

static void
test_defaults(void **state)
{
	char			 err[4096];
	struct config		*c;
	struct watcher_conf	*w;

	(void)state;
	c = load("[trigger]\nprocfs_root = /fixtures\nprocess_rescan = 2s\n"
	    "[trigger.cpu.sys]\n"
	    "[trigger.cpu.web]\ntarget = process:nginx\nthreshold = 150%\n"
	    "[trigger.memory.low]\n"
	    "[trigger.memory.hog]\ntarget = cgroup:/sys/fs/cgroup/a.slice\n"
	    "threshold = 2G\n"
	    "[trigger.psi.io]\nresource = io\nkind = full\n"
	    "[trigger.lttng-event.slow]\nevent = app:request\n"
	    "filter = duration_us > 1000\ncapture = duration_us, url\n"
	    "scope = cluster\n", err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(c->triggers.procfs_root, "/fixtures");
	assert_string_equal(c->triggers.sysfs_root, "/");
	assert_int_equal(c->triggers.process_rescan_ms, 2000);
	assert_int_equal(c->triggers.nwatchers, 4);
	w = &c->triggers.watchers[0];
	assert_int_equal(w->target, WATCHER_SYSTEM);
	assert_true(w->threshold == 90 && w->rearm == 80);
	assert_int_equal(w->sustain_ms, 10000);
	assert_int_equal(w->interval_ms, 1000);
	assert_string_equal(w->reason, "cpu watcher sys");
	w = &c->triggers.watchers[1];
	assert_int_equal(w->target, WATCHER_PROCESS);
	assert_string_equal(w->target_arg, "nginx");
	assert_true(w->threshold == 150 && w->rearm == 140);
	w = &c->triggers.watchers[2];
	assert_int_equal(w->kind, WATCHER_MEMORY);
	/* The system's available memory: below 10 %, back above 12.5 %. */
	assert_true(w->is_percent && w->threshold == 10 && w->rearm == 12.5);
	w = &c->triggers.watchers[3];
	assert_int_equal(w->target, WATCHER_CGROUP);
	assert_string_equal(w->target_arg, "a.slice");
	assert_true(w->threshold == 2.0 * 1024 * 1024 * 1024);
	assert_int_equal(c->triggers.npsi, 1);
	free(c);
	/* Low thresholds re-arm at half; available memory at 99.9 % at most. */
	c = load("[trigger.cpu.low]\nthreshold = 8\n"
	    "[trigger.memory.most]\nthreshold = 90%\n", err, sizeof(err));
	assert_non_null(c);
	assert_true(c->triggers.watchers[0].rearm == 4);
	assert_true(c->triggers.watchers[1].rearm == 99.9);
	free(c);
	c = load("[trigger.psi.io]\nresource = io\nkind = full\n"
	    "[trigger.lttng-event.slow]\nevent = app:request\n"
	    "filter = duration_us > 1000\ncapture = duration_us, url\n"
	    "scope = cluster\n", err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->triggers.npsi, 1);
	assert_int_equal(c->triggers.psi[0].resource, PSI_IO);
	assert_true(c->triggers.psi[0].is_full);
	assert_int_equal(c->triggers.psi[0].window_ms, 2000);
	assert_int_equal(c->triggers.nrules, 1);
	assert_string_equal(c->triggers.rules[0].capture, "duration_us,url");
	assert_int_equal(c->triggers.rules[0].filter_line, 6);
	assert_true(c->triggers.rules[0].is_cluster);
	free(c);
}

/* Each bad file fails, naming this line and this text. */
static void
test_refusals(void **state)
{
	static const struct {
		const char	*text;
		const char	*expected;
	} cases[] = {
		{ "[trigger.cpu.a]\nthreshold = 150\n",
		  "t.conf:1: [trigger.cpu.a] threshold: 150% of all CPUs" },
		{ "[trigger.cpu.a]\nthreshold = -5\n",
		  "t.conf:2: [trigger.cpu.a] threshold: invalid percent" },
		{ "[trigger.cpu.a]\nthreshold = 200000\n",
		  "t.conf:2: [trigger.cpu.a] threshold: invalid percent" },
		{ "[trigger.cpu.a]\nthreshold = 50\nrearm = 60\n",
		  "t.conf:1: [trigger.cpu.a] rearm must not be above" },
		{ "[trigger.cpu.a]\ntarget = process:a/b\n",
		  "t.conf:2: [trigger.cpu.a] target: invalid process name" },
		{ "[trigger.cpu.a]\ntarget = process:waytoolongcommand\n",
		  "invalid process name 'waytoolongcommand'" },
		{ "[trigger.cpu.a]\ntarget = cgroup:../../etc\n",
		  "t.conf:2: [trigger.cpu.a] target: invalid cgroup" },
		{ "[trigger.cpu.a]\ntarget = cgroup:/etc/passwd\n",
		  "invalid cgroup '/etc/passwd'" },
		{ "[trigger.cpu.a]\ntarget = pidfile:run/x.pid\n",
		  "invalid pid file 'run/x.pid'" },
		{ "[trigger.cpu.a]\ntarget = host\n", "invalid target 'host'" },
		{ "[trigger.cpu.a]\ninterval = 10ms\n",
		  "t.conf:2: [trigger.cpu.a] interval: invalid duration" },
		{ "[trigger.cpu.a]\nscope = fleet\n", "invalid scope 'fleet'" },
		{ "[trigger.cpu.a]\ncolour = red\n",
		  "[trigger.cpu.a] unknown key 'colour' (expected target," },
		{ "[trigger.memory.a]\ntarget = process:x\n",
		  "t.conf:1: [trigger.memory.a] threshold: required" },
		{ "[trigger.memory.a]\ntarget = process:x\nthreshold = 10%\n",
		  "a percent is for the system's available memory" },
		{ "[trigger.memory.a]\nthreshold = 1G\nrearm = 20%\n",
		  "rearm: give it in the unit of threshold" },
		{ "[trigger.memory.a]\nthreshold = 10%\nrearm = 5%\n",
		  "rearm must not be below threshold" },
		{ "[trigger.memory.a]\nthreshold = 50%\nrearm = 100%\n",
		  "rearm: 100% of MemTotal available can never be reached" },
		{ "[trigger.cpu.a]\nthreshold = 50\nrearm = 0\n",
		  "rearm must be above 0" },
		{ "[trigger.cpu.a]\nthreshold = 0\n",
		  "rearm must be above 0" },
		{ "[trigger.psi.a]\nwindow = 20s\n",
		  "t.conf:2: [trigger.psi.a] window: invalid duration" },
		{ "[trigger.psi.a]\nstall = 3s\nwindow = 2s\n",
		  "stall (3000ms) is longer than window (2000ms)" },
		{ "[trigger.psi.a]\nresource = disk\n",
		  "invalid resource 'disk'" },
		{ "[trigger.psi.a]\nkind = most\n", "invalid kind 'most'" },
		{ "[trigger.lttng-event.a]\nfilter = x > 1\n",
		  "t.conf:1: [trigger.lttng-event.a] event: required" },
		{ "[trigger.lttng-event.a]\nevent = a b\n", "invalid event 'a b'" },
		{ "[trigger.lttng-event.a]\nevent = a:b\ncapture = 9x\n",
		  "invalid field '9x'" },
		{ "[trigger.lttng-event.a]\nevent = a:b\ncapture = "
		  "a,b,c,d,e,f,g,h,i\n", "9 fields (at most 8)" },
		{ "[trigger.disk.a]\n", "t.conf:1: unknown section "
		  "[trigger.disk.a]" },
		{ "[trigger.cpu.A]\n", "invalid name 'A' in [trigger.cpu.A]" },
		{ "[trigger.cpu.a]\n[trigger.cpu.a]\n",
		  "t.conf:2: [trigger.cpu.a] is given twice" },
	};
	char	 err[4096];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load(cases[i].text, err, sizeof(err)) != NULL)
			fail_msg("accepted: %s", cases[i].text);
		if (strstr(err, cases[i].expected) == NULL)
			fail_msg("for %s\nexpected: %s\ngot: %s", cases[i].text,
			    cases[i].expected, err);
	}
}

/* The commented examples of conf/recorder.conf, uncommented, are valid. */
static void
test_reference_examples(void **state)
{
	struct config	*c;
	FILE		*f;
	char		 line[4096], text[65536], err[4096];
	size_t		 used = 0;
	int		 is_example = 0;

	(void)state;
	assert_non_null(f = fopen("conf/recorder.conf", "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strcmp(line, "# [trigger.cpu.system]\n") == 0)
			is_example = 1;
		if (strncmp(line, "# Per-source settings", 21) == 0)
			is_example = 0;
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s",
		    is_example && line[0] == '#' ? line + 2 : line);
		assert_true(used < sizeof(text));
	}
	fclose(f);
	if ((c = load(text, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	assert_int_equal(c->triggers.nwatchers, 3);
	assert_int_equal(c->triggers.npsi, 1);
	assert_int_equal(c->triggers.nrules, 1);
	assert_string_equal(c->triggers.rules[0].capture, "duration_us,uri");
	free(c);
}

/* CAP_SYS_RESOURCE (24) in our effective set. */
static int
has_sys_resource(void)
{
	char		 line[256];
	FILE		*f;
	unsigned long long caps = 0;

	assert_non_null(f = fopen("/proc/self/status", "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return (caps >> 24) & 1;
}

/* Without CAP_SYS_RESOURCE the kernel takes only 2 s steps of window. */
static void
test_psi_window_step(void **state)
{
	char		 err[4096];
	struct config	*c;

	(void)state;
	c = load("[trigger.psi.a]\nwindow = 1s\n", err, sizeof(err));
	if (has_sys_resource()) {
		assert_non_null(c);
		free(c);
		return;
	}
	assert_null(c);
	assert_non_null(strstr(err, "t.conf:1: [trigger.psi.a] window: 1000ms "
	    "is not a multiple of 2s"));
	assert_non_null(c = load("[trigger.psi.a]\nwindow = 4s\n", err,
	    sizeof(err)));
	free(c);
}

/* Sections of one kind are bounded. */
static void
test_too_many(void **state)
{
	char	 text[8192], err[4096];
	size_t	 i, len = 0;

	(void)state;
	for (i = 0; i <= PSI_WATCHERS_MAX; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "[trigger.psi.p%zu]\n", i);
	assert_null(load(text, err, sizeof(err)));
	assert_non_null(strstr(err, "too many sections of this kind (at most "
	    "16)"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_reference_examples),
		cmocka_unit_test(test_psi_window_step),
		cmocka_unit_test(test_too_many),
	};

	return cmocka_run_group_tests_name("trigger_config", tests, NULL,
	    NULL);
}
