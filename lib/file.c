/*
 * Whole-file helpers (file.h), shared by the recorder's spool, the
 * relay's store and the CLI's fetch.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

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

static int
file_remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == -1 &&
	    errno != ENOENT ? -1 : 0;
}

int
file_remove_tree(const char *path)
{
	if (nftw(path, file_remove_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
		return errno == ENOENT ? 0 : -1;
	return 0;
}
