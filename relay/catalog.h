/*
 * The relay's catalog: an index of incidents and snapshots, on SQLite
 * (one file per relay; the store is the source of truth, and the catalog
 * is rebuilt from the stored manifests when it is missing or corrupt) or
 * on PostgreSQL (shared by the relays of a tier, and the source of truth
 * itself: migrated, never rebuilt).
 *
 * One struct catalog is one connection, used by one thread, never the
 * event loop (its calls block): the relay's disk thread writes through
 * its own, the API's read threads and the analysis threads have theirs.
 * Errors go to err.
 */
#ifndef TT_CATALOG_H
#define TT_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct catalog;

/*
 * The relay whose catalog handles this process opens (call before the
 * first): its name goes into every row it writes. is_scoped limits
 * retention (catalog_total_bytes, catalog_oldest_incident,
 * catalog_remove_incident) and catalog_unanalyzed to the rows this relay
 * wrote: for relays that share a catalog but not a store, where another
 * relay's rows name files this one does not have. Without a call, rows
 * name no relay and nothing is scoped.
 */
#define CATALOG_RELAY_MAX	64
void		 catalog_set_relay(const char *name, int is_scoped);

/*
 * The catalog's address, what catalog_open and catalog_reader take: the
 * SQLite file's path, or "postgresql:" and a libpq conninfo. -1 when it
 * does not fit len.
 */
int		 catalog_address(char *address, size_t len, int is_postgresql,
		    const char *path, const char *conninfo);
/*
 * Opens the catalog at address, creating or migrating its schema. An
 * SQLite file that is not a valid catalog (corrupt, wrong schema version)
 * is moved aside to <path>.corrupt and a fresh catalog rebuilt from
 * store_dir's manifests; *was_rebuilt tells. store_dir may be NULL for a
 * reader connection, and is not read for PostgreSQL. On success err holds
 * "" or a note worth logging (a rebuild's skipped manifests, a
 * PostgreSQL migration).
 */
struct catalog	*catalog_open(const char *address, const char *store_dir,
		    int *was_rebuilt, char *err, size_t errlen);
void		 catalog_close(struct catalog *);
/*
 * The calling thread's own connection to address for reads, opened at
 * its first use and closed when the thread ends: the API's reads run on
 * threads of their own (api_read.c), none on the event loop.
 */
struct catalog	*catalog_reader(const char *address, char *err,
		    size_t errlen);

/*
 * Empties the catalog and indexes every manifest.json of the store
 * (SQLite only: a PostgreSQL catalog is refused).
 */
int		 catalog_rebuild(struct catalog *, const char *store_dir,
		    char *err, size_t errlen);

/*
 * Indexes one stored snapshot: its manifest as stored (id, node, incident,
 * taken_at_us, triggers[] sources/reasons/labels, bytes) and its path
 * relative to the store. Adding an id twice replaces it. catalog_add()
 * keeps no measure of the relay's own, so retention goes by the node's
 * figures for that row: the relay indexes what it stores with
 * catalog_add_stored(), the bytes the snapshot takes on disk and the
 * relay's clock when it arrived, which retention goes by instead.
 */
int		 catalog_add(struct catalog *, json_t *manifest,
		    const char *rel_path, char *err, size_t errlen);
int		 catalog_add_stored(struct catalog *, json_t *manifest,
		    const char *rel_path, uint64_t stored_bytes,
		    int64_t received_at_us, char *err, size_t errlen);
/*
 * 0 when catalog_add would take manifest (it needs an "id" and a
 * "taken_at_us" from 0 to the year 9999, ...), or -1 with err: so an
 * upload the catalog would refuse is refused before it is stored.
 */
int		 catalog_check_manifest(json_t *manifest,
		    const char *rel_path,
		    char *err, size_t errlen);
/*
 * Indexes the snapshot stored at <store_dir>/<rel_path> from its stored
 * manifest, measured on disk: a stored snapshot whose row is missing (a
 * catalog write that failed once) gets it back. 0, or -1 with err.
 */
int		 catalog_index_stored(struct catalog *, const char *store_dir,
		    const char *rel_path, char *err, size_t errlen);

/*
 * The incidents the relay asked nodes to snapshot (catalog_request.c):
 * recorded when asked, looked up when a manifest names an incident
 * (1 asked, 0 not, -1 error), forgotten with their incident and when
 * older than retention's max_age.
 */
int		 catalog_add_request(struct catalog *, const char *incident,
		    const char *node, int64_t requested_at_us, char *err,
		    size_t errlen);
int		 catalog_has_request(struct catalog *, const char *incident,
		    const char *node);
int		 catalog_remove_requests_before(struct catalog *,
		    int64_t before_us, char *err, size_t errlen);

/* 1 stored, 0 not, -1 error. */
int		 catalog_has_snapshot(struct catalog *, const char *id);

/* One snapshot, as catalog_snapshots lists them; NULL when unknown. */
json_t		*catalog_snapshot(struct catalog *, const char *id);

/* Relative path of a snapshot; 0, or -1 when unknown. */
int		 catalog_snapshot_path(struct catalog *, const char *id,
		    char *path, size_t len);

struct catalog_incident_filter {
	const char	*node;		/* NULL: any */
	const char	*source;	/* NULL: any (a trigger's source) */
	const char	*text;		/* NULL: any; else in a trigger's reason */
	int64_t		 since_us;	/* 0: no bound (a snapshot taken >=) */
	int64_t		 until_us;	/* 0: no bound (a snapshot taken <) */
	int		 limit;		/* 0: 1000 */
};
/*
 * [{"id","first_taken_at","last_taken_at","first_taken_at_us",
 *   "last_taken_at_us","nodes":[..],"snapshots":N,"bytes":N,
 *   "sources":[..],"reasons":[..],"slowest_us":N|null,"history_lost",
 *   "analyzed","failed","pending","requests","errors"}], newest first:
 * the incidents with a snapshot that matches every filter.
 */
json_t		*catalog_incidents(struct catalog *,
		    const struct catalog_incident_filter *);
/* One incident with its snapshots; NULL when unknown. */
json_t		*catalog_incident(struct catalog *, const char *id);
/*
 * The briefs of an incident's analyzed snapshots: {snapshot id: the
 * brief's JSON text}; NULL on an error.
 */
json_t		*catalog_incident_briefs(struct catalog *,
		    const char *incident);

struct catalog_filter {
	const char	*node;		/* NULL: any */
	const char	*source;	/* NULL: any (a trigger's source) */
	int64_t		 since_us;	/* 0: no bound (taken_at_us >=) */
	int64_t		 until_us;	/* 0: no bound (taken_at_us <) */
	int		 limit;		/* 0: 1000 */
	int64_t		 min_slowest_us;	/* 0: any; else slowest >= */
	const char	*uri;		/* NULL: any; else a request's URI */
	int		 status;	/* 0: any; else a request's status */
};
/*
 * [{"id","node","incident","taken_at","taken_at_us","bytes","sources":[..],
 *   "reasons":[..],"labels":{..},"path","analysis":"done"|"failed"|
 *   "pending","events","requests","slowest_us","errors","history_lost"}],
 * newest first. The analysis's figures are null until it is done.
 */
json_t		*catalog_snapshots(struct catalog *,
		    const struct catalog_filter *);

/*
 * The analysis (catalog_summary.c): a summary's key figures and per-URI
 * and per-status counts; the snapshots without a summary of analyzer
 * version at least version, newest first ([{"id","path"}]).
 */
int		 catalog_set_summary(struct catalog *, const char *id,
		    const json_t *summary, char *err, size_t errlen);
/*
 * Snapshots the backfill should analyze, newest first, as {id, path,
 * relay} rows: this relay's, and another relay's (a shared store) once it
 * is older than this without a summary (taken over first).
 */
#define CATALOG_FOREIGN_ANALYSIS_US	(10LL * 60 * 1000000)
json_t		*catalog_unanalyzed(struct catalog *, int version, int limit);

/*
 * Retention: totals, and the oldest incident (by its newest snapshot),
 * in the relay's measures (catalog_add_stored):
 * catalog_oldest_incident returns 1 found, 0 when the catalog is empty,
 * -1 on error.
 */
uint64_t	 catalog_total_bytes(struct catalog *);
int		 catalog_oldest_incident(struct catalog *, char *id,
		    size_t len, int64_t *last_taken_at_us, uint64_t *bytes);
int		 catalog_remove_incident(struct catalog *, const char *id,
		    char *err, size_t errlen);

#endif
