/*
 * Unit tests of relay/tar.c: ustar headers field by field, the prefix
 * split of long names, the limits, and whole archives streamed in chunks
 * of every awkward size, read back by GNU tar.
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

#include "tar.h"

static int
test_remove_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
test_rm_rf(const char *path)
{
	nftw(path, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t
test_octal(const unsigned char *field, size_t len)
{
	uint64_t	 v = 0;
	size_t		 i;

	for (i = 0; i < len && field[i] >= '0' && field[i] <= '7'; i++)
		v = v * 8 + (uint64_t)(field[i] - '0');
	return v;
}

/* The checksum as a reader computes it: its field counted as spaces. */
static unsigned
test_checksum(const unsigned char *block)
{
	unsigned	 sum = 0;
	size_t		 i;

	for (i = 0; i < TAR_BLOCK_SIZE; i++)
		sum += i >= 148 && i < 156 ? ' ' : block[i];
	return sum;
}

static void
test_header_fields(void **state)
{
	unsigned char	 b[TAR_BLOCK_SIZE];
	char		 err[256];

	(void)state;
	assert_int_equal(tar_header(b, "snap/manifest.json", TAR_FILE, 0644,
	    1234, 1700000000, err, sizeof(err)), 0);
	assert_string_equal((char *)b, "snap/manifest.json");
	assert_memory_equal(b + 100, "0000644", 8);
	assert_memory_equal(b + 108, "0000000", 8);
	assert_memory_equal(b + 124, "00000002322", 12);
	assert_int_equal(test_octal(b + 136, 12), 1700000000);
	assert_int_equal(b[156], '0');
	assert_memory_equal(b + 257, "ustar\0" "00", 8);
	assert_int_equal(test_octal(b + 148, 8), test_checksum(b));
	assert_int_equal(b[154], '\0');
	assert_int_equal(b[155], ' ');
	/* No prefix, no link name. */
	assert_int_equal(b[345], '\0');
	assert_int_equal(b[157], '\0');

	/* A directory's size is always 0, whatever it is given. */
	assert_int_equal(tar_header(b, "snap/trace/", TAR_DIRECTORY, 040755,
	    4096, 0, err, sizeof(err)), 0);
	assert_int_equal(b[156], '5');
	assert_memory_equal(b + 100, "0000755", 8);
	assert_int_equal(test_octal(b + 124, 12), 0);
	assert_int_equal(test_octal(b + 148, 8), test_checksum(b));

	/* Times before the epoch are written as 0, not refused. */
	assert_int_equal(tar_header(b, "f", TAR_FILE, 0644, 0, -5, err,
	    sizeof(err)), 0);
	assert_int_equal(test_octal(b + 136, 12), 0);
}

static void
test_header_long_names(void **state)
{
	unsigned char	 b[TAR_BLOCK_SIZE];
	char		 name[400], err[256];

	(void)state;
	/* Exactly 100 bytes fill the name field, without a NUL. */
	memset(name, 'a', 100);
	name[100] = '\0';
	assert_int_equal(tar_header(b, name, TAR_FILE, 0644, 0, 0, err,
	    sizeof(err)), 0);
	assert_memory_equal(b, name, 100);
	assert_int_equal(b[345], '\0');

	/* 101 bytes and no '/' to split at. */
	memset(name, 'a', 101);
	name[101] = '\0';
	assert_int_equal(tar_header(b, name, TAR_FILE, 0644, 0, 0, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));

	/* 150 + '/' + 90: prefix and name. */
	memset(name, 'p', 150);
	name[150] = '/';
	memset(name + 151, 'n', 90);
	name[241] = '\0';
	assert_int_equal(tar_header(b, name, TAR_FILE, 0644, 0, 0, err,
	    sizeof(err)), 0);
	assert_memory_equal(b + 345, name, 150);
	assert_int_equal(b[345 + 150], '\0');
	assert_memory_equal(b, name + 151, 90);
	assert_int_equal(b[90], '\0');
	assert_int_equal(test_octal(b + 148, 8), test_checksum(b));

	/* The cut is the first '/' that leaves at most 100 bytes. */
	snprintf(name, sizeof(name), "id/trace/%098d/x", 7);
	assert_int_equal(tar_header(b, name, TAR_FILE, 0644, 0, 0, err,
	    sizeof(err)), 0);
	assert_string_equal((char *)b + 345, "id/trace");
	assert_memory_equal(b, name + 9, 100);

	/* A prefix over 155 bytes: refused. */
	memset(name, 'p', 160);
	name[160] = '/';
	memset(name + 161, 'n', 10);
	name[171] = '\0';
	assert_int_equal(tar_header(b, name, TAR_FILE, 0644, 0, 0, err,
	    sizeof(err)), -1);

	/* 256 bytes never fit, however they split. */
	memset(name, 'a', 256);
	name[155] = '/';
	name[256] = '\0';
	assert_int_equal(tar_header(b, name, TAR_FILE, 0644, 0, 0, err,
	    sizeof(err)), -1);

	/* A directory's trailing '/' is not a place to cut. */
	memset(name, 'd', 101);
	name[101] = '/';
	name[102] = '\0';
	assert_int_equal(tar_header(b, name, TAR_DIRECTORY, 0755, 0, 0, err,
	    sizeof(err)), -1);

	assert_int_equal(tar_header(b, "", TAR_FILE, 0644, 0, 0, err,
	    sizeof(err)), -1);
}

static void
test_header_size_limit(void **state)
{
	unsigned char	 b[TAR_BLOCK_SIZE];
	char		 err[256];

	(void)state;
	assert_int_equal(tar_header(b, "big", TAR_FILE, 0644, TAR_SIZE_MAX, 0,
	    err, sizeof(err)), 0);
	assert_memory_equal(b + 124, "77777777777", 12);
	assert_int_equal(tar_header(b, "big", TAR_FILE, 0644,
	    TAR_SIZE_MAX + 1, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than ustar"));
}

static void
test_padding(void **state)
{
	(void)state;
	assert_int_equal(tar_padding(0), 0);
	assert_int_equal(tar_padding(1), 511);
	assert_int_equal(tar_padding(511), 1);
	assert_int_equal(tar_padding(512), 0);
	assert_int_equal(tar_padding(513), 511);
}

struct test_tree {
	char	 dir[64];
	char	 src[128];
};

static void
test_write(const char *dir, const char *path, size_t size)
{
	char	 full[512];
	FILE	*f;
	size_t	 i;

	snprintf(full, sizeof(full), "%s/%s", dir, path);
	assert_non_null(f = fopen(full, "w"));
	for (i = 0; i < size; i++)
		fputc((int)((i * 31 + size) & 0xff), f);
	fclose(f);
}

/* A snapshot directory as the store holds one, plus things to leave out. */
static int
test_tree_setup(void **state)
{
	static const size_t	 sizes[] = { 0, 1, 511, 512, 513, 100000 };
	struct test_tree	*t;
	char			 path[512], deep[300];
	size_t			 i;

	t = calloc(1, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_tar.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->src, sizeof(t->src), "%s/src", t->dir);
	assert_int_equal(mkdir(t->src, 0700), 0);
	snprintf(path, sizeof(path), "%s/trace", t->src);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/trace/ust", t->src);
	assert_int_equal(mkdir(path, 0700), 0);
	test_write(t->src, "manifest.json", 300);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(path, sizeof(path), "trace/ust/channel0_%zu", i);
		test_write(t->src, path, sizes[i]);
	}
	/* A path of more than 100 bytes: the prefix field carries it. */
	snprintf(deep, sizeof(deep), "trace/%080d", 1);
	snprintf(path, sizeof(path), "%s/%s", t->src, deep);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/metadata-of-a-long-path", deep);
	test_write(t->src, path, 4000);
	/* Not files nor directories: never archived. */
	snprintf(path, sizeof(path), "%s/trace/link", t->src);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	snprintf(path, sizeof(path), "%s/trace/fifo", t->src);
	assert_int_equal(mkfifo(path, 0600), 0);
	*state = t;
	return 0;
}

static int
test_tree_teardown(void **state)
{
	struct test_tree *t = *state;

	test_rm_rf(t->dir);
	free(t);
	return 0;
}

/* The whole archive, read chunk bytes at a time. */
static unsigned char *
test_stream_all_at(const char *src, size_t chunk, int64_t mtime,
    uint64_t *size)
{
	struct tar_stream	*ts;
	unsigned char		*buf;
	char			 err[512];
	uint64_t		 used = 0;
	ssize_t			 n;

	ts = tar_stream_open(src, "node1-20261122T070109Z-1", 32, mtime, err,
	    sizeof(err));
	if (ts == NULL)
		fail_msg("tar_stream_open: %s", err);
	*size = tar_stream_size(ts);
	assert_int_equal(*size % TAR_BLOCK_SIZE, 0);
	assert_non_null(buf = malloc(*size + chunk));
	while ((n = tar_stream_read(ts, buf + used, chunk, err,
	    sizeof(err))) > 0) {
		used += (uint64_t)n;
		assert_true(used <= *size);
	}
	if (n == -1)
		fail_msg("tar_stream_read: %s", err);
	assert_int_equal(used, *size);
	/* Once done, it stays done. */
	assert_int_equal(tar_stream_read(ts, buf, chunk, err, sizeof(err)), 0);
	tar_stream_free(ts);
	return buf;
}

static unsigned char *
test_stream_all(const char *src, size_t chunk, uint64_t *size)
{
	return test_stream_all_at(src, chunk, -1, size);
}

/*
 * One time for every member: the same tree touched at another time (a
 * relay's cached copy of a snapshot) makes the same bytes; with each
 * file's own time, it does not.
 */
static void
test_stream_one_mtime(void **state)
{
	struct test_tree	*t = *state;
	struct timespec		 times[2] = { { 1000, 0 }, { 1000, 0 } };
	unsigned char		*a, *b;
	uint64_t		 size_a, size_b;
	char			 path[256];

	a = test_stream_all_at(t->src, 4096, 1795000000, &size_a);
	snprintf(path, sizeof(path), "%s/trace/ust/channel0_5", t->src);
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	b = test_stream_all_at(t->src, 4096, 1795000000, &size_b);
	assert_int_equal(size_a, size_b);
	assert_memory_equal(a, b, size_a);
	free(b);
	b = test_stream_all_at(t->src, 4096, -1, &size_b);
	assert_int_equal(size_a, size_b);
	assert_memory_not_equal(a, b, size_a);
	free(a);
	free(b);
}

static void
test_stream_chunks(void **state)
{
	static const size_t	 chunks[] = { 1, 7, 511, 513, 4096, 65536,
				    1 << 20 };
	struct test_tree	*t = *state;
	unsigned char		*ref, *got, zero[TAR_TRAILER_SIZE];
	uint64_t		 ref_size, size;
	size_t			 i;

	ref = test_stream_all(t->src, 512, &ref_size);
	memset(zero, 0, sizeof(zero));
	assert_memory_equal(ref + ref_size - TAR_TRAILER_SIZE, zero,
	    TAR_TRAILER_SIZE);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		got = test_stream_all(t->src, chunks[i], &size);
		assert_int_equal(size, ref_size);
		assert_memory_equal(got, ref, size);
		free(got);
	}
	free(ref);
}

static void
test_stream_read_by_tar(void **state)
{
	struct test_tree	*t = *state;
	unsigned char		*buf;
	uint64_t		 size;
	char			 archive[256], list[256], cmd[1024], line[512];
	FILE			*f;
	int			 lines = 0, has_long = 0, has_link = 0;

	buf = test_stream_all(t->src, 65536, &size);
	snprintf(archive, sizeof(archive), "%s/a.tar", t->dir);
	assert_non_null(f = fopen(archive, "w"));
	assert_int_equal(fwrite(buf, 1, size, f), size);
	fclose(f);
	free(buf);

	/* GNU tar checks every header's checksum and format as it lists. */
	snprintf(list, sizeof(list), "%s/list", t->dir);
	snprintf(cmd, sizeof(cmd), "tar -tvf %s > %s 2>&1", archive, list);
	assert_int_equal(system(cmd), 0);
	assert_non_null(f = fopen(list, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		lines++;
		assert_non_null(strstr(line, " node1-20261122T070109Z-1/"));
		if (strstr(line, "/metadata-of-a-long-path") != NULL)
			has_long = 1;
		if (strstr(line, "link") != NULL ||
		    strstr(line, "fifo") != NULL)
			has_link = 1;
	}
	fclose(f);
	/* The top dir, trace/, ust/, 6 channels, manifest, deep dir + file. */
	assert_int_equal(lines, 12);
	assert_true(has_long);
	assert_false(has_link);

	/* Extracted, it is the tree again, byte for byte. */
	snprintf(cmd, sizeof(cmd), "mkdir %s/out && tar -xf %s -C %s/out && "
	    "rm %s/trace/link %s/trace/fifo && diff -r %s "
	    "%s/out/node1-20261122T070109Z-1", t->dir, archive, t->dir,
	    t->src, t->src, t->src, t->dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_stream_file_shrinks(void **state)
{
	struct test_tree	*t = *state;
	struct tar_stream	*ts;
	unsigned char		 buf[65536];
	char			 path[256], err[512];
	ssize_t			 n;

	ts = tar_stream_open(t->src, "x", 32, -1, err, sizeof(err));
	assert_non_null(ts);
	snprintf(path, sizeof(path), "%s/trace/ust/channel0_5", t->src);
	assert_int_equal(truncate(path, 10), 0);
	while ((n = tar_stream_read(ts, buf, sizeof(buf), err,
	    sizeof(err))) > 0)
		;
	assert_int_equal(n, -1);
	assert_non_null(strstr(err, "channel0_5"));
	assert_non_null(strstr(err, "shorter"));
	tar_stream_free(ts);
}

static void
test_stream_refusals(void **state)
{
	struct test_tree	*t = *state;
	char			 path[512], err[512];

	/* Too deep for the caller. */
	assert_null(tar_stream_open(t->src, "x", 2, -1, err, sizeof(err)));
	assert_non_null(strstr(err, "deeper"));

	/* Names over what ustar holds: refused when the tree is walked. */
	snprintf(path, sizeof(path), "%s/trace/%0120d", t->src, 2);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path + strlen(path), sizeof(path) - strlen(path),
	    "/%0120d", 3);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_null(tar_stream_open(t->src, "x", 32, -1, err, sizeof(err)));
	assert_non_null(strstr(err, "too long"));

	snprintf(path, sizeof(path), "%s/missing", t->dir);
	assert_null(tar_stream_open(path, "x", 32, -1, err, sizeof(err)));
	snprintf(path, sizeof(path), "%s/manifest.json", t->src);
	assert_null(tar_stream_open(path, "x", 32, -1, err, sizeof(err)));
	assert_null(tar_stream_open(t->src, "/abs", 32, -1, err, sizeof(err)));
	assert_null(tar_stream_open(t->src, "", 32, -1, err, sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_header_long_names),
		cmocka_unit_test(test_header_size_limit),
		cmocka_unit_test(test_padding),
		cmocka_unit_test_setup_teardown(test_stream_chunks,
		    test_tree_setup, test_tree_teardown),
		cmocka_unit_test_setup_teardown(test_stream_read_by_tar,
		    test_tree_setup, test_tree_teardown),
		cmocka_unit_test_setup_teardown(test_stream_one_mtime,
		    test_tree_setup, test_tree_teardown),
		cmocka_unit_test_setup_teardown(test_stream_file_shrinks,
		    test_tree_setup, test_tree_teardown),
		cmocka_unit_test_setup_teardown(test_stream_refusals,
		    test_tree_setup, test_tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
