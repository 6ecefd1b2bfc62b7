/*
 * Where stored snapshots live, [store] backend (README "Scaling out"):
 * what the rest of the relay asks of the store, whichever backend holds
 * the snapshots.
 *
 *   local  <dir>/incidents/... is the store itself (store.c,
 *          store_upload.c); every call here is a file operation or
 *          nothing at all.
 *   s3     the bucket is the store (store_s3.c); <dir> stages uploads
 *          and keeps a bounded cache of snapshots (write-through when
 *          one arrives, read-through when the archive, the analysis or
 *          the events drill-down needs a trace that is not there).
 *
 * One relay per process: the backend is chosen once, by
 * store_backend_open(). Every call blocks (disk, network): worker threads
 * only, never the event loop. Errors go to err; a store that cannot be
 * reached gives STORE_UNAVAILABLE and a message that starts "store
 * unavailable:", which the relay sends to the recorder as is.
 */
#ifndef TT_STORE_BACKEND_H
#define TT_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "relay_config.h"

struct evbuffer;

enum store_result {
	STORE_OK = 0,
	STORE_NOT_FOUND,	/* no such snapshot or file */
	STORE_UNAVAILABLE,	/* try later: the recorder keeps its copy */
	STORE_FAILED,		/* configuration, refused, local error */
};

/*
 * Chooses the backend. s3: reads the credentials and checks the bucket;
 * a bucket that refuses us (bad keys, no such bucket) fails the start, an
 * unreachable one does not (uploads are refused "store unavailable"
 * until it answers). Logs what it found. 0, or -1 with err.
 */
int	store_backend_open(const struct relay_config *, char *err,
	    size_t errlen);
/* Frees what the thread that calls it holds (its S3 client). */
void	store_backend_close(void);
int	store_backend_is_s3(void);
const char *store_backend_name(void);

/*
 * An upload just renamed into <dir>/<path> (durable there): s3 writes
 * it to the bucket, manifest.json last. local: nothing to do.
 */
enum store_result store_commit(const char *dir, const char *path,
	    char *err, size_t errlen);
/* summary.json just written in <dir>/<path>: s3 puts it next to it. */
enum store_result store_put_summary(const char *dir, const char *path,
	    char *err, size_t errlen);
/*
 * Retention, once the incident's catalog rows are gone: its snapshots'
 * objects, then the local copy. What fails is left to the sweeper.
 */
enum store_result store_remove(const char *dir, const char *incident,
	    char *err, size_t errlen);
/*
 * Makes <dir>/<path> a whole local copy of the snapshot, for what reads
 * its files: s3 fetches it from the bucket into the cache when it is not
 * there (and marks it used); local: STORE_NOT_FOUND when it is gone.
 */
enum store_result store_localize(const char *dir, const char *path,
	    char *err, size_t errlen);
/*
 * One small file of the snapshot (manifest.json, summary.json), up to
 * max bytes, into *data (malloc'ed, NUL after *len bytes): from the
 * local copy, else (s3) from the bucket.
 */
enum store_result store_read_file(const char *dir, const char *path,
	    const char *file, size_t max, char **data, size_t *len,
	    char *err, size_t errlen);
/*
 * s3: trims the cache to its bound, least recently used first; a
 * snapshot used in the last STORE_CACHE_PIN_S seconds is kept whatever
 * the bound. local: nothing.
 */
#define STORE_CACHE_PIN_S	600
void	store_cache_trim(const char *dir);
/*
 * s3: deletes from the bucket what the catalog (db_path, this thread's
 * reader) does not hold and has not been written for grace_s.
 */
enum store_result store_sweep(const char *db_path, unsigned grace_s,
	    char *err, size_t errlen);

/* The backend's members of /v1/status's "store", its lines of /metrics. */
void	 store_backend_status(json_t *store);
void	 store_backend_metrics(struct evbuffer *);

#endif
