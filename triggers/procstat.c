/*
 * /proc and cgroup parsers of the watchers (procstat.h).
 *
 * Field layouts, from proc(5): /proc/stat "cpu  user nice system idle
 * iowait irq softirq steal guest guest_nice" (guest time is already in
 * user); /proc/PID/stat "pid (comm) state ppid ..." where comm may hold
 * spaces and parentheses, so fields are counted after the last ')':
 * utime is field 14, stime 15, starttime 22, rss 24.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procstat.h"

ssize_t
procstat_read(const char *path, char *buf, size_t size)
{
	ssize_t	 n = 0, len = 0;
	int	 fd, saved;

	if (size == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((size_t)len < size - 1) {
		n = read(fd, buf + len, size - 1 - (size_t)len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	saved = errno;
	close(fd);
	if (n < 0 && len == 0) {
		errno = saved;
		return -1;
	}
	buf[len] = '\0';
	return len;
}

ssize_t
procstat_pread(int fd, char *buf, size_t size)
{
	ssize_t	 n, len = 0;

	if (size == 0) {
		errno = EINVAL;
		return -1;
	}
	while ((size_t)len < size - 1) {
		n = pread(fd, buf + len, size - 1 - (size_t)len, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	return len;
}

/* The next unsigned decimal after spaces; -1 if there is none. */
static int
procstat_next(const char **p, uint64_t *value)
{
	char	*end;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	if (**p < '0' || **p > '9')
		return -1;
	errno = 0;
	*value = strtoull(*p, &end, 10);
	if (errno != 0)
		return -1;
	*p = end;
	return 0;
}

int
procstat_parse_stat(const char *text, struct procstat_cpu *cpu)
{
	uint64_t	 v[8];
	const char	*p = text;
	int		 i;

	if (strncmp(p, "cpu ", 4) != 0)
		return -1;
	p += 4;
	/* Kernels before 2.6.11 had fewer columns; what is absent is 0. */
	memset(v, 0, sizeof(v));
	for (i = 0; i < 8; i++) {
		if (procstat_next(&p, &v[i]) == -1) {
			if (i < 4)
				return -1;
			break;
		}
	}
	cpu->busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	cpu->idle = v[3] + v[4];
	return 0;
}

int
procstat_parse_task(const char *text, struct procstat_task *task)
{
	const char	*open = strchr(text, '('), *close = strrchr(text, ')');
	const char	*p;
	uint64_t	 value;
	size_t		 len;
	int		 field;

	if (open == NULL || close == NULL || close < open)
		return -1;
	len = (size_t)(close - open - 1);
	if (len >= sizeof(task->comm))
		len = sizeof(task->comm) - 1;
	memcpy(task->comm, open + 1, len);
	task->comm[len] = '\0';

	/* Field 3, the state, is a letter; numbers follow. */
	p = close + 1;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return -1;
	p++;
	task->cpu_ticks = 0;
	for (field = 4; field <= 24; field++) {
		/* ppid, pgrp.. may be negative only for tty_nr: skip signs. */
		while (*p == ' ')
			p++;
		if (*p == '-')
			p++;
		if (procstat_next(&p, &value) == -1)
			return -1;
		if (field == 14 || field == 15)
			task->cpu_ticks += value;
		else if (field == 22)
			task->start_ticks = value;
		else if (field == 24)
			task->rss_pages = value;
	}
	return 0;
}

/* The value of "key N" at the start of a line of text. */
static int
procstat_keyed(const char *text, const char *key, uint64_t *value)
{
	size_t		 len = strlen(key);
	const char	*p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, len) == 0 &&
		    (p[len] == ' ' || p[len] == '\t' || p[len] == ':')) {
			p += len;
			if (*p == ':')
				p++;
			return procstat_next(&p, value);
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return -1;
}

int
procstat_parse_cgroup_cpu(const char *text, uint64_t *usage_usec)
{
	return procstat_keyed(text, "usage_usec", usage_usec);
}

int
procstat_parse_meminfo(const char *text, uint64_t *available, uint64_t *total)
{
	uint64_t	 kb_available, kb_total;

	if (procstat_keyed(text, "MemAvailable", &kb_available) == -1 ||
	    procstat_keyed(text, "MemTotal", &kb_total) == -1)
		return -1;
	*available = kb_available * 1024;
	*total = kb_total * 1024;
	return 0;
}

int
procstat_parse_uint(const char *text, uint64_t *value)
{
	const char *p = text;

	if (procstat_next(&p, value) == -1)
		return -1;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return *p == '\0' ? 0 : -1;
}

uint64_t
procstat_delta(uint64_t prev, uint64_t cur)
{
	uint64_t delta = cur - prev;

	return delta > UINT64_MAX / 2 ? 0 : delta;
}

double
procstat_cpu_percent(const struct procstat_cpu *prev,
    const struct procstat_cpu *cur)
{
	uint64_t	 busy = procstat_delta(prev->busy, cur->busy);
	uint64_t	 idle = procstat_delta(prev->idle, cur->idle);

	if (busy + idle == 0)
		return -1;
	return 100.0 * (double)busy / (double)(busy + idle);
}

double
procstat_share_percent(uint64_t prev, uint64_t cur, uint64_t units_per_second,
    uint64_t elapsed_us)
{
	if (elapsed_us == 0 || units_per_second == 0)
		return -1;
	return 100.0 * (double)procstat_delta(prev, cur) * 1e6 /
	    ((double)units_per_second * (double)elapsed_us);
}
