/*
 * Unit tests for lib/tracetrap.c: the public tracetrap_format() is the
 * codec's encoder (its rules are tested in test_datagram.c), and sends go
 * through real AF_UNIX datagram sockets in a private directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datagram.h"
#include "tracetrap.h"

#define TEST_THREADS		8
#define TEST_THREAD_SENDS	100
#define TEST_SUN_PATH_SIZE	(sizeof ((struct sockaddr_un *)0)->sun_path)

static struct trigger	test_trigger;
static char		test_buf[TRACETRAP_DATAGRAM_MAX];
static char		test_dir[64];
static char		test_path[96];

static int
test_setup(void **state)
{
	(void)state;
	snprintf(test_dir, sizeof test_dir, "/tmp/test_tracetrap.XXXXXX");
	if (mkdtemp(test_dir) == NULL)
		return -1;
	snprintf(test_path, sizeof test_path, "%s/trigger.sock", test_dir);
	return 0;
}

static int
test_teardown(void **state)
{
	(void)state;
	unlink(test_path);
	rmdir(test_dir);
	return 0;
}

/* A recorder stand-in: a datagram socket bound to test_path. */
static int
test_bind(void)
{
	struct sockaddr_un	addr;
	int			fd;

	unlink(test_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_not_equal(fd, -1);
	memset(&addr, 0, sizeof addr);
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", test_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	return fd;
}

static int
test_count_fds(void)
{
	DIR		*dir;
	struct dirent	*entry;
	int		 count = 0;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] != '.')
			count++;
	}
	closedir(dir);
	return count;
}

static void
test_format_exact(void **state)
{
	const struct tracetrap_label	labels[] = {
		{ "url", "/index.html" },
		{ "status", "500" },
	};
	const char			*expected =
	    "v=1\nsource=apache\nreason=slow\nscope=cluster\n"
	    "url=/index.html\nstatus=500\n";
	size_t				 len;

	(void)state;
	len = tracetrap_format(test_buf, sizeof test_buf, "apache", "slow",
	    TRACETRAP_SCOPE_CLUSTER, labels, 2);
	assert_int_equal(len, strlen(expected));
	assert_memory_equal(test_buf, expected, len);

	len = tracetrap_format(test_buf, sizeof test_buf, NULL, NULL,
	    TRACETRAP_SCOPE_NODE, NULL, 0);
	expected = "v=1\nsource=app\nreason=\nscope=node\n";
	assert_int_equal(len, strlen(expected));
	assert_memory_equal(test_buf, expected, len);
}

static void
test_send_delivers(void **state)
{
	const struct tracetrap_label	label = { "request_id", "r-1" };
	char				got[TRACETRAP_DATAGRAM_MAX + 1];
	unsigned long			dropped;
	ssize_t				n;
	size_t				len;
	int				fd;

	(void)state;
	fd = test_bind();
	dropped = tracetrap_dropped();

	len = tracetrap_format(test_buf, sizeof test_buf, "app", "by send",
	    TRACETRAP_SCOPE_NODE, &label, 1);
	assert_int_equal(tracetrap_send(test_path, test_buf, len), 0);
	n = recv(fd, got, sizeof got, MSG_DONTWAIT);
	assert_int_equal(n, len);
	assert_memory_equal(got, test_buf, len);

	assert_int_equal(tracetrap_trigger_to(test_path, "cpu", "by path",
	    TRACETRAP_SCOPE_CLUSTER, &label, 1), 0);
	n = recv(fd, got, sizeof got, MSG_DONTWAIT);
	assert_true(n > 0);
	assert_int_equal(datagram_parse(got, (size_t)n, &test_trigger, NULL,
	    0), 0);
	assert_string_equal(test_trigger.reason, "by path");
	assert_string_equal(test_trigger.source, "cpu");

	assert_int_equal(setenv(TRACETRAP_SOCKET_ENV, test_path, 1), 0);
	assert_int_equal(tracetrap_trigger(NULL, "by environment",
	    TRACETRAP_SCOPE_NODE, NULL, 0), 0);
	unsetenv(TRACETRAP_SOCKET_ENV);
	n = recv(fd, got, sizeof got, MSG_DONTWAIT);
	assert_true(n > 0);
	assert_int_equal(datagram_parse(got, (size_t)n, &test_trigger, NULL,
	    0), 0);
	assert_string_equal(test_trigger.reason, "by environment");

	/* A recorder restarted on the same path is found again. */
	close(fd);
	fd = test_bind();
	assert_int_equal(tracetrap_send(test_path, test_buf, len), 0);
	assert_int_equal(recv(fd, got, sizeof got, MSG_DONTWAIT), len);

	assert_int_equal(tracetrap_dropped(), dropped);
	close(fd);
}

static void
test_send_missing(void **state)
{
	char		long_path[TEST_SUN_PATH_SIZE + 8];
	unsigned long	dropped;

	(void)state;
	unlink(test_path);
	dropped = tracetrap_dropped();
	errno = 0;
	assert_int_equal(tracetrap_send(test_path, "v=1\n", 4), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(tracetrap_dropped(), dropped + 1);

	/* No recorder and invalid arguments count the same. */
	assert_int_equal(tracetrap_trigger_to(test_path, "Bad", NULL,
	    TRACETRAP_SCOPE_NODE, NULL, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(tracetrap_dropped(), dropped + 2);

	memset(long_path, 'p', sizeof long_path - 1);
	long_path[0] = '/';
	long_path[sizeof long_path - 1] = '\0';
	assert_int_equal(tracetrap_send(long_path, "v=1\n", 4), -1);
	assert_int_equal(errno, EINVAL);
	long_path[TEST_SUN_PATH_SIZE] = '\0';
	assert_int_equal(tracetrap_send(long_path, "v=1\n", 4), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(tracetrap_send(test_path, test_buf,
	    TRACETRAP_DATAGRAM_MAX + 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(tracetrap_send(test_path, "", 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(tracetrap_dropped(), dropped + 6);
}

static int64_t
test_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
test_send_full(void **state)
{
	unsigned long	dropped;
	int64_t		started;
	size_t		sent;
	int		fd, rc;

	(void)state;
	fd = test_bind();
	memset(test_buf, 'x', sizeof test_buf);
	memcpy(test_buf, "v=1\nreason=", 11);

	/* Fill the recorder's queue without reading it. */
	for (sent = 0; sent < 100000; sent++) {
		if (tracetrap_send(test_path, test_buf, 1000) == -1)
			break;
	}
	assert_int_equal(errno, EAGAIN);
	assert_true(sent > 0 && sent < 100000);

	dropped = tracetrap_dropped();
	started = test_now_us();
	rc = tracetrap_send(test_path, test_buf, 1000);
	assert_int_equal(rc, -1);
	assert_int_equal(errno, EAGAIN);
	assert_true(test_now_us() - started < 100000);
	assert_int_equal(tracetrap_dropped(), dropped + 1);

	/* Closing the receiver frees what the queue held. */
	close(fd);
	fd = test_bind();
	assert_int_equal(tracetrap_send(test_path, "v=1\n", 4), 0);
	close(fd);
}

/*
 * The child must make its own socket: it checks that its first send opens
 * exactly one descriptor, and reports through its exit status, since
 * cmocka's assertions do not cross a fork().
 */
static void
test_send_after_fork(void **state)
{
	char	got[64];
	pid_t	pid;
	int	fd, status, before;

	(void)state;
	fd = test_bind();
	assert_int_equal(tracetrap_send(test_path, "v=1\nreason=parent\n", 18),
	    0);
	assert_int_equal(recv(fd, got, sizeof got, MSG_DONTWAIT), 18);

	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0) {
		before = test_count_fds();
		if (tracetrap_send(test_path, "v=1\nreason=child\n", 17) != 0)
			_exit(1);
		if (test_count_fds() != before + 1)
			_exit(2);
		if (tracetrap_send(test_path, "v=1\nreason=child\n", 17) != 0)
			_exit(3);
		if (test_count_fds() != before + 1)
			_exit(4);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(recv(fd, got, sizeof got, MSG_DONTWAIT), 17);
	assert_memory_equal(got, "v=1\nreason=child\n", 17);
	assert_int_equal(recv(fd, got, sizeof got, MSG_DONTWAIT), 17);

	/* The parent's socket still works. */
	assert_int_equal(tracetrap_send(test_path, "v=1\n", 4), 0);
	assert_int_equal(recv(fd, got, sizeof got, MSG_DONTWAIT), 4);
	close(fd);
}

static void *
test_thread(void *arg)
{
	size_t	i;

	(void)arg;
	for (i = 0; i < TEST_THREAD_SENDS; i++)
		(void)tracetrap_send(test_path, "v=1\n", 4);
	return NULL;
}

/*
 * Threads that race to create the socket in a fresh process (a forked
 * child) end up sharing one: exactly one descriptor is opened.
 */
static void
test_send_threads(void **state)
{
	pthread_t	threads[TEST_THREADS];
	pid_t		pid;
	size_t		i;
	int		status, before;

	(void)state;
	unlink(test_path);
	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0) {
		before = test_count_fds();
		for (i = 0; i < TEST_THREADS; i++) {
			if (pthread_create(&threads[i], NULL, test_thread,
			    NULL) != 0)
				_exit(1);
		}
		for (i = 0; i < TEST_THREADS; i++)
			pthread_join(threads[i], NULL);
		if (test_count_fds() != before + 1)
			_exit(2);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_exact),
		cmocka_unit_test(test_send_delivers),
		cmocka_unit_test(test_send_missing),
		cmocka_unit_test(test_send_full),
		cmocka_unit_test(test_send_after_fork),
		cmocka_unit_test(test_send_threads),
	};

	return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
