/*
 * Logging in the OpenSMTPD manner: one set of functions, two sinks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int		 log_is_foreground = 1;
static int		 log_is_verbose;
static const char	*log_ident = "tracetrap";

static void	log_vwrite(int, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

void
log_init(int is_foreground, const char *ident)
{
	log_is_foreground = is_foreground;
	log_ident = ident;
	if (!is_foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_verbose(int is_verbose)
{
	log_is_verbose = is_verbose;
}

/* Formats one line; with_errno appends the errno saved on entry. */
static void
log_vwrite(int priority, int with_errno, const char *fmt, va_list ap)
{
	int		 saved_errno = errno;
	char		 msg[1024], stamp[32];
	struct timespec	 ts;
	struct tm	 tm;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		size_t len = strlen(msg);

		snprintf(msg + len, sizeof(msg) - len, ": %s",
		    strerror(saved_errno));
	}
	if (log_is_foreground) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, log_ident, msg);
	} else
		syslog(priority, "%s", msg);
	errno = saved_errno;
}

#define LOG_BODY(priority, with_errno) do {		\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_vwrite(priority, with_errno, fmt, ap);	\
	va_end(ap);					\
} while (0)

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 1);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	if (!log_is_verbose)
		return;
	LOG_BODY(LOG_DEBUG, 0);
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 1);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 0);
	exit(1);
}
