/*
 * CPU per MB of putting bytes into a file (bench/write-cost.sh): 256 KiB
 * blocks written with write(2), or copied into an 8 MiB mmap window of
 * the file (faulted page by page, or populated first with
 * MADV_POPULATE_WRITE). User + system time of this process, per 10^6
 * bytes, three rounds each, into a fresh file every round.
 *
 * usage: write_cost PATH [MB]
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/resource.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23	/* Linux 5.14 */
#endif

#define BLOCK	(256 * 1024)
#define WINDOW	(8 * 1024 * 1024)

static double
cpu_ms(void)
{
	struct rusage	 r;

	getrusage(RUSAGE_SELF, &r);
	return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 +
	    (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

static int
fill(const char *how, int fd, const char *block, size_t total)
{
	size_t	 off, k;
	char	*m;

	if (strcmp(how, "write") == 0) {
		for (off = 0; off < total; off += BLOCK)
			if (write(fd, block, BLOCK) != BLOCK)
				return -1;
		return 0;
	}
	if (fallocate(fd, 0, 0, (off_t)total) == -1)
		return -1;
	for (off = 0; off < total; off += WINDOW) {
		m = mmap(NULL, WINDOW, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    (off_t)off);
		if (m == MAP_FAILED)
			return -1;
		if (strcmp(how, "mmap-populate") == 0 &&
		    madvise(m, WINDOW, MADV_POPULATE_WRITE) == -1)
			return -1;
		for (k = 0; k < WINDOW; k += BLOCK)
			memcpy(m + k, block, BLOCK);
		munmap(m, WINDOW);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const char	*hows[] = { "write", "mmap", "mmap-populate" };
	size_t			 total, i, round;
	char			*block;
	double			 t0;
	int			 fd;

	if (argc < 2) {
		fprintf(stderr, "usage: write_cost PATH [MB]\n");
		return 2;
	}
	total = (size_t)(argc > 2 ? atoi(argv[2]) : 256) * 1024 * 1024;
	total -= total % WINDOW;
	if (total == 0 || (block = malloc(BLOCK)) == NULL)
		return 2;
	memset(block, 'x', BLOCK);
	for (i = 0; i < sizeof(hows) / sizeof(hows[0]); i++) {
		printf("%-14s", hows[i]);
		for (round = 0; round < 3; round++) {
			unlink(argv[1]);
			if ((fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC,
			    0600)) == -1) {
				perror(argv[1]);
				return 1;
			}
			t0 = cpu_ms();
			if (fill(hows[i], fd, block, total) == -1) {
				perror(hows[i]);
				return 1;
			}
			printf(" %6.3f", (cpu_ms() - t0) / (total / 1e6));
			close(fd);
		}
		printf("  ms/MB\n");
	}
	unlink(argv[1]);
	free(block);
	return 0;
}
