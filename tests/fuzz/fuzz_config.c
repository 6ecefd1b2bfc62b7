/*
 * libFuzzer target for the recorder's configuration parser: lib/ini.c and
 * recorder/config.c read a file an operator (or a package) wrote, and must
 * report bad bytes as errors, never crash or overrun on them.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config	 conf;
	static char		 err[4096];
	int			 rc;

	config_defaults(&conf);
	rc = config_load_buffer(&conf, "fuzz.conf", (const char *)data, size,
	    err, sizeof err);

	/* The error text is always terminated and matches the result. */
	if (strlen(err) >= sizeof err || (rc == 0) != (err[0] == '\0'))
		__builtin_trap();
	return 0;
}
