/*
 * The relay's store: see store.h. Every name that reaches the disk comes
 * from a peer (the node from its certificate, everything else from its
 * manifest), so each one is checked against a narrow alphabet first, and
 * files are then created one component at a time relative to directory
 * fds, with O_NOFOLLOW and O_EXCL, inside a staging dir this process made
 * itself: neither "..", nor a symlink, nor an existing file can make an
 * upload write outside it.
 *
 * This file holds the store's layout and what every write stands on: the
 * name and path rules, directories opened and made without following a
 * link, removal, the store's opening and retention's removal of an
 * incident. An upload, from its manifest to its rename into place, is
 * store_upload.c; store_fs.h is what the two share.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "store_fs.h"
#include "errbuf.h"
#include "file.h"
#include "name.h"

/* A full disk is the one failure the recorder should hear as such. */
void
store_io_error(char *err, size_t errlen, int error, const char *what,
    const char *path)
{
	if (error == ENOSPC || error == EDQUOT)
		errbuf_set(err, errlen, "store full: %s %s: %s", what, path,
		    strerror(error));
	else
		errbuf_set(err, errlen, "%s %s: %s", what, path,
		    strerror(error));
}

/*
 * A refused name goes into err, which the relay logs: keep it short and
 * printable so a peer cannot forge log lines.
 */
const char *
store_printable(const char *s, char *buf, size_t len)
{
	size_t	 i;

	if (s == NULL)
		s = "";
	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

int
store_is_valid_name(const char *name)
{
	return name_is_valid(name, STORE_NAME_MAX - 1);
}

int
store_is_valid_path(const char *path)
{
	return name_is_valid_path(path, STORE_NAME_MAX - 1);
}

int
store_is_sha256(const char *hex)
{
	size_t	 i;

	for (i = 0; i < STORE_SHA256_HEX; i++) {
		if (!((hex[i] >= '0' && hex[i] <= '9') ||
		    (hex[i] >= 'a' && hex[i] <= 'f')))
			return 0;
	}
	return hex[i] == '\0';
}

/* "trace/" then valid names separated by single slashes; NULL if good. */
const char *
store_check_path(const char *path)
{
	char		 name[STORE_NAME_MAX];
	const char	*p = path, *slash;
	size_t		 length, depth = 0;

	if (strncmp(path, STORE_TRACE "/", sizeof(STORE_TRACE)) != 0)
		return "must start with " STORE_TRACE "/";
	for (;;) {
		slash = strchr(p, '/');
		length = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (length == 0)
			return "empty path component";
		if (++depth > STORE_PATH_DEPTH_MAX)
			return "too deep";
		if (length >= sizeof(name))
			return "path component too long";
		memcpy(name, p, length);
		name[length] = '\0';
		if (!store_is_valid_name(name))
			return "invalid path component";
		if (slash == NULL)
			return NULL;
		p = slash + 1;
	}
}

int
store_dirs_add(struct store_dirs *dirs, const char *path, size_t length)
{
	char	**paths;
	size_t	  size;

	if (dirs->count == dirs->size) {
		size = dirs->size == 0 ? 16 : dirs->size * 2;
		if ((paths = reallocarray(dirs->paths, size,
		    sizeof(*paths))) == NULL)
			return -1;
		dirs->paths = paths;
		dirs->size = size;
	}
	if ((dirs->paths[dirs->count] = strndup(path, length)) == NULL)
		return -1;
	dirs->count++;
	return 0;
}

void
store_dirs_clear(struct store_dirs *dirs)
{
	size_t	 i;

	for (i = 0; i < dirs->count; i++)
		free(dirs->paths[i]);
	free(dirs->paths);
	memset(dirs, 0, sizeof(*dirs));
}

/*
 * Opens relpath (valid names joined by '/'; "" is base itself) under
 * base one component at a time with O_NOFOLLOW, so no symlink is ever
 * followed. With dirs, missing components are created and recorded there
 * for the caller to fsync. Returns an fd, or -1 with errno.
 */
int
store_open_dir(int base, const char *relpath, struct store_dirs *dirs)
{
	char		 name[STORE_NAME_MAX];
	const char	*p = relpath;
	size_t		 length;
	int		 fd, next, saved;

	if ((fd = openat(base, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	while (*p != '\0') {
		length = strcspn(p, "/");
		if (length == 0 || length >= sizeof(name)) {
			errno = EINVAL;
			goto error;
		}
		memcpy(name, p, length);
		name[length] = '\0';
		if (dirs != NULL) {
			if (mkdirat(fd, name, STORE_DIR_MODE) == 0) {
				if (store_dirs_add(dirs, relpath,
				    (size_t)(p - relpath) + length) == -1)
					goto error;
			} else if (errno != EEXIST)
				goto error;
		}
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (next == -1)
			goto error;
		close(fd);
		fd = next;
		p += length;
		if (*p == '/')
			p++;
	}
	return fd;
error:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
store_fsync_dir(int base, const char *relpath)
{
	int	 fd;

	if ((fd = store_open_dir(base, relpath, NULL)) == -1)
		return -1;
	return file_sync_close(fd);
}

static __thread uint64_t store_disk_sum;

static int
store_disk_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)path;
	(void)type;
	(void)ftw;
	store_disk_sum += (uint64_t)st->st_blocks * 512;
	return 0;
}

int
store_disk_bytes(const char *path, uint64_t *bytes)
{
	int	 ret;

	store_disk_sum = 0;
	ret = nftw(path, store_disk_entry, 16, FTW_PHYS | FTW_MOUNT);
	*bytes = store_disk_sum;
	return ret == 0 ? 0 : -1;
}

static int
store_mkdir(const char *path)
{
	struct stat	 st;

	if (mkdir(path, STORE_DIR_MODE) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int
store_open(const char *dir, char *err, size_t errlen)
{
	char	 path[PATH_MAX], *p;

	if (snprintf(path, sizeof(path), "%s/%s", dir, STORE_STAGING) >=
	    (int)sizeof(path)) {
		errbuf_set(err, errlen, "%s: path too long", dir);
		return -1;
	}
	/* mkdir -p: the store dir is the operator's, any depth. */
	snprintf(path, sizeof(path), "%s", dir);
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (store_mkdir(path) == -1)
			goto error;
		*p = '/';
	}
	if (store_mkdir(path) == -1)
		goto error;
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_INCIDENTS);
	if (store_mkdir(path) == -1)
		goto error;
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_STAGING);
	if (store_mkdir(path) == -1)
		goto error;
	/* Uploads an interrupted run left behind; their peers will retry. */
	return file_remove_tree(path, FILE_REMOVE_KEEP_ROOT, err, errlen);
error:
	errbuf_set(err, errlen, "creating %s: %s", path, strerror(errno));
	return -1;
}

int
store_remove_incident(const char *dir, const char *incident, char *err,
    size_t errlen)
{
	char	 path[PATH_MAX], printable[80];

	if (!store_is_valid_name(incident)) {
		errbuf_set(err, errlen, "invalid incident name \"%s\"",
		    store_printable(incident, printable, sizeof(printable)));
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/%s/%s", dir, STORE_INCIDENTS,
	    incident) >= (int)sizeof(path)) {
		errbuf_set(err, errlen, "%s: path too long", dir);
		return -1;
	}
	return file_remove_tree(path, 0, err, errlen);
}
