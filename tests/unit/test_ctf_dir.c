/*
 * Unit tests of lib/ctf_dir.c on stream files laid out as LTTng writes
 * them (packet header and context), made here byte by byte: traces found
 * at any depth, packets indexed with their sequence numbers, anything
 * that does not read as LTTng's left unindexed, links never followed,
 * and a subset holding exactly the packets asked for.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctf_dir.h"

static char	 top[64];

static void
test_put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Appends a packet of size bytes to fd: begin..end, numbered seq. */
static void
test_packet(int fd, size_t size, uint64_t begin, uint64_t end, uint64_t seq)
{
	unsigned char *p = calloc(1, size);

	p[0] = 0xc1;
	p[1] = 0x1f;
	p[2] = 0xfc;
	p[3] = 0xc1;
	test_put64(p + 32, begin);
	test_put64(p + 40, end);
	test_put64(p + 48, (size - 16) * 8);	/* content_size, bits */
	test_put64(p + 56, size * 8);		/* packet_size, bits */
	test_put64(p + 64, seq);
	assert_int_equal(write(fd, p, size), (ssize_t)size);
	free(p);
}

static int
test_rm(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int
test_setup(void **state)
{
	char	 path[256];
	int	 fd;

	(void)state;
	snprintf(top, sizeof(top), "/tmp/tt-ctf-dir.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/trace/ust/uid/0/64-bit", top);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "mkdir -p %s/index %s/../../1/64-bit "
		    "%s/../../../../kernel", path, path, path);
		assert_int_equal(system(cmd), 0);
	}
	/* ust/uid/0/64-bit: a ring that overflowed (first packet is #5). */
	snprintf(path, sizeof(path), "%s/trace/ust/uid/0/64-bit/metadata", top);
	close(open(path, O_WRONLY | O_CREAT, 0644));
	snprintf(path, sizeof(path), "%s/trace/ust/uid/0/64-bit/chan_0", top);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	test_packet(fd, 4096, 100, 200, 5);
	test_packet(fd, 8192, 200, 300, 6);
	test_packet(fd, 4096, 300, 400, 7);
	close(fd);
	snprintf(path, sizeof(path), "%s/trace/ust/uid/0/64-bit/chan_1", top);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	test_packet(fd, 4096, 50, 350, 0);
	close(fd);
	/* A file that is not a stream of LTTng packets. */
	snprintf(path, sizeof(path), "%s/trace/ust/uid/0/64-bit/junk_0", top);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_int_equal(write(fd, "not a packet, not at all, no no no no no no "
	    "no no no no no no no no no no no no no no", 86), 86);
	close(fd);
	/* A link to a stream elsewhere: never followed. */
	snprintf(path, sizeof(path), "%s/trace/ust/uid/0/64-bit/link_0", top);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	/* kernel/: a second trace, at another depth. */
	snprintf(path, sizeof(path), "%s/trace/kernel/metadata", top);
	close(open(path, O_WRONLY | O_CREAT, 0644));
	snprintf(path, sizeof(path), "%s/trace/kernel/k_0", top);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	test_packet(fd, 4096, 10, 20, 0);
	/* The last packet says it is longer than what is left: cut short. */
	test_packet(fd, 4096, 20, 30, 1);
	assert_int_equal(ftruncate(fd, 4096 + 2048), 0);
	close(fd);
	return 0;
}

static int
test_teardown(void **state)
{
	(void)state;
	nftw(top, test_rm, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static const struct ctf_stream_file *
test_stream(const struct ctf_dir *d, const char *rel, const char *name)
{
	size_t i, j;

	for (i = 0; i < d->ntraces; i++)
		for (j = 0; j < d->traces[i].nstreams; j++)
			if (strcmp(d->traces[i].rel, rel) == 0 &&
			    strcmp(d->traces[i].streams[j].name, name) == 0)
				return &d->traces[i].streams[j];
	return NULL;
}

static void
test_scan(void **state)
{
	const struct ctf_stream_file	*f;
	struct ctf_dir			 d;
	char				 root[128], err[256];

	(void)state;
	snprintf(root, sizeof(root), "%s/trace", top);
	assert_int_equal(ctf_dir_scan(root, &d, err, sizeof(err)), 0);
	/* Two traces (uid/1/64-bit has no metadata: not one), sorted. */
	assert_int_equal(d.ntraces, 2);
	assert_string_equal(d.traces[0].rel, "kernel");
	assert_string_equal(d.traces[1].rel, "ust/uid/0/64-bit");
	f = test_stream(&d, "ust/uid/0/64-bit", "chan_0");
	assert_non_null(f);
	assert_true(f->is_indexed);
	assert_int_equal(f->npackets, 3);
	assert_int_equal(f->packets[0].seq, 5);
	assert_int_equal(f->packets[1].offset, 4096);
	assert_int_equal(f->packets[1].size, 8192);
	assert_int_equal(f->packets[2].ts_begin, 300);
	f = test_stream(&d, "ust/uid/0/64-bit", "junk_0");
	assert_non_null(f);
	assert_false(f->is_indexed);
	assert_null(test_stream(&d, "ust/uid/0/64-bit", "link_0"));
	f = test_stream(&d, "kernel", "k_0");
	assert_false(f->is_indexed);
	assert_non_null(strstr(f->why_not, "header"));
	snprintf(err, sizeof(err), "%s/chan_0", d.traces[1].path);
	assert_ptr_equal(ctf_dir_find_stream(&d, err, NULL),
	    test_stream(&d, "ust/uid/0/64-bit", "chan_0"));
	snprintf(err, sizeof(err), "%s/chan_9", d.traces[1].path);
	assert_null(ctf_dir_find_stream(&d, err, NULL));
	ctf_dir_free(&d);
	/* No trace at all is an error that says so. */
	assert_int_equal(ctf_dir_scan("/proc/self/fdinfo", &d, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no CTF trace"));
}

static int
test_keep_middle(const struct ctf_trace_dir *t,
    const struct ctf_stream_file *f, const struct ctf_packet *p, void *arg)
{
	(void)t;
	(void)f;
	(void)arg;
	return p->ts_begin >= 200 && p->ts_begin < 300;
}

static void
test_subset(void **state)
{
	struct ctf_dir	 d;
	struct stat	 st;
	char		 root[128], out[128], path[256], err[256];
	int64_t		 n;

	(void)state;
	snprintf(root, sizeof(root), "%s/trace", top);
	snprintf(out, sizeof(out), "%s/subset", top);
	assert_int_equal(mkdir(out, 0700), 0);
	assert_int_equal(ctf_dir_scan(root, &d, err, sizeof(err)), 0);
	/* Too small a bound: refused with advice, nothing half-written kept. */
	assert_int_equal(ctf_dir_write_subset(&d, out, test_keep_middle, NULL,
	    4096, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "narrow"));
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir %s", out, out);
		assert_int_equal(system(cmd), 0);
	}
	n = ctf_dir_write_subset(&d, out, test_keep_middle, NULL, 1 << 20, err,
	    sizeof(err));
	/* chan_0's second packet; the unindexed files whole. */
	snprintf(path, sizeof(path), "%s/ust/uid/0/64-bit/chan_0", out);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 8192);
	snprintf(path, sizeof(path), "%s/ust/uid/0/64-bit/chan_1", out);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/ust/uid/0/64-bit/junk_0", out);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/ust/uid/0/64-bit/metadata", out);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/kernel/k_0", out);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(n, 8192 + 86 + 4096 + 2048);
	ctf_dir_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_subset),
	};

	return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
