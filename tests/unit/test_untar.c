/*
 * Unit tests of cli/untar.c, the CLI's strict ustar reader: archives from
 * relay/tar.c and GNU tar extract; every hostile member is refused, and
 * nothing is ever written outside the destination.
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
#include "untar.h"

struct test_archive {
	unsigned char	 buf[256 * 1024];
	size_t		 len;
};

struct test_dirs {
	char		 top[64];
	char		 dest[128];
	char		 outside[128];
	char		 err[1024];
};

static int
test_remove_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
test_checksum(unsigned char *b)
{
	unsigned	 sum = 0;
	size_t		 i;

	memset(b + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
	b[155] = ' ';
}

/* One member; type is a ustar typeflag, written over what tar.c made. */
static unsigned char *
test_member(struct test_archive *a, const char *name, char type,
    const char *data, size_t size)
{
	unsigned char	*b = a->buf + a->len;
	char		 err[256];

	if (tar_header(b, name, type == '5' ? TAR_DIRECTORY : TAR_FILE,
	    type == '5' ? 0755 : 0644, size, 1700000000, err,
	    sizeof(err)) == -1)
		fail_msg("tar_header: %s", err);
	if (type != '0' && type != '5') {
		b[156] = (unsigned char)type;
		test_checksum(b);
	}
	a->len += 512;
	if (data != NULL)
		memcpy(a->buf + a->len, data, size);
	else
		memset(a->buf + a->len, 'x', size);
	a->len += size + tar_padding(size);
	return b;
}

static void
test_end(struct test_archive *a)
{
	memset(a->buf + a->len, 0, 1024);
	a->len += 1024;
}

static int
test_extract(struct test_dirs *d, const struct test_archive *a,
    struct untar_stats *stats)
{
	FILE	*f = tmpfile();
	int	 rc;

	assert_non_null(f);
	assert_int_equal(fwrite(a->buf, 1, a->len, f), a->len);
	fflush(f);
	rewind(f);
	rc = untar_extract(fileno(f), d->dest, "snap-1", stats, d->err,
	    sizeof(d->err));
	fclose(f);
	return rc;
}

/* An empty destination again. */
static void
test_reset(struct test_dirs *d)
{
	nftw(d->dest, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(mkdir(d->dest, 0700), 0);
}

static int
test_setup(void **state)
{
	struct test_dirs *d = calloc(1, sizeof(*d));

	snprintf(d->top, sizeof(d->top), "/tmp/test_untar.XXXXXX");
	assert_non_null(mkdtemp(d->top));
	snprintf(d->dest, sizeof(d->dest), "%s/dest", d->top);
	snprintf(d->outside, sizeof(d->outside), "%s/outside", d->top);
	assert_int_equal(mkdir(d->dest, 0700), 0);
	assert_int_equal(mkdir(d->outside, 0700), 0);
	*state = d;
	return 0;
}

static int
test_teardown(void **state)
{
	struct test_dirs *d = *state;

	nftw(d->top, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(d);
	return 0;
}

/* What an extraction may leave: only under dest, never in outside. */
static int
test_count(const char *dir)
{
	char	 cmd[256], line[64];
	FILE	*p;
	int	 n = -1;

	snprintf(cmd, sizeof(cmd), "find %s -mindepth 1 | wc -l", dir);
	if ((p = popen(cmd, "r")) != NULL) {
		if (fgets(line, sizeof(line), p) != NULL)
			n = atoi(line);
		pclose(p);
	}
	return n;
}

static void
test_valid(void **state)
{
	struct test_dirs	*d = *state;
	struct test_archive	*a = calloc(1, sizeof(*a));
	struct untar_stats	 stats;
	struct stat		 st;
	char			 path[256], long_name[256];

	test_member(a, "snap-1/", '5', NULL, 0);
	test_member(a, "snap-1/manifest.json", '0', "{}\n", 3);
	test_member(a, "snap-1/trace/", '5', NULL, 0);
	test_member(a, "snap-1/trace/metadata", '0', NULL, 513);
	test_member(a, "snap-1/trace/empty", '0', NULL, 0);
	/* Parents not listed: made on the way. */
	test_member(a, "snap-1/trace/ust/uid/0/channel0_0", '0', NULL, 4096);
	/* Through the prefix field. */
	snprintf(long_name, sizeof(long_name), "snap-1/trace/%0120d/f", 5);
	test_member(a, long_name, '0', NULL, 10);
	test_end(a);
	assert_int_equal(test_extract(d, a, &stats), 0);
	assert_int_equal(stats.files, 5);
	assert_int_equal(stats.directories, 2);
	assert_int_equal(stats.bytes, 3 + 513 + 4096 + 10);
	snprintf(path, sizeof(path), "%s/snap-1/trace/metadata", d->dest);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 513);
	assert_int_equal(st.st_mtime, 1700000000);
	snprintf(path, sizeof(path), "%s/%s", d->dest, long_name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 10);
	assert_int_equal(test_count(d->outside), 0);
	free(a);
}

static void
test_gnu_tar(void **state)
{
	struct test_dirs	*d = *state;
	struct untar_stats	 stats;
	char			 cmd[1024], archive[128];
	int			 fd;

	/* An archive of another writer: POSIX ustar from GNU tar. */
	snprintf(cmd, sizeof(cmd), "cd %s && mkdir -p snap-1/trace/ust && "
	    "echo '{}' > snap-1/manifest.json && head -c 70000 /dev/urandom "
	    "> snap-1/trace/ust/channel0_0 && tar --format=ustar -cf a.tar "
	    "snap-1", d->outside);
	assert_int_equal(system(cmd), 0);
	snprintf(archive, sizeof(archive), "%s/a.tar", d->outside);
	assert_true((fd = open(archive, O_RDONLY)) >= 0);
	assert_int_equal(untar_extract(fd, d->dest, "snap-1", &stats, d->err,
	    sizeof(d->err)), 0);
	close(fd);
	assert_int_equal(stats.files, 2);
	snprintf(cmd, sizeof(cmd), "diff -r %s/snap-1 %s/snap-1", d->outside,
	    d->dest);
	assert_int_equal(system(cmd), 0);
}

struct test_refusal {
	const char	*name;
	char		 type;
	size_t		 size;
	const char	*says;
};

static void
test_refusals(void **state)
{
	static const struct test_refusal refusals[] = {
		{ "/snap-1/x", '0', 1, "component ''" },
		{ "../x", '0', 1, "'..'" },
		{ "snap-1/../../outside/x", '0', 1, "'..'" },
		{ "snap-1/./x", '0', 1, "'.'" },
		{ "snap-1//x", '0', 1, "component ''" },
		{ "snap-1/.hidden", '0', 1, ".hidden" },
		{ "snap-1/a b", '0', 1, "a b" },
		{ "other/x", '0', 1, "outside snap-1/" },
		{ "snap-10/x", '0', 1, "outside snap-1/" },
		{ "snap-1", '0', 1, "directory belongs" },
		{ "snap-1/link", '2', 0, "links" },
		{ "snap-1/hard", '1', 0, "links" },
		{ "snap-1/dev", '3', 0, "devices" },
		{ "snap-1/blk", '4', 0, "devices" },
		{ "snap-1/fifo", '6', 0, "FIFOs" },
		{ "snap-1/pax", 'x', 0, "type 'x'" },
		{ "snap-1/gpax", 'g', 0, "type 'g'" },
		{ "././@LongLink", 'L', 0, "type 'L'" },
		{ "snap-1/cont", '7', 0, "type '7'" },
	};
	struct test_dirs	*d = *state;
	struct test_archive	*a = calloc(1, sizeof(*a));
	struct untar_stats	 stats;
	size_t			 i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		a->len = 0;
		test_member(a, "snap-1/", '5', NULL, 0);
		test_member(a, refusals[i].name, refusals[i].type, NULL,
		    refusals[i].size);
		test_end(a);
		if (test_extract(d, a, &stats) != -1)
			fail_msg("%s (type %c) was extracted",
			    refusals[i].name, refusals[i].type);
		if (strstr(d->err, refusals[i].says) == NULL)
			fail_msg("%s: '%s' does not say '%s'",
			    refusals[i].name, d->err, refusals[i].says);
		assert_int_equal(test_count(d->outside), 0);
		assert_int_equal(test_count(d->dest), 1);	/* snap-1 */
	}
	free(a);
}

static void
test_malformed(void **state)
{
	struct test_dirs	*d = *state;
	struct test_archive	*a = calloc(1, sizeof(*a));
	struct untar_stats	 stats;
	unsigned char		*b;

	/* A flipped byte: the checksum no longer matches. */
	b = test_member(a, "snap-1/x", '0', NULL, 1);
	b[0] ^= 1;
	test_end(a);
	assert_int_equal(test_extract(d, a, &stats), -1);
	assert_non_null(strstr(d->err, "checksum"));

	/* The old GNU magic is not POSIX ustar. */
	a->len = 0;
	b = test_member(a, "snap-1/x", '0', NULL, 1);
	memcpy(b + 257, "ustar  ", 8);
	test_checksum(b);
	test_end(a);
	assert_int_equal(test_extract(d, a, &stats), -1);
	assert_non_null(strstr(d->err, "not a POSIX ustar"));

	/* Base-256 sizes (a GNU extension) are refused. */
	a->len = 0;
	b = test_member(a, "snap-1/x", '0', NULL, 1);
	memset(b + 124, 0, 12);
	b[124] = 0x80;
	b[135] = 1;
	test_checksum(b);
	test_end(a);
	assert_int_equal(test_extract(d, a, &stats), -1);
	assert_non_null(strstr(d->err, "malformed size"));

	/* A directory that carries data. */
	a->len = 0;
	b = test_member(a, "snap-1/d/", '5', NULL, 0);
	memcpy(b + 124, "00000000010", 12);
	test_checksum(b);
	test_end(a);
	assert_int_equal(test_extract(d, a, &stats), -1);
	assert_non_null(strstr(d->err, "directory with data"));
	free(a);
}

static void
test_truncated(void **state)
{
	struct test_dirs	*d = *state;
	struct test_archive	*a = calloc(1, sizeof(*a));
	struct untar_stats	 stats;
	size_t			 full;

	test_member(a, "snap-1/", '5', NULL, 0);
	test_member(a, "snap-1/x", '0', NULL, 5000);
	full = a->len;

	/* No end-of-archive blocks: the transfer was cut. */
	assert_int_equal(test_extract(d, a, &stats), -1);
	assert_non_null(strstr(d->err, "no end-of-archive"));

	/* One zero block only. */
	test_reset(d);
	memset(a->buf + a->len, 0, 512);
	a->len += 512;
	assert_int_equal(test_extract(d, a, &stats), -1);
	assert_non_null(strstr(d->err, "at its end"));

	/* Cut in the data. */
	test_reset(d);
	a->len = full - 1000;
	assert_int_equal(test_extract(d, a, &stats), -1);
	assert_non_null(strstr(d->err, "truncated"));

	/* Cut in a header. */
	test_reset(d);
	a->len = 700;
	assert_int_equal(test_extract(d, a, &stats), -1);
	assert_non_null(strstr(d->err, "truncated"));
	free(a);
}

static void
test_duplicates(void **state)
{
	struct test_dirs	*d = *state;
	struct test_archive	*a = calloc(1, sizeof(*a));
	struct untar_stats	 stats;

	test_member(a, "snap-1/", '5', NULL, 0);
	test_member(a, "snap-1/x", '0', NULL, 1);
	test_member(a, "snap-1/x", '0', NULL, 1);
	test_end(a);
	assert_int_equal(test_extract(d, a, &stats), -1);
	assert_non_null(strstr(d->err, "listed twice"));

	/* A file, then a directory of the same name. */
	test_reset(d);
	a->len = 0;
	test_member(a, "snap-1/x", '0', NULL, 1);
	test_member(a, "snap-1/x/", '5', NULL, 0);
	test_end(a);
	assert_int_equal(test_extract(d, a, &stats), -1);
	assert_non_null(strstr(d->err, "not a directory"));
	free(a);
}

static void
test_symlink_in_destination(void **state)
{
	struct test_dirs	*d = *state;
	struct test_archive	*a = calloc(1, sizeof(*a));
	struct untar_stats	 stats;
	char			 path[256];

	/* Someone planted snap-1/trace -> outside: never followed. */
	snprintf(path, sizeof(path), "%s/snap-1", d->dest);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/snap-1/trace", d->dest);
	assert_int_equal(symlink(d->outside, path), 0);
	test_member(a, "snap-1/trace/x", '0', NULL, 1);
	test_end(a);
	assert_int_equal(test_extract(d, a, &stats), -1);
	assert_non_null(strstr(d->err, "symlink"));
	assert_int_equal(test_count(d->outside), 0);

	/* Nor as the file itself. */
	a->len = 0;
	snprintf(path, sizeof(path), "%s/snap-1/manifest.json", d->dest);
	assert_int_equal(symlink("../../outside/m", path), 0);
	test_member(a, "snap-1/manifest.json", '0', NULL, 1);
	test_end(a);
	assert_int_equal(test_extract(d, a, &stats), -1);
	assert_int_equal(test_count(d->outside), 0);

	/* A directory member where a symlink stands. */
	a->len = 0;
	test_member(a, "snap-1/trace/", '5', NULL, 0);
	test_end(a);
	assert_int_equal(test_extract(d, a, &stats), -1);
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_gnu_tar, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_refusals, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_malformed, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_truncated, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_symlink_in_destination,
		    test_setup, test_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
