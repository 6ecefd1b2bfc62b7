/*
 * The relay's store (DESIGN.md "Relay store"):
 *   <store>/incidents/<incident>/<node>/<snapshot-id>/{manifest.json,trace/}
 * An upload is written under <store>/.staging/, every file's sha256 is
 * checked against the manifest as it arrives, everything is fsync'd, and
 * the directory is renamed into place: a reader never sees a partial
 * snapshot. All functions block (disk I/O): the relay calls them from its
 * disk thread, never from the event loop. Errors go to err, never the log.
 */
#ifndef TT_STORE_H
#define TT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define STORE_NAME_MAX		128	/* node, incident, snapshot id */
#define STORE_FILES_MAX		4096	/* files in one snapshot */
#define STORE_PATH_DEPTH_MAX	16
/* What a manifest's triggers may carry (store_manifest.c). */
#define STORE_TRIGGERS_MAX	256	/* a recorder lists 256 at most */
#define STORE_LABELS_MAX	64	/* per trigger, and its members */
#define STORE_KEY_MAX		64	/* bytes of a member's or label's name */
#define STORE_TEXT_MAX		4096	/* bytes of a string: a datagram's */

struct store_upload;

/*
 * Creates <dir>/incidents and <dir>/.staging, and removes what an
 * interrupted run left in .staging. Returns 0 or -1.
 */
int	store_open(const char *dir, char *err, size_t errlen);

/* 1 when name is safe as one path component: [A-Za-z0-9._-], not . or .. */
int	store_is_valid_name(const char *name);
/*
 * 1 when path (as the catalog holds them: incidents/<incident>/<node>/
 * <id>) is made of valid names only, so it cannot leave the store.
 */
int	store_is_valid_path(const char *path);

/*
 * Starts an upload from node (the name in the peer's certificate, never
 * from the payload). The manifest must be a JSON object with a valid "id",
 * and "files": [{"path","bytes","sha256"}] where every path is relative,
 * made of valid names, at most STORE_PATH_DEPTH_MAX deep, starting with
 * "trace/", with no duplicates; bytes a non-negative integer; sha256 64
 * lowercase hex digits; "taken_at_us" an integer from 0 to the year 9999;
 * at most STORE_TRIGGERS_MAX "triggers", each an object of scalars and
 * objects of scalars (labels, sender) of at most STORE_LABELS_MAX
 * members, names of at most STORE_KEY_MAX bytes, strings of at most
 * STORE_TEXT_MAX. "incident" is used when it is a valid name,
 * otherwise the snapshot id is its own incident (and see
 * store_upload_keep_own_incident). The stored manifest is the uploaded
 * one with "node" set to node and "received_at_us" added. Refuses with
 * "store full" when the filesystem lacks the room for the declared bytes
 * plus min_free_bytes.
 */
struct store_upload *store_upload_begin(const char *dir, const char *node,
	    const char *manifest, size_t len, uint64_t min_free_bytes,
	    char *err, size_t errlen);

/*
 * Appends data to files[file_index] at offset. Files arrive in manifest
 * order and each file's bytes in order: file_index must be the current
 * file (or the next once the current one is complete; empty files are
 * skipped over) and offset the bytes written so far. More bytes than
 * declared, a checksum mismatch at a file's end, or a write error (ENOSPC:
 * "store full") fails the upload. Returns 0 or -1.
 */
int	store_upload_chunk(struct store_upload *, uint32_t file_index,
	    uint64_t offset, const void *data, size_t len, char *err,
	    size_t errlen);

/*
 * Completes the upload: every file complete and verified, manifest.json
 * written, all files and directories fsync'd, the staging dir renamed to
 * incidents/<incident>/<node>/<id>, parents fsync'd. When that snapshot is
 * already stored, the staging copy is dropped and *is_duplicate set.
 * When a sync after the rename fails, the snapshot is renamed back out
 * of incidents/ and dropped: what the relay did not acknowledge is not
 * there to be listed. Returns 0 or -1; either way the upload is
 * finished: free it.
 */
int	store_upload_end(struct store_upload *, int *is_duplicate, char *err,
	    size_t errlen);

/* Removes the staging dir unless the upload ended well; frees it. */
void	store_upload_free(struct store_upload *);

/*
 * The incident the manifest names, when it names one (a valid name, not
 * the snapshot's own id); NULL otherwise.
 */
const char *store_upload_claimed_incident(const struct store_upload *);
/*
 * Files the snapshot as its own incident instead of the one its manifest
 * names, which the stored manifest keeps as "claimed_incident": for an
 * incident the relay did not ask this node for.
 */
void	store_upload_keep_own_incident(struct store_upload *);
/*
 * 1 when this snapshot is already in the store at the path this upload
 * would take (a manifest.json there), 0 when not.
 */
int	store_upload_is_stored(const struct store_upload *);
/* After store_upload_end(): what the snapshot takes on disk. */
uint64_t store_upload_stored_bytes(const struct store_upload *);
/* The relay's clock when the upload began, as the manifest records it. */
int64_t	store_upload_received_at(const struct store_upload *);
const char *store_upload_id(const struct store_upload *);
const char *store_upload_incident(const struct store_upload *);
const char *store_upload_node(const struct store_upload *);
/* "incidents/<incident>/<node>/<id>", relative to the store dir. */
const char *store_upload_path(const struct store_upload *);
uint64_t store_upload_bytes(const struct store_upload *);	/* declared */
/* The manifest as stored (borrowed; valid until store_upload_free). */
json_t	*store_upload_manifest(const struct store_upload *);

/*
 * The bytes path and everything under it take on disk (allocated
 * blocks, as du counts them; links not followed). 0, or -1 with errno.
 */
int	store_disk_bytes(const char *path, uint64_t *bytes);

/* Removes incidents/<incident> and everything under it. */
int	store_remove_incident(const char *dir, const char *incident,
	    char *err, size_t errlen);

#endif
