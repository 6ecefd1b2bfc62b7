/*
 * Replies of the relay's API read from the store on a worker thread
 * (download.c): a snapshot's manifest and its ustar archive.
 */
#ifndef TT_DOWNLOAD_H
#define TT_DOWNLOAD_H

#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>

#include "relay_config.h"
#include "store.h"

/* A snapshot dir: [store] dir and the catalog's relative path. */
#define DOWNLOAD_PATH_MAX	(RELAY_CONFIG_PATH_MAX + 4 * STORE_NAME_MAX)

enum download_kind {
	DOWNLOAD_MANIFEST,	/* dir/manifest.json as stored */
	DOWNLOAD_ARCHIVE,	/* dir as a ustar of id/... */
};

struct download_stats {
	uint64_t	 archives;	/* sent whole */
	uint64_t	 archive_bytes;
	unsigned	 active;	/* replies in progress */
};

/* Starts the worker thread that reads the files. */
void	download_init(struct event_base *);
/*
 * Answers req with what kind asks for from the snapshot at path (the
 * catalog's, relative to store_dir) in the store (store_backend.h: the
 * bucket's snapshots are read through the local cache): 200 with the
 * content, 404 when it is gone (retention), 503 when the store cannot be
 * reached, 500 when it cannot be read.
 */
void	download_start(struct evhttp_request *, enum download_kind,
	    const char *id, const char *store_dir, const char *path);
const struct download_stats *download_stats(void);
/* Ends every download in progress; before evhttp_free(). */
void	download_close(void);

#endif
