/*
 * The store's two backends behind store_backend.h: the local one is the
 * files store.c and store_upload.c already wrote (most calls here are
 * nothing for it), the S3 one is the bucket (s3_store.c's layout) with
 * <dir> as staging and a bounded cache.
 *
 * Threads: any worker thread may call in. Each gets its own S3 client
 * (one libcurl handle, one kept-alive connection) at its first call,
 * freed when the thread ends; the counters are atomic.
 *
 * The cache: <dir>/incidents/<i>/<n>/<id>, the local store's layout, so
 * the analysis, the drill-down and the archive read a snapshot where
 * they always did. A snapshot gets there by its upload (write-through)
 * or by a fetch (store_localize: every object under its prefix into
 * <dir>/.staging, then renamed in); a snapshot dir's mtime is its last
 * use, and store_cache_trim() removes the least recently used ones
 * while the cache is over [store] s3_cache.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "catalog.h"
#include "errbuf.h"
#include "file.h"
#include "log.h"
#include "metrics.h"
#include "s3.h"
#include "store.h"
#include "store_backend.h"
#include "store_fs.h"

/* Counters: /v1/status "store" and /metrics. */
struct store_counters {
	uint64_t	 puts;		/* snapshots written to the bucket */
	uint64_t	 summaries;	/* summary.json written */
	uint64_t	 unavailable;	/* calls that found it unreachable */
	uint64_t	 refused;	/* refused by S3, or local errors */
	uint64_t	 fetches;	/* snapshots fetched into the cache */
	uint64_t	 reads;		/* small files read from the bucket */
	uint64_t	 removed;	/* incidents removed by retention */
	uint64_t	 sweeps;
	uint64_t	 orphans;	/* snapshots the sweeper deleted */
	uint64_t	 evicted;	/* snapshots trimmed from the cache */
	uint64_t	 cache_bytes;	/* at the last trim */
	uint64_t	 cache_max;
};

static const struct metric store_metrics[] = {
	METRIC_COUNTER(struct store_counters, puts,
	    "tracetrap_relay_s3_snapshots_put_total", NULL,
	    "Snapshots written to the S3 bucket (files, then manifest)."),
	METRIC_COUNTER(struct store_counters, summaries,
	    "tracetrap_relay_s3_summaries_put_total", NULL,
	    "Analysis summaries written to the S3 bucket."),
	METRIC_COUNTER(struct store_counters, unavailable,
	    "tracetrap_relay_s3_failures_total", "reason=\"unavailable\"",
	    "S3 calls that failed after their retries: unavailable "
	    "(unreachable, 5xx, stalled) or refused (4xx, local error)."),
	METRIC_COUNTER(struct store_counters, refused,
	    "tracetrap_relay_s3_failures_total", "reason=\"refused\"", NULL),
	METRIC_COUNTER(struct store_counters, fetches,
	    "tracetrap_relay_s3_cache_fetches_total", NULL,
	    "Snapshots fetched from the bucket into the local cache."),
	METRIC_COUNTER(struct store_counters, reads,
	    "tracetrap_relay_s3_reads_total", NULL,
	    "Manifests and summaries read from the bucket."),
	METRIC_COUNTER(struct store_counters, evicted,
	    "tracetrap_relay_s3_cache_evicted_total", NULL,
	    "Snapshots trimmed from the local cache (still in the bucket)."),
	METRIC_GAUGE(struct store_counters, cache_bytes,
	    "tracetrap_relay_s3_cache_bytes", NULL,
	    "Bytes of the local cache of snapshots, at its last trim."),
	METRIC_GAUGE(struct store_counters, cache_max,
	    "tracetrap_relay_s3_cache_max_bytes", NULL,
	    "The cache's bound, [store] s3_cache."),
	METRIC_COUNTER(struct store_counters, removed,
	    "tracetrap_relay_s3_incidents_removed_total", NULL,
	    "Incidents whose objects retention deleted."),
	METRIC_COUNTER(struct store_counters, sweeps,
	    "tracetrap_relay_s3_sweeps_total", NULL,
	    "Sweeps of the bucket for snapshots the catalog does not hold."),
	METRIC_COUNTER(struct store_counters, orphans,
	    "tracetrap_relay_s3_orphans_deleted_total", NULL,
	    "Orphan snapshots the sweeper deleted from the bucket."),
};

static struct {
	int			 is_s3;
	struct s3_config	 s3;
	char			 endpoint[RELAY_CONFIG_URL_MAX];
	char			 region[RELAY_CONFIG_NAME_MAX];
	char			 bucket[RELAY_CONFIG_NAME_MAX];
	char			 prefix[RELAY_CONFIG_PATH_MAX];
	char			 ca[RELAY_CONFIG_PATH_MAX];
	char			 access_key[S3_CREDENTIAL_MAX];
	char			 secret_key[S3_CREDENTIAL_MAX];
	uint64_t		 cache_max;
	pthread_key_t		 key;
	pthread_mutex_t		 lock;		/* last_error */
	char			 last_error[512];
	struct store_counters	 n;
} store;

#define STORE_COUNT(field)	__atomic_add_fetch(&store.n.field, 1, \
				    __ATOMIC_RELAXED)
#define STORE_SET(field, v)	__atomic_store_n(&store.n.field, (v), \
				    __ATOMIC_RELAXED)

static void
store_client_free(void *client)
{
	s3_client_free(client);
}

/* The calling thread's client, made at its first call. */
static struct s3_client *
store_client(char *err, size_t errlen)
{
	struct s3_client	*c;

	if ((c = pthread_getspecific(store.key)) != NULL)
		return c;
	if ((c = s3_client_new(&store.s3, err, errlen)) == NULL)
		return NULL;
	pthread_setspecific(store.key, c);
	return c;
}

/* Counts a result and maps it; the message is kept for /v1/status. */
static enum store_result
store_result(enum s3_result r, const char *err)
{
	switch (r) {
	case S3_OK:
		return STORE_OK;
	case S3_NOT_FOUND:
		return STORE_NOT_FOUND;
	case S3_UNAVAILABLE:
		STORE_COUNT(unavailable);
		break;
	case S3_REFUSED:
	case S3_LOCAL:
		STORE_COUNT(refused);
		break;
	}
	pthread_mutex_lock(&store.lock);
	snprintf(store.last_error, sizeof(store.last_error), "%s", err);
	pthread_mutex_unlock(&store.lock);
	return r == S3_UNAVAILABLE ? STORE_UNAVAILABLE : STORE_FAILED;
}

int
store_backend_open(const struct relay_config *c, char *err, size_t errlen)
{
	struct s3_client	*client;
	enum s3_result		 r;
	char			 why[512];

	memset(&store, 0, sizeof(store));
	pthread_mutex_init(&store.lock, NULL);
	if (c->store_backend != RELAY_STORE_S3)
		return 0;
	store.is_s3 = 1;
	snprintf(store.endpoint, sizeof(store.endpoint), "%s",
	    c->store_s3_endpoint);
	snprintf(store.region, sizeof(store.region), "%s", c->store_s3_region);
	snprintf(store.bucket, sizeof(store.bucket), "%s", c->store_s3_bucket);
	snprintf(store.prefix, sizeof(store.prefix), "%s", c->store_s3_prefix);
	snprintf(store.ca, sizeof(store.ca), "%s", c->store_s3_ca);
	store.cache_max = c->store_s3_cache;
	STORE_SET(cache_max, store.cache_max);
	if (s3_credentials_load(c->store_s3_credentials, store.access_key,
	    store.secret_key, sizeof(store.access_key), err, errlen) == -1)
		return -1;
	store.s3.endpoint = store.endpoint;
	store.s3.region = store.region;
	store.s3.bucket = store.bucket;
	store.s3.access_key = store.access_key;
	store.s3.secret_key = store.secret_key;
	store.s3.ca_file = store.ca[0] != '\0' ? store.ca : NULL;
	store.s3.part_size = c->store_s3_part_size;
	if (pthread_key_create(&store.key, store_client_free) != 0) {
		errbuf_set(err, errlen, "pthread_key_create failed");
		return -1;
	}
	if ((client = store_client(err, errlen)) == NULL)
		return -1;
	r = s3_check(client, why, sizeof(why));
	if (r == S3_UNAVAILABLE) {
		/* The tier may come up after us: refuse uploads till then. */
		store_result(r, why);
		log_warnx("store: bucket %s at %s: %s; starting anyway, "
		    "uploads are refused until it answers", store.bucket,
		    store.endpoint, why);
		return 0;
	}
	if (r != S3_OK) {
		errbuf_set(err, errlen, "bucket %s at %s: %s", store.bucket,
		    store.endpoint, why);
		return -1;
	}
	log_info("store: bucket %s at %s, prefix \"%s\"; %s caches up to "
	    "%llu bytes", store.bucket, store.endpoint, store.prefix,
	    c->store_dir, (unsigned long long)store.cache_max);
	return 0;
}

void
store_backend_close(void)
{
	struct s3_client	*c;

	if (!store.is_s3 || (c = pthread_getspecific(store.key)) == NULL)
		return;
	s3_client_free(c);
	pthread_setspecific(store.key, NULL);
}

int
store_backend_is_s3(void)
{
	return store.is_s3;
}

const char *
store_backend_name(void)
{
	return store.is_s3 ? "s3" : "local";
}

/* A snapshot's dir was used: the cache's LRU order is its mtime. */
static void
store_touch(const char *dir)
{
	utimensat(AT_FDCWD, dir, NULL, 0);
}

enum store_result
store_commit(const char *dir, const char *path, char *err, size_t errlen)
{
	struct s3_client	*c;
	enum s3_result		 r;
	char			 local[PATH_MAX];

	if (!store.is_s3)
		return STORE_OK;
	if ((c = store_client(err, errlen)) == NULL)
		return store_result(S3_LOCAL, err);
	snprintf(local, sizeof(local), "%s/%s", dir, path);
	store_touch(local);
	r = s3_store_put_snapshot(c, store.prefix, path, local, err, errlen);
	if (r == S3_OK)
		STORE_COUNT(puts);
	return store_result(r, err);
}

enum store_result
store_put_summary(const char *dir, const char *path, char *err,
    size_t errlen)
{
	struct s3_client	*c;
	enum s3_result		 r;
	char			 local[PATH_MAX], key[S3_KEY_MAX + 1];
	char			*data;
	size_t			 len;
	int			 fd;

	if (!store.is_s3)
		return STORE_OK;
	if ((c = store_client(err, errlen)) == NULL)
		return store_result(S3_LOCAL, err);
	snprintf(local, sizeof(local), "%s/%s/summary.json", dir, path);
	if ((fd = open(local, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (data = file_read_all(fd, 64 << 20, &len)) == NULL) {
		errbuf_set(err, errlen, "%s: %s", local, strerror(errno));
		if (fd != -1)
			close(fd);
		return store_result(S3_LOCAL, err);
	}
	close(fd);
	if (s3_store_key(store.prefix, path, "summary.json", key,
	    sizeof(key)) == -1) {
		free(data);
		errbuf_set(err, errlen, "%s: key too long", path);
		return store_result(S3_LOCAL, err);
	}
	r = s3_put_buffer(c, key, data, len, err, errlen);
	free(data);
	if (r == S3_OK)
		STORE_COUNT(summaries);
	return store_result(r, err);
}

enum store_result
store_remove(const char *dir, const char *incident, char *err,
    size_t errlen)
{
	struct s3_client	*c;
	enum s3_result		 r;
	char			 path[STORE_NAME_MAX + 16];

	if (store.is_s3) {
		if (!store_is_valid_name(incident)) {
			errbuf_set(err, errlen, "invalid incident name");
			return STORE_FAILED;
		}
		if ((c = store_client(err, errlen)) == NULL)
			return store_result(S3_LOCAL, err);
		/*
		 * The incident's prefix as one "snapshot": its manifests'
		 * keys sort before their summary.json and trace/, so each
		 * snapshot loses its manifest before its files.
		 */
		snprintf(path, sizeof(path), "incidents/%s", incident);
		r = s3_store_delete_snapshot(c, store.prefix, path, err,
		    errlen);
		if (r != S3_OK)
			return store_result(r, err);
		STORE_COUNT(removed);
	}
	return store_remove_incident(dir, incident, err, errlen) == -1 ?
	    STORE_FAILED : STORE_OK;
}

/* A fetch: the objects under a snapshot's prefix, into a staging dir. */
struct store_fetch {
	struct s3_client	*c;
	const char		*key_prefix;	/* <prefix><path>/ */
	size_t			 key_prefix_len;
	const char		*tmp;
	char			**keys;
	size_t			 count;
	size_t			 size;
	int			 fd;
	int			 error;
};

static int
store_fetch_key(const struct s3_object *o, void *arg)
{
	struct store_fetch	*f = arg;
	char			**keys;

	if (f->count == f->size) {
		f->size = f->size != 0 ? f->size * 2 : 32;
		if ((keys = realloc(f->keys, f->size * sizeof(*keys))) ==
		    NULL)
			return -1;
		f->keys = keys;
	}
	if ((f->keys[f->count] = strdup(o->key)) == NULL)
		return -1;
	f->count++;
	return 0;
}

static int
store_fetch_write(const void *data, size_t len, void *arg)
{
	struct store_fetch *f = arg;

	if (file_write_all(f->fd, data, len) == -1) {
		f->error = errno;
		return -1;
	}
	return 0;
}

/* Makes the parents of rel (a/b/c: a and a/b) under base. */
static int
store_fetch_dirs(const char *base, const char *rel)
{
	char	 path[PATH_MAX];
	char	*slash;

	if (snprintf(path, sizeof(path), "%s/%s", base, rel) >=
	    (int)sizeof(path))
		return -1;
	for (slash = path + strlen(base) + 1; (slash = strchr(slash, '/')) !=
	    NULL; slash++) {
		*slash = '\0';
		if (mkdir(path, STORE_DIR_MODE) == -1 && errno != EEXIST)
			return -1;
		*slash = '/';
	}
	return 0;
}

/* Every object of the snapshot into f->tmp; the manifest must be one. */
static enum s3_result
store_fetch_all(struct store_fetch *f, char *err, size_t errlen)
{
	enum s3_result	 r;
	const char	*rel;
	char		 local[PATH_MAX];
	size_t		 i;
	int		 has_manifest = 0;

	if ((r = s3_list(f->c, f->key_prefix, store_fetch_key, f, err,
	    errlen)) != S3_OK)
		return r;
	for (i = 0; i < f->count; i++) {
		rel = f->keys[i] + f->key_prefix_len;
		if (store_check_path(rel) != NULL &&
		    strcmp(rel, STORE_MANIFEST) != 0 &&
		    strcmp(rel, "summary.json") != 0) {
			/* Not the layout's: never a path out of tmp. */
			continue;
		}
		has_manifest |= strcmp(rel, STORE_MANIFEST) == 0;
		snprintf(local, sizeof(local), "%s/%s", f->tmp, rel);
		if (store_fetch_dirs(f->tmp, rel) == -1 || (f->fd =
		    open(local, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    STORE_FILE_MODE)) == -1) {
			errbuf_set(err, errlen, "%s: %s", local,
			    strerror(errno));
			return S3_LOCAL;
		}
		r = s3_get(f->c, f->keys[i], store_fetch_write, f, err,
		    errlen);
		if (close(f->fd) == -1 && r == S3_OK) {
			f->error = errno;
			r = S3_LOCAL;
		}
		if (f->error != 0)
			store_io_error(err, errlen, f->error, "writing", local);
		if (r != S3_OK)
			return r;
	}
	if (!has_manifest) {
		/* In flight, or deleted: not a snapshot to serve. */
		errbuf_set(err, errlen, "%s: no manifest.json in the bucket",
		    f->key_prefix);
		return S3_NOT_FOUND;
	}
	return S3_OK;
}

enum store_result
store_localize(const char *dir, const char *path, char *err, size_t errlen)
{
	struct store_fetch	 f;
	enum s3_result		 r;
	char			 local[PATH_MAX], manifest[PATH_MAX + 16];
	char			 key[S3_KEY_MAX + 1], tmp[PATH_MAX];
	size_t			 i;
	int			 error;

	snprintf(local, sizeof(local), "%s/%s", dir, path);
	snprintf(manifest, sizeof(manifest), "%s/" STORE_MANIFEST, local);
	if (access(manifest, F_OK) == 0) {
		store_touch(local);
		return STORE_OK;
	}
	if (!store.is_s3) {
		error = errno;
		errbuf_set(err, errlen, "%s: %s", manifest, strerror(error));
		return error == ENOENT ? STORE_NOT_FOUND : STORE_FAILED;
	}
	memset(&f, 0, sizeof(f));
	f.fd = -1;
	if ((f.c = store_client(err, errlen)) == NULL)
		return store_result(S3_LOCAL, err);
	if (s3_store_key(store.prefix, path, "", key, sizeof(key)) == -1) {
		errbuf_set(err, errlen, "%s: key too long", path);
		return store_result(S3_LOCAL, err);
	}
	f.key_prefix = key;
	f.key_prefix_len = strlen(key);
	snprintf(tmp, sizeof(tmp), "%s/" STORE_STAGING "/fetch.XXXXXX", dir);
	if (mkdtemp(tmp) == NULL) {
		errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
		return store_result(S3_LOCAL, err);
	}
	f.tmp = tmp;
	r = store_fetch_all(&f, err, errlen);
	if (r == S3_OK && (store_fetch_dirs(dir, path) == -1 ||
	    (rename(tmp, local) == -1 && errno != EEXIST &&
	    errno != ENOTEMPTY))) {
		/* EEXIST: another thread fetched it first; it is the same. */
		errbuf_set(err, errlen, "%s: %s", local, strerror(errno));
		r = S3_LOCAL;
	}
	file_remove_tree(tmp, 0, NULL, 0);
	for (i = 0; i < f.count; i++)
		free(f.keys[i]);
	free(f.keys);
	if (r == S3_OK) {
		STORE_COUNT(fetches);
		log_info("store: %s fetched from the bucket into the cache",
		    path);
	}
	return store_result(r, err);
}

struct store_buffer {
	struct evbuffer	*buf;
	size_t		 max;
};

static int
store_buffer_add(const void *data, size_t len, void *arg)
{
	struct store_buffer *b = arg;

	if (evbuffer_get_length(b->buf) + len > b->max)
		return -1;
	return evbuffer_add(b->buf, data, len);
}

enum store_result
store_read_file(const char *dir, const char *path, const char *file,
    size_t max, char **data, size_t *len, char *err, size_t errlen)
{
	struct store_buffer	 b;
	struct s3_client	*c;
	enum s3_result		 r;
	char			 local[PATH_MAX], key[S3_KEY_MAX + 1];
	int			 fd, error;

	*data = NULL;
	*len = 0;
	snprintf(local, sizeof(local), "%s/%s/%s", dir, path, file);
	if ((fd = open(local, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		*data = file_read_all(fd, max, len);
		if (*data == NULL)
			errbuf_set(err, errlen, "%s: %s", local,
			    strerror(errno));
		close(fd);
		return *data != NULL ? STORE_OK : STORE_FAILED;
	}
	if (!store.is_s3 || errno != ENOENT) {
		error = errno;
		errbuf_set(err, errlen, "%s: %s", local, strerror(error));
		return error == ENOENT ? STORE_NOT_FOUND : STORE_FAILED;
	}
	if ((c = store_client(err, errlen)) == NULL)
		return store_result(S3_LOCAL, err);
	if (s3_store_key(store.prefix, path, file, key, sizeof(key)) == -1) {
		errbuf_set(err, errlen, "%s: key too long", path);
		return store_result(S3_LOCAL, err);
	}
	if ((b.buf = evbuffer_new()) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return STORE_FAILED;
	}
	b.max = max;
	r = s3_get(c, key, store_buffer_add, &b, err, errlen);
	if (r == S3_OK) {
		STORE_COUNT(reads);
		*len = evbuffer_get_length(b.buf);
		if ((*data = malloc(*len + 1)) != NULL) {
			evbuffer_remove(b.buf, *data, *len);
			(*data)[*len] = '\0';
		} else {
			errbuf_set(err, errlen, "out of memory");
			r = S3_LOCAL;
		}
	}
	evbuffer_free(b.buf);
	return store_result(r, err);
}

/* A cached snapshot, for the trim. */
struct store_cached {
	char		*path;
	time_t		 used;
	uint64_t	 bytes;
};

struct store_cache {
	struct store_cached	*items;
	size_t			 count;
	size_t			 size;
	uint64_t		 total;
};

static int
store_cached_compare(const void *a, const void *b)
{
	const struct store_cached *x = a, *y = b;

	return x->used < y->used ? -1 : x->used > y->used;
}

/* Walks <dir>/incidents/<i>/<n>/<id> (depth names left) into cache. */
static void
store_cache_walk(struct store_cache *cache, const char *path, int depth)
{
	struct store_cached	*items;
	struct dirent		*e;
	struct stat		 st;
	char			 sub[PATH_MAX];
	uint64_t		 bytes;
	DIR			*d;

	if (depth == 0) {
		if (lstat(path, &st) == -1 || !S_ISDIR(st.st_mode) ||
		    store_disk_bytes(path, &bytes) == -1)
			return;
		if (cache->count == cache->size) {
			cache->size = cache->size != 0 ? cache->size * 2 : 64;
			items = realloc(cache->items, cache->size *
			    sizeof(*items));
			if (items == NULL)
				return;
			cache->items = items;
		}
		if ((cache->items[cache->count].path = strdup(path)) == NULL)
			return;
		cache->items[cache->count].used = st.st_mtime;
		cache->items[cache->count].bytes = bytes;
		cache->count++;
		cache->total += bytes;
		return;
	}
	if ((d = opendir(path)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!store_is_valid_name(e->d_name))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) <
		    (int)sizeof(sub))
			store_cache_walk(cache, sub, depth - 1);
	}
	closedir(d);
}

void
store_cache_trim(const char *dir)
{
	struct store_cache	 cache;
	char			 incidents[PATH_MAX], err[256], *slash;
	time_t			 pinned = time(NULL) - STORE_CACHE_PIN_S;
	size_t			 i;
	int			 level;

	if (!store.is_s3)
		return;
	memset(&cache, 0, sizeof(cache));
	snprintf(incidents, sizeof(incidents), "%s/" STORE_INCIDENTS, dir);
	store_cache_walk(&cache, incidents, 3);
	qsort(cache.items, cache.count, sizeof(*cache.items),
	    store_cached_compare);
	for (i = 0; i < cache.count && cache.total > store.cache_max; i++) {
		if (cache.items[i].used > pinned)
			break;
		if (file_remove_tree(cache.items[i].path, 0, err,
		    sizeof(err)) == -1) {
			log_warnx("store: cache: %s", err);
			continue;
		}
		cache.total -= cache.items[i].bytes;
		STORE_COUNT(evicted);
		/* The node's and the incident's dirs, once empty. */
		for (level = 0; level < 2; level++) {
			if ((slash = strrchr(cache.items[i].path, '/')) ==
			    NULL)
				break;
			*slash = '\0';
			if (rmdir(cache.items[i].path) == -1)
				break;
		}
	}
	STORE_SET(cache_bytes, cache.total);
	for (i = 0; i < cache.count; i++)
		free(cache.items[i].path);
	free(cache.items);
}

/* The sweeper's question: does the catalog hold this path? */
static int
store_is_catalogued(const char *path, void *arg)
{
	struct catalog	*catalog = arg;
	const char	*id = strrchr(path, '/');
	char		 held[PATH_MAX];

	if (id == NULL)
		return 1;
	/* A catalog that cannot answer keeps everything. */
	if (catalog_snapshot_path(catalog, id + 1, held, sizeof(held)) == -1)
		return catalog_has_snapshot(catalog, id + 1) != 0;
	return strcmp(held, path) == 0;
}

enum store_result
store_sweep(const char *db_path, unsigned grace_s, char *err, size_t errlen)
{
	struct s3_sweep_stats	 stats;
	struct s3_client	*c;
	struct catalog		*catalog;
	enum s3_result		 r;

	if (!store.is_s3)
		return STORE_OK;
	if ((catalog = catalog_reader(db_path, err, errlen)) == NULL)
		return STORE_FAILED;
	if ((c = store_client(err, errlen)) == NULL)
		return store_result(S3_LOCAL, err);
	r = s3_store_sweep(c, store.prefix, store_is_catalogued, catalog,
	    grace_s, &stats, err, errlen);
	STORE_COUNT(sweeps);
	__atomic_add_fetch(&store.n.orphans, stats.orphans, __ATOMIC_RELAXED);
	if (stats.orphans > 0 || stats.foreign > 0)
		log_info("store: sweep: %u snapshot(s) in the bucket, %u "
		    "orphan(s) deleted (%u objects), %u key(s) outside the "
		    "layout left alone", stats.snapshots, stats.orphans,
		    stats.objects, stats.foreign);
	return store_result(r, err);
}

void
store_backend_status(json_t *o)
{
	struct store_counters	 n;

	json_object_set_new(o, "backend", json_string(store_backend_name()));
	if (!store.is_s3)
		return;
	memcpy(&n, &store.n, sizeof(n));
	json_object_set_new(o, "bucket", json_string(store.bucket));
	json_object_set_new(o, "endpoint", json_string(store.endpoint));
	json_object_set_new(o, "prefix", json_string(store.prefix));
	metrics_json(o, METRICS(store_metrics), &n);
	pthread_mutex_lock(&store.lock);
	json_object_set_new(o, "last_error", json_string(store.last_error));
	pthread_mutex_unlock(&store.lock);
}

void
store_backend_metrics(struct evbuffer *b)
{
	struct store_counters	 n;

	if (!store.is_s3)
		return;
	memcpy(&n, &store.n, sizeof(n));
	metrics_text(b, METRICS(store_metrics), &n);
}
