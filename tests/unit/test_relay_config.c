/*
 * Unit tests of relay/relay_config.c: defaults, every key, every kind of
 * bad value with its file:line message, the checks of the [listen] TLS
 * files, and the reference conf/relay.conf. Run from the top of the source
 * tree (the reference file is read by its relative path).
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

#include "relay_config.h"

#define ERR_MAX	8192

/* Loads text over the defaults, as "relay.conf", without file checks. */
static int
load(struct relay_config *conf, const char *text, char *err)
{
	relay_config_defaults(conf);
	return relay_config_load_buffer(conf, "relay.conf", text,
	    strlen(text), RELAY_CONFIG_NO_FILE_CHECKS, err, ERR_MAX);
}

/* The same, with the checks of the [listen] files. */
static int
load_checked(struct relay_config *conf, const char *text, char *err)
{
	relay_config_defaults(conf);
	return relay_config_load_buffer(conf, "relay.conf", text,
	    strlen(text), 0, err, ERR_MAX);
}

static void
test_defaults(void **state)
{
	struct relay_config	 conf;
	char			 host[256];

	(void)state;
	memset(&conf, 0xa5, sizeof conf);
	relay_config_defaults(&conf);

	assert_true(strlen(conf.name) > 0);
	assert_true(strlen(conf.name) < RELAY_CONFIG_NAME_MAX);
	assert_int_equal(strspn(conf.name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-"), strlen(conf.name));
	if (gethostname(host, sizeof host) == 0 && strlen(host) < 64 &&
	    strspn(host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == strlen(host) && host[0] != '\0')
		assert_string_equal(conf.name, host);

	assert_string_equal(conf.listen_address, "127.0.0.1:5443");
	assert_string_equal(conf.listen_host, "127.0.0.1");
	assert_int_equal(conf.listen_port, 5443);
	assert_string_equal(conf.listen_tls.ca, "/etc/tracetrap/ca.pem");
	assert_string_equal(conf.listen_tls.cert, "/etc/tracetrap/relay.pem");
	assert_string_equal(conf.listen_tls.crl, "");
	assert_string_equal(conf.listen_tls.key, "/etc/tracetrap/relay.key");
	assert_string_equal(conf.listen_tls.ciphersuites,
	    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
	    "TLS_CHACHA20_POLY1305_SHA256");

	assert_string_equal(conf.api_address, "127.0.0.1:5480");
	assert_string_equal(conf.api_host, "127.0.0.1");
	assert_int_equal(conf.api_port, 5480);
	assert_string_equal(conf.api_token, "");
	assert_int_equal(conf.is_api_tls, 0);

	assert_string_equal(conf.store_dir, "/var/lib/tracetrap/store");
	assert_string_equal(conf.store_catalog, "");
	assert_int_equal(conf.analysis_wait_for_uploads_ms, 5000);
	assert_string_equal(conf.store_catalog_path,
	    "/var/lib/tracetrap/store/catalog.db");
	assert_true(conf.store_max_bytes == 100ULL * 1024 * 1024 * 1024);
	assert_true(conf.store_max_age_ms == 720ULL * 3600 * 1000);
	assert_int_equal(conf.store_min_free, 256 * 1024 * 1024);
	assert_true(conf.store_s3_cache == 1024ULL * 1024 * 1024);
	assert_true(conf.store_s3_sweep_grace_ms == 3600ULL * 1000);

	assert_int_equal(conf.fleet_cooldown_ms, 30000);
	assert_int_equal(conf.fleet_max_per_hour, 12);
	assert_int_equal(conf.fleet_node_max_per_hour, 4);
	assert_string_equal(conf.fleet_nodes, "");
	assert_int_equal(conf.fleet_catch_up_ms, 30000);
	assert_int_equal(conf.fleet_heartbeat_ms, 10000);
}

static void
test_every_key(void **state)
{
	struct relay_config	 conf;
	char			 err[ERR_MAX];

	(void)state;
	assert_int_equal(load(&conf,
	    "[relay]\n"
	    "name = relay-01.example.com\n"
	    "[listen]\n"
	    "address = 0.0.0.0:6443\n"
	    "ca = /srv/tls/fleet-ca.pem\n"
	    "cert = /srv/tls/relay.pem\n"
	    "key = /srv/tls/relay.key\n"
	    "[api]\n"
	    "address = [::1]:8080\n"
	    "token = 0123456789abcdef-._~+/=\n"
	    "tls = yes\n"
	    "[store]\n"
	    "dir = /srv/store\n"
	    "catalog = /srv/db/catalog.sqlite\n"
	    "max_bytes = 1M\n"
	    "max_age = 0\n"
	    "min_free = 0\n"
	    "[fleet]\n"
	    "cooldown = 0\n"
	    "max_per_hour = 1024\n"
	    "node_max_per_hour = 0\n"
	    "nodes = web-01, web-02 ,db_1\n"
	    "catch_up = 2m\n"
	    "heartbeat = 500ms\n"
	    "[analysis]\n"
	    "wait_for_uploads = 0\n", err), 0);
	assert_string_equal(err, "");

	assert_string_equal(conf.name, "relay-01.example.com");
	assert_string_equal(conf.listen_address, "0.0.0.0:6443");
	assert_string_equal(conf.listen_host, "0.0.0.0");
	assert_int_equal(conf.listen_port, 6443);
	assert_string_equal(conf.listen_tls.ca, "/srv/tls/fleet-ca.pem");
	assert_string_equal(conf.listen_tls.cert, "/srv/tls/relay.pem");
	assert_string_equal(conf.listen_tls.key, "/srv/tls/relay.key");
	assert_string_equal(conf.api_address, "[::1]:8080");
	assert_string_equal(conf.api_host, "::1");
	assert_int_equal(conf.api_port, 8080);
	assert_string_equal(conf.api_token, "0123456789abcdef-._~+/=");
	assert_int_equal(conf.is_api_tls, 1);
	assert_string_equal(conf.store_dir, "/srv/store");
	assert_string_equal(conf.store_catalog, "/srv/db/catalog.sqlite");
	assert_string_equal(conf.store_catalog_path, "/srv/db/catalog.sqlite");
	assert_int_equal(conf.store_max_bytes, 1024 * 1024);
	assert_int_equal(conf.store_max_age_ms, 0);
	assert_int_equal(conf.store_min_free, 0);
	assert_int_equal(conf.fleet_cooldown_ms, 0);
	assert_int_equal(conf.fleet_max_per_hour, 1024);
	assert_int_equal(conf.fleet_node_max_per_hour, 0);
	assert_string_equal(conf.fleet_nodes, "web-01,web-02,db_1");
	assert_int_equal(conf.fleet_catch_up_ms, 120000);
	assert_int_equal(conf.fleet_heartbeat_ms, 500);
	assert_int_equal(conf.analysis_wait_for_uploads_ms, 0);
}

static void
test_other_valid_forms(void **state)
{
	struct relay_config	 conf;
	char			 text[1024], token[256], err[ERR_MAX];

	(void)state;
	/* The catalog follows the store when it is not set. */
	assert_int_equal(load(&conf, "[store]\ndir = /srv/store/\n", err), 0);
	assert_string_equal(conf.store_catalog_path,
	    "/srv/store/catalog.db");
	assert_int_equal(load(&conf, "[store]\ncatalog = /c.db\n"
	    "catalog = \"\"\ndir = /\n", err), 0);
	assert_string_equal(conf.store_catalog, "");
	assert_string_equal(conf.store_catalog_path, "/catalog.db");

	/* Repeats go, an empty list means every node. */
	assert_int_equal(load(&conf, "[fleet]\nnodes = a, b, a,\tb ,c\n",
	    err), 0);
	assert_string_equal(conf.fleet_nodes, "a,b,c");
	assert_int_equal(load(&conf, "[fleet]\nnodes = a\nnodes = \"\"\n",
	    err), 0);
	assert_string_equal(conf.fleet_nodes, "");

	/* Tokens of 16 and 255 characters, and none. */
	assert_int_equal(load(&conf, "[api]\ntoken = abcdefghijklmnop\n",
	    err), 0);
	assert_string_equal(conf.api_token, "abcdefghijklmnop");
	memset(token, 'x', sizeof token);
	token[255] = '\0';
	snprintf(text, sizeof text, "[api]\ntoken = %s\n", token);
	assert_int_equal(load(&conf, text, err), 0);
	assert_string_equal(conf.api_token, token);
	assert_int_equal(load(&conf, "[api]\ntoken = abcdefghijklmnop\n"
	    "token = \"\"\ntls = no\n", err), 0);
	assert_string_equal(conf.api_token, "");

	assert_int_equal(load(&conf,
	    "[listen]\n"
	    "address = [2001:db8::1]:1\n"
	    "[api]\n"
	    "address = relay.example.com:65535\n"
	    "[store]\n"
	    "max_bytes = 2G\n"
	    "max_age = 90m\n"
	    "min_free = 4096\n"
	    "[fleet]\n"
	    "cooldown = 250ms\n"
	    "max_per_hour = 0\n", err), 0);
	assert_string_equal(conf.listen_host, "2001:db8::1");
	assert_int_equal(conf.listen_port, 1);
	assert_string_equal(conf.api_host, "relay.example.com");
	assert_int_equal(conf.api_port, 65535);
	assert_true(conf.store_max_bytes == 2ULL * 1024 * 1024 * 1024);
	assert_int_equal(conf.store_max_age_ms, 90 * 60 * 1000);
	assert_int_equal(conf.store_min_free, 4096);
	assert_int_equal(conf.fleet_cooldown_ms, 250);
	assert_int_equal(conf.fleet_max_per_hour, 0);

	/* A later value replaces an earlier one. */
	assert_int_equal(load(&conf, "[relay]\nname = a\n[relay]\nname = b\n",
	    err), 0);
	assert_string_equal(conf.name, "b");
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
		{ "relay", "name = \"\"",
		  "[relay] name: invalid name '' (expected 1 to 63 letters, "
		  "digits, '.', '_' or '-')" },
		{ "relay", "name = relay/01",
		  "[relay] name: invalid name 'relay/01' (expected 1 to 63 "
		  "letters, digits, '.', '_' or '-')" },
		{ "relay", "name = "
		  "0123456789012345678901234567890123456789012345678901234567"
		  "890123",
		  "[relay] name: invalid name '012345678901234567890123456789"
		  "0123456789012345678901234567890123' (expected 1 to 63 "
		  "letters, digits, '.', '_' or '-')" },
		{ "listen", "address = \"\"",
		  "[listen] address: invalid address '' (expected HOST:PORT or "
		  "[IPv6]:PORT, HOST of letters, digits, '.' and '-', PORT "
		  "from 1 to 65535)" },
		{ "listen", "address = 5443",
		  "[listen] address: invalid address '5443' (expected "
		  "HOST:PORT or [IPv6]:PORT, HOST of letters, digits, '.' and "
		  "'-', PORT from 1 to 65535)" },
		{ "listen", "address = *:5443",
		  "[listen] address: invalid address '*:5443' (expected "
		  "HOST:PORT or [IPv6]:PORT, HOST of letters, digits, '.' and "
		  "'-', PORT from 1 to 65535)" },
		{ "listen", "address = [::]:0",
		  "[listen] address: invalid address '[::]:0' (expected "
		  "HOST:PORT or [IPv6]:PORT, HOST of letters, digits, '.' and "
		  "'-', PORT from 1 to 65535)" },
		{ "listen", "ca = ca.pem",
		  "[listen] ca: invalid path 'ca.pem' (expected an absolute "
		  "path)" },
		{ "listen", "cert = \"\"",
		  "[listen] cert: invalid path '' (expected an absolute "
		  "path)" },
		{ "listen", "key = ~/relay.key",
		  "[listen] key: invalid path '~/relay.key' (expected an "
		  "absolute path)" },
		{ "api", "address = localhost:65536",
		  "[api] address: invalid address 'localhost:65536' (expected "
		  "HOST:PORT or [IPv6]:PORT, HOST of letters, digits, '.' and "
		  "'-', PORT from 1 to 65535)" },
		{ "api", "address = ::1:5480",
		  "[api] address: invalid address '::1:5480' (expected "
		  "HOST:PORT or [IPv6]:PORT, HOST of letters, digits, '.' and "
		  "'-', PORT from 1 to 65535)" },
		{ "api", "token = short",
		  "[api] token: token of 5 characters (expected \"\" for none, "
		  "or 16 to 255 characters)" },
		{ "api", "token = 0123456789abcde",
		  "[api] token: token of 15 characters (expected \"\" for "
		  "none, or 16 to 255 characters)" },
		{ "api", "token = \"0123456789 abcdef\"",
		  "[api] token: invalid character at offset 10 of the token "
		  "(expected \"\" for none, or letters, digits and '-', '.', "
		  "'_', '~', '+', '/', '=')" },
		{ "api", "token = 0123456789abcdef:",
		  "[api] token: invalid character at offset 16 of the token "
		  "(expected \"\" for none, or letters, digits and '-', '.', "
		  "'_', '~', '+', '/', '=')" },
		{ "api", "tls = https",
		  "[api] tls: invalid boolean 'https' (expected yes or no)" },
		{ "store", "dir = store",
		  "[store] dir: invalid path 'store' (expected an absolute "
		  "path)" },
		{ "store", "catalog = catalog.db",
		  "[store] catalog: invalid path 'catalog.db' (expected \"\" "
		  "or an absolute path)" },
		{ "store", "max_bytes = 1023k",
		  "[store] max_bytes: invalid size '1023k' (expected a size of "
		  "at least 1M)" },
		{ "store", "max_bytes = 1T",
		  "[store] max_bytes: invalid size '1T' (expected e.g. 4096, "
		  "64k, 8M, 1G)" },
		{ "store", "max_age = 30d",
		  "[store] max_age: invalid duration '30d' (expected e.g. "
		  "500ms, 2s, 5m, 1h)" },
		{ "store", "min_free = -1",
		  "[store] min_free: invalid size '-1' (expected e.g. 4096, "
		  "64k, 8M, 1G)" },
		{ "fleet", "cooldown = soon",
		  "[fleet] cooldown: invalid duration 'soon' (expected e.g. "
		  "500ms, 2s, 5m, 1h)" },
		{ "fleet", "max_per_hour = 1025",
		  "[fleet] max_per_hour: invalid integer '1025' (expected a "
		  "decimal integer from 0 to 1024)" },
		{ "fleet", "max_per_hour = -1",
		  "[fleet] max_per_hour: invalid integer '-1' (expected a "
		  "decimal integer from 0 to 1024)" },
		{ "fleet", "max_per_hour = 99999999999999999999999",
		  "[fleet] max_per_hour: invalid integer "
		  "'99999999999999999999999' (expected a decimal integer from "
		  "0 to 1024)" },
		{ "fleet", "nodes = a,,b",
		  "[fleet] nodes: invalid node name '' in 'a,,b' (expected "
		  "\"\" for every node, or comma-separated names of 1 to 63 "
		  "letters, digits, '.', '_' or '-', not starting with '.')" },
		{ "fleet", "nodes = web 01",
		  "[fleet] nodes: invalid node name 'web 01' in 'web 01' "
		  "(expected \"\" for every node, or comma-separated names of "
		  "1 to 63 letters, digits, '.', '_' or '-', not starting with "
		  "'.')" },
		{ "fleet", "nodes = a,..",
		  "[fleet] nodes: invalid node name '..' in 'a,..' (expected "
		  "\"\" for every node, or comma-separated names of 1 to 63 "
		  "letters, digits, '.', '_' or '-', not starting with '.')" },
		{ "fleet", "nodes = a/b",
		  "[fleet] nodes: invalid node name 'a/b' in 'a/b' (expected "
		  "\"\" for every node, or comma-separated names of 1 to 63 "
		  "letters, digits, '.', '_' or '-', not starting with '.')" },
		{ "fleet", "nodes = a,",
		  "[fleet] nodes: invalid node name '' in 'a,' (expected \"\" "
		  "for every node, or comma-separated names of 1 to 63 "
		  "letters, digits, '.', '_' or '-', not starting with '.')" },
		{ "analysis", "wait_for_uploads = 2h",
		  "[analysis] wait_for_uploads: invalid duration '2h' (must be "
		  "at most 1h)" },
	};
	struct relay_config	 conf, defaults;
	char			 text[1024], want[1024], err[ERR_MAX];
	size_t			 i;

	(void)state;
	relay_config_defaults(&defaults);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "# test\n[%s]\n%s\n",
		    cases[i].section, cases[i].line);
		snprintf(want, sizeof want, "relay.conf:3: %s\n",
		    cases[i].error);
		assert_int_equal(load(&conf, text, err), -1);
		assert_string_equal(err, want);
		/* A failed load leaves the config as it was. */
		assert_memory_equal(&conf, &defaults, sizeof conf);
	}
}

/* A bad token is never quoted: messages end up in logs. */
static void
test_token_not_logged(void **state)
{
	struct relay_config	 conf;
	char			 err[ERR_MAX];

	(void)state;
	assert_int_equal(load(&conf, "[api]\ntoken = s3cr3t\n", err), -1);
	assert_null(strstr(err, "s3cr3t"));
	assert_int_equal(load(&conf, "[api]\ntoken = \"s3cr3t-s3cr3t-s3cr3t "
	    "x\"\n", err), -1);
	assert_null(strstr(err, "s3cr3t"));
}

static void
test_unknown(void **state)
{
	struct relay_config	 conf;
	char			 err[ERR_MAX];

	(void)state;
	assert_int_equal(load(&conf,
	    "stray = 1\n"
	    "[listen]\n"
	    "port = 5443\n"
	    "[lisen]\n"
	    "address = x\n"
	    "[Store]\n"
	    "[store]\n"
	    "path = /x\n"
	    "[session]\n"
	    "[api]\n"
	    "bearer = x\n"
	    "[fleet]\n"
	    "nodes_list = a\n"
	    "[relay]\n"
	    "hostname = x\n", err), -1);
	assert_string_equal(err,
	    "relay.conf:1: key 'stray' outside of any [section]\n"
	    "relay.conf:3: [listen] unknown key 'port' (expected address, ca, "
	    "cert, key, crl, ciphersuites, max_connections, max_per_address, "
	    "max_memory, "
	    "handshake_timeout)\n"
	    "relay.conf:4: unknown section [lisen] (expected node, relay, "
	    "listen, api, store, catalog, fleet or analysis)\n"
	    "relay.conf:6: unknown section [Store] (expected node, relay, "
	    "listen, api, store, catalog, fleet or analysis)\n"
	    "relay.conf:8: [store] unknown key 'path' (expected dir, catalog, "
	    "max_bytes, max_age, min_free, backend, s3_endpoint, s3_region, "
	    "s3_bucket, s3_prefix, s3_credentials, s3_ca, s3_part_size, "
	    "s3_cache, s3_sweep_grace)\n"
	    "relay.conf:9: unknown section [session] (expected node, relay, "
	    "listen, api, store, catalog, fleet or analysis)\n"
	    "relay.conf:11: [api] unknown key 'bearer' (expected address, "
	    "token, tls)\n"
	    "relay.conf:13: [fleet] unknown key 'nodes_list' (expected "
	    "cooldown, max_per_hour, node_max_per_hour, nodes, catch_up, heartbeat)\n"
	    "relay.conf:15: [relay] unknown key 'hostname' (expected "
	    "name)\n");
}

/* Every error of a file comes out of one load, each with its line. */
static void
test_many_errors(void **state)
{
	struct relay_config	 conf, defaults;
	char			 err[ERR_MAX];

	(void)state;
	relay_config_defaults(&defaults);
	assert_int_equal(load(&conf,
	    "[listen]\n"
	    "address = 0.0.0.0:5443\n"
	    "ca = x\n"				/* 3 */
	    "\n"
	    "[api]\n"
	    "address = 127.0.0.1:5443\n"	/* 6: same port */
	    "tls = maybe\n"			/* 7 */
	    "[store]\n"
	    "max_bytes\n"			/* 9 */
	    "max_age = 1y\n"			/* 10 */
	    "[bogus]\n"				/* 11 */
	    "ignored = x\n"
	    "[fleet]\n"
	    "max_per_hour = many\n", err), -1);	/* 14 */
	assert_string_equal(err,
	    "relay.conf:3: [listen] ca: invalid path 'x' (expected an "
	    "absolute path)\n"
	    "relay.conf:7: [api] tls: invalid boolean 'maybe' (expected yes "
	    "or no)\n"
	    "relay.conf:9: missing '=' (expected key = value, [section] or a "
	    "# comment)\n"
	    "relay.conf:10: [store] max_age: invalid duration '1y' (expected "
	    "e.g. 500ms, 2s, 5m, 1h)\n"
	    "relay.conf:11: unknown section [bogus] (expected node, relay, "
	    "listen, api, store, catalog, fleet or analysis)\n"
	    "relay.conf:14: [fleet] max_per_hour: invalid integer 'many' "
	    "(expected a decimal integer from 0 to 1024)\n"
	    "relay.conf:6: [api] address: 127.0.0.1:5443 takes the port of "
	    "[listen] address 0.0.0.0:5443 (expected another port)\n");
	/* Even the valid [listen] address is not applied. */
	assert_memory_equal(&conf, &defaults, sizeof conf);
}

/* [api] and [listen] cannot share a port on one host. */
static void
test_address_conflict(void **state)
{
	static const char	*clash[] = {
		"[api]\naddress = 127.0.0.1:5443\n",
		"[listen]\naddress = 127.0.0.1:5480\n",
		"[listen]\naddress = [::]:5480\n",
		"[api]\naddress = 0.0.0.0:5443\n",
		"[listen]\naddress = relay:9\n[api]\naddress = relay:9\n",
	};
	static const char	*fine[] = {
		"[api]\naddress = 127.0.0.2:5443\n",
		"[listen]\naddress = 10.0.0.1:5480\n",
		"[listen]\naddress = [::1]:5480\n",
		"[listen]\naddress = 0.0.0.0:443\n[api]\naddress = "
		    "0.0.0.0:80\n",
	};
	struct relay_config	 conf;
	char			 err[ERR_MAX];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof clash / sizeof clash[0]; i++) {
		assert_int_equal(load(&conf, clash[i], err), -1);
		assert_non_null(strstr(err, "[api] address: "));
		assert_non_null(strstr(err, "takes the port of [listen] "
		    "address"));
	}
	for (i = 0; i < sizeof fine / sizeof fine[0]; i++) {
		if (load(&conf, fine[i], err) != 0)
			fail_msg("%s", err);
	}

	/* Named at the [api] line, else at the [listen] one. */
	assert_int_equal(load(&conf, "[listen]\naddress = 127.0.0.1:5480\n",
	    err), -1);
	assert_string_equal(err, "relay.conf:2: [api] address: "
	    "127.0.0.1:5480 takes the port of [listen] address "
	    "127.0.0.1:5480 (expected another port)\n");
	assert_int_equal(load(&conf, "[listen]\naddress = 127.0.0.1:1\n\n"
	    "[api]\naddress = 127.0.0.1:1\n", err), -1);
	assert_string_equal(err, "relay.conf:5: [api] address: 127.0.0.1:1 "
	    "takes the port of [listen] address 127.0.0.1:1 (expected "
	    "another port)\n");

	/* A refused address is not compared. */
	assert_int_equal(load(&conf, "[listen]\naddress = 127.0.0.1:5480\n"
	    "[api]\naddress = bad\n", err), -1);
	assert_null(strstr(err, "takes the port"));
}

/* Loading the shipped file changes nothing: it documents the defaults. */
/* [store] backend = s3 and [catalog] backend = postgresql, and their keys. */
static void
test_scale_out_keys(void **state)
{
	struct relay_config	 conf;
	char			 err[ERR_MAX];

	(void)state;
	relay_config_defaults(&conf);
	assert_int_equal(conf.store_backend, RELAY_STORE_LOCAL);
	assert_int_equal(conf.catalog_backend, RELAY_CATALOG_SQLITE);
	assert_string_equal(conf.store_s3_bucket, "tracetrap");
	assert_string_equal(conf.store_s3_region, "us-east-1");
	assert_string_equal(conf.store_s3_credentials,
	    "/etc/tracetrap/s3-credentials");
	assert_int_equal(conf.store_s3_part_size, 64ULL << 20);

	assert_int_equal(load(&conf, "[node]\nname = relay-2\n"
	    "[store]\nbackend = s3\ns3_endpoint = http://127.0.0.1:17480\n"
	    "s3_bucket = tt-snapshots\ns3_prefix = fleet-a/\n"
	    "s3_part_size = 5M\ns3_region = default\ns3_cache = 0\n"
	    "s3_sweep_grace = 30s\n"
	    "[catalog]\nbackend = postgresql\n"
	    "conninfo = host=127.0.0.1 port=17432 dbname=tracetrap\n", err), 0);
	assert_string_equal(conf.name, "relay-2");
	assert_int_equal(conf.store_backend, RELAY_STORE_S3);
	assert_string_equal(conf.store_s3_endpoint, "http://127.0.0.1:17480");
	assert_string_equal(conf.store_s3_bucket, "tt-snapshots");
	assert_string_equal(conf.store_s3_prefix, "fleet-a/");
	assert_string_equal(conf.store_s3_region, "default");
	assert_int_equal(conf.store_s3_part_size, 5ULL << 20);
	assert_int_equal(conf.store_s3_cache, 0);
	assert_int_equal(conf.store_s3_sweep_grace_ms, 30000);
	assert_int_equal(conf.catalog_backend, RELAY_CATALOG_POSTGRESQL);
	assert_string_equal(conf.catalog_conninfo,
	    "host=127.0.0.1 port=17432 dbname=tracetrap");

	/* s3 without an endpoint: named at the backend line. */
	assert_int_equal(load(&conf, "[store]\nbackend = s3\n", err), -1);
	assert_non_null(strstr(err, "relay.conf:2: [store] s3_endpoint: "
	    "empty with backend = s3"));

	assert_int_equal(load(&conf, "[store]\nbackend = nfs\n"
	    "s3_endpoint = ftp://x\ns3_endpoint = http://h/path\n"
	    "s3_bucket = Big_Bucket\ns3_prefix = ../up\ns3_prefix = /abs\n"
	    "s3_part_size = 1M\n[catalog]\nbackend = oracle\n", err), -1);
	assert_non_null(strstr(err, "relay.conf:2: "));
	assert_non_null(strstr(err, "'nfs'"));
	assert_non_null(strstr(err, "relay.conf:3: "));
	assert_non_null(strstr(err, "relay.conf:4: "));
	assert_non_null(strstr(err, "invalid bucket 'Big_Bucket'"));
	assert_non_null(strstr(err, "relay.conf:6: "));
	assert_non_null(strstr(err, "relay.conf:7: "));
	assert_non_null(strstr(err, "relay.conf:8: "));
	assert_non_null(strstr(err, "relay.conf:10: "));
	assert_non_null(strstr(err, "'oracle'"));
}

static void
test_reference_conf(void **state)
{
	struct relay_config	 conf, defaults;
	char			 err[ERR_MAX];

	(void)state;
	relay_config_defaults(&defaults);
	relay_config_defaults(&conf);
	if (relay_config_load(&conf, "conf/relay.conf",
	    RELAY_CONFIG_NO_FILE_CHECKS, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_string_equal(err, "");
	assert_memory_equal(&conf, &defaults, sizeof conf);
}

/* The commented name line, uncommented with a value, is valid too. */
static void
test_reference_every_key(void **state)
{
	struct relay_config	 conf;
	FILE			*f;
	char			 line[4096], text[65536], err[ERR_MAX];
	size_t			 used = 0;
	int			 has_name = 0;

	(void)state;
	assert_non_null(f = fopen("conf/relay.conf", "r"));
	while (fgets(line, sizeof line, f) != NULL) {
		if (strcmp(line, "# name = <hostname>\n") == 0) {
			snprintf(line, sizeof line, "name = relay-1\n");
			has_name = 1;
		}
		used += snprintf(text + used, sizeof text - used, "%s", line);
		assert_true(used < sizeof text);
	}
	fclose(f);
	assert_true(has_name);
	assert_int_equal(load(&conf, text, err), 0);
	assert_string_equal(conf.name, "relay-1");
}

/*
 * A private directory with the relay's TLS files: ca.pem, relay.pem and a
 * relay.key of mode 0600. rmdir_tls() removes it.
 */
static char *
make_tls_dir(void)
{
	static const char	*names[] = { "ca.pem", "relay.pem",
				    "relay.key" };
	char			 template[] = "/tmp/test_relay_config.XXXXXX";
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
	static const char	*names[] = { "ca.pem", "relay.pem",
				    "relay.key", "subdir" };
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

static void
test_tls_files(void **state)
{
	struct relay_config	 conf, defaults;
	char			*dir, text[2048], want[2048], path[256];
	char			 err[ERR_MAX];

	(void)state;
	relay_config_defaults(&defaults);
	dir = make_tls_dir();
	snprintf(path, sizeof path, "%s/relay.key", dir);
	snprintf(text, sizeof text,
	    "[listen]\n"
	    "ca = %s/ca.pem\n"
	    "cert = %s/relay.pem\n"
	    "key = %s\n", dir, dir, path);
	assert_int_equal(load_checked(&conf, text, err), 0);
	assert_string_equal(err, "");
	assert_string_equal(conf.listen_tls.key, path);

	/* 0640 and 0604 are both refused, 0400 is fine. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(load_checked(&conf, text, err), -1);
	snprintf(want, sizeof want, "relay.conf:4: [listen] key: %s is "
	    "readable by group or others (chmod 600 it)\n", path);
	assert_string_equal(err, want);
	assert_memory_equal(&conf, &defaults, sizeof conf);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(load_checked(&conf, text, err), -1);
	assert_string_equal(err, want);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(load_checked(&conf, text, err), 0);

	/* Without the checks, none of it matters. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(load(&conf, text, err), 0);
	assert_int_equal(load(&conf, "", err), 0);

	/*
	 * A file the config does not name is its default: the error is at
	 * the [listen] header, else at the file alone.
	 */
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(text, sizeof text,
	    "[api]\n"
	    "tls = yes\n"
	    "[listen]\n"
	    "address = 127.0.0.1:6000\n"
	    "key = %s\n", path);
	assert_int_equal(load_checked(&conf, text, err), -1);
	assert_string_equal(err,
	    "relay.conf:3: [listen] ca: /etc/tracetrap/ca.pem: No such file "
	    "or directory (the default path)\n"
	    "relay.conf:3: [listen] cert: /etc/tracetrap/relay.pem: No such "
	    "file or directory (the default path)\n");
	relay_config_defaults(&conf);
	snprintf(conf.listen_tls.key, sizeof conf.listen_tls.key, "%s/nothing.key",
	    dir);
	assert_int_equal(relay_config_load_buffer(&conf, "relay.conf",
	    "[api]\n", 6, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "relay.conf: [listen] key: "));
	assert_non_null(strstr(err, "/nothing.key: No such file or directory "
	    "(the default path)\n"));

	/* Missing, a directory, and every other error of the file. */
	snprintf(path, sizeof path, "%s/subdir", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(text, sizeof text,
	    "[listen]\n"
	    "ca = %s/nothing.pem\n"
	    "cert = %s\n"
	    "key = %s/relay.key\n"
	    "[store]\n"
	    "max_bytes = 0\n", dir, path, dir);
	assert_int_equal(load_checked(&conf, text, err), -1);
	snprintf(want, sizeof want,
	    "relay.conf:6: [store] max_bytes: invalid size '0' (expected a "
	    "size of at least 1M)\n"
	    "relay.conf:2: [listen] ca: %s/nothing.pem: No such file or "
	    "directory\n"
	    "relay.conf:3: [listen] cert: %s is not a regular file\n",
	    dir, path);
	assert_string_equal(err, want);

	/* A refused path is reported once, not again as a default. */
	snprintf(text, sizeof text,
	    "[listen]\n"
	    "ca = %s/ca.pem\n"
	    "cert = %s/relay.pem\n"
	    "key = relay.key\n", dir, dir);
	assert_int_equal(load_checked(&conf, text, err), -1);
	assert_string_equal(err, "relay.conf:4: [listen] key: invalid path "
	    "'relay.key' (expected an absolute path)\n");

	/* A CRL is read with the CA that signs it; "PEM" is neither. */
	snprintf(text, sizeof text,
	    "[listen]\n"
	    "ca = %s/ca.pem\n"
	    "cert = %s/relay.pem\n"
	    "key = %s/relay.key\n"
	    "crl = %s/relay.pem\n", dir, dir, dir, dir);
	assert_int_equal(load_checked(&conf, text, err), -1);
	snprintf(want, sizeof want, "relay.conf:5: [listen] crl: CA "
	    "%s/ca.pem holds no PEM certificate\n", dir);
	assert_string_equal(err, want);
	snprintf(text, sizeof text,
	    "[listen]\n"
	    "ca = %s/ca.pem\n"
	    "cert = %s/relay.pem\n"
	    "key = %s/relay.key\n"
	    "crl = %s/nothing.pem\n", dir, dir, dir, dir);
	assert_int_equal(load_checked(&conf, text, err), -1);
	snprintf(want, sizeof want, "relay.conf:5: [listen] crl: "
	    "%s/nothing.pem: No such file or directory\n", dir);
	assert_string_equal(err, want);
	/* "" is no CRL; without the file checks, none is read. */
	snprintf(text, sizeof text,
	    "[listen]\n"
	    "ca = %s/ca.pem\n"
	    "cert = %s/relay.pem\n"
	    "key = %s/relay.key\n"
	    "crl = \"\"\n", dir, dir, dir);
	assert_int_equal(load_checked(&conf, text, err), 0);
	assert_string_equal(conf.listen_tls.crl, "");
	assert_int_equal(load(&conf, "[listen]\ncrl = /srv/tls/crl.pem\n",
	    err), 0);
	assert_string_equal(conf.listen_tls.crl, "/srv/tls/crl.pem");
	rmdir_tls(dir);
}

/* Suites OpenSSL would skip silently are refused by name instead. */
static void
test_listen_ciphersuites(void **state)
{
	struct relay_config	 conf;
	char			 err[ERR_MAX];

	(void)state;
	assert_int_equal(load(&conf, "[listen]\nciphersuites = "
	    "TLS_AES_256_GCM_SHA384\n", err), 0);
	assert_string_equal(conf.listen_tls.ciphersuites, "TLS_AES_256_GCM_SHA384");
	assert_int_equal(load(&conf, "[listen]\nciphersuites = "
	    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256\n", err), 0);
	assert_string_equal(conf.listen_tls.ciphersuites,
	    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256");
	assert_int_equal(load(&conf, "[listen]\nciphersuites = "
	    "TLS_AES_128_GCM_SHA256:AES128-SHA\n", err), -1);
	assert_non_null(strstr(err, "relay.conf:2: [listen] ciphersuites: "
	    "unknown TLS 1.3 ciphersuite 'AES128-SHA'"));
	/* A TLS 1.2 suite's standard name is no TLS 1.3 suite either. */
	assert_int_equal(load(&conf, "[listen]\nciphersuites = "
	    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n", err), -1);
	assert_non_null(strstr(err, "unknown TLS 1.3 ciphersuite "
	    "'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'"));
	assert_int_equal(load(&conf, "[listen]\nciphersuites = "
	    "TLS_AES_128_GCM_SHA256::\n", err), -1);
	assert_non_null(strstr(err, "unknown TLS 1.3 ciphersuite ''"));
	assert_int_equal(load(&conf, "[listen]\nciphersuites = \"\"\n", err),
	    -1);
	assert_non_null(strstr(err, "no TLS 1.3 ciphersuite"));
}

static void
test_fleet_includes(void **state)
{
	struct relay_config	 conf;
	char			 err[ERR_MAX];

	(void)state;
	relay_config_defaults(&conf);
	assert_int_equal(relay_config_fleet_includes(&conf, "any"), 1);

	assert_int_equal(load(&conf, "[fleet]\nnodes = web-1, web-10,db\n",
	    err), 0);
	assert_int_equal(relay_config_fleet_includes(&conf, "web-1"), 1);
	assert_int_equal(relay_config_fleet_includes(&conf, "web-10"), 1);
	assert_int_equal(relay_config_fleet_includes(&conf, "db"), 1);
	assert_int_equal(relay_config_fleet_includes(&conf, "web"), 0);
	assert_int_equal(relay_config_fleet_includes(&conf, "web-"), 0);
	assert_int_equal(relay_config_fleet_includes(&conf, "web-100"), 0);
	assert_int_equal(relay_config_fleet_includes(&conf, "d"), 0);
	assert_int_equal(relay_config_fleet_includes(&conf, ""), 0);
	assert_int_equal(relay_config_fleet_includes(&conf, "web-1,db"), 0);
}

static void
test_file_forms(void **state)
{
	static const char	 nul[] = "[api]\ntls = y\0es\ntls = yes\n";
	struct relay_config	 conf;
	char			 text[8192], err[ERR_MAX];
	size_t			 len;

	(void)state;
	/* CRLF, quotes, no final newline. */
	assert_int_equal(load(&conf,
	    "[relay]\r\n"
	    "name = \"quoted\"\r\n"
	    "\r\n"
	    "[fleet]\r\n"
	    "nodes = \" a , b \"\r\n"
	    "cooldown = 3s", err), 0);
	assert_string_equal(conf.name, "quoted");
	assert_string_equal(conf.fleet_nodes, "a,b");
	assert_int_equal(conf.fleet_cooldown_ms, 3000);

	/* A NUL byte is an error; the lines after it are still read. */
	relay_config_defaults(&conf);
	assert_int_equal(relay_config_load_buffer(&conf, "relay.conf", nul,
	    sizeof nul - 1, RELAY_CONFIG_NO_FILE_CHECKS, err, sizeof err), -1);
	assert_string_equal(err, "relay.conf:2: NUL byte in line\n");

	/* A node list as long as a line allows. */
	len = snprintf(text, sizeof text, "[fleet]\nnodes = n0");
	while (len < 4000)
		len += snprintf(text + len, sizeof text - len, ",n%zu", len);
	assert_int_equal(load(&conf, text, err), 0);
	assert_true(strlen(conf.fleet_nodes) > 3900);
	assert_int_equal(relay_config_fleet_includes(&conf, "n0"), 1);

	/* A dir that leaves no room for the catalog's name. */
	memset(text, 0, sizeof text);
	len = snprintf(text, sizeof text, "[store]\ndir = /");
	memset(text + len, 'd', 4083);
	assert_int_equal(load(&conf, text, err), 0);
	assert_int_equal(strlen(conf.store_catalog_path), 4095);
	text[len + 4083] = 'd';
	assert_int_equal(load(&conf, text, err), -1);
	assert_string_equal(err, "relay.conf:2: [store] dir: path too long "
	    "(4085 bytes, at most 4084)\n");

	/* An empty file is the defaults. */
	assert_int_equal(load(&conf, "", err), 0);
	assert_string_equal(err, "");
}

static void
test_error_buffer(void **state)
{
	struct relay_config	 conf;
	char			 err[32];

	(void)state;
	relay_config_defaults(&conf);
	assert_int_equal(relay_config_load_buffer(&conf, "relay.conf",
	    "[x]\n[y]\n", 8, RELAY_CONFIG_NO_FILE_CHECKS, err, sizeof err),
	    -1);
	assert_int_equal(strlen(err), sizeof err - 1);
	assert_int_equal(relay_config_load_buffer(&conf, "relay.conf",
	    "[x]\n", 4, 0, NULL, 0), -1);
	assert_int_equal(relay_config_load(&conf, "/nonexistent/relay.conf",
	    0, NULL, 0), -1);
	/* The file checks' errors are cut too. */
	assert_int_equal(relay_config_load_buffer(&conf, "relay.conf",
	    "", 0, 0, err, sizeof err), -1);
	assert_int_equal(strlen(err), sizeof err - 1);
}

static void
test_load_file(void **state)
{
	struct relay_config	 conf;
	char			 path[] = "/tmp/test_relay_config.XXXXXX";
	char			 want[256], err[ERR_MAX];
	const char		*text = "[relay]\nname = fromfile\ntls = x\n";
	int			 fd;

	(void)state;
	relay_config_defaults(&conf);
	assert_int_equal(relay_config_load(&conf, "/nonexistent/relay.conf",
	    0, err, sizeof err), -1);
	assert_string_equal(err, "/nonexistent/relay.conf: No such file or "
	    "directory\n");
	assert_int_equal(relay_config_load(&conf, "/", 0, err, sizeof err),
	    -1);
	assert_string_equal(err, "/: Is a directory\n");

	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, text, strlen(text)), strlen(text));
	close(fd);
	assert_int_equal(relay_config_load(&conf, path,
	    RELAY_CONFIG_NO_FILE_CHECKS, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:3: [relay] unknown key 'tls' "
	    "(expected name)\n", path);
	assert_string_equal(err, want);
	assert_string_not_equal(conf.name, "fromfile");

	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) != -1);
	assert_int_equal(write(fd, text, strlen(text) - 8),
	    strlen(text) - 8);
	close(fd);
	assert_int_equal(relay_config_load(&conf, path,
	    RELAY_CONFIG_NO_FILE_CHECKS, err, sizeof err), 0);
	assert_string_equal(conf.name, "fromfile");
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_other_valid_forms),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_token_not_logged),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_address_conflict),
		cmocka_unit_test(test_scale_out_keys),
		cmocka_unit_test(test_reference_conf),
		cmocka_unit_test(test_reference_every_key),
		cmocka_unit_test(test_tls_files),
		cmocka_unit_test(test_listen_ciphersuites),
		cmocka_unit_test(test_fleet_includes),
		cmocka_unit_test(test_file_forms),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests_name("relay_config", tests, NULL, NULL);
}
