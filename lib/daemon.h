/*
 * The skeleton both daemons (tracetrap-recorder, tracetrap-relay) stand
 * on: the command line they share (-d, -f FILE, -n, -v, --ready-fd N),
 * the start-up (logging, daemon(), SIGPIPE ignored), signals through the
 * event loop, the readiness message, and the shutdown drain that keeps
 * the loop running until the workers are done. What each daemon does at
 * each step stays in its own main().
 */
#ifndef TT_DAEMON_H
#define TT_DAEMON_H

#include <stddef.h>

#include <event2/event.h>

#define DAEMON_PATH_MAX		4096

struct daemon_options {
	const char	*name;		/* "tracetrap-recorder" */
	const char	*path;		/* -f FILE, or the default */
	/*
	 * path made absolute (daemon() moves to /: SIGHUP must find a
	 * relative -f file again), or as given when it does not exist.
	 */
	char		 config_path[DAEMON_PATH_MAX];
	int		 is_path_given;	/* -f */
	int		 is_foreground;	/* -d: stderr, no daemon() */
	int		 is_check_only;	/* -n */
	int		 is_verbose;	/* -v */
	int		 ready_fd;	/* --ready-fd N, or -1 */
};

/*
 * Reads the command line into o; a usage error prints the usage (with
 * default_path) and exits 2.
 */
void	daemon_options(struct daemon_options *o, int argc, char **argv,
	    const char *name, const char *default_path);

/* -n passed: says so on stderr and exits 0. */
void	daemon_check_ok(void) __attribute__((noreturn));

/*
 * Logging (stderr with -d, syslog otherwise), daemon() without -d, and
 * SIGPIPE ignored: a peer that goes away is an error, not our death.
 */
void	daemon_start(const struct daemon_options *);

/* "READY=1\n" on --ready-fd (once: it is closed and set to -1). */
void	daemon_ready(int *ready_fd);

/*
 * SIGHUP, SIGTERM and SIGINT, handled by cb on the event loop (with the
 * signal number as its fd argument).
 */
struct daemon_signals;
struct daemon_signals *daemon_signals_new(struct event_base *,
	    event_callback_fn cb, void *arg);
void	daemon_signals_free(struct daemon_signals *);

/*
 * The shutdown drain: every 20 ms, is_drained(arg) says whether the
 * workers are done; once it does, the loop exits after 100 ms more, so
 * the last replies are flushed. Free the event after the loop.
 */
struct event *daemon_drain(struct event_base *, int (*is_drained)(void *),
	    void *arg);

#endif
