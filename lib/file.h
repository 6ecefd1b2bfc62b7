/*
 * Whole-file helpers more than one program uses: every byte written, a
 * file's sha256 as it is read, fsync before close. They block: a daemon
 * calls them on a worker thread, never on its event loop.
 */
#ifndef TT_FILE_H
#define TT_FILE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define FILE_SHA256_HEX		64	/* lowercase hex digits */

/*
 * Reads fd to its end into a buffer (malloc'ed, NUL after the *len
 * bytes), in as few reads as the file's size allows: jansson's own
 * loaders read a byte per call. NULL with errno, EFBIG past max bytes.
 */
char	*file_read_all(int fd, size_t max, size_t *len);

/* Writes all of data, again after EINTR; 0, or -1 with errno. */
int	file_write_all(int fd, const void *data, size_t len);

/*
 * Reads fd to its end into a sha256, as FILE_SHA256_HEX lowercase hex
 * digits and a NUL in hex; bytes (may be NULL) gets how many were read.
 * 0, or -1 with errno (EIO when the digest itself failed).
 */
int	file_sha256(int fd, char hex[FILE_SHA256_HEX + 1], uint64_t *bytes);

/*
 * Creates name under dirfd (AT_FDCWD: a path) opened O_WRONLY | O_CREAT |
 * O_CLOEXEC and flags (O_EXCL, O_TRUNC, O_NOFOLLOW), writes all of data,
 * fsyncs and closes it. 0, or -1 with errno; a file left half-written is
 * the caller's to remove.
 */
int	file_write_synced(int dirfd, const char *name, int flags, mode_t mode,
	    const void *data, size_t len);

/* fsync(fd), then close(fd): fsync's result, with its errno. */
int	file_sync_close(int fd);

#define FILE_REMOVE_KEEP_ROOT	0x1	/* only what is inside path */

/*
 * rm -rf path (with FILE_REMOVE_KEEP_ROOT, only what is inside it): links
 * as links (never what they point to), never into another filesystem; a
 * missing path is already removed. 0, or -1 with errno and, in err (may
 * be NULL), what could not be removed and why. Thread-safe.
 */
int	file_remove_tree(const char *path, int flags, char *err,
	    size_t errlen);

#endif
