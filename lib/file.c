/*
 * Whole-file helpers (file.h), shared by the recorder's spool, the
 * relay's store and the CLI's fetch.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "errbuf.h"
#include "file.h"

char *
file_read_all(int fd, size_t max, size_t *len)
{
	struct stat	 st;
	size_t		 size, have = 0;
	ssize_t		 n;
	char		*buf, *bigger;

	if (fstat(fd, &st) == -1)
		return NULL;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		errno = EFBIG;
		return NULL;
	}
	/* A regular file's size, and one more byte to see its end. */
	size = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
	if ((buf = malloc(size + 1)) == NULL)
		return NULL;
	for (;;) {
		if (have == size) {
			if (size > max) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			size *= 2;
			if ((bigger = realloc(buf, size + 1)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = bigger;
		}
		if ((n = read(fd, buf + have, size - have)) == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (have > max) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[have] = '\0';
	*len = have;
	return buf;
}

int
file_write_all(int fd, const void *data, size_t len)
{
	const uint8_t	*p = data;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
file_sha256(int fd, char hex[FILE_SHA256_HEX + 1], uint64_t *bytes)
{
	static const char	 digits[] = "0123456789abcdef";
	unsigned char		 buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	EVP_MD_CTX		*ctx;
	uint64_t		 total = 0;
	ssize_t			 n;
	int			 ret = -1, error = EIO;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto end;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			error = errno;
			goto end;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto end;
		total += (uint64_t)n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
	    mdlen * 2 != FILE_SHA256_HEX)
		goto end;
	for (i = 0; i < mdlen; i++) {
		hex[i * 2] = digits[md[i] >> 4];
		hex[i * 2 + 1] = digits[md[i] & 0xf];
	}
	hex[mdlen * 2] = '\0';
	if (bytes != NULL)
		*bytes = total;
	ret = 0;
end:
	EVP_MD_CTX_free(ctx);
	if (ret == -1)
		errno = error;
	return ret;
}

int
file_write_synced(int dirfd, const char *name, int flags, mode_t mode,
    const void *data, size_t len)
{
	int	 fd, saved;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | flags, mode);
	if (fd == -1)
		return -1;
	if (file_write_all(fd, data, len) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return file_sync_close(fd);
}

int
file_sync_close(int fd)
{
	int	 ret, error;

	ret = fsync(fd);
	error = errno;
	close(fd);
	if (ret == -1)
		errno = error;
	return ret;
}

/* nftw() passes no user argument; each thread walks with its own state. */
struct file_remove_walk {
	int		 flags;
	int		 error;
	char		 path[PATH_MAX];
};
static __thread struct file_remove_walk *file_remove_state;

static int
file_remove_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	struct file_remove_walk	*walk = file_remove_state;
	int			 ret;

	(void)st;
	if (ftw->level == 0 && (walk->flags & FILE_REMOVE_KEEP_ROOT))
		return 0;
	if (type == FTW_DP || type == FTW_DNR)
		ret = rmdir(path);
	else
		ret = unlink(path);
	if (ret == -1 && errno != ENOENT) {
		walk->error = errno;
		snprintf(walk->path, sizeof(walk->path), "%s", path);
		return -1;
	}
	return 0;
}

/*
 * FTW_PHYS removes a symlink instead of following it; FTW_MOUNT keeps the
 * walk on path's filesystem.
 */
int
file_remove_tree(const char *path, int flags, char *err, size_t errlen)
{
	struct file_remove_walk	 walk;
	int			 ret;

	memset(&walk, 0, sizeof(walk));
	walk.flags = flags;
	file_remove_state = &walk;
	ret = nftw(path, file_remove_entry, 16,
	    FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	file_remove_state = NULL;
	if (ret == 0 || (walk.error == 0 && errno == ENOENT))
		return 0;
	/* A failed entry named itself; nftw's own failure is path's. */
	if (walk.error == 0)
		walk.error = errno;
	errbuf_set(err, errlen, "removing %s: %s", walk.path[0] != '\0' ?
	    walk.path : path, strerror(walk.error));
	errno = walk.error;
	return -1;
}
