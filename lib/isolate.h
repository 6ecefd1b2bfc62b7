/*
 * Work on untrusted input in a child process, so that what goes wrong
 * there costs the child, not the caller. libbabeltrace2 2.0.4 aborts on
 * some malformed CTF metadata (a failed assertion) and allocates what a
 * hostile packet header asks for: the relay and the CLI read every trace
 * through here (fuzz_analyze found both). The child runs at a lower
 * priority, with CPU-time and address-space limits and a wall-clock
 * deadline; its answer is one JSON document on a pipe. A child that dies
 * yields an error naming how (signal, limit, deadline) and the last line
 * it wrote to stderr.
 */
#ifndef TT_ISOLATE_H
#define TT_ISOLATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define ISOLATE_OUTPUT_MAX	(64u << 20)

struct isolate_limits {
	unsigned	 cpu_seconds;	/* RLIMIT_CPU; 0: none */
	uint64_t	 memory_bytes;	/* RLIMIT_AS; 0: none (and under ASan) */
	unsigned	 timeout_ms;	/* wall clock, then SIGKILL; 0: none */
	int		 nice;		/* added to the child's niceness */
	/*
	 * A descriptor that becomes readable when the caller gives up (its
	 * daemon stops): the child is killed. 0: none (stdin never is).
	 */
	int		 cancel_fd;
};

/*
 * fork()s; the child runs fn(arg) and sends back what it returns. Only
 * for single-threaded callers (the CLI, a fuzzer): after a fork, a
 * threaded process's child may find a lock held forever.
 */
json_t	*isolate_call(json_t *(*fn)(void *), void *arg,
	    const struct isolate_limits *, char *err, size_t errlen);

/*
 * Runs argv[0] (an absolute path; "/proc/self/exe" is the caller's own
 * binary, even one replaced on disk since) with argv, stdin from
 * /dev/null and no other descriptor of the caller's, and returns the
 * JSON it prints on stdout. Safe from threaded callers.
 */
json_t	*isolate_exec(char *const argv[], const struct isolate_limits *,
	    char *err, size_t errlen);

#endif
