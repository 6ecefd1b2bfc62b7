/*
 * libFuzzer target: the CLI's ustar reader on hostile archives. Whatever
 * the bytes, extraction stays in its directory and leaves only
 * directories and regular files under root/.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "untar.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fuzz_top[64];
static char	fuzz_dest[128];
static char	fuzz_outside[128];

static int
fuzz_remove(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Only s/ and below, only directories and regular files. */
static int
fuzz_check(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)type;
	if (ftw->level == 1 && strcmp(path + ftw->base, "s") != 0)
		__builtin_trap();
	if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode))
		__builtin_trap();
	return 0;
}

static void
fuzz_cleanup(void)
{
	nftw(fuzz_top, fuzz_remove, 16, FTW_DEPTH | FTW_PHYS);
}

static int
fuzz_is_empty(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct untar_stats	 stats;
	char			 err[1024];
	int			 fd;

	if (fuzz_top[0] == '\0') {
		/* tmpfs when there is one: every input makes directories. */
		snprintf(fuzz_top, sizeof(fuzz_top),
		    "/dev/shm/fuzz_untar.XXXXXX");
		if (mkdtemp(fuzz_top) == NULL) {
			snprintf(fuzz_top, sizeof(fuzz_top),
			    "/tmp/fuzz_untar.XXXXXX");
			if (mkdtemp(fuzz_top) == NULL)
				abort();
		}
		snprintf(fuzz_dest, sizeof(fuzz_dest), "%s/dest", fuzz_top);
		snprintf(fuzz_outside, sizeof(fuzz_outside), "%s/outside",
		    fuzz_top);
		if (mkdir(fuzz_outside, 0700) == -1)
			abort();
		atexit(fuzz_cleanup);
	}
	if (mkdir(fuzz_dest, 0700) == -1 ||
	    (fd = memfd_create("archive", MFD_CLOEXEC)) == -1)
		abort();
	if (write(fd, data, size) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET) == -1)
		abort();
	if (untar_extract(fd, fuzz_dest, "s", &stats, err,
	    sizeof(err)) == -1 && memchr(err, '\0', sizeof(err)) == NULL)
		__builtin_trap();
	close(fd);
	nftw(fuzz_dest, fuzz_check, 16, FTW_PHYS);
	if (!fuzz_is_empty(fuzz_outside))
		__builtin_trap();
	nftw(fuzz_dest, fuzz_remove, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
