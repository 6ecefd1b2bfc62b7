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

#include <sys/stat.h>

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

	assert_string_equal(conf.relay_address, "");
	assert_int_equal(conf.nrelays, 0);
	assert_string_equal(conf.relay_tls.ca, "/etc/tracetrap/ca.pem");
	assert_string_equal(conf.relay_tls.cert, "/etc/tracetrap/node.pem");
	assert_string_equal(conf.relay_tls.key, "/etc/tracetrap/node.key");
	assert_string_equal(conf.relay_tls.crl, "");
	assert_string_equal(conf.relay_tls.ciphersuites, "TLS_AES_128_GCM_SHA256:"
	    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
	assert_int_equal(conf.relay_reconnect_min_ms, 1000);
	assert_int_equal(conf.relay_reconnect_max_ms, 60000);
	assert_int_equal(conf.relay_ping_interval_ms, 15000);
	assert_int_equal(conf.relay_upload_chunk, 256 * 1024);
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
		  "[control] group: invalid name 'a:b' (expected 1 to 63 "
		  "letters, digits, '.', '_' or '-', or \"\" for none)" },
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
		  "[trigger] group: invalid name 'a b' (expected 1 to 63 "
		  "letters, digits, '.', '_' or '-', or \"\" for none)" },
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
		{ "relay", "address = relay",
		  "[relay] address: invalid address 'relay' (expected \"\" for "
		  "none, HOST:PORT or [IPv6]:PORT, HOST of letters, digits, '.' "
		  "and '-', PORT from 1 to 65535)" },
		{ "relay", "ca = ca.pem",
		  "[relay] ca: invalid path 'ca.pem' (expected an absolute "
		  "path)" },
		{ "relay", "cert = \"\"",
		  "[relay] cert: invalid path '' (expected an absolute path)" },
		{ "relay", "key = ./node.key",
		  "[relay] key: invalid path './node.key' (expected an "
		  "absolute path)" },
		{ "relay", "reconnect_min = 0",
		  "[relay] reconnect_min: invalid duration '0' (must not be "
		  "0)" },
		{ "relay", "reconnect_min = 61m",
		  "[relay] reconnect_min: invalid duration '61m' (must be at "
		  "most 1h)" },
		{ "relay", "reconnect_max = 0ms",
		  "[relay] reconnect_max: invalid duration '0ms' (must not be "
		  "0)" },
		{ "relay", "reconnect_max = 3600001ms",
		  "[relay] reconnect_max: invalid duration '3600001ms' (must "
		  "be at most 1h)" },
		{ "relay", "ping_interval = 999ms",
		  "[relay] ping_interval: invalid duration '999ms' (must be "
		  "at least 1s)" },
		{ "relay", "ping_interval = 2h",
		  "[relay] ping_interval: invalid duration '2h' (must be at "
		  "most 1h)" },
		{ "relay", "ping_interval = often",
		  "[relay] ping_interval: invalid duration 'often' (expected "
		  "e.g. 500ms, 2s, 5m, 1h)" },
		{ "relay", "upload_chunk = 4095",
		  "[relay] upload_chunk: invalid size '4095' (expected a size "
		  "from 4k to 256k)" },
		{ "relay", "upload_chunk = 257k",
		  "[relay] upload_chunk: invalid size '257k' (expected a size "
		  "from 4k to 256k)" },
		{ "relay", "upload_chunk = 1M",
		  "[relay] upload_chunk: invalid size '1M' (expected a size "
		  "from 4k to 256k)" },
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
	    "[listen]\n", err), -1);
	assert_string_equal(err,
	    "recorder.conf:1: key 'stray' outside of any [section]\n"
	    "recorder.conf:4: [session] unknown key 'size' (expected name, "
	    "subbuf_size, subbuf_count, buffers, ust_events, kernel_events, "
	    "output, keep, check_interval)\n"
	    "recorder.conf:5: unknown section [sesion] (expected node, "
	    "session, control, trigger, spool, limits, relay, source.NAME, "
	    "trigger.cpu.NAME, trigger.memory.NAME, trigger.psi.NAME or "
	    "trigger.lttng-event.NAME)\n"
	    "recorder.conf:8: unknown section [Limits] (expected node, "
	    "session, control, trigger, spool, limits, relay, source.NAME, "
	    "trigger.cpu.NAME, trigger.memory.NAME, trigger.psi.NAME or "
	    "trigger.lttng-event.NAME)\n"
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
	    "recorder.conf:15: unknown section [listen] (expected node, "
	    "session, control, trigger, spool, limits, relay, source.NAME, "
	    "trigger.cpu.NAME, trigger.memory.NAME, trigger.psi.NAME or "
	    "trigger.lttng-event.NAME)\n");

	/* Every section's unknown-key message names its own keys. */
	assert_int_equal(load(&conf, "[limits]\nx = 1\n", err), -1);
	assert_string_equal(err, "recorder.conf:2: [limits] unknown key 'x' "
	    "(expected cooldown, burst, refill, max_per_day, coalesce, "
	    "delay)\n");
	assert_int_equal(load(&conf, "[trigger]\nx = 1\n", err), -1);
	assert_string_equal(err, "recorder.conf:2: [trigger] unknown key 'x' "
	    "(expected socket, group, mode, sources, procfs_root, sysfs_root, "
	    "process_rescan)\n");
	assert_int_equal(load(&conf, "[relay]\nhost = a\n", err), -1);
	assert_string_equal(err, "recorder.conf:2: [relay] unknown key 'host' "
	    "(expected address, ca, cert, key, crl, ciphersuites, reconnect_min, "
	    "reconnect_max, ping_interval, upload_chunk)\n");
	/* OpenSSL skips an unknown suite silently; the config does not. */
	assert_int_equal(load(&conf, "[relay]\nciphersuites = "
	    "TLS_AES_128_GCM_SHA256:TLS_AES_512_GCM\n", err), -1);
	assert_non_null(strstr(err, "recorder.conf:2: [relay] ciphersuites: "
	    "unknown TLS 1.3 ciphersuite 'TLS_AES_512_GCM'"));
	assert_int_equal(load(&conf, "[relay]\nciphersuites = "
	    "TLS_CHACHA20_POLY1305_SHA256\n", err), 0);
	assert_string_equal(conf.relay_tls.ciphersuites,
	    "TLS_CHACHA20_POLY1305_SHA256");
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
	    "session, control, trigger, spool, limits, relay, source.NAME, "
	    "trigger.cpu.NAME, trigger.memory.NAME, trigger.psi.NAME or "
	    "trigger.lttng-event.NAME)\n"
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

/*
 * A private directory with the relay's TLS files: ca.pem, node.pem and a
 * node.key of mode 0600. Returns the directory; rmdir_tls() removes it.
 */
static char *
make_tls_dir(void)
{
	static const char	*names[] = { "ca.pem", "node.pem", "node.key" };
	char			 template[] = "/tmp/test_config.XXXXXX";
	char			*dir, path[256];
	size_t			 i;
	int			 fd;

	assert_non_null(dir = mkdtemp(template));
	assert_non_null(dir = strdup(dir));
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL,
		    0600)) != -1);
		assert_int_equal(write(fd, "PEM\n", 4), 4);
		close(fd);
		/* Whatever the umask, the key starts private. */
		assert_int_equal(chmod(path, i == 2 ? 0600 : 0644), 0);
	}
	return dir;
}

static void
rmdir_tls(char *dir)
{
	static const char	*names[] = { "ca.pem", "node.pem", "node.key",
				    "other.key", "subdir" };
	char			 path[256];
	size_t			 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (unlink(path) == -1 && errno == EISDIR)
			assert_int_equal(rmdir(path), 0);
	}
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

/* Text of a [relay] section with address set and the files of dir. */
static void
relay_text(char *text, size_t len, const char *dir, const char *extra)
{
	snprintf(text, len,
	    "[relay]\n"
	    "address = relay.example.com:5443\n"
	    "ca = %s/ca.pem\n"
	    "cert = %s/node.pem\n"
	    "key = %s/node.key\n"
	    "%s", dir, dir, dir, extra);
}

static void
test_relay_keys(void **state)
{
	struct config	 conf;
	char		*dir, text[2048], path[256], err[ERR_MAX];
	char		 extra[512], want[1024];

	(void)state;
	dir = make_tls_dir();
	relay_text(text, sizeof text, dir,
	    "reconnect_min = 250ms\n"
	    "reconnect_max = 1h\n"
	    "ping_interval = 1s\n"
	    "upload_chunk = 192k\n");
	assert_int_equal(load(&conf, text, err), 0);
	assert_string_equal(err, "");
	assert_string_equal(conf.relay_address, "relay.example.com:5443");
	assert_int_equal(conf.nrelays, 1);
	assert_string_equal(conf.relays[0].address, "relay.example.com:5443");
	assert_string_equal(conf.relays[0].host, "relay.example.com");
	assert_int_equal(conf.relays[0].port, 5443);
	snprintf(path, sizeof path, "%s/ca.pem", dir);
	assert_string_equal(conf.relay_tls.ca, path);
	snprintf(path, sizeof path, "%s/node.pem", dir);
	assert_string_equal(conf.relay_tls.cert, path);
	snprintf(path, sizeof path, "%s/node.key", dir);
	assert_string_equal(conf.relay_tls.key, path);
	assert_int_equal(conf.relay_reconnect_min_ms, 250);
	assert_int_equal(conf.relay_reconnect_max_ms, 3600 * 1000);
	assert_int_equal(conf.relay_ping_interval_ms, 1000);
	assert_int_equal(conf.relay_upload_chunk, 192 * 1024);

	relay_text(text, sizeof text, dir,
	    "reconnect_min = 1h\n"
	    "reconnect_max = 60m\n"
	    "ping_interval = 1h\n"
	    "upload_chunk = 4k\n");
	assert_int_equal(load(&conf, text, err), 0);
	assert_int_equal(conf.relay_reconnect_min_ms, 3600 * 1000);
	assert_int_equal(conf.relay_reconnect_max_ms, 3600 * 1000);
	assert_int_equal(conf.relay_upload_chunk, 4096);

	/* Without an address the files are not looked at. */
	assert_int_equal(load(&conf,
	    "[relay]\n"
	    "address = \"\"\n"
	    "ca = /nonexistent/ca.pem\n"
	    "cert = /nonexistent/node.pem\n"
	    "key = /nonexistent/node.key\n", err), 0);
	assert_string_equal(conf.relay_address, "");
	assert_int_equal(conf.nrelays, 0);
	assert_string_equal(conf.relay_tls.key, "/nonexistent/node.key");

	/* A later empty address turns the relay off again. */
	snprintf(text, sizeof text, "[relay]\naddress = r:1\naddress = \"\"\n");
	assert_int_equal(load(&conf, text, err), 0);
	assert_int_equal(conf.nrelays, 0);

	/* [relay] crl is read with the CA that signs it: "PEM" is neither. */
	snprintf(extra, sizeof extra, "crl = %s/node.pem\n", dir);
	relay_text(text, sizeof text, dir, extra);
	assert_int_equal(load(&conf, text, err), -1);
	snprintf(want, sizeof want, "recorder.conf:6: [relay] crl: CA "
	    "%s/ca.pem holds no PEM certificate\n", dir);
	assert_string_equal(err, want);
	snprintf(extra, sizeof extra, "crl = %s/nothing.pem\n", dir);
	relay_text(text, sizeof text, dir, extra);
	assert_int_equal(load(&conf, text, err), -1);
	snprintf(want, sizeof want, "recorder.conf:6: [relay] crl: "
	    "%s/nothing.pem: No such file or directory\n", dir);
	assert_string_equal(err, want);
	relay_text(text, sizeof text, dir, "crl = \"\"\n");
	assert_int_equal(load(&conf, text, err), 0);
	assert_string_equal(conf.relay_tls.crl, "");
	rmdir_tls(dir);
}

static void
test_relay_address_forms(void **state)
{
	static const char	*bad[] = {
		"relay", "relay:", ":5443", "relay:0", "relay:65536",
		"relay:99999999999999999999999", "relay:+1", "relay:-1",
		"relay: 1", "relay:1:2", "relay:0x10", "re_lay:1", "re lay:1",
		"r/x:1", "::1:5443", "::1", "[::1]", "[::1]5443", "[::1]:",
		"[]:1", "[relay]:1", "[1.2.3.4]:1", "[::1%eth0]:1", "[::1:1",
		"[::1]:1]", "relay:1 ", "http://relay:1",
	};
	struct config		 conf;
	char			 text[1024], want[1024], err[ERR_MAX];
	char			 host[300];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "[relay]\naddress = \"%s\"\n",
		    bad[i]);
		snprintf(want, sizeof want, "recorder.conf:2: [relay] "
		    "address: invalid address '%s' (expected \"\" for none, "
		    "HOST:PORT or [IPv6]:PORT, HOST of letters, digits, '.' "
		    "and '-', PORT from 1 to 65535)\n", bad[i]);
		assert_int_equal(load(&conf, text, err), -1);
		assert_string_equal(err, want);
	}

	/*
	 * The longest DNS name, 253 bytes, and one more. The first fails
	 * only for the default TLS files, which do not exist here.
	 */
	memset(host, 'a', sizeof host);
	host[253] = '\0';
	snprintf(text, sizeof text, "[relay]\naddress = %s:1\n", host);
	assert_int_equal(load(&conf, text, err), -1);
	assert_null(strstr(err, "invalid address"));
	assert_non_null(strstr(err, "recorder.conf:2: [relay] ca: "
	    "/etc/tracetrap/ca.pem: "));
	host[253] = 'a';
	host[254] = '\0';
	snprintf(text, sizeof text, "[relay]\naddress = %s:1\n", host);
	assert_int_equal(load(&conf, text, err), -1);
	assert_non_null(strstr(err, "invalid address"));
}

/* The host and port come out of every accepted form. */
static void
test_relay_address_split(void **state)
{
	static const struct {
		const char	*address;
		const char	*host;
		unsigned	 port;
	} cases[] = {
		{ "relay:1", "relay", 1 },
		{ "relay.example.com:65535", "relay.example.com", 65535 },
		{ "10.0.0.1:5443", "10.0.0.1", 5443 },
		{ "RELAY-01.Example.com:05443", "RELAY-01.Example.com", 5443 },
		{ "[::1]:5443", "::1", 5443 },
		{ "[2001:db8::5]:443", "2001:db8::5", 443 },
		{ "[::ffff:192.0.2.1]:80", "::ffff:192.0.2.1", 80 },
	};
	struct config	 conf;
	char		*dir, text[2048], extra[256], err[ERR_MAX];
	size_t		 i;

	(void)state;
	dir = make_tls_dir();
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(extra, sizeof extra, "address = %s\n",
		    cases[i].address);
		relay_text(text, sizeof text, dir, extra);
		if (load(&conf, text, err) != 0)
			fail_msg("%s", err);
		assert_string_equal(conf.relay_address, cases[i].address);
		assert_int_equal(conf.nrelays, 1);
		assert_string_equal(conf.relays[0].address, cases[i].address);
		assert_string_equal(conf.relays[0].host, cases[i].host);
		assert_int_equal(conf.relays[0].port, cases[i].port);
	}
	rmdir_tls(dir);
}

/*
 * Several relays: each entry is read as a single address is, stored
 * without the spaces around it, and split into relays[] in its order.
 */
static void
test_relay_address_lists(void **state)
{
	struct config	 conf, other;
	char		*dir, text[8192], extra[6144], err[ERR_MAX];
	size_t		 i, len;

	(void)state;
	dir = make_tls_dir();
	relay_text(text, sizeof text, dir, "address = relay1:5443, "
	    "relay2.example.com:5444 ,\t[2001:db8::5]:443,10.0.0.7:1\n");
	if (load(&conf, text, err) != 0)
		fail_msg("%s", err);
	assert_string_equal(conf.relay_address, "relay1:5443,"
	    "relay2.example.com:5444,[2001:db8::5]:443,10.0.0.7:1");
	assert_int_equal(conf.nrelays, 4);
	assert_string_equal(conf.relays[0].address, "relay1:5443");
	assert_string_equal(conf.relays[0].host, "relay1");
	assert_int_equal(conf.relays[0].port, 5443);
	assert_string_equal(conf.relays[1].host, "relay2.example.com");
	assert_int_equal(conf.relays[1].port, 5444);
	assert_string_equal(conf.relays[2].address, "[2001:db8::5]:443");
	assert_string_equal(conf.relays[2].host, "2001:db8::5");
	assert_int_equal(conf.relays[2].port, 443);
	assert_string_equal(conf.relays[3].host, "10.0.0.7");
	assert_int_equal(conf.relays[3].port, 1);

	/* One host on two ports, or two hosts on one port, are two relays. */
	relay_text(text, sizeof text, dir,
	    "address = relay:1,relay:2,[::1]:1,127.0.0.1:1\n");
	assert_int_equal(load(&conf, text, err), 0);
	assert_int_equal(conf.nrelays, 4);

	/* A later line replaces the list, whole; "" turns the relay off. */
	relay_text(text, sizeof text, dir,
	    "address = a:1,b:2,c:3\naddress = d:4\n");
	assert_int_equal(load(&conf, text, err), 0);
	assert_int_equal(conf.nrelays, 1);
	assert_string_equal(conf.relays[0].address, "d:4");
	relay_text(text, sizeof text, dir, "address = a:1,b:2\naddress = \"\"\n");
	assert_int_equal(load(&conf, text, err), 0);
	assert_int_equal(conf.nrelays, 0);
	assert_string_equal(conf.relay_address, "");

	/* Up to 16 entries; a reload sees a list that changed. */
	extra[0] = '\0';
	len = snprintf(extra, sizeof extra, "address = ");
	for (i = 0; i < 16; i++)
		len += snprintf(extra + len, sizeof extra - len, "%srelay%zu:%zu",
		    i == 0 ? "" : ",", i, 5000 + i);
	snprintf(extra + len, sizeof extra - len, "\n");
	relay_text(text, sizeof text, dir, extra);
	if (load(&conf, text, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(conf.nrelays, 16);
	assert_string_equal(conf.relays[15].address, "relay15:5015");
	other = conf;
	other.relay_address[strlen(other.relay_address) - 1] = '6';
	assert_int_equal(config_relay_differs(&conf, &other), 1);
	assert_int_equal(config_relay_differs(&conf, &conf), 0);
	rmdir_tls(dir);
}

/* A bad entry, a repeated one, one too many: file:line, all in one pass. */
static void
test_relay_address_list_errors(void **state)
{
	static const struct {
		const char	*list;
		const char	*bad;
	} bad[] = {
		{ "a:1,b", "b" },
		{ "a:1,,b:2", "" },
		{ "a:1,", "" },
		{ ",a:1", "" },
		{ "a:1,b:0", "b:0" },
		{ "a:1,b:65536", "b:65536" },
		{ "a:1,::1:5443", "::1:5443" },
		{ "a:1,[::1]", "[::1]" },
		{ "a:1,[1.2.3.4]:1", "[1.2.3.4]:1" },
		{ "a:1,http://b:2", "http://b:2" },
		{ "a:1,re_lay:2", "re_lay:2" },
		{ "a:1,b:2 c:3", "b:2 c:3" },
		{ "a:1;b:2,c:3", "a:1;b:2" },
	};
	static const struct {
		const char	*list;
		const char	*again;
		const char	*first;
	} repeated[] = {
		{ "relay:1,relay:1", "relay:1", "relay:1" },
		{ "relay:1, RELAY:1", "RELAY:1", "relay:1" },
		{ "a:1,relay:05443,relay:5443", "relay:5443", "relay:05443" },
		{ "[::1]:5443,[0:0::1]:5443", "[0:0::1]:5443", "[::1]:5443" },
		{ "[2001:DB8::5]:1,b:2,[2001:db8::5]:1", "[2001:db8::5]:1",
		    "[2001:DB8::5]:1" },
	};
	struct config	 conf;
	char		 text[8192], want[8192], err[ERR_MAX];
	size_t		 i, len;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "[relay]\naddress = %s\n",
		    bad[i].list);
		snprintf(want, sizeof want, "recorder.conf:2: [relay] "
		    "address: invalid address '%s' in '%s' (expected "
		    "comma-separated HOST:PORT or [IPv6]:PORT, HOST of "
		    "letters, digits, '.' and '-', PORT from 1 to 65535)\n",
		    bad[i].bad, bad[i].list);
		assert_int_equal(load(&conf, text, err), -1);
		assert_string_equal(err, want);
	}
	for (i = 0; i < sizeof repeated / sizeof repeated[0]; i++) {
		snprintf(text, sizeof text, "[relay]\naddress = %s\n",
		    repeated[i].list);
		snprintf(want, sizeof want, "recorder.conf:2: [relay] "
		    "address: address '%s' in '%s' repeats '%s' (list each "
		    "relay once)\n", repeated[i].again, repeated[i].list,
		    repeated[i].first);
		assert_int_equal(load(&conf, text, err), -1);
		assert_string_equal(err, want);
	}

	/* 17 entries. */
	len = snprintf(text, sizeof text, "[relay]\naddress = ");
	for (i = 0; i < 17; i++)
		len += snprintf(text + len, sizeof text - len, "%sr%zu:1",
		    i == 0 ? "" : ",", i);
	snprintf(text + len, sizeof text - len, "\n");
	assert_int_equal(load(&conf, text, err), -1);
	assert_non_null(strstr(err, "recorder.conf:2: [relay] address: too "
	    "many addresses in 'r0:1,"));
	assert_non_null(strstr(err, "' (at most 16)\n"));

	/* Every bad line in one pass, each with its own line. */
	assert_int_equal(load(&conf, "[relay]\naddress = a:1,b\n"
	    "address = c:1,c:1\n", err), -1);
	assert_string_equal(err, "recorder.conf:2: [relay] address: invalid "
	    "address 'b' in 'a:1,b' (expected comma-separated HOST:PORT or "
	    "[IPv6]:PORT, HOST of letters, digits, '.' and '-', PORT from 1 "
	    "to 65535)\n"
	    "recorder.conf:3: [relay] address: address 'c:1' in 'c:1,c:1' "
	    "repeats 'c:1' (list each relay once)\n");
}

/*
 * With an address, the TLS files must exist and the key be private; the
 * errors come after those of single lines and name the line that set the
 * file, else the address line.
 */
static void
test_relay_files(void **state)
{
	struct config	 conf, defaults;
	char		*dir, text[2048], want[2048], path[256], err[ERR_MAX];

	(void)state;
	config_defaults(&defaults);
	dir = make_tls_dir();
	snprintf(path, sizeof path, "%s/node.key", dir);

	/* 0640 and 0604 are both refused, 0400 and 0700 are fine. */
	relay_text(text, sizeof text, dir, "");
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(load(&conf, text, err), -1);
	snprintf(want, sizeof want, "recorder.conf:5: [relay] key: %s is "
	    "readable by group or others (chmod 600 it)\n", path);
	assert_string_equal(err, want);
	assert_memory_equal(&conf, &defaults, sizeof conf);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(load(&conf, text, err), -1);
	assert_string_equal(err, want);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(load(&conf, text, err), 0);
	assert_int_equal(chmod(path, 0700), 0);
	assert_int_equal(load(&conf, text, err), 0);
	/* Only the key: a certificate is public. */
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(path, sizeof path, "%s/node.pem", dir);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(load(&conf, text, err), 0);

	/* The address may come after the keys. */
	snprintf(path, sizeof path, "%s/node.key", dir);
	assert_int_equal(chmod(path, 0644), 0);
	snprintf(text, sizeof text,
	    "[relay]\n"
	    "key = %s\n"
	    "[node]\n"
	    "name = n1\n"
	    "[relay]\n"
	    "address = [::1]:5443\n", path);
	assert_int_equal(load(&conf, text, err), -1);
	snprintf(want, sizeof want,
	    "recorder.conf:6: [relay] ca: /etc/tracetrap/ca.pem: No such "
	    "file or directory (the default path, needed since address is "
	    "set)\n"
	    "recorder.conf:6: [relay] cert: /etc/tracetrap/node.pem: No such "
	    "file or directory (the default path, needed since address is "
	    "set)\n"
	    "recorder.conf:2: [relay] key: %s is readable by group or others "
	    "(chmod 600 it)\n", path);
	assert_string_equal(err, want);

	/*
	 * A key the file does not set is named at the address line; one the
	 * file sets twice, at the line that counts.
	 */
	config_defaults(&conf);
	snprintf(conf.relay_tls.key, sizeof conf.relay_tls.key, "%s", path);
	snprintf(text, sizeof text,
	    "[relay]\n"
	    "ca = %s/ca.pem\n"
	    "cert = /nonexistent/node.pem\n"
	    "cert = %s/node.pem\n"
	    "address = relay:5443\n", dir, dir);
	assert_int_equal(config_load_buffer(&conf, "recorder.conf", text,
	    strlen(text), err, sizeof err), -1);
	snprintf(want, sizeof want, "recorder.conf:5: [relay] key: %s is "
	    "readable by group or others (chmod 600 it)\n", path);
	assert_string_equal(err, want);

	/* Neither set: the [relay] header, else the file alone. */
	snprintf(conf.relay_address, sizeof conf.relay_address, "relay:1");
	assert_int_equal(config_load_buffer(&conf, "recorder.conf",
	    "[node]\n[relay]\n", 16, err, sizeof err), -1);
	assert_non_null(strstr(err, "recorder.conf:2: [relay] key: "));
	assert_int_equal(config_load_buffer(&conf, "recorder.conf",
	    "[node]\n", 7, err, sizeof err), -1);
	assert_non_null(strstr(err, "recorder.conf: [relay] key: "));
	assert_int_equal(chmod(path, 0600), 0);

	/* Missing files, a directory, and every error of the file. */
	snprintf(path, sizeof path, "%s/subdir", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(text, sizeof text,
	    "[relay]\n"
	    "address = relay:5443\n"
	    "ca = %s/nothing.pem\n"
	    "cert = %s\n"
	    "key = %s/node.key\n"
	    "ping_interval = 0\n", dir, path, dir);
	assert_int_equal(load(&conf, text, err), -1);
	snprintf(want, sizeof want,
	    "recorder.conf:6: [relay] ping_interval: invalid duration '0' "
	    "(must be at least 1s)\n"
	    "recorder.conf:3: [relay] ca: %s/nothing.pem: No such file or "
	    "directory\n"
	    "recorder.conf:4: [relay] cert: %s is not a regular file\n",
	    dir, path);
	assert_string_equal(err, want);

	/*
	 * A refused path is reported once, at its line, not again as a
	 * missing default.
	 */
	snprintf(text, sizeof text,
	    "[relay]\n"
	    "address = relay:5443\n"
	    "ca = %s/ca.pem\n"
	    "cert = %s/node.pem\n"
	    "key = node.key\n", dir, dir);
	assert_int_equal(load(&conf, text, err), -1);
	assert_string_equal(err, "recorder.conf:5: [relay] key: invalid path "
	    "'node.key' (expected an absolute path)\n");

	/* A refused address checks no file. */
	assert_int_equal(load(&conf, "[relay]\naddress = relay\n", err), -1);
	assert_string_equal(err, "recorder.conf:2: [relay] address: invalid "
	    "address 'relay' (expected \"\" for none, HOST:PORT or "
	    "[IPv6]:PORT, HOST of letters, digits, '.' and '-', PORT from 1 "
	    "to 65535)\n");
	rmdir_tls(dir);
}

static void
test_relay_reconnect(void **state)
{
	struct config	 conf;
	char		 err[ERR_MAX];

	(void)state;
	assert_int_equal(load(&conf, "[relay]\nreconnect_min = 5s\n"
	    "reconnect_max = 5s\n", err), 0);
	assert_int_equal(load(&conf, "[relay]\nreconnect_max = 5s\n"
	    "[limits]\nburst = 1\n[relay]\nreconnect_min = 2s\n", err), 0);

	/* Named at reconnect_max, after the errors of single lines. */
	assert_int_equal(load(&conf, "[relay]\nreconnect_max = 500ms\n"
	    "reconnect_min = 2s\nping_interval = x\n", err), -1);
	assert_string_equal(err,
	    "recorder.conf:4: [relay] ping_interval: invalid duration 'x' "
	    "(expected e.g. 500ms, 2s, 5m, 1h)\n"
	    "recorder.conf:2: [relay] reconnect_max: 500ms is less than "
	    "reconnect_min (2s)\n");

	/* Against a default, at the line of the key that is set. */
	assert_int_equal(load(&conf, "[relay]\nreconnect_max = 500ms\n", err),
	    -1);
	assert_string_equal(err, "recorder.conf:2: [relay] reconnect_max: "
	    "500ms is less than reconnect_min (1s)\n");
	assert_int_equal(load(&conf, "[relay]\n\nreconnect_min = 2m\n", err),
	    -1);
	assert_string_equal(err, "recorder.conf:3: [relay] reconnect_max: "
	    "1m is less than reconnect_min (2m)\n");

	/* A refused value is not compared. */
	assert_int_equal(load(&conf, "[relay]\nreconnect_min = 2m\n"
	    "reconnect_max = 0\n", err), -1);
	assert_string_equal(err, "recorder.conf:3: [relay] reconnect_max: "
	    "invalid duration '0' (must not be 0)\n");
}

static void
test_relay_differs(void **state)
{
	static const char	*changes[] = {
		"[relay]\nca = /x/ca.pem\n",
		"[relay]\ncert = /x/node.pem\n",
		"[relay]\nkey = /x/node.key\n",
		"[relay]\nreconnect_min = 2s\n",
		"[relay]\nreconnect_max = 2m\n",
		"[relay]\nping_interval = 16s\n",
		"[relay]\nupload_chunk = 64k\n",
		"[relay]\nciphersuites = TLS_AES_256_GCM_SHA384\n",
	};
	static const char	*same[] = {
		"[relay]\nreconnect_max = 60000ms\nupload_chunk = 262144\n",
		"[session]\nname = other\n[limits]\nburst = 1\n",
		"[node]\nname = n\n[spool]\nmax_bytes = 2G\n",
	};
	struct config		 a, b;
	char			 err[ERR_MAX];
	size_t			 i;

	(void)state;
	config_defaults(&a);
	for (i = 0; i < sizeof changes / sizeof changes[0]; i++) {
		assert_int_equal(load(&b, changes[i], err), 0);
		assert_int_equal(config_relay_differs(&a, &b), 1);
		assert_int_equal(config_relay_differs(&b, &a), 1);
		assert_int_equal(config_session_differs(&a, &b), 0);
	}
	for (i = 0; i < sizeof same / sizeof same[0]; i++) {
		assert_int_equal(load(&b, same[i], err), 0);
		assert_int_equal(config_relay_differs(&a, &b), 0);
	}
	/* The address, set without a load (which would check files). */
	config_defaults(&b);
	snprintf(b.relay_address, sizeof b.relay_address, "relay:1");
	assert_int_equal(config_relay_differs(&a, &b), 1);
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
		cmocka_unit_test(test_session_differs),
		cmocka_unit_test(test_relay_keys),
		cmocka_unit_test(test_relay_address_forms),
		cmocka_unit_test(test_relay_address_split),
		cmocka_unit_test(test_relay_address_lists),
		cmocka_unit_test(test_relay_address_list_errors),
		cmocka_unit_test(test_relay_files),
		cmocka_unit_test(test_relay_reconnect),
		cmocka_unit_test(test_relay_differs),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
