/*
 * Unit tests of recorder/config.c: defaults, every key, every kind of bad
 * value with its file:line message, and the reference conf/recorder.conf.
 * Run from the top of the source tree (the reference file is read by its
 * relative path).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define ERR_MAX	8192

/* Loads text over the defaults, as "recorder.conf". */
static int
load(struct config *conf, const char *text, char *err)
{
	config_defaults(conf);
	return config_load_buffer(conf, "recorder.conf", text, strlen(text),
	    err, ERR_MAX);
}

static const struct policy_source_conf *
find_source(const struct config *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->policy.nsources; i++) {
		if (strcmp(conf->policy.sources[i].name, name) == 0)
			return &conf->policy.sources[i];
	}
	fail_msg("no source %s", name);
	return NULL;
}

static void
test_defaults(void **state)
{
	struct config	 conf;
	char		 host[256];

	(void)state;
	memset(&conf, 0xa5, sizeof conf);
	config_defaults(&conf);

	assert_true(strlen(conf.node_name) > 0);
	assert_true(strlen(conf.node_name) < CONFIG_NAME_MAX);
	assert_int_equal(strspn(conf.node_name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-"), strlen(conf.node_name));
	if (gethostname(host, sizeof host) == 0 && strlen(host) < 64 &&
	    strspn(host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == strlen(host) && host[0] != '\0')
		assert_string_equal(conf.node_name, host);

	assert_string_equal(conf.session_name, "tracetrap");
	assert_int_equal(conf.subbuf_size, 512 * 1024);
	assert_int_equal(conf.subbuf_count, 8);
	assert_int_equal(conf.is_per_pid_buffers, 0);
	assert_string_equal(conf.ust_events, "*");
	assert_string_equal(conf.kernel_events, "sched_switch,sched_waking,"
	    "sched_process_fork,sched_process_exec,sched_process_exit");
	assert_string_equal(conf.output, "");
	assert_int_equal(conf.is_keep_session, 0);
	assert_int_equal(conf.check_interval_ms, 2000);

	assert_string_equal(conf.control_socket,
	    "/run/tracetrap/control.sock");
	assert_string_equal(conf.control_group, "");
	assert_int_equal(conf.control_mode, 0660);
	assert_string_equal(conf.trigger_socket,
	    "/run/tracetrap/trigger.sock");
	assert_string_equal(conf.trigger_group, "");
	assert_int_equal(conf.trigger_mode, 0660);

	assert_string_equal(conf.spool_dir, "/var/lib/tracetrap/spool");
	assert_int_equal(conf.spool_max_bytes, 1024 * 1024 * 1024);

	assert_int_equal(conf.policy.limits.cooldown_ms, 10000);
	assert_int_equal(conf.policy.limits.burst, 3);
	assert_int_equal(conf.policy.limits.refill_ms, 5 * 60 * 1000);
	assert_int_equal(conf.policy.limits.max_per_day, 50);
	assert_int_equal(conf.policy.coalesce_ms, 2000);
	assert_int_equal(conf.policy.only_listed, 0);
	assert_int_equal(conf.policy.nsources, 0);
	assert_int_equal(conf.delay_ms, 0);
}

static void
test_every_key(void **state)
{
	struct config			 conf;
	const struct policy_source_conf	*s;
	char				 err[ERR_MAX];

	(void)state;
	assert_int_equal(load(&conf,
	    "[node]\n"
	    "name = web-01.example.com\n"
	    "[session]\n"
	    "name = tt_2\n"
	    "subbuf_size = 1M\n"
	    "subbuf_count = 1024\n"
	    "buffers = per-pid\n"
	    "ust_events = myapp:*, libc_* ,tracetrap_httpd:request.end\n"
	    "kernel_events = \"\"\n"
	    "output = net://relay.example.com:5342:5343\n"
	    "keep = yes\n"
	    "check_interval = 100ms\n"
	    "[control]\n"
	    "socket = /tmp/c.sock\n"
	    "group = tracing\n"
	    "mode = 0600\n"
	    "[trigger]\n"
	    "socket = /tmp/t.sock\n"
	    "group = www-data\n"
	    "mode = 666\n"
	    "sources = apache, cpu\n"
	    "[spool]\n"
	    "dir = /srv/spool\n"
	    "max_bytes = 1M\n"
	    "[limits]\n"
	    "cooldown = 0\n"
	    "burst = 10000\n"
	    "refill = 1ms\n"
	    "max_per_day = 1000000\n"
	    "coalesce = 500ms\n"
	    "delay = 60s\n"
	    "[source.apache]\n"
	    "enabled = no\n"
	    "sample = 0.25\n"
	    "cooldown = 1m\n"
	    "burst = 0\n"
	    "refill = 1h\n"
	    "max_per_day = 7\n", err), 0);
	assert_string_equal(err, "");

	assert_string_equal(conf.node_name, "web-01.example.com");
	assert_string_equal(conf.session_name, "tt_2");
	assert_int_equal(conf.subbuf_size, 1024 * 1024);
	assert_int_equal(conf.subbuf_count, 1024);
	assert_int_equal(conf.is_per_pid_buffers, 1);
	assert_string_equal(conf.ust_events,
	    "myapp:*,libc_*,tracetrap_httpd:request.end");
	assert_string_equal(conf.kernel_events, "");
	assert_string_equal(conf.output, "net://relay.example.com:5342:5343");
	assert_int_equal(conf.is_keep_session, 1);
	assert_int_equal(conf.check_interval_ms, 100);
	assert_string_equal(conf.control_socket, "/tmp/c.sock");
	assert_string_equal(conf.control_group, "tracing");
	assert_int_equal(conf.control_mode, 0600);
	assert_string_equal(conf.trigger_socket, "/tmp/t.sock");
	assert_string_equal(conf.trigger_group, "www-data");
	assert_int_equal(conf.trigger_mode, 0666);
	assert_string_equal(conf.spool_dir, "/srv/spool");
	assert_int_equal(conf.spool_max_bytes, 1024 * 1024);
	assert_int_equal(conf.policy.limits.cooldown_ms, 0);
	assert_int_equal(conf.policy.limits.burst, 10000);
	assert_int_equal(conf.policy.limits.refill_ms, 1);
	assert_int_equal(conf.policy.limits.max_per_day, 1000000);
	assert_int_equal(conf.policy.coalesce_ms, 500);
	assert_int_equal(conf.delay_ms, 60000);

	assert_int_equal(conf.policy.only_listed, 1);
	assert_int_equal(conf.policy.nsources, 2);
	s = &conf.policy.sources[0];
	assert_string_equal(s->name, "apache");
	assert_int_equal(s->is_enabled, 0);
	assert_true(s->sample == 0.25);
	assert_int_equal(s->has_limits, 1);
	assert_int_equal(s->limits.cooldown_ms, 60000);
	assert_int_equal(s->limits.burst, 0);
	assert_int_equal(s->limits.refill_ms, 3600 * 1000);
	assert_int_equal(s->limits.max_per_day, 7);
	s = &conf.policy.sources[1];
	assert_string_equal(s->name, "cpu");
	assert_int_equal(s->is_enabled, 1);
	assert_true(s->sample == 1.0);
	assert_int_equal(s->has_limits, 0);
}

static void
test_other_valid_forms(void **state)
{
	struct config	 conf;
	char		 err[ERR_MAX];

	(void)state;
	assert_int_equal(load(&conf,
	    "[session]\n"
	    "subbuf_size = 4096\n"
	    "subbuf_count = 2\n"
	    "output = net6://[::1]\n"
	    "kernel_events = sched_switch\n"
	    "check_interval = 1h\n"
	    "[control]\n"
	    "mode = 0\n"
	    "group = \"\"\n"
	    "[trigger]\n"
	    "mode = 0000777\n"
	    "[limits]\n"
	    "delay = 60000ms\n"
	    "burst = 0\n"
	    "max_per_day = 0\n", err), 0);
	assert_int_equal(conf.subbuf_size, 4096);
	assert_int_equal(conf.subbuf_count, 2);
	assert_string_equal(conf.output, "net6://[::1]");
	assert_string_equal(conf.kernel_events, "sched_switch");
	assert_int_equal(conf.check_interval_ms, 3600 * 1000);
	assert_int_equal(conf.control_mode, 0);
	assert_int_equal(conf.trigger_mode, 0777);
	assert_int_equal(conf.delay_ms, 60000);

	assert_int_equal(load(&conf, "[session]\noutput = tcp://10.0.0.1\n"
	    "[limits]\ncooldown = 5\n", err), 0);
	assert_string_equal(conf.output, "tcp://10.0.0.1");
	assert_int_equal(conf.policy.limits.cooldown_ms, 5000);

	/* A later value replaces an earlier one. */
	assert_int_equal(load(&conf, "[session]\nname = a\n[session]\n"
	    "name = b\n", err), 0);
	assert_string_equal(conf.session_name, "b");
}

static void
test_sample_forms(void **state)
{
	static const struct {
		const char	*text;
		double		 value;
	} good[] = {
		{ "0", 0 }, { "1", 1 }, { "0.5", 0.5 }, { ".5", 0.5 },
		{ "1.000", 1 }, { "0.001", 0.001 }, { "1.", 1 },
		{ "0000.25", 0.25 },
	};
	static const char	*bad[] = { "1.5", "2", "-0.1", "+0.5", "nan",
				    "inf", "1e-3", ".", "0x1", "0,5", "",
				    "0.5.1", "10000000000000000000000" };
	struct config		 conf;
	char			 text[256], err[ERR_MAX];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text, "[source.a]\nsample = %s\n",
		    good[i].text);
		assert_int_equal(load(&conf, text, err), 0);
		assert_true(conf.policy.sources[0].sample > good[i].value -
		    1e-12);
		assert_true(conf.policy.sources[0].sample < good[i].value +
		    1e-12);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "[source.a]\nsample = \"%s\"\n",
		    bad[i]);
		assert_int_equal(load(&conf, text, err), -1);
		assert_non_null(strstr(err, "recorder.conf:2: [source.a] "
		    "sample: invalid sample"));
		assert_non_null(strstr(err, "(expected a decimal from 0 to 1, "
		    "e.g. 0.25)\n"));
	}
}

/*
 * One bad line at a time, in its section, so the message and the line
 * number are checked exactly.
 */
static void
test_bad_values(void **state)
{
	static const struct {
		const char	*section;
		const char	*line;
		const char	*error;
	} cases[] = {
		{ "node", "name = \"\"",
		  "[node] name: invalid name '' (expected 1 to 63 letters, "
		  "digits, '.', '_' or '-')" },
		{ "node", "name = web 01",
		  "[node] name: invalid name 'web 01' (expected 1 to 63 "
		  "letters, digits, '.', '_' or '-')" },
		{ "node", "name = "
		  "0123456789012345678901234567890123456789012345678901234567"
		  "890123",
		  "[node] name: invalid name '012345678901234567890123456789"
		  "0123456789012345678901234567890123' (expected 1 to 63 "
		  "letters, digits, '.', '_' or '-')" },
		{ "session", "name = a/b",
		  "[session] name: invalid name 'a/b' (expected 1 to 63 "
		  "letters, digits, '.', '_' or '-')" },
		{ "session", "subbuf_size = 3000",
		  "[session] subbuf_size: invalid size '3000' (expected a "
		  "power of two of at least 4k)" },
		{ "session", "subbuf_size = 2k",
		  "[session] subbuf_size: invalid size '2k' (expected a power "
		  "of two of at least 4k)" },
		{ "session", "subbuf_size = 0",
		  "[session] subbuf_size: invalid size '0' (expected a power "
		  "of two of at least 4k)" },
		{ "session", "subbuf_size = 12k",
		  "[session] subbuf_size: invalid size '12k' (expected a "
		  "power of two of at least 4k)" },
		{ "session", "subbuf_size = big",
		  "[session] subbuf_size: invalid size 'big' (expected e.g. "
		  "4096, 64k, 8M, 1G)" },
		{ "session", "subbuf_count = 3",
		  "[session] subbuf_count: invalid integer '3' (expected a "
		  "power of two from 2 to 1024)" },
		{ "session", "subbuf_count = 1",
		  "[session] subbuf_count: invalid integer '1' (expected a "
		  "power of two from 2 to 1024)" },
		{ "session", "subbuf_count = 2048",
		  "[session] subbuf_count: invalid integer '2048' (expected a "
		  "power of two from 2 to 1024)" },
		{ "session", "subbuf_count = 0x8",
		  "[session] subbuf_count: invalid integer '0x8' (expected a "
		  "power of two from 2 to 1024)" },
		{ "session", "subbuf_count = +8",
		  "[session] subbuf_count: invalid integer '+8' (expected a "
		  "power of two from 2 to 1024)" },
		{ "session", "subbuf_count = 8k",
		  "[session] subbuf_count: invalid integer '8k' (expected a "
		  "power of two from 2 to 1024)" },
		{ "session", "buffers = global",
		  "[session] buffers: invalid buffers 'global' (expected "
		  "per-uid or per-pid)" },
		{ "session", "ust_events = \"\"",
		  "[session] ust_events: empty list (expected comma-separated "
		  "event names, e.g. * or myapp:*)" },
		{ "session", "ust_events = a,,b",
		  "[session] ust_events: invalid event name '' in 'a,,b' "
		  "(expected comma-separated names of letters, digits, '_', "
		  "':', '.', '-' and '*')" },
		{ "session", "ust_events = a b",
		  "[session] ust_events: invalid event name 'a b' in 'a b' "
		  "(expected comma-separated names of letters, digits, '_', "
		  "':', '.', '-' and '*')" },
		{ "session", "kernel_events = sched_switch,",
		  "[session] kernel_events: invalid event name '' in "
		  "'sched_switch,' (expected comma-separated names of "
		  "letters, digits, '_', ':', '.', '-' and '*')" },
		{ "session", "kernel_events = sched/switch",
		  "[session] kernel_events: invalid event name 'sched/switch' "
		  "in 'sched/switch' (expected comma-separated names of "
		  "letters, digits, '_', ':', '.', '-' and '*')" },
		{ "session", "output = /tmp/out",
		  "[session] output: invalid output '/tmp/out' (expected \"\" "
		  "for the spool, or net://HOST, net6://HOST or tcp://HOST "
		  "for an lttng-relayd)" },
		{ "session", "output = net://",
		  "[session] output: invalid output 'net://' (expected \"\" "
		  "for the spool, or net://HOST, net6://HOST or tcp://HOST "
		  "for an lttng-relayd)" },
		{ "session", "output = file:///tmp",
		  "[session] output: invalid output 'file:///tmp' (expected "
		  "\"\" for the spool, or net://HOST, net6://HOST or "
		  "tcp://HOST for an lttng-relayd)" },
		{ "session", "output = net://a b",
		  "[session] output: invalid output 'net://a b' (expected \"\" "
		  "for the spool, or net://HOST, net6://HOST or tcp://HOST "
		  "for an lttng-relayd)" },
		{ "session", "keep = maybe",
		  "[session] keep: invalid boolean 'maybe' (expected yes or "
		  "no)" },
		{ "session", "check_interval = 99ms",
		  "[session] check_interval: invalid duration '99ms' (must be "
		  "at least 100ms)" },
		{ "session", "check_interval = soon",
		  "[session] check_interval: invalid duration 'soon' "
		  "(expected e.g. 500ms, 2s, 5m, 1h)" },
		{ "control", "socket = run/control.sock",
		  "[control] socket: invalid path 'run/control.sock' "
		  "(expected an absolute path)" },
		{ "control", "socket = \"\"",
		  "[control] socket: invalid path '' (expected an absolute "
		  "path)" },
		{ "control", "group = a:b",
		  "[control] group: invalid group 'a:b' (expected a group "
		  "name of up to 63 letters, digits, '.', '_' or '-', or \"\" "
		  "for none)" },
		{ "control", "mode = 0778",
		  "[control] mode: invalid mode '0778' (expected octal "
		  "permissions up to 0777, e.g. 0660)" },
		{ "control", "mode = 1777",
		  "[control] mode: invalid mode '1777' (expected octal "
		  "permissions up to 0777, e.g. 0660)" },
		{ "control", "mode = rw",
		  "[control] mode: invalid mode 'rw' (expected octal "
		  "permissions up to 0777, e.g. 0660)" },
		{ "control", "mode = \"\"",
		  "[control] mode: invalid mode '' (expected octal "
		  "permissions up to 0777, e.g. 0660)" },
		{ "control", "mode = 00000000000000000000000001000",
		  "[control] mode: invalid mode '00000000000000000000000001000' "
		  "(expected octal permissions up to 0777, e.g. 0660)" },
		{ "trigger", "socket = trigger.sock",
		  "[trigger] socket: invalid path 'trigger.sock' (expected an "
		  "absolute path)" },
		{ "trigger", "group = \"a b\"",
		  "[trigger] group: invalid group 'a b' (expected a group name "
		  "of up to 63 letters, digits, '.', '_' or '-', or \"\" for "
		  "none)" },
		{ "trigger", "mode = 8",
		  "[trigger] mode: invalid mode '8' (expected octal "
		  "permissions up to 0777, e.g. 0660)" },
		{ "trigger", "sources = Apache",
		  "[trigger] sources: invalid source name 'Apache' in 'Apache' "
		  "(expected comma-separated names of 1 to 32 characters "
		  "a-z, 0-9, '_' or '-')" },
		{ "trigger", "sources = a,,b",
		  "[trigger] sources: invalid source name '' in 'a,,b' "
		  "(expected comma-separated names of 1 to 32 characters "
		  "a-z, 0-9, '_' or '-')" },
		{ "trigger", "sources = abcdefghijklmnopqrstuvwxyz0123456",
		  "[trigger] sources: invalid source name "
		  "'abcdefghijklmnopqrstuvwxyz0123456' in "
		  "'abcdefghijklmnopqrstuvwxyz0123456' (expected "
		  "comma-separated names of 1 to 32 characters a-z, 0-9, '_' "
		  "or '-')" },
		{ "spool", "dir = spool",
		  "[spool] dir: invalid path 'spool' (expected an absolute "
		  "path)" },
		{ "spool", "max_bytes = 1023k",
		  "[spool] max_bytes: invalid size '1023k' (expected a size "
		  "of at least 1M)" },
		{ "spool", "max_bytes = 1T",
		  "[spool] max_bytes: invalid size '1T' (expected e.g. 4096, "
		  "64k, 8M, 1G)" },
		{ "limits", "cooldown = abc",
		  "[limits] cooldown: invalid duration 'abc' (expected e.g. "
		  "500ms, 2s, 5m, 1h)" },
		{ "limits", "cooldown = -1s",
		  "[limits] cooldown: invalid duration '-1s' (expected e.g. "
		  "500ms, 2s, 5m, 1h)" },
		{ "limits", "burst = 10001",
		  "[limits] burst: invalid integer '10001' (expected a decimal "
		  "integer from 0 to 10000)" },
		{ "limits", "burst = -1",
		  "[limits] burst: invalid integer '-1' (expected a decimal "
		  "integer from 0 to 10000)" },
		{ "limits", "burst = 99999999999999999999999",
		  "[limits] burst: invalid integer '99999999999999999999999' "
		  "(expected a decimal integer from 0 to 10000)" },
		{ "limits", "burst = 4294967299",
		  "[limits] burst: invalid integer '4294967299' (expected a "
		  "decimal integer from 0 to 10000)" },
		{ "limits", "burst = 3.5",
		  "[limits] burst: invalid integer '3.5' (expected a decimal "
		  "integer from 0 to 10000)" },
		{ "limits", "refill = 0",
		  "[limits] refill: invalid duration '0' (must not be 0)" },
		{ "limits", "refill = 0ms",
		  "[limits] refill: invalid duration '0ms' (must not be 0)" },
		{ "limits", "max_per_day = 1000001",
		  "[limits] max_per_day: invalid integer '1000001' (expected a "
		  "decimal integer from 0 to 1000000)" },
		{ "limits", "coalesce = 1x",
		  "[limits] coalesce: invalid duration '1x' (expected e.g. "
		  "500ms, 2s, 5m, 1h)" },
		{ "limits", "delay = 61s",
		  "[limits] delay: invalid duration '61s' (must be at most "
		  "1m)" },
		{ "limits", "delay = 60001ms",
		  "[limits] delay: invalid duration '60001ms' (must be at most "
		  "1m)" },
		{ "source.a", "enabled = maybe",
		  "[source.a] enabled: invalid boolean 'maybe' (expected yes "
		  "or no)" },
		{ "source.a", "cooldown = 1d",
		  "[source.a] cooldown: invalid duration '1d' (expected e.g. "
		  "500ms, 2s, 5m, 1h)" },
		{ "source.a", "burst = 10001",
		  "[source.a] burst: invalid integer '10001' (expected a "
		  "decimal integer from 0 to 10000)" },
		{ "source.a", "refill = 0",
		  "[source.a] refill: invalid duration '0' (must not be 0)" },
		{ "source.a", "max_per_day = many",
		  "[source.a] max_per_day: invalid integer 'many' (expected a "
		  "decimal integer from 0 to 1000000)" },
	};
	struct config	 conf, defaults;
	char		 text[1024], want[1024], err[ERR_MAX];
	size_t		 i;

	(void)state;
	config_defaults(&defaults);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "# test\n[%s]\n%s\n",
		    cases[i].section, cases[i].line);
		snprintf(want, sizeof want, "recorder.conf:3: %s\n",
		    cases[i].error);
		assert_int_equal(load(&conf, text, err), -1);
		assert_string_equal(err, want);
		/* A failed load leaves the config as it was. */
		assert_memory_equal(&conf, &defaults, sizeof conf);
	}
}

static void
test_unknown(void **state)
{
	struct config	 conf;
	char		 err[ERR_MAX];

	(void)state;
	assert_int_equal(load(&conf,
	    "stray = 1\n"
	    "[session]\n"
	    "name = x\n"
	    "size = 1\n"
	    "[sesion]\n"
	    "name = y\n"
	    "whatever = 2\n"
	    "[Limits]\n"
	    "[source.a]\n"
	    "cooldown_ms = 1\n"
	    "[source.]\n"
	    "[source.A]\n"
	    "[source.a.b]\n"
	    "[source.abcdefghijklmnopqrstuvwxyz0123456]\n"
	    "[relay]\n", err), -1);
	assert_string_equal(err,
	    "recorder.conf:1: key 'stray' outside of any [section]\n"
	    "recorder.conf:4: [session] unknown key 'size' (expected name, "
	    "subbuf_size, subbuf_count, buffers, ust_events, kernel_events, "
	    "output, keep, check_interval)\n"
	    "recorder.conf:5: unknown section [sesion] (expected node, "
	    "session, control, trigger, spool, limits or source.NAME)\n"
	    "recorder.conf:8: unknown section [Limits] (expected node, "
	    "session, control, trigger, spool, limits or source.NAME)\n"
	    "recorder.conf:10: [source.a] unknown key 'cooldown_ms' "
	    "(expected enabled, sample, cooldown, burst, refill, "
	    "max_per_day)\n"
	    "recorder.conf:11: invalid source name '' in [source.] (expected "
	    "1 to 32 characters a-z, 0-9, '_' or '-')\n"
	    "recorder.conf:12: invalid source name 'A' in [source.A] "
	    "(expected 1 to 32 characters a-z, 0-9, '_' or '-')\n"
	    "recorder.conf:13: invalid source name 'a.b' in [source.a.b] "
	    "(expected 1 to 32 characters a-z, 0-9, '_' or '-')\n"
	    "recorder.conf:14: invalid source name "
	    "'abcdefghijklmnopqrstuvwxyz0123456' in "
	    "[source.abcdefghijklmnopqrstuvwxyz0123456] (expected 1 to 32 "
	    "characters a-z, 0-9, '_' or '-')\n"
	    "recorder.conf:15: unknown section [relay] (expected node, "
	    "session, control, trigger, spool, limits or source.NAME)\n");

	/* Every section's unknown-key message names its own keys. */
	assert_int_equal(load(&conf, "[limits]\nx = 1\n", err), -1);
	assert_string_equal(err, "recorder.conf:2: [limits] unknown key 'x' "
	    "(expected cooldown, burst, refill, max_per_day, coalesce, "
	    "delay)\n");
	assert_int_equal(load(&conf, "[trigger]\nx = 1\n", err), -1);
	assert_string_equal(err, "recorder.conf:2: [trigger] unknown key 'x' "
	    "(expected socket, group, mode, sources)\n");
}

/* Every error of a file comes out of one load, each with its line. */
static void
test_many_errors(void **state)
{
	struct config	 conf, defaults;
	char		 err[ERR_MAX];

	(void)state;
	config_defaults(&defaults);
	assert_int_equal(load(&conf,
	    "[session]\n"
	    "subbuf_size = 5k\n"		/* 2 */
	    "subbuf_count = 4\n"
	    "keep = perhaps\n"			/* 4 */
	    "\n"
	    "[limits]\n"
	    "cooldown = abc\n"			/* 7 */
	    "burst\n"				/* 8 */
	    "refill = 0\n"			/* 9 */
	    "[spool]\n"
	    "max_bytes = 1k\n"			/* 11 */
	    "[bogus]\n"				/* 12 */
	    "ignored = x\n"
	    "[limits]\n"
	    "delay = 2m\n", err), -1);		/* 15 */
	assert_string_equal(err,
	    "recorder.conf:2: [session] subbuf_size: invalid size '5k' "
	    "(expected a power of two of at least 4k)\n"
	    "recorder.conf:4: [session] keep: invalid boolean 'perhaps' "
	    "(expected yes or no)\n"
	    "recorder.conf:7: [limits] cooldown: invalid duration 'abc' "
	    "(expected e.g. 500ms, 2s, 5m, 1h)\n"
	    "recorder.conf:8: missing '=' (expected key = value, [section] "
	    "or a # comment)\n"
	    "recorder.conf:9: [limits] refill: invalid duration '0' (must "
	    "not be 0)\n"
	    "recorder.conf:11: [spool] max_bytes: invalid size '1k' "
	    "(expected a size of at least 1M)\n"
	    "recorder.conf:12: unknown section [bogus] (expected node, "
	    "session, control, trigger, spool, limits or source.NAME)\n"
	    "recorder.conf:15: [limits] delay: invalid duration '2m' (must "
	    "be at most 1m)\n");
	/* Even the valid subbuf_count = 4 is not applied. */
	assert_memory_equal(&conf, &defaults, sizeof conf);
}

/* Loading the shipped file changes nothing: it documents the defaults. */
static void
test_reference_conf(void **state)
{
	struct config	 conf, defaults;
	char		 err[ERR_MAX];

	(void)state;
	config_defaults(&defaults);
	config_defaults(&conf);
	if (config_load(&conf, "conf/recorder.conf", err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_string_equal(err, "");
	assert_memory_equal(&conf, &defaults, sizeof conf);
}

/* The commented [source.apache] example, uncommented, is valid too. */
static void
test_reference_example(void **state)
{
	struct config	 conf;
	FILE		*f;
	char		 line[4096], text[65536], err[ERR_MAX];
	size_t		 used = 0;
	int		 is_example = 0;

	(void)state;
	assert_non_null(f = fopen("conf/recorder.conf", "r"));
	while (fgets(line, sizeof line, f) != NULL) {
		if (strcmp(line, "# [source.apache]\n") == 0)
			is_example = 1;
		used += snprintf(text + used, sizeof text - used, "%s",
		    is_example && line[0] == '#' ? line + 2 : line);
		assert_true(used < sizeof text);
	}
	fclose(f);
	assert_true(is_example);
	assert_int_equal(load(&conf, text, err), 0);
	assert_int_equal(conf.policy.nsources, 1);
	assert_string_equal(conf.policy.sources[0].name, "apache");
	assert_int_equal(conf.policy.sources[0].has_limits, 1);
}

/*
 * Limits a [source.NAME] section leaves out come from the global [limits]
 * as they stand at the end of the file, even when [limits] comes after.
 */
static void
test_source_resolve(void **state)
{
	struct config			 conf;
	const struct policy_source_conf	*s;
	char				 err[ERR_MAX];

	(void)state;
	assert_int_equal(load(&conf,
	    "[source.apache]\n"
	    "cooldown = 1m\n"
	    "[source.cpu]\n"
	    "sample = 0.5\n"
	    "[limits]\n"
	    "cooldown = 30s\n"
	    "burst = 7\n"
	    "refill = 2m\n"
	    "[source.apache]\n"
	    "max_per_day = 4\n"
	    "[limits]\n"
	    "max_per_day = 9\n", err), 0);
	assert_int_equal(conf.policy.nsources, 2);

	s = find_source(&conf, "apache");
	assert_int_equal(s->is_enabled, 1);
	assert_true(s->sample == 1.0);
	assert_int_equal(s->has_limits, 1);
	assert_int_equal(s->limits.cooldown_ms, 60000);
	assert_int_equal(s->limits.burst, 7);
	assert_int_equal(s->limits.refill_ms, 120000);
	assert_int_equal(s->limits.max_per_day, 4);

	s = find_source(&conf, "cpu");
	assert_true(s->sample == 0.5);
	assert_int_equal(s->has_limits, 0);
	assert_int_equal(s->limits.cooldown_ms, 30000);
	assert_int_equal(s->limits.max_per_day, 9);

	assert_int_equal(conf.policy.limits.cooldown_ms, 30000);
	assert_int_equal(conf.policy.limits.burst, 7);
	assert_int_equal(conf.policy.only_listed, 0);
}

/* [trigger] sources lists the only enabled sources. */
static void
test_trigger_sources(void **state)
{
	struct config			 conf;
	const struct policy_source_conf	*s;
	char				 err[ERR_MAX];

	(void)state;
	assert_int_equal(load(&conf,
	    "[source.early]\n"
	    "sample = 0.1\n"
	    "[trigger]\n"
	    "sources = early, apache,cpu , apache\n"
	    "[source.cpu]\n"
	    "enabled = no\n"
	    "[source.unlisted]\n"
	    "burst = 1\n"
	    "[source.forced]\n"
	    "enabled = yes\n", err), 0);
	assert_int_equal(conf.policy.only_listed, 1);
	assert_int_equal(conf.policy.nsources, 5);
	s = find_source(&conf, "early");
	assert_int_equal(s->is_enabled, 1);
	assert_true(s->sample == 0.1);
	s = find_source(&conf, "apache");
	assert_int_equal(s->is_enabled, 1);
	assert_true(s->sample == 1.0);
	assert_int_equal(s->has_limits, 0);
	s = find_source(&conf, "cpu");
	assert_int_equal(s->is_enabled, 0);
	s = find_source(&conf, "unlisted");
	assert_int_equal(s->is_enabled, 0);
	assert_int_equal(s->has_limits, 1);
	s = find_source(&conf, "forced");
	assert_int_equal(s->is_enabled, 1);

	/* An empty list turns the filter off. */
	assert_int_equal(load(&conf, "[trigger]\nsources = a\nsources = \"\"\n"
	    "[source.b]\n", err), 0);
	assert_int_equal(conf.policy.only_listed, 0);
	assert_int_equal(find_source(&conf, "b")->is_enabled, 1);
}

static void
test_too_many_sources(void **state)
{
	struct config	 conf;
	char		 text[8192], err[ERR_MAX];
	size_t		 used = 0;
	int		 i;

	(void)state;
	/* A repeated section reuses its entry. */
	for (i = 0; i < 2 * POLICY_SOURCES_MAX; i++)
		used += snprintf(text + used, sizeof text - used,
		    "[source.s%d]\nburst = %d\n", i % POLICY_SOURCES_MAX, i);
	assert_int_equal(load(&conf, text, err), 0);
	assert_int_equal(conf.policy.nsources, POLICY_SOURCES_MAX);
	assert_int_equal(find_source(&conf, "s0")->limits.burst,
	    POLICY_SOURCES_MAX);

	used += snprintf(text + used, sizeof text - used,
	    "[source.one_more]\nburst = 1\n[trigger]\nsources = s1,x\n");
	assert_int_equal(load(&conf, text, err), -1);
	assert_string_equal(err,
	    "recorder.conf:257: too many sources (at most 64)\n"
	    "recorder.conf:260: [trigger] sources: too many sources (at most "
	    "64)\n");
}

static void
test_file_forms(void **state)
{
	static const char	 nul[] = "[session]\nname = a\0b\nkeep = yes\n";
	struct config		 conf;
	char			 text[8192], err[ERR_MAX];
	size_t			 len;

	(void)state;
	/* CRLF, quotes, no final newline. */
	assert_int_equal(load(&conf,
	    "[session]\r\n"
	    "name = \"quoted\"\r\n"
	    "ust_events = \" a , b \"\r\n"
	    "\r\n"
	    "[limits]\r\n"
	    "cooldown = 3s", err), 0);
	assert_string_equal(conf.session_name, "quoted");
	assert_string_equal(conf.ust_events, "a,b");
	assert_int_equal(conf.policy.limits.cooldown_ms, 3000);

	/* Quotes keep spaces, which a name then refuses. */
	assert_int_equal(load(&conf, "[session]\nname = \" x\"\n", err), -1);
	assert_string_equal(err, "recorder.conf:2: [session] name: invalid "
	    "name ' x' (expected 1 to 63 letters, digits, '.', '_' or '-')\n");

	/* A NUL byte is an error; the lines after it are still read. */
	config_defaults(&conf);
	assert_int_equal(config_load_buffer(&conf, "recorder.conf", nul,
	    sizeof nul - 1, err, sizeof err), -1);
	assert_string_equal(err, "recorder.conf:2: NUL byte in line\n");

	/* An overlong line, even a comment. */
	len = snprintf(text, sizeof text, "[session]\n#");
	memset(text + len, 'x', 4096);
	len += 4096;
	len += snprintf(text + len, sizeof text - len, "\nkeep = bad\n");
	config_defaults(&conf);
	assert_int_equal(config_load_buffer(&conf, "recorder.conf", text,
	    len, err, sizeof err), -1);
	assert_string_equal(err,
	    "recorder.conf:2: line too long (more than 4095 bytes)\n"
	    "recorder.conf:3: [session] keep: invalid boolean 'bad' "
	    "(expected yes or no)\n");

	/* An event list longer than the field. */
	len = snprintf(text, sizeof text, "[session]\nust_events = a");
	while (len < 2100)
		len += snprintf(text + len, sizeof text - len, ",a");
	assert_int_equal(load(&conf, text, err), -1);
	assert_string_equal(err, "recorder.conf:2: [session] ust_events: list "
	    "too long (at most 1023 bytes)\n");

	/* An empty file is the defaults. */
	assert_int_equal(load(&conf, "", err), 0);
	assert_string_equal(err, "");
}

/* A socket path must fit sun_path (108 bytes with its NUL). */
static void
test_socket_length(void **state)
{
	struct config	 conf;
	char		 path[200], text[512], err[ERR_MAX];

	(void)state;
	memset(path, 'x', sizeof path);
	path[0] = '/';
	path[107] = '\0';
	snprintf(text, sizeof text, "[control]\nsocket = %s\n", path);
	assert_int_equal(load(&conf, text, err), 0);
	assert_string_equal(conf.control_socket, path);

	path[107] = 'x';
	path[108] = '\0';
	snprintf(text, sizeof text, "[trigger]\nsocket = %s\n", path);
	assert_int_equal(load(&conf, text, err), -1);
	assert_string_equal(err, "recorder.conf:2: [trigger] socket: path too "
	    "long (108 bytes, at most 107)\n");

	/* A directory has no such limit. */
	snprintf(text, sizeof text, "[spool]\ndir = %s\n", path);
	assert_int_equal(load(&conf, text, err), 0);
	assert_string_equal(conf.spool_dir, path);
}

static void
test_error_buffer(void **state)
{
	struct config	 conf;
	char		 err[32];

	(void)state;
	config_defaults(&conf);
	assert_int_equal(config_load_buffer(&conf, "recorder.conf",
	    "[x]\n[y]\n", 8, err, sizeof err), -1);
	assert_int_equal(strlen(err), sizeof err - 1);
	assert_int_equal(config_load_buffer(&conf, "recorder.conf",
	    "[x]\n", 4, NULL, 0), -1);
	assert_int_equal(config_load(&conf, "/nonexistent/recorder.conf",
	    NULL, 0), -1);
}

static void
test_load_file(void **state)
{
	struct config	 conf;
	char		 path[] = "/tmp/test_config.XXXXXX", want[256];
	char		 err[ERR_MAX];
	const char	*text = "[session]\nname = fromfile\nkeep = x\n";
	int		 fd;

	(void)state;
	config_defaults(&conf);
	assert_int_equal(config_load(&conf, "/nonexistent/recorder.conf",
	    err, sizeof err), -1);
	assert_string_equal(err, "/nonexistent/recorder.conf: No such file "
	    "or directory\n");

	assert_int_equal(config_load(&conf, "/", err, sizeof err), -1);
	assert_string_equal(err, "/: Is a directory\n");

	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, text, strlen(text)), strlen(text));
	close(fd);
	assert_int_equal(config_load(&conf, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:3: [session] keep: invalid boolean "
	    "'x' (expected yes or no)\n", path);
	assert_string_equal(err, want);
	assert_string_equal(conf.session_name, "tracetrap");

	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) != -1);
	assert_int_equal(write(fd, text, strlen(text) - 9),
	    strlen(text) - 9);
	close(fd);
	assert_int_equal(config_load(&conf, path, err, sizeof err), 0);
	assert_string_equal(conf.session_name, "fromfile");
	unlink(path);
}

/* A file over 1 MiB is refused before it is parsed. */
static void
test_load_large_file(void **state)
{
	struct config	 conf;
	char		 path[] = "/tmp/test_config.XXXXXX", want[256];
	char		 err[ERR_MAX], block[4096];
	int		 fd, i;

	(void)state;
	memset(block, '#', sizeof block);
	block[sizeof block - 1] = '\n';
	assert_true((fd = mkstemp(path)) != -1);
	for (i = 0; i < 256; i++)
		assert_int_equal(write(fd, block, sizeof block), sizeof block);
	config_defaults(&conf);
	assert_int_equal(config_load(&conf, path, err, sizeof err), 0);
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	assert_int_equal(config_load(&conf, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: file too large (more than 1048576 "
	    "bytes)\n", path);
	assert_string_equal(err, want);
	unlink(path);
}

static void
test_session_differs(void **state)
{
	static const char	*changes[] = {
		"[session]\nname = other\n",
		"[session]\nsubbuf_size = 1M\n",
		"[session]\nsubbuf_count = 16\n",
		"[session]\nbuffers = per-pid\n",
		"[session]\nust_events = a:*\n",
		"[session]\nkernel_events = \"\"\n",
	};
	static const char	*same[] = {
		"[session]\nkeep = yes\ncheck_interval = 1s\n",
		"[limits]\nburst = 1\n[spool]\nmax_bytes = 2G\n",
		"[node]\nname = n\n[control]\nmode = 0600\n",
		/* Each snapshot names its output: no new session needed. */
		"[session]\noutput = net://relay\n",
		"[session]\nust_events = \" * \"\nbuffers = per-uid\n",
	};
	struct config		 a, b;
	char			 err[ERR_MAX];
	size_t			 i;

	(void)state;
	config_defaults(&a);
	for (i = 0; i < sizeof changes / sizeof changes[0]; i++) {
		assert_int_equal(load(&b, changes[i], err), 0);
		assert_int_equal(config_session_differs(&a, &b), 1);
		assert_int_equal(config_session_differs(&b, &a), 1);
	}
	for (i = 0; i < sizeof same / sizeof same[0]; i++) {
		assert_int_equal(load(&b, same[i], err), 0);
		assert_int_equal(config_session_differs(&a, &b), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_other_valid_forms),
		cmocka_unit_test(test_sample_forms),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_reference_conf),
		cmocka_unit_test(test_reference_example),
		cmocka_unit_test(test_source_resolve),
		cmocka_unit_test(test_trigger_sources),
		cmocka_unit_test(test_too_many_sources),
		cmocka_unit_test(test_file_forms),
		cmocka_unit_test(test_socket_length),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_large_file),
		cmocka_unit_test(test_session_differs),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
