/*
 * What the store's two files share (store.c: the layout, names, paths,
 * directories and removal; store_upload.c: one upload, from its manifest
 * to its rename into place) and nothing else of the relay uses: the
 * relay's interface is store.h.
 */
#ifndef TT_STORE_FS_H
#define TT_STORE_FS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

#define STORE_STAGING		".staging"
#define STORE_INCIDENTS		"incidents"
#define STORE_MANIFEST		"manifest.json"
#define STORE_TRACE		"trace"
#define STORE_DIR_MODE		0750
#define STORE_FILE_MODE		0640
/* The longest valid path: STORE_PATH_DEPTH_MAX names and their slashes. */
#define STORE_PATH_MAX		(STORE_PATH_DEPTH_MAX * STORE_NAME_MAX)
#define STORE_SHA256_HEX	64
#define STORE_STRINGIFY(x)	STORE_STRINGIFY_VALUE(x)
#define STORE_STRINGIFY_VALUE(x) #x

/* Directories an upload created, relative to the dir they were made in. */
struct store_dirs {
	char		**paths;
	size_t		  count;
	size_t		  size;
};

/* err: "WHAT PATH: reason", or "store full: .." for ENOSPC and EDQUOT. */
void		 store_io_error(char *err, size_t errlen, int error,
		    const char *what, const char *path);
/* s cut to len and made printable, for an error a peer caused. */
const char	*store_printable(const char *s, char *buf, size_t len);
/* 1 when hex is 64 lowercase hexadecimal digits. */
int		 store_is_sha256(const char *hex);
/* "trace/" then valid names joined by single slashes: NULL, or why not. */
const char	*store_check_path(const char *path);

/* A file of a manifest's files[]. */
struct store_file {
	char		*path;
	uint64_t	 bytes;
	char		 sha256[STORE_SHA256_HEX + 1];
};

/*
 * store_manifest.c: files[] read into *out (*count entries with a path to
 * free, even on an error), their bytes added up in *total; then the
 * manifest's bounds. 0, or -1 with err.
 */
int		 store_manifest_files(json_t *files, struct store_file **out,
		    size_t *count, uint64_t *total, char *err, size_t errlen);
int		 store_manifest_check(const json_t *manifest, char *err,
		    size_t errlen);

int		 store_dirs_add(struct store_dirs *, const char *path,
		    size_t length);
void		 store_dirs_clear(struct store_dirs *);
/*
 * Opens relpath (valid names joined by '/'; "" is base itself) under base
 * one component at a time with O_NOFOLLOW. With dirs, missing components
 * are made and recorded there for the caller to fsync. An fd, or -1 with
 * errno.
 */
int		 store_open_dir(int base, const char *relpath,
		    struct store_dirs *dirs);
int		 store_fsync_dir(int base, const char *relpath);

#endif
