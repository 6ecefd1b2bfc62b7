/*
 * Parsers of the /proc and cgroup files the watchers read, and the
 * utilisation arithmetic on what they hold. Pure functions on text, so the
 * unit tests run them on recorded fixtures; procstat_read() is the only
 * one that touches a file.
 */
#ifndef TT_PROCSTAT_H
#define TT_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>

#define PROCSTAT_COMM_MAX	16	/* TASK_COMM_LEN */

/* The first line of /proc/stat, in clock ticks. */
struct procstat_cpu {
	uint64_t	 busy;		/* user nice system irq softirq steal */
	uint64_t	 idle;		/* idle iowait */
};

/* What a watcher needs of /proc/PID/stat. */
struct procstat_task {
	char		 comm[PROCSTAT_COMM_MAX];
	uint64_t	 cpu_ticks;	/* utime + stime */
	uint64_t	 start_ticks;	/* tells a reused pid from its owner */
	uint64_t	 rss_pages;
};

/*
 * Reads a small file whole into buf (NUL-terminated). Returns its length,
 * or -1 with errno.
 */
ssize_t	procstat_read(const char *path, char *buf, size_t size);

/*
 * The same from a file kept open: /proc and cgroup files give fresh text
 * at every read from offset 0. -1 with errno (ESRCH: the process is gone).
 */
ssize_t	procstat_pread(int fd, char *buf, size_t size);

/* Each returns 0, or -1 when the text is not what the kernel writes. */
int	procstat_parse_stat(const char *text, struct procstat_cpu *);
int	procstat_parse_task(const char *text, struct procstat_task *);
/* cgroup v2 cpu.stat: usage_usec. */
int	procstat_parse_cgroup_cpu(const char *text, uint64_t *usage_usec);
/* /proc/meminfo: MemAvailable and MemTotal, in bytes. */
int	procstat_parse_meminfo(const char *text, uint64_t *available,
	    uint64_t *total);
/* One decimal, optionally followed by white space (memory.current, pid). */
int	procstat_parse_uint(const char *text, uint64_t *);

/*
 * How far a counter went from prev to cur. Unsigned arithmetic carries a
 * 64-bit wrap; a counter that went back (a reset, or the kernel's iowait
 * accounting, which may) counts as 0 rather than as almost 2^64.
 */
uint64_t procstat_delta(uint64_t prev, uint64_t cur);

/*
 * Percent of all CPUs busy between two /proc/stat samples; -1 when no
 * time passed between them.
 */
double	procstat_cpu_percent(const struct procstat_cpu *prev,
	    const struct procstat_cpu *cur);

/*
 * Percent of one CPU that a counter of units_per_second (clock ticks for
 * a process, 1000000 for a cgroup's usage_usec) used over elapsed_us.
 * -1 when no time passed.
 */
double	procstat_share_percent(uint64_t prev, uint64_t cur,
	    uint64_t units_per_second, uint64_t elapsed_us);

#endif
