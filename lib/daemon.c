/*
 * The daemons' skeleton (daemon.h): what tracetrap-recorder and
 * tracetrap-relay do alike from the command line to the shutdown drain.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "xmalloc.h"

static const int daemon_signal_numbers[] = { SIGHUP, SIGTERM, SIGINT };
#define DAEMON_SIGNALS	\
	(sizeof(daemon_signal_numbers) / sizeof(daemon_signal_numbers[0]))

struct daemon_signals {
	struct event	*events[DAEMON_SIGNALS];
};

struct daemon_drain {
	int		(*is_drained)(void *);
	void		*arg;
	struct event_base *base;
};

static void __attribute__((noreturn))
daemon_usage(const char *name, const char *default_path)
{
	fprintf(stderr, "usage: %s [-dnv] [-f file] [--ready-fd N]\n"
	    "  -d          stay in the foreground, log to stderr\n"
	    "  -f file     configuration (default %s)\n"
	    "  -n          check the configuration and exit\n"
	    "  -v          verbose (debug) logging\n"
	    "  --ready-fd N  write READY=1 to fd N once serving\n",
	    name, default_path);
	exit(2);
}

void
daemon_options(struct daemon_options *o, int argc, char **argv,
    const char *name, const char *default_path)
{
	static const struct option long_options[] = {
		{ "ready-fd", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	char	*end;
	int	 ch;

	memset(o, 0, sizeof(*o));
	o->name = name;
	o->path = default_path;
	o->ready_fd = -1;
	while ((ch = getopt_long(argc, argv, "df:nv", long_options, NULL))
	    != -1) {
		switch (ch) {
		case 'd':
			o->is_foreground = 1;
			break;
		case 'f':
			o->path = optarg;
			o->is_path_given = 1;
			break;
		case 'n':
			o->is_check_only = 1;
			break;
		case 'v':
			o->is_verbose = 1;
			break;
		case 'R':
			errno = 0;
			o->ready_fd = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || errno != 0 || o->ready_fd < 0)
				daemon_usage(name, default_path);
			break;
		default:
			daemon_usage(name, default_path);
		}
	}
	if (optind != argc)
		daemon_usage(name, default_path);
	if (realpath(o->path, o->config_path) == NULL)
		snprintf(o->config_path, sizeof(o->config_path), "%s",
		    o->path);
}

void
daemon_check_ok(void)
{
	fprintf(stderr, "configuration OK\n");
	exit(0);
}

void
daemon_start(const struct daemon_options *o)
{
	log_init(o->is_foreground, o->name);
	log_set_verbose(o->is_verbose);
	if (!o->is_foreground && daemon(0, 0) == -1)
		fatal("daemon");
	signal(SIGPIPE, SIG_IGN);
}

void
daemon_ready(int *ready_fd)
{
	static const char msg[] = "READY=1\n";

	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, msg, sizeof(msg) - 1) == -1)
		log_warn("ready fd");
	close(*ready_fd);
	*ready_fd = -1;
}

struct daemon_signals *
daemon_signals_new(struct event_base *base, event_callback_fn cb, void *arg)
{
	struct daemon_signals	*s;
	size_t			 i;

	s = xcalloc(1, sizeof(*s));
	for (i = 0; i < DAEMON_SIGNALS; i++) {
		s->events[i] = evsignal_new(base, daemon_signal_numbers[i],
		    cb, arg);
		evsignal_add(s->events[i], NULL);
	}
	return s;
}

void
daemon_signals_free(struct daemon_signals *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < DAEMON_SIGNALS; i++)
		event_free(s->events[i]);
	free(s);
}

static void
daemon_on_drain(evutil_socket_t fd, short events, void *arg)
{
	static const struct timeval	 flush = { 0, 100000 };
	struct daemon_drain		*d = arg;

	(void)fd;
	(void)events;
	if (d->is_drained(d->arg))
		event_base_loopexit(d->base, &flush);
}

struct event *
daemon_drain(struct event_base *base, int (*is_drained)(void *), void *arg)
{
	static const struct timeval	 period = { 0, 20000 };
	static struct daemon_drain	 drain;
	struct event			*ev;

	drain.is_drained = is_drained;
	drain.arg = arg;
	drain.base = base;
	ev = event_new(base, -1, EV_PERSIST, daemon_on_drain, &drain);
	event_add(ev, &period);
	return ev;
}
