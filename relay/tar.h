/*
 * A POSIX ustar writer for the relay's archive endpoint: one header block
 * per member, data padded to 512-byte blocks, two zero blocks at the end.
 * Only what the store holds is written: directories and regular files.
 * Names longer than 100 bytes go through the ustar prefix field; a name
 * that cannot be split that way, or a file of 8 GiB or more, is refused
 * rather than written with a vendor extension a strict reader would
 * misread.
 *
 * tar_stream builds the archive of a directory tree a chunk at a time, so
 * the caller decides when the next bytes are read (the relay reads them on
 * a worker thread, one chunk per flushed write). It blocks on the disk.
 */
#ifndef TT_TAR_H
#define TT_TAR_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define TAR_BLOCK_SIZE		512
#define TAR_NAME_MAX		256	/* prefix (155) + '/' + name (100) */
#define TAR_SIZE_MAX		077777777777ULL	/* 11 octal digits */
#define TAR_TRAILER_SIZE	(2 * TAR_BLOCK_SIZE)

enum tar_type {
	TAR_FILE,
	TAR_DIRECTORY,
};

/*
 * Fills block with the header of one member. A directory's name should end
 * with '/'. Returns 0, or -1 with err when the name is empty, does not fit
 * the name and prefix fields, or the size does not fit ustar.
 */
int	tar_header(unsigned char block[TAR_BLOCK_SIZE], const char *name,
	    enum tar_type, unsigned mode, uint64_t size, int64_t mtime,
	    char *err, size_t errlen);

/* Zero bytes that follow size bytes of data to end on a block boundary. */
size_t	tar_padding(uint64_t size);

struct tar_stream;

/*
 * Walks dir (lstat, names in byte order) and plans the archive: prefix/
 * first, then every directory and regular file under dir, named
 * prefix/<path>. Anything else (symlinks, devices, sockets) is left out:
 * nothing the store writes is one. Returns NULL with err when dir cannot
 * be read, a name does not fit ustar, or the tree is deeper than depth_max.
 * mtime >= 0 is every member's time (seconds): the same snapshot then
 * makes the same bytes wherever its files were written; -1 keeps each
 * file's own.
 */
struct tar_stream *tar_stream_open(const char *dir, const char *prefix,
	    int depth_max, int64_t mtime, char *err, size_t errlen);

/* The archive's exact size, known before a byte is read. */
uint64_t tar_stream_size(const struct tar_stream *);
/* Members planned (directories included). */
size_t	tar_stream_members(const struct tar_stream *);

/*
 * Writes up to len next bytes of the archive into buf. Returns how many
 * (less than len only at the end), 0 once everything was read, -1 with err
 * when a file cannot be read or is shorter than when the tree was walked:
 * the archive is then unusable, since its size was promised.
 */
ssize_t	tar_stream_read(struct tar_stream *, void *buf, size_t len,
	    char *err, size_t errlen);

void	tar_stream_free(struct tar_stream *);

#endif
