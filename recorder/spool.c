/*
 * The spool: see spool.h. Durability order for a snapshot is
 *   trace files written by the consumer daemon -> hashed ->
 *   manifest.json written and fsync'd -> every file and dir fsync'd ->
 *   rename(.partial/<id>, <id>) -> spool dir fsync'd
 * so after a crash a snapshot is either whole under its id or a leftover
 * in .partial that the next start removes.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "file.h"
#include "log.h"
#include "name.h"
#include "spool.h"
#include "xmalloc.h"

#define SPOOL_MANIFEST	"manifest.json"

int
spool_is_valid_id(const char *id)
{
	return name_is_valid(id, SPOOL_ID_MAX - 1);
}

static int
spool_mkdir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0750) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* mkdir -p for the spool's own path. */
static int
spool_mkdirs(const char *path, char *err, size_t errlen)
{
	char	 copy[PATH_MAX], *p;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (spool_mkdir(copy, err, errlen) == -1)
			return -1;
		*p = '/';
	}
	return spool_mkdir(copy, err, errlen);
}

static int
spool_fsync_path(const char *path, int flags)
{
	int	 fd;

	if ((fd = open(path, flags | O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	return file_sync_close(fd);
}

int
spool_remove_tree(const char *spool_dir, const char *id, int is_partial,
    char *err, size_t errlen)
{
	char	 path[PATH_MAX];

	if (!spool_is_valid_id(id)) {
		if (err != NULL)
			snprintf(err, errlen, "invalid snapshot id");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s%s", spool_dir,
	    is_partial ? SPOOL_PARTIAL "/" : "", id);
	return file_remove_tree(path, 0, err, errlen);
}

/* Bytes used by a directory tree (apparent size of regular files). */
static uint64_t spool_tree_bytes_total;

static int
spool_tree_bytes_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (type == FTW_F)
		spool_tree_bytes_total += (uint64_t)st->st_size;
	return 0;
}

static uint64_t
spool_tree_bytes(const char *path)
{
	/* Only called before the worker thread exists: the static is safe. */
	spool_tree_bytes_total = 0;
	nftw(path, spool_tree_bytes_entry, 16, FTW_PHYS);
	return spool_tree_bytes_total;
}

static int64_t
spool_manifest_taken_at(const char *dir)
{
	char		 path[PATH_MAX];
	json_t		*manifest, *taken;
	int64_t		 us = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_MANIFEST);
	if ((manifest = json_load_file(path, 0, NULL)) == NULL)
		return -1;
	if ((taken = json_object_get(manifest, "taken_at_us")) != NULL)
		us = json_integer_value(taken);
	json_decref(manifest);
	return us;
}

static int
spool_compare_taken(const void *a, const void *b)
{
	const struct spool_entry *const *x = a, *const *y = b;

	if ((*x)->taken_at_us != (*y)->taken_at_us)
		return (*x)->taken_at_us < (*y)->taken_at_us ? -1 : 1;
	return strcmp((*x)->id, (*y)->id);
}

/* True when .partial/<name>/trace holds nothing: a spare never taken. */
static int
spool_is_empty_spare(const char *partial_dir, const char *name)
{
	char		 path[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	int		 is_empty = 1;

	snprintf(path, sizeof(path), "%s/%s/%s", partial_dir, name,
	    SPOOL_TRACE);
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT;
	while (is_empty && (de = readdir(d)) != NULL)
		is_empty = strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0;
	closedir(d);
	return is_empty;
}

int
spool_open(struct spool *spool, const char *dir, uint64_t max_bytes, char *err,
    size_t errlen)
{
	char			 path[PATH_MAX];
	DIR			*d;
	struct dirent		*de;
	struct spool_entry	**sorted = NULL, *e;
	size_t			 n = 0, i;
	int64_t			 taken;

	memset(spool, 0, sizeof(*spool));
	TAILQ_INIT(&spool->entries);
	snprintf(spool->dir, sizeof(spool->dir), "%s", dir);
	spool->max_bytes = max_bytes;
	spool->lock_fd = -1;
	snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_PARTIAL);
	if (spool_mkdirs(path, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/.lock", dir);
	if ((spool->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600))
	    == -1 || flock(spool->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "%s: %s", path, errno == EWOULDBLOCK ?
		    "another recorder uses this spool" : strerror(errno));
		if (spool->lock_fd != -1)
			close(spool->lock_fd);
		spool->lock_fd = -1;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_PARTIAL);

	/* Leftovers of a run that died mid-snapshot are never published. */
	if ((d = opendir(path)) == NULL) {
		snprintf(err, errlen, "opendir %s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!spool_is_valid_id(de->d_name))
			continue;
		/* An untaken spare holds nothing: it goes without a word. */
		if (strncmp(de->d_name, SPOOL_SPARE, strlen(SPOOL_SPARE)) != 0
		    || !spool_is_empty_spare(path, de->d_name))
			log_info("spool: removing incomplete snapshot %s",
			    de->d_name);
		spool_remove_tree(dir, de->d_name, 1, NULL, 0);
	}
	closedir(d);

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "opendir %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!spool_is_valid_id(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((taken = spool_manifest_taken_at(path)) == -1) {
			log_warnx("spool: %s has no readable manifest; "
			    "ignored", path);
			continue;
		}
		if ((e = calloc(1, sizeof(*e))) == NULL ||
		    (sorted = reallocarray(sorted, n + 1, sizeof(*sorted)))
		    == NULL)
			fatal("spool_open");
		snprintf(e->id, sizeof(e->id), "%s", de->d_name);
		e->taken_at_us = taken;
		/* The relay link leaves this marker after a durable ACK. */
		snprintf(path, sizeof(path), "%s/%s/.uploaded", dir,
		    de->d_name);
		e->is_uploaded = access(path, F_OK) == 0;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		e->bytes = spool_tree_bytes(path);
		sorted[n++] = e;
	}
	closedir(d);
	if (n > 0)
		qsort(sorted, n, sizeof(*sorted), spool_compare_taken);
	for (i = 0; i < n; i++) {
		TAILQ_INSERT_TAIL(&spool->entries, sorted[i], entry);
		spool->bytes += sorted[i]->bytes;
		spool->count++;
	}
	free(sorted);
	return 0;
}

void
spool_close(struct spool *spool)
{
	struct spool_entry *e;

	while ((e = TAILQ_FIRST(&spool->entries)) != NULL) {
		TAILQ_REMOVE(&spool->entries, e, entry);
		free(e->manifest);
		free(e);
	}
	spool->bytes = 0;
	spool->count = 0;
	if (spool->lock_fd != -1)
		close(spool->lock_fd);
	spool->lock_fd = -1;
}

void
spool_add(struct spool *spool, const char *id, uint64_t bytes,
    int64_t taken_at_us)
{
	struct spool_entry *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		fatal("spool_add");
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->bytes = bytes;
	e->taken_at_us = taken_at_us;
	TAILQ_INSERT_TAIL(&spool->entries, e, entry);
	spool->bytes += bytes;
	spool->count++;
}

void
spool_add_partial(struct spool *spool, const char *id, const char *partial,
    const char *manifest, uint64_t bytes, int64_t taken_at_us)
{
	struct spool_entry *e;

	spool_add(spool, id, bytes, taken_at_us);
	e = TAILQ_LAST(&spool->entries, spool_entries);
	snprintf(e->partial, sizeof(e->partial), "%s", partial);
	e->manifest = xstrdup(manifest);
}

struct spool_entry *
spool_find(struct spool *spool, const char *id)
{
	struct spool_entry *e;

	TAILQ_FOREACH(e, &spool->entries, entry)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

struct spool_entry *
spool_published(struct spool *spool, const char *id)
{
	struct spool_entry *e;

	if ((e = spool_find(spool, id)) == NULL)
		return NULL;
	e->partial[0] = '\0';
	free(e->manifest);
	e->manifest = NULL;
	return e;
}

void
spool_forget(struct spool *spool, const char *id)
{
	struct spool_entry *e;

	if ((e = spool_find(spool, id)) == NULL)
		return;
	TAILQ_REMOVE(&spool->entries, e, entry);
	spool->bytes -= e->bytes;
	spool->count--;
	free(e->manifest);
	free(e);
}

static struct spool_entry *
spool_pick(struct spool *spool, const char *keep_id, int want_uploaded)
{
	struct spool_entry *e;

	TAILQ_FOREACH(e, &spool->entries, entry) {
		if (e->is_uploaded == want_uploaded &&
		    e->partial[0] == '\0' && strcmp(e->id, keep_id) != 0)
			return e;
	}
	return NULL;
}

unsigned
spool_evict(struct spool *spool, const char *keep_id,
    void (*cb)(const char *, int, void *), void *arg)
{
	struct spool_entry	*e;
	unsigned		 n = 0;

	while (spool->bytes > spool->max_bytes) {
		if ((e = spool_pick(spool, keep_id, 1)) == NULL &&
		    (e = spool_pick(spool, keep_id, 0)) == NULL)
			break;
		TAILQ_REMOVE(&spool->entries, e, entry);
		spool->bytes -= e->bytes;
		spool->count--;
		spool->evicted++;
		if (!e->is_uploaded)
			spool->evicted_not_uploaded++;
		cb(e->id, e->is_uploaded, arg);
		free(e->manifest);
		free(e);
		n++;
	}
	return n;
}

uint64_t
spool_max_sequence(const struct spool *spool, const char *node)
{
	struct spool_entry	*e;
	size_t			 len = strlen(node);
	const char		*dash;
	uint64_t		 max = 0, seq;

	TAILQ_FOREACH(e, &spool->entries, entry) {
		if (strncmp(e->id, node, len) != 0 || e->id[len] != '-')
			continue;
		if ((dash = strrchr(e->id, '-')) == NULL)
			continue;
		seq = strtoull(dash + 1, NULL, 10);
		if (seq > max)
			max = seq;
	}
	return max;
}

int
spool_prepare(const char *spool_dir, const char *id, char *trace_dir,
    size_t trace_dirlen, char *err, size_t errlen)
{
	char	 path[PATH_MAX];

	if (!spool_is_valid_id(id)) {
		snprintf(err, errlen, "invalid snapshot id '%s'", id);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", spool_dir, SPOOL_PARTIAL, id);
	if (spool_mkdirs(path, err, errlen) == -1)
		return -1;
	snprintf(trace_dir, trace_dirlen, "%s/%s", path, SPOOL_TRACE);
	return spool_mkdir(trace_dir, err, errlen);
}

int
spool_make_spare(const char *spool_dir, unsigned seq, char *name,
    char *err, size_t errlen)
{
	char	 trace_dir[PATH_MAX];

	snprintf(name, SPOOL_ID_MAX, SPOOL_SPARE "%u", seq);
	if (spool_prepare(spool_dir, name, trace_dir, sizeof(trace_dir), err,
	    errlen) == -1) {
		spool_remove_tree(spool_dir, name, 1, NULL, 0);
		return -1;
	}
	return 0;
}

/* State of one walk of a partial trace dir; nftw() has no user argument. */
struct spool_walk {
	size_t		 root_len;
	json_t		*files;		/* NULL: the sync pass */
	uint64_t	 bytes;
	char		 error[256];
};
static __thread struct spool_walk *spool_walk;

/*
 * The disk starts on a file now: the consumer daemon left the whole
 * snapshot in the page cache. A failure is harmless: the sync pass's
 * fsync reports any real I/O error.
 */
static int
spool_writeback_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	int	 fd;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	close(fd);
	return 0;
}

struct spool_writeback {
	pthread_t	 thread;
	char		 root[PATH_MAX];
};

static void *
spool_writeback_run(void *arg)
{
	struct spool_writeback *wb = arg;

	(void)nftw(wb->root, spool_writeback_entry, 16, FTW_PHYS);
	return NULL;
}

struct spool_writeback *
spool_writeback_start(const char *spool_dir, const char *partial)
{
	struct spool_writeback	*wb;
	int			 error;

	wb = xcalloc(1, sizeof(*wb));
	snprintf(wb->root, sizeof(wb->root), "%s/%s/%s/%s", spool_dir,
	    SPOOL_PARTIAL, partial, SPOOL_TRACE);
	if ((error = pthread_create(&wb->thread, NULL, spool_writeback_run,
	    wb)) != 0) {
		log_debug("spool: writeback thread: %s", strerror(error));
		free(wb);
		return NULL;
	}
	return wb;
}

void
spool_writeback_wait(struct spool_writeback *wb)
{
	if (wb == NULL)
		return;
	pthread_join(wb->thread, NULL);
	free(wb);
}

/* A file's sha256 into the walk's files[], or (sync pass) its fsync. */
static int
spool_file_entry(struct spool_walk *w, const char *path)
{
	char		 hex[65];
	uint64_t	 bytes;
	json_t		*file;
	int		 fd;

	if (w->files == NULL)
		return spool_fsync_path(path, 0);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (file_sha256(fd, hex, &bytes) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	file = json_pack("{s:s, s:I, s:s}", "path", path + w->root_len,
	    "bytes", (json_int_t)bytes, "sha256", hex);
	json_array_append_new(w->files, file);
	w->bytes += bytes;
	return 0;
}

static int
spool_walk_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	struct spool_walk	*w = spool_walk;

	(void)ftw;
	if (type == FTW_DP || type == FTW_D) {
		/* The sync pass: a new file's name is in its directory. */
		if (w->files == NULL &&
		    spool_fsync_path(path, O_DIRECTORY) == -1)
			goto fail;
		return 0;
	}
	/* A FIFO is FTW_F too, and opening one would wait for a writer. */
	if (type != FTW_F || !S_ISREG(st->st_mode)) {
		snprintf(w->error, sizeof(w->error), "%s: not a regular file",
		    path);
		return -1;
	}
	if (spool_file_entry(w, path) == -1)
		goto fail;
	return 0;
fail:
	snprintf(w->error, sizeof(w->error), "%s: %s", path, strerror(errno));
	return -1;
}

/*
 * Walks the partial dir's trace dir: hashing every file into w->files,
 * or (w->files NULL) syncing every file and directory. 0, or -1 with err
 * saying what of.
 */
static int
spool_walk_trace(const char *spool_dir, const char *partial,
    struct spool_walk *w, const char *what, char *err, size_t errlen)
{
	char	 root[PATH_MAX];
	int	 ret;

	/* Paths in the manifest are relative to the snapshot dir. */
	snprintf(root, sizeof(root), "%s/%s/%s", spool_dir, SPOOL_PARTIAL,
	    partial);
	w->root_len = strlen(root) + 1;
	snprintf(root + strlen(root), sizeof(root) - strlen(root), "/%s",
	    SPOOL_TRACE);
	spool_walk = w;
	ret = nftw(root, spool_walk_entry, 16, FTW_PHYS | FTW_DEPTH);
	spool_walk = NULL;
	if (ret != 0) {
		snprintf(err, errlen, "%s snapshot: %s", what,
		    w->error[0] != '\0' ? w->error : strerror(errno));
		return -1;
	}
	return 0;
}

json_t *
spool_hash_files(const char *spool_dir, const char *partial, uint64_t *bytes,
    char *err, size_t errlen)
{
	struct spool_walk	 walk;

	memset(&walk, 0, sizeof(walk));
	walk.files = json_array();
	if (spool_walk_trace(spool_dir, partial, &walk, "hashing", err,
	    errlen) == -1) {
		json_decref(walk.files);
		return NULL;
	}
	*bytes = walk.bytes;
	return walk.files;
}

int
spool_sync_files(const char *spool_dir, const char *partial, char *err,
    size_t errlen)
{
	struct spool_walk	 walk;

	memset(&walk, 0, sizeof(walk));
	return spool_walk_trace(spool_dir, partial, &walk, "syncing", err,
	    errlen);
}

/* Writes path.tmp, fsyncs it, renames it over path. */
static int
spool_write_file(const char *path, const char *text, char *err, size_t errlen)
{
	char	 tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (file_write_synced(AT_FDCWD, tmp, O_TRUNC, 0640, text,
	    strlen(text)) == -1 || rename(tmp, path) == -1) {
		snprintf(err, errlen, "write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
spool_publish(const char *spool_dir, const char *partial_name, const char *id,
    const char *manifest, char *err, size_t errlen)
{
	char	 partial[PATH_MAX], final[PATH_MAX], path[PATH_MAX];

	if (!spool_is_valid_id(partial_name) || !spool_is_valid_id(id)) {
		snprintf(err, errlen, "invalid snapshot id");
		return -1;
	}
	snprintf(partial, sizeof(partial), "%s/%s/%s", spool_dir,
	    SPOOL_PARTIAL, partial_name);
	snprintf(final, sizeof(final), "%s/%s", spool_dir, id);
	snprintf(path, sizeof(path), "%s/%s", partial, SPOOL_MANIFEST);
	if (spool_write_file(path, manifest, err, errlen) == -1)
		return -1;
	if (spool_fsync_path(partial, O_DIRECTORY) == -1 ||
	    rename(partial, final) == -1) {
		snprintf(err, errlen, "publish %s: %s", final, strerror(errno));
		return -1;
	}
	/*
	 * The snapshot is complete and visible now; failing here would orphan
	 * it, so a failed directory sync is only reported.
	 */
	if (spool_fsync_path(spool_dir, O_DIRECTORY) == -1)
		log_warn("fsync %s", spool_dir);
	return 0;
}

int
spool_write_manifest(const char *spool_dir, const char *id,
    const char *manifest, char *err, size_t errlen)
{
	char	 path[PATH_MAX];

	if (!spool_is_valid_id(id)) {
		snprintf(err, errlen, "invalid snapshot id");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", spool_dir, id, SPOOL_MANIFEST);
	if (spool_write_file(path, manifest, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", spool_dir, id);
	if (spool_fsync_path(path, O_DIRECTORY) == -1)
		log_warn("fsync %s", path);
	return 0;
}
