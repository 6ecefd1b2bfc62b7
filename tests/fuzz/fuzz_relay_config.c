/*
 * libFuzzer target for the relay's configuration parser: lib/ini.c and
 * relay/relay_config.c read a file an operator (or a package) wrote, and
 * must report bad bytes as errors, never crash or overrun on them.
 *
 * The checks of the [listen] TLS files are left out: the paths a fuzzer
 * writes never exist, so every input would fail on them and a valid
 * configuration, the load's other half, would never be reached.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "relay_config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct relay_config	 conf;
	static char			 err[4096];
	int				 rc;

	relay_config_defaults(&conf);
	rc = relay_config_load_buffer(&conf, "fuzz.conf", (const char *)data,
	    size, RELAY_CONFIG_NO_FILE_CHECKS, err, sizeof err);

	/* The error text is always terminated and matches the result. */
	if (strlen(err) >= sizeof err || (rc == 0) != (err[0] == '\0'))
		__builtin_trap();

	/* What a valid load fills is consistent with its keys. */
	if (rc == 0 && (conf.listen_port == 0 || conf.api_port == 0 ||
	    conf.store_catalog_path[0] != '/' ||
	    memchr(conf.fleet_nodes, ' ', strlen(conf.fleet_nodes)) != NULL))
		__builtin_trap();
	return 0;
}
