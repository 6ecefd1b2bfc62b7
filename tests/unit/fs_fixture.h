/*
 * Files for the unit tests that build trees on disk (test_spool.c,
 * test_file.c): paths under a test's directory, made or checked in one
 * call, failing the test when the call fails.
 */
#ifndef TT_FS_FIXTURE_H
#define TT_FS_FIXTURE_H

#include <sys/stat.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static inline int
test_exists(const char *dir, const char *rel)
{
	char		 path[PATH_MAX];
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return lstat(path, &st) == 0;
}

static inline void
test_mkdir(const char *dir, const char *rel)
{
	char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(mkdir(path, 0750), 0);
}

/* Writes len bytes of data to dir/rel; returns len. */
static inline uint64_t
test_write(const char *dir, const char *rel, const char *data, size_t len)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	if (len > 0)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return len;
}

static inline uint64_t
test_write_text(const char *dir, const char *rel, const char *text)
{
	return test_write(dir, rel, text, strlen(text));
}

#endif
