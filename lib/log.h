/*
 * Logging for the daemons: stderr in the foreground (-d), syslog otherwise.
 * log_warn() and fatal() append strerror(errno) and keep errno intact.
 */
#ifndef TT_LOG_H
#define TT_LOG_H

#include <stdarg.h>

void	log_init(int is_foreground, const char *ident);
void	log_set_verbose(int is_verbose);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
