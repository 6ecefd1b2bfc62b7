/*
 * The node's spool (DESIGN.md "Snapshot on the node"):
 *   <spool>/<id>/manifest.json + <spool>/<id>/trace/
 * recorded into <spool>/.partial/<name>/ and renamed <id> when complete,
 * so a reader (the uploader, an operator) never sees a half-written
 * snapshot. <name> is the id, or a spare: an empty partial dir made
 * ahead of its record by the disk worker ("spare.N", never an id: ids
 * hold a '-'), so that a record starts without a mkdir that could wait
 * for the journal behind another snapshot's fsync.
 *
 * The disk functions (spool_prepare, spool_publish, spool_remove_tree,
 * spool_write_manifest) block and run on the workers' threads. The
 * index (which snapshots exist, their size, whether uploaded) lives on the
 * main thread and decides eviction.
 */
#ifndef TT_SPOOL_H
#define TT_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#define SPOOL_ID_MAX	128
#define SPOOL_PARTIAL	".partial"
#define SPOOL_TRACE	"trace"		/* a snapshot's trace dir */
#define SPOOL_SPARE	"spare."	/* a spare partial dir: "spare.N" */

struct spool_entry {
	char			 id[SPOOL_ID_MAX];
	uint64_t		 bytes;		/* whole directory */
	int64_t			 taken_at_us;
	int			 is_uploaded;	/* relay acknowledged it */
	uint64_t		 retry_after_us; /* refused: not before */
	/*
	 * Hashed, not yet published: its files are still syncing in
	 * .partial/<partial>, and manifest (owned) is the one its publish
	 * writes. The uploader may send it meanwhile; eviction skips it.
	 */
	char			 partial[SPOOL_ID_MAX];
	char			*manifest;
	TAILQ_ENTRY(spool_entry) entry;		/* oldest first */
};
TAILQ_HEAD(spool_entries, spool_entry);

struct spool {
	char			 dir[4096];
	uint64_t		 max_bytes;
	uint64_t		 bytes;
	unsigned		 count;
	uint64_t		 evicted;
	uint64_t		 evicted_not_uploaded;
	struct spool_entries	 entries;
	int			 lock_fd;	/* flock: one recorder a spool */
};

/*
 * Creates the spool and its partial dir, locks it (a second recorder on
 * the same spool is refused before it touches anything), removes leftovers
 * of an interrupted run from .partial, and indexes the complete snapshots.
 * Returns 0 or -1 with err. Runs before the event loop starts.
 */
int	spool_open(struct spool *, const char *dir, uint64_t max_bytes,
	    char *err, size_t errlen);
void	spool_close(struct spool *);

void	spool_add(struct spool *, const char *id, uint64_t bytes,
	    int64_t taken_at_us);
/*
 * A hashed snapshot not yet published (struct spool_entry's partial and
 * manifest, copied); spool_published() once its publish is done (its
 * entry, or NULL when it has none), or spool_forget() once it failed.
 */
void	spool_add_partial(struct spool *, const char *id, const char *partial,
	    const char *manifest, uint64_t bytes, int64_t taken_at_us);
struct spool_entry *spool_published(struct spool *, const char *id);
void	spool_forget(struct spool *, const char *id);
struct spool_entry *spool_find(struct spool *, const char *id);
/*
 * Picks the snapshots to evict so the spool fits max_bytes again: oldest
 * uploaded first, then oldest not uploaded; never keep_id (the snapshot
 * just taken) nor one not yet published. Victims are unlinked from the
 * index and returned through cb, which deletes them on disk. Returns how
 * many were picked.
 */
unsigned spool_evict(struct spool *, const char *keep_id,
	    void (*cb)(const char *id, int was_uploaded, void *), void *arg);

/* The largest sequence number used in ids of this node, for restarts. */
uint64_t spool_max_sequence(const struct spool *, const char *node);

/* True when id is safe as one path component: [A-Za-z0-9._-], not dots. */
int	spool_is_valid_id(const char *id);

/* Worker thread: the disk work. */
int	spool_prepare(const char *spool_dir, const char *id, char *trace_dir,
	    size_t trace_dirlen, char *err, size_t errlen);
/*
 * A spare partial dir, "spare.<seq>" with its trace dir, its name into
 * name (SPOOL_ID_MAX): 0, or -1 with err and nothing left behind.
 */
int	spool_make_spare(const char *spool_dir, unsigned seq, char *name,
	    char *err, size_t errlen);
/*
 * Every file's writeback under the partial trace dir started, on a
 * thread of its own: sync_file_range() waits while the disk's queue is
 * full, and the hashing that runs meanwhile, and the upload that may
 * follow, need not wait with it; the sync pass after them finds little
 * left to do. spool_writeback_wait() joins it (before the files are
 * synced or removed). NULL when no thread could start: the sync pass
 * then does it all.
 */
struct spool_writeback;
struct spool_writeback *spool_writeback_start(const char *spool_dir,
	    const char *partial);
void	spool_writeback_wait(struct spool_writeback *);
/* Hashes every file under the partial trace dir into a files[] array. */
json_t	*spool_hash_files(const char *spool_dir, const char *partial,
	    uint64_t *bytes, char *err, size_t errlen);
/* fsync of every file and directory under the partial trace dir. */
int	spool_sync_files(const char *spool_dir, const char *partial,
	    char *err, size_t errlen);
/*
 * Writes manifest.json (fsync'd) into the partial dir .partial/<partial>
 * and renames it <id>. The trace must be synced already.
 */
int	spool_publish(const char *spool_dir, const char *partial,
	    const char *id, const char *manifest, char *err, size_t errlen);
/* Atomically replaces the manifest of a published snapshot. */
int	spool_write_manifest(const char *spool_dir, const char *id,
	    const char *manifest, char *err, size_t errlen);
/* Removes <spool>/<id> (or <spool>/.partial/<id> when is_partial). */
int	spool_remove_tree(const char *spool_dir, const char *id,
	    int is_partial, char *err, size_t errlen);

#endif
