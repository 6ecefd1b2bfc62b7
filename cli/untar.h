/*
 * A small, strict POSIX ustar reader for `tracetrap fetch`. The archive
 * comes over the network, so it is untrusted: every member must be a
 * directory or a regular file named root/..., each name component a store
 * name (lib/name.h: [A-Za-z0-9._-], not starting with '.'), which rules
 * out absolute paths, "..", and everything outside root/. Links, devices, FIFOs and
 * vendor extensions (pax, GNU long names) are refused, as are bad
 * checksums and a missing end of archive. Nothing is ever written through
 * a symlink or over an existing file.
 */
#ifndef TT_UNTAR_H
#define TT_UNTAR_H

#include <stddef.h>
#include <stdint.h>

#define UNTAR_DEPTH_MAX		32

struct untar_stats {
	unsigned	 files;
	unsigned	 directories;
	uint64_t	 bytes;		/* of the regular files */
};

/*
 * Reads the archive from fd and extracts it under dir (which must exist).
 * Returns 0, or -1 with err; on error what was extracted so far stays:
 * extract into a fresh directory and remove it on failure.
 */
int	untar_extract(int fd, const char *dir, const char *root,
	    struct untar_stats *, char *err, size_t errlen);

#endif
