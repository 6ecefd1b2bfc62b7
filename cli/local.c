/*
 * Reading a local snapshot directory (tracetrap show DIR, tracetrap
 * events DIR): the analyzer and the drill-down run in a child process,
 * bounded in memory and CPU, since libbabeltrace2 may abort or allocate
 * without bound on a hostile trace (lib/isolate.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"
#include "file.h"
#include "isolate.h"
#include "trace_events.h"

static const struct isolate_limits cli_limits = {
	CLI_ANALYZE_CPU_S, CLI_ANALYZE_MEMORY, 0, 0, 0,
};

static json_t *
cli_analyze_child(void *arg)
{
	return analyze_snapshot(arg, NULL);
}

json_t *
cli_analyze(const char *dir)
{
	json_t	*summary;
	char	 err[512], why[600];

	if ((summary = isolate_call(cli_analyze_child, (void *)dir,
	    &cli_limits, err, sizeof(err))) != NULL)
		return summary;
	snprintf(why, sizeof(why), "the analyzer %s", err);
	return analyze_failed(dir, why);
}

struct cli_events_args {
	const char			*dir;
	const struct trace_query	*q;
};

static json_t *
cli_events_child(void *arg)
{
	struct cli_events_args	*a = arg;
	json_t			*answer;
	char			 err[512];

	if ((answer = trace_events_query(a->dir, a->q, err, sizeof(err))) ==
	    NULL)
		answer = json_pack("{s:s}", "error", err);
	return answer;
}

json_t *
cli_events(const char *dir, const struct trace_query *q)
{
	struct cli_events_args	 a = { dir, NULL };
	struct trace_query	 mine = *q;
	json_t			*answer;
	char			 err[512], why[600], tmp[PATH_MAX];

	/* The child's packets under a directory of ours: removed after. */
	snprintf(tmp, sizeof(tmp), "%s/tracetrap-events.XXXXXX", q->tmpdir);
	if (mkdtemp(tmp) == NULL) {
		snprintf(why, sizeof(why), "%s: %s", tmp, strerror(errno));
		return json_pack("{s:s}", "error", why);
	}
	mine.tmpdir = tmp;
	a.q = &mine;
	answer = isolate_call(cli_events_child, &a, &cli_limits, err,
	    sizeof(err));
	file_remove_tree(tmp, 0, NULL, 0);
	if (answer != NULL)
		return answer;
	snprintf(why, sizeof(why), "reading the trace %s", err);
	return json_pack("{s:s}", "error", why);
}
