/*
 * Unit tests of triggers/procstat.c on recorded /proc and cgroup text:
 * the fields the watchers use, the odd command names /proc/PID/stat can
 * hold, counter wrap and counters that go back, and the utilisation
 * arithmetic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procstat.h"

/* Two /proc/stat samples of a 2-CPU machine, 1 s apart (HZ 100). */
static const char stat_t0[] =
    "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0\n"
    "cpu0 1393280 32966 572056 13343292 6130 0 17875 0 23933 0\n"
    "intr 199292 0 9 0\n";
static const char stat_t1[] =
    "cpu  10132253 290696 3084769 46828533 16683 0 25195 0 175678 0\n"
    "cpu0 1393330 32966 572081 13343317 6130 0 17875 0 23958 0\n";

static void
test_stat(void **state)
{
	struct procstat_cpu	 a, b;

	(void)state;
	assert_int_equal(procstat_parse_stat(stat_t0, &a), 0);
	/* busy: user nice system irq softirq steal; guest is in user. */
	assert_int_equal(a.busy, 10132153ULL + 290696 + 3084719 + 0 +
	    25195 + 0);
	assert_int_equal(a.idle, 46828483ULL + 16683);
	assert_int_equal(procstat_parse_stat(stat_t1, &b), 0);
	/* 150 busy ticks of 200: 75 %. */
	assert_true(procstat_cpu_percent(&a, &b) > 74.99);
	assert_true(procstat_cpu_percent(&a, &b) < 75.01);
	/* No time between two samples: no rate, not a division by 0. */
	assert_true(procstat_cpu_percent(&a, &a) < 0);

	assert_int_equal(procstat_parse_stat("cpu0 1 2 3 4\n", &a), -1);
	assert_int_equal(procstat_parse_stat("cpu  1 2 3\n", &a), -1);
	assert_int_equal(procstat_parse_stat("", &a), -1);
	/* An old kernel's four columns are enough. */
	assert_int_equal(procstat_parse_stat("cpu  1 2 3 4\n", &a), 0);
	assert_int_equal(a.busy, 6);
	assert_int_equal(a.idle, 4);
}

static void
test_wrap_and_back(void **state)
{
	struct procstat_cpu	 a = { UINT64_MAX - 49, 1000 };
	struct procstat_cpu	 b = { 50, 1100 };

	(void)state;
	/* A 64-bit wrap is 100 ticks, as unsigned arithmetic carries it. */
	assert_int_equal(procstat_delta(UINT64_MAX - 49, 50), 100);
	assert_true(procstat_cpu_percent(&a, &b) > 49.99);
	assert_true(procstat_cpu_percent(&a, &b) < 50.01);
	/* iowait may go back: 0, not almost 2^64 of idle. */
	assert_int_equal(procstat_delta(1000, 990), 0);
	a.busy = 500;
	a.idle = 1000;
	b.busy = 600;
	b.idle = 990;
	assert_true(procstat_cpu_percent(&a, &b) > 99.99);
}

static void
test_task(void **state)
{
	static const char plain[] = "4242 (nginx) S 1 4242 4242 0 -1 4194624 "
	    "2219 0 0 0 1500 250 0 0 20 0 1 0 8123456 181559296 4417 "
	    "18446744073709551615 1 1 0 0 0 0 0 4096 134 0 0 0 17 1 0 0 0 0 0";
	/* comm may hold spaces and parentheses: fields follow the last ')'. */
	static const char odd[] = "77 (my (odd) app) R 1 77 77 0 -1 0 0 0 0 0 "
	    "7 3 0 0 -2 -10 1 0 99 0 12 0";
	struct procstat_task	 t;

	(void)state;
	assert_int_equal(procstat_parse_task(plain, &t), 0);
	assert_string_equal(t.comm, "nginx");
	assert_int_equal(t.cpu_ticks, 1750);
	assert_int_equal(t.start_ticks, 8123456);
	assert_int_equal(t.rss_pages, 4417);
	assert_int_equal(procstat_parse_task(odd, &t), 0);
	assert_string_equal(t.comm, "my (odd) app");
	assert_int_equal(t.cpu_ticks, 10);
	assert_int_equal(t.start_ticks, 99);
	assert_int_equal(t.rss_pages, 12);

	assert_int_equal(procstat_parse_task("4242 nginx S 1", &t), -1);
	assert_int_equal(procstat_parse_task("4242 (nginx) S 1 2 3", &t), -1);
	assert_int_equal(procstat_parse_task("4242 (nginx)", &t), -1);
	assert_int_equal(procstat_parse_task(")(", &t), -1);
}

/* A process at 1.5 CPUs, and a cgroup at 25 % of one. */
static void
test_share(void **state)
{
	(void)state;
	/* 150 ticks of HZ 100 in 1 s. */
	assert_true(procstat_share_percent(1000, 1150, 100, 1000000) > 149.99);
	assert_true(procstat_share_percent(1000, 1150, 100, 1000000) < 150.01);
	/* 500 ms of usage_usec in 2 s. */
	assert_true(procstat_share_percent(0, 500000, 1000000, 2000000) >
	    24.99);
	assert_true(procstat_share_percent(0, 500000, 1000000, 2000000) <
	    25.01);
	assert_true(procstat_share_percent(0, 1, 100, 0) < 0);
}

static void
test_cgroup_and_memory(void **state)
{
	static const char cpu_stat[] = "usage_usec 123456789\nuser_usec 1\n"
	    "system_usec 2\nnr_periods 0\n";
	static const char meminfo[] = "MemTotal:       24575180 kB\n"
	    "MemFree:        22000000 kB\nMemAvailable:    2457518 kB\n";
	uint64_t	 v, avail, total;

	(void)state;
	assert_int_equal(procstat_parse_cgroup_cpu(cpu_stat, &v), 0);
	assert_int_equal(v, 123456789);
	/* A key must be whole: "usage_usecs" is not "usage_usec". */
	assert_int_equal(procstat_parse_cgroup_cpu("usage_usecs 5\n", &v), -1);
	assert_int_equal(procstat_parse_meminfo(meminfo, &avail, &total), 0);
	assert_int_equal(avail, 2457518ULL * 1024);
	assert_int_equal(total, 24575180ULL * 1024);
	assert_int_equal(procstat_parse_meminfo("MemTotal: 5 kB\n", &avail,
	    &total), -1);
	assert_int_equal(procstat_parse_uint("1073741824\n", &v), 0);
	assert_int_equal(v, 1073741824);
	assert_int_equal(procstat_parse_uint("max\n", &v), -1);
	assert_int_equal(procstat_parse_uint("12 13\n", &v), -1);
	assert_int_equal(procstat_parse_uint("", &v), -1);
}

static void
test_read(void **state)
{
	char	 path[] = "/tmp/test_procstat.XXXXXX", buf[8];
	int	 fd;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	/* Cut to the buffer, always NUL-terminated. */
	assert_int_equal(procstat_read(path, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "0123456");
	/* Kept open: every pread sees the file as it is now. */
	assert_true((fd = open(path, O_RDWR)) != -1);
	assert_int_equal(procstat_pread(fd, buf, sizeof(buf)), 7);
	assert_int_equal(pwrite(fd, "abc", 3, 0), 3);
	assert_int_equal(procstat_pread(fd, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "abc3456");
	assert_int_equal(ftruncate(fd, 2), 0);
	assert_int_equal(procstat_pread(fd, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "ab");
	close(fd);
	unlink(path);
	assert_int_equal(procstat_read(path, buf, sizeof(buf)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_wrap_and_back),
		cmocka_unit_test(test_task),
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_cgroup_and_memory),
		cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests_name("procstat", tests, NULL, NULL);
}
