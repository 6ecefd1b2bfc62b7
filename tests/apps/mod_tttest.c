/*
 * mod_tttest: the request handler the Apache integration tests and the
 * benchmark drive. SetHandler tttest; the query string says what to do:
 *
 *     ?sleep=MS      take this long (apr_sleep) before answering
 *     ?status=N      answer with status N (an error page for 4xx/5xx)
 *
 * Anything else answers "ok\n" at once: the cheapest dynamic page there
 * is, for the benchmark's dynamic column.
 */
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"

#include "apr_strings.h"
#include "apr_time.h"

module AP_MODULE_DECLARE_DATA tttest_module;

/* The value of key in the query string, as a number; fallback if absent. */
static long
tttest_arg(const request_rec *r, const char *key, long fallback)
{
	const char	*p = r->args;
	size_t		 len = strlen(key);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, len) == 0 && p[len] == '=')
			return strtol(p + len + 1, NULL, 10);
		if ((p = strchr(p, '&')) != NULL)
			p++;
	}
	return fallback;
}

static int
tttest_handler(request_rec *r)
{
	long	sleep_ms, status;

	if (r->handler == NULL || strcmp(r->handler, "tttest") != 0)
		return DECLINED;
	sleep_ms = tttest_arg(r, "sleep", 0);
	status = tttest_arg(r, "status", HTTP_OK);
	if (sleep_ms > 0 && sleep_ms <= 60000)
		apr_sleep(apr_time_from_msec(sleep_ms));
	if (status != HTTP_OK && status >= 100 && status <= 599)
		return (int)status;
	ap_set_content_type(r, "text/plain");
	if (!r->header_only)
		ap_rputs("ok\n", r);
	return OK;
}

static void
tttest_register_hooks(apr_pool_t *pool)
{
	(void)pool;
	ap_hook_handler(tttest_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(tttest) = {
	STANDARD20_MODULE_STUFF,
	NULL,
	NULL,
	NULL,
	NULL,
	NULL,
	tttest_register_hooks,
	AP_MODULE_FLAG_NONE
};
