/*
 * Unit tests of lib/file.c's writers and its rm -rf, which the spool, the
 * store and the CLI share: links removed as links, the root kept when
 * asked, the path that could not go named; a synced write that refuses
 * what its flags refuse and leaves the bytes whole.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "file.h"
#include "fs_fixture.h"

struct test_dir {
	char	 path[64];
	char	 err[512];
};

static int
setup(void **state)
{
	struct test_dir	*t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "/tmp/test_file.XXXXXX");
	if (mkdtemp(t->path) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct test_dir	*t = *state;
	char		 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->path);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

/* A tree with a file, a subdir and a link out of it, to victim. */
static void
make_tree(const char *dir)
{
	char	 path[PATH_MAX], target[PATH_MAX];

	snprintf(path, sizeof(path), "%s/tree", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/tree/sub", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	test_write_text(dir, "tree/sub/a", "a");
	test_write_text(dir, "victim", "keep me");
	snprintf(target, sizeof(target), "%s/victim", dir);
	snprintf(path, sizeof(path), "%s/tree/link", dir);
	assert_int_equal(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/tree/dirlink", dir);
	assert_int_equal(symlink(dir, path), 0);
}

static void
test_remove_tree(void **state)
{
	struct test_dir	*t = *state;
	char		 path[PATH_MAX];

	make_tree(t->path);
	snprintf(path, sizeof(path), "%s/tree", t->path);
	assert_int_equal(file_remove_tree(path, 0, t->err, sizeof(t->err)),
	    0);
	assert_false(test_exists(t->path, "tree"));
	/* The links went, not what they named. */
	assert_true(test_exists(t->path, "victim"));
	/* A missing path is already removed. */
	assert_int_equal(file_remove_tree(path, 0, NULL, 0), 0);
}

static void
test_remove_tree_keep_root(void **state)
{
	struct test_dir	*t = *state;
	char		 path[PATH_MAX];

	make_tree(t->path);
	snprintf(path, sizeof(path), "%s/tree", t->path);
	assert_int_equal(file_remove_tree(path, FILE_REMOVE_KEEP_ROOT, t->err,
	    sizeof(t->err)), 0);
	assert_true(test_exists(t->path, "tree"));
	assert_false(test_exists(t->path, "tree/sub"));
	assert_false(test_exists(t->path, "tree/link"));
	assert_true(test_exists(t->path, "victim"));
}

static void
test_remove_tree_error(void **state)
{
	struct test_dir	*t = *state;
	char		 path[PATH_MAX];

	test_write_text(t->path, "plain", "x");
	snprintf(path, sizeof(path), "%s/plain/below", t->path);
	assert_int_equal(file_remove_tree(path, 0, t->err, sizeof(t->err)),
	    -1);
	assert_int_equal(errno, ENOTDIR);
	assert_non_null(strstr(t->err, "removing "));
	assert_non_null(strstr(t->err, "plain/below: Not a directory"));
	assert_true(test_exists(t->path, "plain"));
}

static void
test_write_synced(void **state)
{
	struct test_dir	*t = *state;
	char		 path[PATH_MAX], target[PATH_MAX], *text;
	struct stat	 sb;
	size_t		 len;
	int		 dirfd, fd;

	assert_int_not_equal(dirfd = open(t->path, O_RDONLY | O_DIRECTORY),
	    -1);
	assert_int_equal(file_write_synced(dirfd, "m.json", O_EXCL, 0600,
	    "{}\n", 3), 0);
	snprintf(path, sizeof(path), "%s/m.json", t->path);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_not_equal(fd = open(path, O_RDONLY), -1);
	assert_non_null(text = file_read_all(fd, 64, &len));
	close(fd);
	assert_int_equal(len, 3);
	assert_string_equal(text, "{}\n");
	free(text);

	/* O_EXCL: never over a file that is there. */
	assert_int_equal(file_write_synced(dirfd, "m.json", O_EXCL, 0600,
	    "x", 1), -1);
	assert_int_equal(errno, EEXIST);
	/* O_NOFOLLOW: never through a link. */
	test_write_text(t->path, "victim", "keep me");
	snprintf(target, sizeof(target), "%s/victim", t->path);
	snprintf(path, sizeof(path), "%s/link", t->path);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(file_write_synced(dirfd, "link", O_TRUNC |
	    O_NOFOLLOW, 0600, "x", 1), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_not_equal(fd = open(target, O_RDONLY), -1);
	assert_non_null(text = file_read_all(fd, 64, &len));
	close(fd);
	assert_string_equal(text, "keep me");
	free(text);
	/* O_TRUNC: a whole new content over the old. */
	assert_int_equal(file_write_synced(AT_FDCWD, target, O_TRUNC, 0600,
	    "new", 3), 0);
	assert_int_not_equal(fd = open(target, O_RDONLY), -1);
	assert_non_null(text = file_read_all(fd, 64, &len));
	close(fd);
	assert_string_equal(text, "new");
	free(text);
	close(dirfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_remove_tree, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_remove_tree_keep_root,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_tree_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_synced, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
