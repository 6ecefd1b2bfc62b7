#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "isolate.h"
#include "text.h"

#if defined(__SANITIZE_ADDRESS__)
#define ISOLATE_HAS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ISOLATE_HAS_ASAN 1
#endif
#endif

#define ISOLATE_STDERR_KEEP	512

/* Why the parent killed the child, if it did. */
enum isolate_kill {
	ISOLATE_NOT_KILLED,
	ISOLATE_KILLED_DEADLINE,
	ISOLATE_KILLED_TOO_BIG,
	ISOLATE_KILLED_CANCELLED,
	ISOLATE_KILLED_ERROR,		/* the parent could not go on */
};

struct isolate_child {
	pid_t		 pid;
	int		 out;		/* its answer */
	int		 err;		/* its stderr */
};

/* In the child, before anything else: only system calls. */
static void
isolate_limit(const struct isolate_limits *l)
{
	struct rlimit	 r;
	sigset_t	 none;

	/*
	 * A caller blocks, ignores or catches signals the child must not:
	 * a crash kills the child, and the parent sees how.
	 */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	if (l->nice != 0 && nice(l->nice) == -1)
		errno = 0;
	if (l->cpu_seconds != 0) {
		r.rlim_cur = l->cpu_seconds;
		r.rlim_max = l->cpu_seconds + 1;
		setrlimit(RLIMIT_CPU, &r);
	}
#ifndef ISOLATE_HAS_ASAN
	/* ASan reserves terabytes of address space: no bound under it. */
	if (l->memory_bytes != 0) {
		r.rlim_cur = r.rlim_max = l->memory_bytes;
		setrlimit(RLIMIT_AS, &r);
	}
#endif
}

static int
isolate_pipes(int out[2], int err[2], char *errbuf, size_t errlen)
{
	if (pipe2(out, O_CLOEXEC) == -1) {
		errbuf_set(errbuf, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(err, O_CLOEXEC) == -1) {
		errbuf_set(errbuf, errlen, "pipe: %s", strerror(errno));
		close(out[0]);
		close(out[1]);
		return -1;
	}
	return 0;
}

static int64_t
isolate_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The last line of what the child wrote to stderr, made printable. */
static void
isolate_last_line(char *tail, size_t n, char *line, size_t len)
{
	char	*end, *start;

	tail[n] = '\0';
	end = tail + n;
	while (end > tail && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(tail, '\n');
	start = start != NULL ? start + 1 : tail;
	text_utf8_copy(line, len, start, strlen(start));
	text_terminal_safe(line);
}

/* Keeps the last ISOLATE_STDERR_KEEP bytes: the message is at the end. */
static void
isolate_keep_tail(char *tail, size_t *taillen, const char *chunk, size_t n)
{
	size_t drop;

	if (n >= ISOLATE_STDERR_KEEP) {
		memcpy(tail, chunk + n - ISOLATE_STDERR_KEEP,
		    ISOLATE_STDERR_KEEP);
		*taillen = ISOLATE_STDERR_KEEP;
		return;
	}
	if (*taillen + n > ISOLATE_STDERR_KEEP) {
		drop = *taillen + n - ISOLATE_STDERR_KEEP;
		memmove(tail, tail + drop, *taillen - drop);
		*taillen -= drop;
	}
	memcpy(tail + *taillen, chunk, n);
	*taillen += n;
}

/* Appends n bytes to the answer; -1 past ISOLATE_OUTPUT_MAX or no memory. */
static int
isolate_keep_out(char **out, size_t *outlen, size_t *outcap,
    const char *chunk, size_t n)
{
	char *grown;

	if (*outlen + n > ISOLATE_OUTPUT_MAX)
		return -1;
	if (*outlen + n + 1 > *outcap) {
		*outcap = *outcap ? *outcap * 2 : 65536;
		while (*outcap < *outlen + n + 1)
			*outcap *= 2;
		if ((grown = realloc(*out, *outcap)) == NULL)
			return -1;
		*out = grown;
	}
	memcpy(*out + *outlen, chunk, n);
	*outlen += n;
	return 0;
}

/* Reads the answer and the stderr, waits; returns the JSON or NULL. */
static json_t *
isolate_collect(struct isolate_child *c, const struct isolate_limits *l,
    char *errbuf, size_t errlen)
{
	struct pollfd	 fds[3];
	char		 tail[ISOLATE_STDERR_KEEP + 1], line[256], chunk[8192];
	char		*out = NULL;
	size_t		 outlen = 0, outcap = 0, taillen = 0;
	int64_t		 deadline = l->timeout_ms ? isolate_now_ms() +
			    l->timeout_ms : 0, left;
	enum isolate_kill killed = ISOLATE_NOT_KILLED;
	ssize_t		 n;
	pid_t		 pid;
	int		 status = 0, nopen = 2, i;
	json_t		*answer = NULL;
	json_error_t	 jerr;

	fds[0].fd = c->out;
	fds[1].fd = c->err;
	fds[2].fd = l->cancel_fd > 0 ? l->cancel_fd : -1;
	fds[0].events = fds[1].events = fds[2].events = POLLIN;
	while (nopen > 0 && killed == ISOLATE_NOT_KILLED) {
		left = deadline ? deadline - isolate_now_ms() : -1;
		if (deadline && left <= 0) {
			killed = ISOLATE_KILLED_DEADLINE;
			break;
		}
		if (poll(fds, 3, deadline ? (int)left : -1) == -1) {
			if (errno != EINTR)
				killed = ISOLATE_KILLED_ERROR;
			continue;
		}
		if (fds[2].fd != -1 && fds[2].revents != 0) {
			killed = ISOLATE_KILLED_CANCELLED;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (fds[i].fd == -1 || fds[i].revents == 0)
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				fds[i].fd = -1;
				nopen--;
			} else if (i == 1)
				isolate_keep_tail(tail, &taillen, chunk,
				    (size_t)n);
			else if (isolate_keep_out(&out, &outlen, &outcap,
			    chunk, (size_t)n) == -1) {
				killed = ISOLATE_KILLED_TOO_BIG;
				break;
			}
		}
	}
	if (killed != ISOLATE_NOT_KILLED)
		kill(c->pid, SIGKILL);
	close(c->out);
	close(c->err);
	while ((pid = waitpid(c->pid, &status, 0)) == -1 && errno == EINTR)
		;
	isolate_last_line(tail, taillen, line, sizeof(line));
	if (killed == ISOLATE_KILLED_DEADLINE)
		errbuf_set(errbuf, errlen, "stopped after %u ms (the deadline)",
		    l->timeout_ms);
	else if (killed == ISOLATE_KILLED_TOO_BIG)
		errbuf_set(errbuf, errlen, "answered more than %u MiB",
		    ISOLATE_OUTPUT_MAX >> 20);
	else if (killed == ISOLATE_KILLED_CANCELLED)
		errbuf_set(errbuf, errlen, "stopped: its caller is going away");
	else if (killed == ISOLATE_KILLED_ERROR)
		errbuf_set(errbuf, errlen, "stopped: %s", strerror(errno));
	else if (pid == -1)
		errbuf_set(errbuf, errlen, "waitpid: %s", strerror(errno));
	else if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU ||
	    (WTERMSIG(status) == SIGKILL && l->cpu_seconds != 0)))
		/* Past RLIMIT_CPU's soft limit SIGXCPU, past its hard SIGKILL. */
		errbuf_set(errbuf, errlen, "used more than %u s of CPU (or was "
		    "killed)", l->cpu_seconds);
	else if (WIFSIGNALED(status))
		errbuf_set(errbuf, errlen, "killed by signal %d (%s)%s%s",
		    WTERMSIG(status), strsignal(WTERMSIG(status)),
		    line[0] ? ": " : "", line);
	else if (WEXITSTATUS(status) != 0)
		errbuf_set(errbuf, errlen, "exited with status %d%s%s",
		    WEXITSTATUS(status), line[0] ? ": " : "", line);
	else if ((answer = json_loadb(out ? out : "", outlen, 0, &jerr)) ==
	    NULL)
		errbuf_set(errbuf, errlen, "answered no JSON: %s", jerr.text);
	free(out);
	return answer;
}

json_t *
isolate_call(json_t *(*fn)(void *), void *arg, const struct isolate_limits *l,
    char *errbuf, size_t errlen)
{
	struct isolate_child	 c;
	int			 out[2], err[2];
	json_t			*answer;

	if (isolate_pipes(out, err, errbuf, errlen) == -1)
		return NULL;
	fflush(NULL);
	if ((c.pid = fork()) == -1) {
		errbuf_set(errbuf, errlen, "fork: %s", strerror(errno));
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		return NULL;
	}
	if (c.pid == 0) {
		/* Anything the library prints goes to the parent's capture. */
		dup2(err[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		isolate_limit(l);
		answer = fn(arg);
		if (answer == NULL || json_dumpfd(answer, out[1],
		    JSON_COMPACT) == -1)
			_exit(3);
		_exit(0);
	}
	close(out[1]);
	close(err[1]);
	c.out = out[0];
	c.err = err[0];
	return isolate_collect(&c, l, errbuf, errlen);
}

json_t *
isolate_exec(char *const argv[], const struct isolate_limits *l,
    char *errbuf, size_t errlen)
{
	struct isolate_child	 c;
	int			 out[2], err[2], null;

	if (isolate_pipes(out, err, errbuf, errlen) == -1)
		return NULL;
	if ((null = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		errbuf_set(errbuf, errlen, "/dev/null: %s", strerror(errno));
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		return NULL;
	}
	if ((c.pid = fork()) == -1) {
		errbuf_set(errbuf, errlen, "fork: %s", strerror(errno));
		close(null);
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		return NULL;
	}
	if (c.pid == 0) {
		/* Between fork and exec: system calls only (a threaded parent). */
		dup2(null, STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		/* None of the caller's sockets or files, CLOEXEC or not. */
		close_range(3, ~0U, 0);
		isolate_limit(l);
		execv(argv[0], argv);
		_exit(127);
	}
	close(null);
	close(out[1]);
	close(err[1]);
	c.out = out[0];
	c.err = err[0];
	return isolate_collect(&c, l, errbuf, errlen);
}
