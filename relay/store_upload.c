/*
 * One upload into the relay's store (store.h): the manifest checked, its
 * files written in order under .staging/ and each one's sha256 verified
 * as its last byte arrives, then the manifest written, everything
 * fsync'd and the staging dir renamed into place.
 *
 * Durability order for a snapshot is
 *   each file fsync'd when its last byte is verified -> manifest.json
 *   written and fsync'd -> every staging dir fsync'd -> rename(.staging/
 *   <id>.<random>, incidents/<incident>/<node>/<id>) -> parents fsync'd
 * so after a crash a snapshot is either whole in place or a leftover in
 * .staging that the next store_open() removes.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "store.h"
#include "store_fs.h"
#include "clock.h"
#include "errbuf.h"
#include "file.h"
#include "name.h"

#define STORE_WRITEBACK_STEP	(4 * 1024 * 1024)

struct store_upload {
	char			 id[STORE_NAME_MAX];
	char			 incident[STORE_NAME_MAX];
	char			 claimed[STORE_NAME_MAX]; /* "": none */
	char			 node[STORE_NAME_MAX];
	char			 rel_path[sizeof(STORE_INCIDENTS) +
				    3 * STORE_NAME_MAX];
	char			 staging_name[STORE_NAME_MAX + 32];
	char			 staging_path[PATH_MAX];
	json_t			*manifest;

	struct store_file	*files;
	size_t			 file_count;
	uint64_t		 bytes;		/* declared, all files */
	uint64_t		 stored_bytes;	/* on disk, at the end */
	int64_t			 received_at_us;

	size_t			 current;	/* file being written */
	uint64_t		 written;	/* bytes of the current file */
	uint64_t		 flushed;	/* writeback started up to */
	int			 file_fd;
	EVP_MD_CTX		*md;

	int			 store_fd;
	int			 staging_root_fd;	/* <store>/.staging */
	int			 staging_fd;
	struct store_dirs	 dirs;		/* made under staging_fd */

	int			 is_failed;
	int			 is_ended;
	int			 is_stored;	/* nothing left in .staging */
};

static int
store_check_room(const char *dir, uint64_t bytes, uint64_t min_free_bytes,
    char *err, size_t errlen)
{
	struct statvfs	 sv;
	uint64_t	 available, needed;

	if (statvfs(dir, &sv) == -1) {
		errbuf_set(err, errlen, "statvfs %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	/* f_bavail: what is left to an unprivileged writer, like the relay. */
	available = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (bytes > UINT64_MAX - min_free_bytes)
		needed = UINT64_MAX;
	else
		needed = bytes + min_free_bytes;
	if (available < needed) {
		errbuf_set(err, errlen, "store full: %" PRIu64 " bytes free, "
		    "upload needs %" PRIu64 " (%" PRIu64 " + %" PRIu64 " kept "
		    "free)", available, needed, bytes, min_free_bytes);
		return -1;
	}
	return 0;
}

/* .staging/<id>.<random hex>, made by us so that nothing in it is foreign. */
static int
store_make_staging(struct store_upload *up, const char *dir, char *err,
    size_t errlen)
{
	uint8_t		 random_bytes[8];
	int		 tries;

	if (strlen(dir) + sizeof(STORE_STAGING) + sizeof(up->staging_name) +
	    2 > sizeof(up->staging_path)) {
		errbuf_set(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if ((up->store_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		errbuf_set(err, errlen, "opening %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if ((up->staging_root_fd = openat(up->store_fd, STORE_STAGING,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		errbuf_set(err, errlen, "opening %s/%s: %s", dir,
		    STORE_STAGING, strerror(errno));
		return -1;
	}
	for (tries = 0;; tries++) {
		if (getrandom(random_bytes, sizeof(random_bytes), 0) !=
		    sizeof(random_bytes)) {
			errbuf_set(err, errlen, "getrandom: %s",
			    strerror(errno));
			return -1;
		}
		snprintf(up->staging_name, sizeof(up->staging_name),
		    "%s.%02x%02x%02x%02x%02x%02x%02x%02x", up->id,
		    random_bytes[0], random_bytes[1], random_bytes[2],
		    random_bytes[3], random_bytes[4], random_bytes[5],
		    random_bytes[6], random_bytes[7]);
		if (mkdirat(up->staging_root_fd, up->staging_name,
		    STORE_DIR_MODE) == 0)
			break;
		if (errno != EEXIST || tries == 8) {
			store_io_error(err, errlen, errno, "creating",
			    STORE_STAGING);
			return -1;
		}
	}
	snprintf(up->staging_path, sizeof(up->staging_path), "%s/%s/%s", dir,
	    STORE_STAGING, up->staging_name);
	up->staging_fd = openat(up->staging_root_fd, up->staging_name,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (up->staging_fd == -1) {
		errbuf_set(err, errlen, "opening %s: %s", up->staging_path,
		    strerror(errno));
		return -1;
	}
	/* trace/ exists even in a snapshot without files. */
	if (mkdirat(up->staging_fd, STORE_TRACE, STORE_DIR_MODE) == -1 ||
	    store_dirs_add(&up->dirs, STORE_TRACE, strlen(STORE_TRACE)) == -1) {
		store_io_error(err, errlen, errno, "creating", STORE_TRACE);
		return -1;
	}
	return 0;
}

/* The current file has all its bytes: verify, make durable, move on. */
static int
store_file_finish(struct store_upload *up, char *err, size_t errlen)
{
	static const char	 digits[] = "0123456789abcdef";
	struct store_file	*f = &up->files[up->current];
	unsigned char		 md[EVP_MAX_MD_SIZE];
	char			 hex[STORE_SHA256_HEX + 1];
	unsigned int		 length, i;
	int			 ret;

	if (EVP_DigestFinal_ex(up->md, md, &length) != 1 ||
	    length * 2 != STORE_SHA256_HEX) {
		errbuf_set(err, errlen, "sha256 of %s failed", f->path);
		return -1;
	}
	for (i = 0; i < length; i++) {
		hex[i * 2] = digits[md[i] >> 4];
		hex[i * 2 + 1] = digits[md[i] & 0xf];
	}
	hex[STORE_SHA256_HEX] = '\0';
	if (strcmp(hex, f->sha256) != 0) {
		errbuf_set(err, errlen, "checksum mismatch for %s", f->path);
		return -1;
	}
	ret = fsync(up->file_fd);
	if (ret == -1)
		store_io_error(err, errlen, errno, "syncing", f->path);
	close(up->file_fd);
	up->file_fd = -1;
	if (ret == -1)
		return -1;
	up->current++;
	up->written = up->flushed = 0;
	return 0;
}

/*
 * Starts the disk on what was written so far, every STORE_WRITEBACK_STEP
 * bytes, without waiting for it. Otherwise the whole file would sit in the
 * page cache until its fsync, and the worker would wait that long with
 * the disk idle before: with early writeback the fsync finds little left
 * to do, and receiving overlaps writing. A failure here is harmless: the
 * fsync that follows reports any real I/O error.
 */
static void
store_start_writeback(struct store_upload *up)
{
	if (up->written - up->flushed < STORE_WRITEBACK_STEP)
		return;
	(void)sync_file_range(up->file_fd, (off_t)up->flushed,
	    (off_t)(up->written - up->flushed), SYNC_FILE_RANGE_WRITE);
	up->flushed = up->written;
}

/*
 * Opens the current file, creating its directories; an empty file is
 * finished at once, so the peer's next chunk is for the next non-empty one.
 */
static int
store_upload_advance(struct store_upload *up, char *err, size_t errlen)
{
	struct store_file	*f;
	char			 parent[STORE_PATH_MAX], *slash;
	int			 dir_fd, saved;

	while (up->current < up->file_count) {
		f = &up->files[up->current];
		snprintf(parent, sizeof(parent), "%s", f->path);
		slash = strrchr(parent, '/');	/* store_check_path: there */
		*slash = '\0';
		if ((dir_fd = store_open_dir(up->staging_fd, parent,
		    &up->dirs)) == -1) {
			store_io_error(err, errlen, errno, "creating", parent);
			return -1;
		}
		up->file_fd = openat(dir_fd, slash + 1, O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, STORE_FILE_MODE);
		saved = errno;
		close(dir_fd);
		if (up->file_fd == -1) {
			store_io_error(err, errlen, saved, "creating", f->path);
			return -1;
		}
		if (EVP_DigestInit_ex(up->md, EVP_sha256(), NULL) != 1) {
			errbuf_set(err, errlen, "sha256 init failed");
			return -1;
		}
		up->written = up->flushed = 0;
		if (f->bytes > 0)
			return 0;
		if (store_file_finish(up, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/*
 * Is id one of node's snapshots: "<node>-<yyyymmddThhmmssZ>-<digits>"?
 * The whole shape is checked, not only the prefix, so that node "a"
 * cannot pass off "a-b-<time>-1" as node "a-b"'s: ids are unique across
 * the fleet because each node can only use its own.
 */
static int
store_is_node_id(const char *node, const char *id)
{
	static const char	 shape[] = "-DDDDDDDDTDDDDDDZ-";
	size_t			 n = strlen(node), i;

	if (strncmp(id, node, n) != 0)
		return 0;
	id += n;
	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'D' ? !isdigit((unsigned char)id[i]) :
		    id[i] != shape[i])
			return 0;
	}
	id += i;
	if (*id == '\0')
		return 0;
	for (; *id != '\0'; id++)
		if (!isdigit((unsigned char)*id))
			return 0;
	return 1;
}

struct store_upload *
store_upload_begin(const char *dir, const char *node, const char *manifest,
    size_t len, uint64_t min_free_bytes, char *err, size_t errlen)
{
	struct store_upload	*up;
	json_error_t		 json_error;
	json_t			*id, *incident;
	char			 printable[80], text[JSON_ERROR_TEXT_LENGTH];

	if ((up = calloc(1, sizeof(*up))) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	up->file_fd = up->store_fd = up->staging_root_fd = up->staging_fd = -1;
	if (!store_is_valid_name(node)) {
		errbuf_set(err, errlen, "invalid node name \"%s\"",
		    store_printable(node, printable, sizeof(printable)));
		goto error;
	}
	snprintf(up->node, sizeof(up->node), "%s", node);

	/*
	 * Without JSON_ALLOW_NUL no string can hide a NUL that would cut a
	 * name short; a key given twice is refused rather than one of the
	 * two silently chosen.
	 */
	up->manifest = json_loadb(manifest, len, JSON_REJECT_DUPLICATES,
	    &json_error);
	if (up->manifest == NULL) {
		errbuf_set(err, errlen, "manifest: %s (line %d)",
		    store_printable(json_error.text, text, sizeof(text)),
		    json_error.line);
		goto error;
	}
	if (!json_is_object(up->manifest)) {
		errbuf_set(err, errlen, "manifest is not a JSON object");
		goto error;
	}
	id = json_object_get(up->manifest, "id");
	if (!json_is_string(id) || !store_is_valid_name(json_string_value(id))) {
		errbuf_set(err, errlen, "manifest: invalid id \"%s\"",
		    json_is_string(id) ? store_printable(json_string_value(id),
		    printable, sizeof(printable)) : "");
		goto error;
	}
	snprintf(up->id, sizeof(up->id), "%s", json_string_value(id));
	if (!store_is_node_id(up->node, up->id)) {
		errbuf_set(err, errlen, "manifest: id \"%s\" is not a snapshot "
		    "of node %s (ids are <node>-<yyyymmddThhmmssZ>-<n>, and "
		    "the node is the certificate's name: check [node] name)",
		    up->id, up->node);
		goto error;
	}
	incident = json_object_get(up->manifest, "incident");
	if (json_is_string(incident) &&
	    store_is_valid_name(json_string_value(incident)))
		snprintf(up->incident, sizeof(up->incident), "%s",
		    json_string_value(incident));
	else
		snprintf(up->incident, sizeof(up->incident), "%s", up->id);
	if (strcmp(up->incident, up->id) != 0)
		snprintf(up->claimed, sizeof(up->claimed), "%s", up->incident);
	snprintf(up->rel_path, sizeof(up->rel_path), "%s/%s/%s/%s",
	    STORE_INCIDENTS, up->incident, up->node, up->id);

	if (store_manifest_files(json_object_get(up->manifest, "files"),
	    &up->files, &up->file_count, &up->bytes, err, errlen) == -1 ||
	    store_manifest_check(up->manifest, err, errlen) == -1)
		goto error;
	if (store_check_room(dir, up->bytes, min_free_bytes, err,
	    errlen) == -1)
		goto error;

	/* The relay, not the peer, says who sent it and when it arrived. */
	json_object_set_new(up->manifest, "node", json_string(up->node));
	json_object_set_new(up->manifest, "incident",
	    json_string(up->incident));
	up->received_at_us = clock_realtime_us();
	json_object_set_new(up->manifest, "received_at_us",
	    json_integer((json_int_t)up->received_at_us));

	if ((up->md = EVP_MD_CTX_new()) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		goto error;
	}
	if (store_make_staging(up, dir, err, errlen) == -1)
		goto error;
	if (store_upload_advance(up, err, errlen) == -1)
		goto error;
	return up;
error:
	store_upload_free(up);
	return NULL;
}

int
store_upload_chunk(struct store_upload *up, uint32_t file_index,
    uint64_t offset, const void *data, size_t len, char *err, size_t errlen)
{
	struct store_file	*f;

	if (up->is_failed || up->is_ended) {
		errbuf_set(err, errlen, "upload already %s",
		    up->is_ended ? "ended" : "failed");
		return -1;
	}
	/* Any refusal below fails the whole upload: the peer restarts it. */
	up->is_failed = 1;
	if (up->current == up->file_count) {
		errbuf_set(err, errlen, "chunk for file %" PRIu32 " after the "
		    "last file", file_index);
		return -1;
	}
	f = &up->files[up->current];
	if (file_index != up->current) {
		errbuf_set(err, errlen, "chunk for file %" PRIu32 ", expected "
		    "file %zu (%s)", file_index, up->current, f->path);
		return -1;
	}
	if (offset != up->written) {
		errbuf_set(err, errlen, "chunk at offset %" PRIu64 " of %s, "
		    "expected %" PRIu64, offset, f->path, up->written);
		return -1;
	}
	if (len > f->bytes - up->written) {
		errbuf_set(err, errlen, "%s: more than the %" PRIu64 " bytes "
		    "declared", f->path, f->bytes);
		return -1;
	}
	if (file_write_all(up->file_fd, data, len) == -1) {
		store_io_error(err, errlen, errno, "writing", f->path);
		return -1;
	}
	if (EVP_DigestUpdate(up->md, data, len) != 1) {
		errbuf_set(err, errlen, "sha256 of %s failed", f->path);
		return -1;
	}
	up->written += len;
	store_start_writeback(up);
	if (up->written == f->bytes) {
		if (store_file_finish(up, err, errlen) == -1 ||
		    store_upload_advance(up, err, errlen) == -1)
			return -1;
	}
	up->is_failed = 0;
	return 0;
}

static int
store_write_manifest(struct store_upload *up, char *err, size_t errlen)
{
	char	*text, *line;
	size_t	 len;
	int	 ret = 0;

	text = json_dumps(up->manifest, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text == NULL) {
		errbuf_set(err, errlen, "encoding %s failed", STORE_MANIFEST);
		return -1;
	}
	/* The text and a newline, its NUL no longer needed. */
	len = strlen(text);
	if ((line = realloc(text, len + 1)) == NULL) {
		free(text);
		errbuf_set(err, errlen, "encoding %s: out of memory",
		    STORE_MANIFEST);
		return -1;
	}
	line[len] = '\n';
	if (file_write_synced(up->staging_fd, STORE_MANIFEST, O_EXCL |
	    O_NOFOLLOW, STORE_FILE_MODE, line, len + 1) == -1) {
		store_io_error(err, errlen, errno, "writing", STORE_MANIFEST);
		ret = -1;
	}
	free(line);
	return ret;
}

/*
 * A sync after the rename failed: the snapshot may not survive a crash
 * in place, and it will not be acknowledged, so it goes back to staging
 * (and from there, away) with the directories made for it; the recorder
 * sends it again. If even that fails it stays, whole: the next upload of
 * it finds it stored.
 */
static void
store_unpublish(struct store_upload *up, int parent_fd,
    const struct store_dirs *created, char *err, size_t errlen)
{
	char	 more[256];
	size_t	 i;

	if (renameat(parent_fd, up->id, up->staging_root_fd,
	    up->staging_name) == -1) {
		snprintf(more, sizeof(more), "%s", err);
		errbuf_set(err, errlen, "%s (and it stays in place: %s)", more,
		    strerror(errno));
		return;
	}
	up->is_stored = 0;
	for (i = created->count; i > 0; i--)
		(void)unlinkat(up->store_fd, created->paths[i - 1],
		    AT_REMOVEDIR);
}

/*
 * Moves the staging dir to incidents/<incident>/<node>/<id>, creating
 * what is missing on the way; each new entry is made durable by syncing
 * the directory that holds it.
 */
static int
store_publish(struct store_upload *up, int *is_duplicate, char *err,
    size_t errlen)
{
	struct store_dirs	 created;
	char			 parent[sizeof(up->rel_path)], *slash;
	char			 dir[sizeof(up->rel_path)];
	size_t			 i;
	int			 parent_fd, ret = -1;

	memset(&created, 0, sizeof(created));
	snprintf(parent, sizeof(parent), "%s", up->rel_path);
	*strrchr(parent, '/') = '\0';
	if ((parent_fd = store_open_dir(up->store_fd, parent, &created)) ==
	    -1) {
		store_io_error(err, errlen, errno, "creating", parent);
		goto end;
	}
	if (renameat(up->staging_root_fd, up->staging_name, parent_fd,
	    up->id) == -1) {
		if (errno != EEXIST && errno != ENOTEMPTY) {
			store_io_error(err, errlen, errno, "renaming into",
			    up->rel_path);
			goto end;
		}
		/* Stored before (a lost ACK): this copy is not needed. */
		*is_duplicate = 1;
		if (file_remove_tree(up->staging_path, 0, err, errlen) == 0)
			up->is_stored = 1;
		ret = 0;
		goto end;
	}
	up->is_stored = 1;
	if (fsync(parent_fd) == -1 || fsync(up->staging_root_fd) == -1) {
		store_io_error(err, errlen, errno, "syncing", parent);
		store_unpublish(up, parent_fd, &created, err, errlen);
		goto end;
	}
	for (i = 0; i < created.count; i++) {
		snprintf(dir, sizeof(dir), "%s", created.paths[i]);
		slash = strrchr(dir, '/');
		if (slash != NULL)
			*slash = '\0';
		if (store_fsync_dir(up->store_fd, slash != NULL ? dir : "") ==
		    -1) {
			store_io_error(err, errlen, errno, "syncing",
			    slash != NULL ? dir : ".");
			store_unpublish(up, parent_fd, &created, err, errlen);
			goto end;
		}
	}
	ret = 0;
end:
	if (parent_fd != -1)
		close(parent_fd);
	store_dirs_clear(&created);
	return ret;
}

int
store_upload_end(struct store_upload *up, int *is_duplicate, char *err,
    size_t errlen)
{
	struct store_file	*f;
	size_t			 i;

	*is_duplicate = 0;
	if (up->is_failed || up->is_ended) {
		errbuf_set(err, errlen, "upload already %s",
		    up->is_ended ? "ended" : "failed");
		return -1;
	}
	up->is_ended = 1;
	if (up->current < up->file_count) {
		f = &up->files[up->current];
		errbuf_set(err, errlen, "upload incomplete: file %zu of %zu "
		    "(%s) has %" PRIu64 " of %" PRIu64 " bytes",
		    up->current + 1, up->file_count, f->path, up->written,
		    f->bytes);
		return -1;
	}
	if (store_write_manifest(up, err, errlen) == -1)
		return -1;
	for (i = 0; i < up->dirs.count; i++) {
		if (store_fsync_dir(up->staging_fd, up->dirs.paths[i]) == -1) {
			store_io_error(err, errlen, errno, "syncing",
			    up->dirs.paths[i]);
			return -1;
		}
	}
	if (fsync(up->staging_fd) == -1) {
		store_io_error(err, errlen, errno, "syncing", up->staging_path);
		return -1;
	}
	/* What retention counts: the node's "bytes" are only its word. */
	if (store_disk_bytes(up->staging_path, &up->stored_bytes) == -1) {
		store_io_error(err, errlen, errno, "measuring",
		    up->staging_path);
		return -1;
	}
	return store_publish(up, is_duplicate, err, errlen);
}

void
store_upload_free(struct store_upload *up)
{
	size_t	 i;

	if (up == NULL)
		return;
	if (up->file_fd != -1)
		close(up->file_fd);
	if (up->staging_fd != -1)
		close(up->staging_fd);
	if (!up->is_stored && up->staging_path[0] != '\0')
		file_remove_tree(up->staging_path, 0, NULL, 0);
	if (up->staging_root_fd != -1)
		close(up->staging_root_fd);
	if (up->store_fd != -1)
		close(up->store_fd);
	EVP_MD_CTX_free(up->md);
	for (i = 0; i < up->file_count; i++)
		free(up->files[i].path);
	free(up->files);
	store_dirs_clear(&up->dirs);
	json_decref(up->manifest);
	free(up);
}

const char *
store_upload_id(const struct store_upload *up)
{
	return up->id;
}

const char *
store_upload_claimed_incident(const struct store_upload *up)
{
	return up->claimed[0] != '\0' ? up->claimed : NULL;
}

void
store_upload_keep_own_incident(struct store_upload *up)
{
	if (up->claimed[0] == '\0' || strcmp(up->incident, up->id) == 0)
		return;
	snprintf(up->incident, sizeof(up->incident), "%s", up->id);
	snprintf(up->rel_path, sizeof(up->rel_path), "%s/%s/%s/%s",
	    STORE_INCIDENTS, up->incident, up->node, up->id);
	json_object_set_new(up->manifest, "incident",
	    json_string(up->incident));
	json_object_set_new(up->manifest, "claimed_incident",
	    json_string(up->claimed));
}

int
store_upload_is_stored(const struct store_upload *up)
{
	char		 path[sizeof(up->rel_path) + sizeof(STORE_MANIFEST)];
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/%s", up->rel_path, STORE_MANIFEST);
	return fstatat(up->store_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode);
}

uint64_t
store_upload_stored_bytes(const struct store_upload *up)
{
	return up->stored_bytes;
}

int64_t
store_upload_received_at(const struct store_upload *up)
{
	return up->received_at_us;
}

const char *
store_upload_incident(const struct store_upload *up)
{
	return up->incident;
}

const char *
store_upload_node(const struct store_upload *up)
{
	return up->node;
}

const char *
store_upload_path(const struct store_upload *up)
{
	return up->rel_path;
}

uint64_t
store_upload_bytes(const struct store_upload *up)
{
	return up->bytes;
}

json_t *
store_upload_manifest(const struct store_upload *up)
{
	return up->manifest;
}
