/*
 * libFuzzer target: the snapshot analyzer (lib/analyze.c, trace_reader.c,
 * ctf_dir.c, trace_events.c) on mutated real CTF. The first byte picks
 * what is mutated: even, a data stream file read with a real trace's
 * metadata; odd, the metadata (as text) with a real data stream. Both
 * come from a snapshot ttreq wrote (tests/fuzz/analyze/).
 *
 * Our packet-header index runs here, in the fuzzer's process, where its
 * coverage guides the mutations. The analysis runs as the relay and the
 * CLI run it, isolated in a child (lib/isolate.c), since libbabeltrace2
 * 2.0.4 aborts on some metadata (a failed assertion) and allocates what
 * a hostile header asks: the invariant is containment. The child must
 * answer a summary that is valid JSON (with "error" when nothing could
 * be read) and a bounded drill-down leaving no temporary files, or die
 * of libbabeltrace2's abort or an allocation it could not get; anything
 * else (a sanitizer report, a segmentation fault, a broken invariant)
 * fails. FUZZ_ANALYZE_IN_PROCESS=1 runs the analysis in the fuzzer's
 * process instead, to reproduce a failure with its full stack.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "analyze.h"
#include "ctf_dir.h"
#include "isolate.h"
#include "trace_events.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_BROKEN	42	/* the child's exit status: an invariant */
/*
 * Our code checks its CPU budget between every batch of messages; a
 * child that reaches the CPU limit, four times the budget, is stuck in
 * libbabeltrace2 (its source loops on some packet headers), where the
 * relay's limit stops it as this one does.
 */
#define FUZZ_BUDGET_MS	250
#define FUZZ_CPU_LIMIT_S	1

#define fuzz_assert(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_analyze: %s:%d: invariant failed: %s\n", \
		    __FILE__, __LINE__, #cond);				\
		if (getpid() != fuzz_parent)				\
			_exit(FUZZ_BROKEN);				\
		abort();						\
	}								\
} while (0)

static pid_t	 fuzz_parent;

static char	 dir[64], trace[128], tmp[128];
static uint8_t	*real_metadata, *real_stream;
static size_t	 real_metadata_len, real_stream_len;

static uint8_t *
fuzz_slurp(const char *path, size_t *len)
{
	struct stat	 st;
	uint8_t		*buf;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1 ||
	    (buf = malloc((size_t)st.st_size)) == NULL ||
	    read(fd, buf, (size_t)st.st_size) != st.st_size) {
		fprintf(stderr, "fuzz_analyze: %s: run from the source tree\n",
		    path);
		exit(1);
	}
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void
fuzz_write(const char *name, const uint8_t *data, size_t len)
{
	char	 path[256];
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", trace, name);
	fuzz_assert((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1);
	fuzz_assert(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_parent = getpid();
	real_metadata = fuzz_slurp("tests/fuzz/analyze/metadata",
	    &real_metadata_len);
	real_stream = fuzz_slurp("tests/fuzz/analyze/stream", &real_stream_len);
	snprintf(dir, sizeof(dir), "/dev/shm/tt-fuzz-analyze.XXXXXX");
	fuzz_assert(mkdtemp(dir) != NULL);
	snprintf(trace, sizeof(trace), "%s/trace", dir);
	snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
	fuzz_assert(mkdir(trace, 0700) == 0 && mkdir(tmp, 0700) == 0);
	return 0;
}

static int
fuzz_dir_is_empty(const char *path)
{
	struct dirent	*de;
	DIR		*d = opendir(path);
	int		 n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n == 0;
}

/* In the child: what the relay's analysis child does, and the checks. */
static json_t *
fuzz_analyze(void *arg)
{
	struct analyze_options	 opt = { FUZZ_BUDGET_MS };
	struct trace_query	 q;
	json_t			*s, *events;
	char			*text, err[512];

	(void)arg;
	s = analyze_snapshot(dir, &opt);
	fuzz_assert(s != NULL);
	fuzz_assert((text = json_dumps(s, 0)) != NULL);
	free(text);
	fuzz_assert(json_is_array(json_object_get(s, "requests")));
	trace_query_init(&q);
	q.tmpdir = tmp;
	q.from_ns = json_integer_value(json_object_get(json_object_get(s,
	    "span"), "first_ns"));
	q.to_ns = q.from_ns + 1000000;
	q.limit = 50;
	q.cpu_budget_ms = FUZZ_BUDGET_MS;
	if (q.from_ns != 0 && (events = trace_events_query(dir, &q, err,
	    sizeof(err))) != NULL) {
		fuzz_assert(json_array_size(json_object_get(events,
		    "events")) <= 50);
		json_decref(events);
	}
	fuzz_assert(fuzz_dir_is_empty(tmp));
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const struct isolate_limits limits = { FUZZ_CPU_LIMIT_S, 0,
	    20000, 0, 0 };
	struct ctf_stream_file	 f;
	json_t			*s;
	char			 err[512], path[256];
	int			 fd;

	if (len < 1)
		return 0;
	if (data[0] % 2 == 0) {
		fuzz_write("metadata", real_metadata, real_metadata_len);
		fuzz_write("tt_0", data + 1, len - 1);
	} else {
		fuzz_write("metadata", data + 1, len - 1);
		fuzz_write("tt_0", real_stream, real_stream_len);
	}
	/* Our own parser of packet headers, here, with its coverage. */
	snprintf(path, sizeof(path), "%s/tt_0", trace);
	fuzz_assert((fd = open(path, O_RDONLY)) != -1);
	memset(&f, 0, sizeof(f));
	if (ctf_dir_index_stream(fd, data[0] % 2 == 0 ? len - 1 :
	    real_stream_len, &f) == 0) {
		size_t i;
		uint64_t at = 0;
		for (i = 0; i < f.npackets; i++) {
			fuzz_assert(f.packets[i].offset == at);
			at += f.packets[i].size;
		}
		fuzz_assert(at == (data[0] % 2 == 0 ? len - 1 :
		    real_stream_len));
	}
	free(f.packets);
	close(fd);
	if (getenv("FUZZ_ANALYZE_IN_PROCESS") != NULL) {
		json_decref(fuzz_analyze(NULL));
		return 0;
	}
	if ((s = isolate_call(fuzz_analyze, NULL, &limits, err,
	    sizeof(err))) != NULL) {
		json_decref(s);
		return 0;
	}
	/* Contained: libbabeltrace2's own abort, memory or a loop of its. */
	if ((strstr(err, "signal 6") != NULL && (strstr(err, "Assertion") ||
	    strstr(err, "allocate") || strstr(err, "GLib"))) ||
	    strstr(err, "s of CPU") != NULL)
		return 0;
	fprintf(stderr, "fuzz_analyze: the analysis child %s\n(rerun the "
	    "input with FUZZ_ANALYZE_IN_PROCESS=1 for its stack)\n", err);
	abort();
}
