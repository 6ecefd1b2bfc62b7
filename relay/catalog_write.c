/*
 * Writing the catalog (catalog.h, catalog_sql.h): a stored manifest
 * indexed as one snapshot row and one row per trigger, with what the
 * relay measured itself (the bytes on disk, its clock at arrival); the
 * whole catalog rebuilt from the store's manifests, or the rows that
 * lack those measures; an incident's rows removed; the incidents the
 * relay asked each node for. Only the relay's disk thread writes,
 * through its own connection.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "catalog.h"
#include "catalog_sql.h"
#include "clock.h"
#include "errbuf.h"
#include "store.h"

/* 9999-12-31T23:59:59.999999Z: what a UTC date can still say. */
#define CATALOG_TAKEN_AT_MAX	253402300799999999LL

/* One manifest, as catalog_insert needs it; strings borrowed. */
struct catalog_entry {
	const char	*id;
	const char	*node;
	size_t		 node_len;
	const char	*incident;
	size_t		 incident_len;
	int64_t		 taken_at_us;
	int64_t		 bytes;		/* as the node declared them */
	json_t		*triggers;	/* an array, or NULL */
	const char	*rel_path;
	int64_t		 stored_bytes;	/* measured; -1: none (NULL) */
	int64_t		 received_at_us; /* the relay's; -1: none (NULL) */
};

/*
 * Splits "incidents/<incident>/<node>/<id>" into its parts; 0 when
 * rel_path has another shape.
 */
static int
catalog_split_path(const char *rel_path, const char *parts[4],
    size_t lengths[4])
{
	const char	*p = rel_path, *slash;
	int		 i;

	for (i = 0; i < 4; i++) {
		slash = strchr(p, '/');
		if ((slash == NULL) != (i == 3))
			return 0;
		parts[i] = p;
		lengths[i] = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (lengths[i] == 0)
			return 0;
		if (slash != NULL)
			p = slash + 1;
	}
	return lengths[0] == strlen("incidents") &&
	    strncmp(parts[0], "incidents", lengths[0]) == 0;
}

static const char *
catalog_string(json_t *object, const char *key)
{
	const char	*value;

	value = json_string_value(json_object_get(object, key));
	return value != NULL && *value != '\0' ? value : NULL;
}

/*
 * Reads what the catalog indexes from a stored manifest. The incident is
 * the one in rel_path when rel_path has the store's shape: retention
 * removes incidents/<incident>/ by the catalog's incident id, so the two
 * must agree even when the manifest's own "incident" was refused by the
 * store (then absent, null or not a valid name). Otherwise the manifest's,
 * and failing that, the snapshot is its own incident.
 */
static int
catalog_entry_parse(struct catalog_entry *e, json_t *manifest,
    const char *rel_path, char *err, size_t errlen)
{
	const char	*parts[4];
	size_t		 lengths[4], i;
	int		 has_path_parts;
	json_t		*value, *files, *file;

	memset(e, 0, sizeof(*e));
	e->stored_bytes = e->received_at_us = -1;
	if (!json_is_object(manifest)) {
		errbuf_set(err, errlen, "manifest is not a JSON object");
		return -1;
	}
	if (rel_path == NULL || *rel_path == '\0') {
		errbuf_set(err, errlen, "no path for the snapshot");
		return -1;
	}
	e->rel_path = rel_path;
	if ((e->id = catalog_string(manifest, "id")) == NULL) {
		errbuf_set(err, errlen, "manifest has no \"id\"");
		return -1;
	}
	has_path_parts = catalog_split_path(rel_path, parts, lengths);

	if ((e->node = catalog_string(manifest, "node")) != NULL)
		e->node_len = strlen(e->node);
	else if (has_path_parts) {
		e->node = parts[2];
		e->node_len = lengths[2];
	} else {
		errbuf_set(err, errlen, "manifest %s has no \"node\"",
		    e->id);
		return -1;
	}

	if (has_path_parts) {
		e->incident = parts[1];
		e->incident_len = lengths[1];
	} else if ((e->incident = catalog_string(manifest,
	    "incident")) != NULL)
		e->incident_len = strlen(e->incident);
	else {
		e->incident = e->id;
		e->incident_len = strlen(e->id);
	}

	value = json_object_get(manifest, "taken_at_us");
	if (!json_is_integer(value) || json_integer_value(value) < 0 ||
	    json_integer_value(value) > CATALOG_TAKEN_AT_MAX) {
		errbuf_set(err, errlen, "manifest %s has no valid "
		    "\"taken_at_us\"", e->id);
		return -1;
	}
	/* The text is ours, from the number: a node's taken_at is not read. */
	e->taken_at_us = json_integer_value(value);

	/* "bytes" is the declared total; without it, what files[] add up to. */
	value = json_object_get(manifest, "bytes");
	if (json_is_integer(value) && json_integer_value(value) >= 0)
		e->bytes = json_integer_value(value);
	else {
		files = json_object_get(manifest, "files");
		json_array_foreach(files, i, file) {
			value = json_object_get(file, "bytes");
			if (json_is_integer(value) &&
			    json_integer_value(value) >= 0 &&
			    json_integer_value(value) <= INT64_MAX - e->bytes)
				e->bytes += json_integer_value(value);
		}
	}

	value = json_object_get(manifest, "triggers");
	e->triggers = json_is_array(value) ? value : NULL;
	return 0;
}

/* Labels of all triggers in one object; the first trigger's value wins. */
static char *
catalog_merge_labels(json_t *triggers)
{
	json_t		*merged, *trigger, *labels, *value;
	const char	*key;
	char		*text = NULL;
	size_t		 i;

	if ((merged = json_object()) == NULL)
		return NULL;
	json_array_foreach(triggers, i, trigger) {
		labels = json_object_get(trigger, "labels");
		if (!json_is_object(labels))
			continue;
		json_object_foreach(labels, key, value) {
			if (json_object_get(merged, key) != NULL)
				continue;
			if (json_object_set(merged, key, value) == -1)
				goto end;
		}
	}
	text = json_dumps(merged, JSON_COMPACT);
end:
	json_decref(merged);
	return text;
}

/* A measure, or NULL for none (-1). */
static int
catalog_bind_measure(struct db_stmt *stmt, int index, int64_t value)
{
	if (value < 0)
		return db_bind_null(stmt, index);
	return db_bind_int64(stmt, index, value);
}

/*
 * Replaces the snapshot's rows: a transaction of its own, or a savepoint
 * inside a rebuild's.
 */
static int
catalog_insert(struct catalog *c, const struct catalog_entry *e,
    char *err, size_t errlen)
{
	static const enum catalog_statement clears[] = {
		CATALOG_DELETE_TRIGGERS, CATALOG_DELETE_URIS,
		CATALOG_DELETE_STATUSES, CATALOG_DELETE_BRIEF,
	};
	struct db_stmt	*stmt = NULL;
	json_t		*trigger;
	const char	*source, *reason;
	char		*labels = NULL, taken_at[64];
	size_t		 i;
	int		 rv = -1;

	if ((labels = catalog_merge_labels(e->triggers)) == NULL) {
		errbuf_set(err, errlen, "catalog: out of memory");
		return -1;
	}
	clock_format_utc(e->taken_at_us, taken_at, sizeof(taken_at));
	if (catalog_begin(c, err, errlen) == -1) {
		free(labels);
		return -1;
	}

	/* A snapshot indexed again starts without its analysis's rows. */
	for (i = 0; i < sizeof(clears) / sizeof(clears[0]); i++) {
		if ((stmt = catalog_statement(c, clears[i])) == NULL ||
		    db_bind_text(stmt, 1, e->id, strlen(e->id)) !=
		    DB_OK || db_step(stmt) != DB_DONE)
			goto sql_failed;
		catalog_statement_done(stmt);
	}

	if ((stmt = catalog_statement(c, CATALOG_INSERT_SNAPSHOT)) == NULL ||
	    db_bind_text(stmt, 1, e->id, strlen(e->id)) != DB_OK ||
	    db_bind_text(stmt, 2, e->node, e->node_len) != DB_OK ||
	    db_bind_text(stmt, 3, e->incident,
	    e->incident_len) != DB_OK ||
	    db_bind_int64(stmt, 4, e->taken_at_us) != DB_OK ||
	    db_bind_text(stmt, 5, taken_at, strlen(taken_at)) !=
	    DB_OK ||
	    db_bind_int64(stmt, 6, e->bytes) != DB_OK ||
	    db_bind_text(stmt, 7, e->rel_path, strlen(e->rel_path)) !=
	    DB_OK ||
	    db_bind_text(stmt, 8, labels, strlen(labels)) != DB_OK ||
	    catalog_bind_measure(stmt, 9, e->stored_bytes) != DB_OK ||
	    catalog_bind_measure(stmt, 10, e->received_at_us) != DB_OK ||
	    db_bind_text(stmt, 11, catalog_relay_name,
	    strlen(catalog_relay_name)) != DB_OK ||
	    db_step(stmt) != DB_DONE)
		goto sql_failed;
	catalog_statement_done(stmt);

	json_array_foreach(e->triggers, i, trigger) {
		if (!json_is_object(trigger))
			continue;
		source = catalog_string(trigger, "source");
		reason = catalog_string(trigger, "reason");
		if ((stmt = catalog_statement(c,
		    CATALOG_INSERT_TRIGGER)) == NULL ||
		    db_bind_text(stmt, 1, e->id, strlen(e->id)) !=
		    DB_OK ||
		    db_bind_int64(stmt, 2, (int64_t)i) !=
		    DB_OK ||
		    db_bind_text(stmt, 3, source,
		    source != NULL ? strlen(source) : 0) != DB_OK ||
		    db_bind_text(stmt, 4, reason,
		    reason != NULL ? strlen(reason) : 0) != DB_OK ||
		    db_step(stmt) != DB_DONE)
			goto sql_failed;
		catalog_statement_done(stmt);
	}
	stmt = NULL;

	if (catalog_commit(c, err, errlen) == -1)
		goto rollback;
	rv = 0;
	goto end;

sql_failed:
	errbuf_set(err, errlen, "catalog: add %s: %s", e->id,
	    db_errmsg(c->db));
	catalog_statement_done(stmt);
rollback:
	catalog_rollback(c);
end:
	free(labels);
	return rv;
}

int
catalog_add(struct catalog *c, json_t *manifest, const char *rel_path,
    char *err, size_t errlen)
{
	struct catalog_entry	e;

	if (catalog_entry_parse(&e, manifest, rel_path, err, errlen) == -1)
		return -1;
	return catalog_insert(c, &e, err, errlen);
}

int
catalog_check_manifest(json_t *manifest, const char *rel_path, char *err,
    size_t errlen)
{
	struct catalog_entry	e;

	return catalog_entry_parse(&e, manifest, rel_path, err, errlen);
}

int
catalog_add_stored(struct catalog *c, json_t *manifest, const char *rel_path,
    uint64_t stored_bytes, int64_t received_at_us, char *err, size_t errlen)
{
	struct catalog_entry	e;

	if (catalog_entry_parse(&e, manifest, rel_path, err, errlen) == -1)
		return -1;
	e.stored_bytes = stored_bytes > INT64_MAX ? INT64_MAX :
	    (int64_t)stored_bytes;
	e.received_at_us = received_at_us < 0 ? 0 : received_at_us;
	return catalog_insert(c, &e, err, errlen);
}

static void
catalog_skip(struct catalog_rebuild_stats *stats, const char *rel_path,
    const char *why)
{
	if (stats->skipped++ == 0)
		snprintf(stats->first_skipped, sizeof(stats->first_skipped),
		    "%s: %s", rel_path, why);
}

/*
 * The relay's clock when the snapshot arrived: the "received_at_us" the
 * relay wrote into the stored manifest (store_upload_begin), or, in one
 * stored before it did, the manifest file's modification time.
 */
static int64_t
catalog_received_at(json_t *manifest, const struct stat *st)
{
	json_t	*value = json_object_get(manifest, "received_at_us");

	if (json_is_integer(value) && json_integer_value(value) > 0)
		return json_integer_value(value);
	return (int64_t)st->st_mtim.tv_sec * 1000000 +
	    st->st_mtim.tv_nsec / 1000;
}

/*
 * Indexes <store_dir>/<rel_path>/manifest.json with the bytes the
 * snapshot takes on disk. 0 indexed, 1 not indexable (why says why: the
 * snapshot is unreadable or its manifest invalid), -1 on a catalog error
 * (err).
 */
static int
catalog_index_one(struct catalog *c, const char *store_dir,
    const char *rel_path, char *why, size_t whylen, char *err, size_t errlen)
{
	struct catalog_entry	 e;
	struct stat		 st;
	json_error_t		 json_error;
	json_t			*manifest;
	char			 path[PATH_MAX];
	uint64_t		 stored;
	int			 fd, rv = 1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s/manifest.json",
	    store_dir, rel_path) >= sizeof(path)) {
		errbuf_set(why, whylen, "path too long");
		return 1;
	}
	/* O_NONBLOCK: a FIFO in the store must not hang the rebuild. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		/* A plain file where a snapshot directory belongs: not one. */
		errbuf_set(why, whylen, "%s", errno == ENOTDIR ? "" :
		    strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		errbuf_set(why, whylen, "manifest.json is not a file");
		close(fd);
		return 1;
	}
	manifest = json_loadfd(fd, 0, &json_error);
	close(fd);
	if (manifest == NULL) {
		errbuf_set(why, whylen, "%s", json_error.text);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", store_dir, rel_path);
	if (catalog_entry_parse(&e, manifest, rel_path, why, whylen) == -1)
		goto end;
	if (store_disk_bytes(path, &stored) == -1) {
		errbuf_set(why, whylen, "measuring: %s", strerror(errno));
		goto end;
	}
	e.stored_bytes = stored > INT64_MAX ? INT64_MAX : (int64_t)stored;
	e.received_at_us = catalog_received_at(manifest, &st);
	if ((rv = catalog_insert(c, &e, err, errlen)) == 0) {
		/* Its analysis survives a rebuild: summary.json is stored. */
		catalog_summary_from_store(c, store_dir, rel_path, e.id);
	}
end:
	json_decref(manifest);
	return rv;
}

/* Indexes <store_dir>/<rel_path>/manifest.json, or counts it skipped. */
static int
catalog_index_manifest(struct catalog *c, const char *store_dir,
    const char *rel_path, struct catalog_rebuild_stats *stats, char *err,
    size_t errlen)
{
	char	 why[256];
	int	 rv;

	rv = catalog_index_one(c, store_dir, rel_path, why, sizeof(why),
	    err, errlen);
	if (rv == 0)
		stats->indexed++;
	else if (rv == 1 && why[0] != '\0')
		catalog_skip(stats, rel_path, why);
	return rv == -1 ? -1 : 0;
}

int
catalog_index_stored(struct catalog *c, const char *store_dir,
    const char *rel_path, char *err, size_t errlen)
{
	char	 why[256];
	int	 rv;

	if ((rv = catalog_index_one(c, store_dir, rel_path, why, sizeof(why),
	    err, errlen)) == 1)
		errbuf_set(err, errlen, "catalog: %s: %s", rel_path,
		    why[0] != '\0' ? why : "not a snapshot");
	return rv == 0 ? 0 : -1;
}

/*
 * Walks incidents/<incident>/<node>/<id> under store_dir: depth is how
 * many components rel_path has below "incidents". Names starting with a
 * dot are skipped at every level (editor files, .staging-like leftovers).
 */
static int
catalog_walk(struct catalog *c, const char *store_dir, const char *rel_path,
    int depth, struct catalog_rebuild_stats *stats, char *err, size_t errlen)
{
	DIR		*dir;
	struct dirent	*entry;
	char		 path[PATH_MAX], child[PATH_MAX];
	int		 rv = 0;

	if (depth == 3)
		return catalog_index_manifest(c, store_dir, rel_path, stats,
		    err, errlen);

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", store_dir,
	    rel_path) >= sizeof(path)) {
		catalog_skip(stats, rel_path, "path too long");
		return 0;
	}
	if ((dir = opendir(path)) == NULL) {
		/* A store without incidents yet is an empty store. */
		if (depth == 0 && errno == ENOENT)
			return 0;
		if (depth == 0) {
			errbuf_set(err, errlen, "catalog: %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (errno != ENOTDIR)
			catalog_skip(stats, rel_path, strerror(errno));
		return 0;
	}
	for (;;) {
		errno = 0;
		if ((entry = readdir(dir)) == NULL) {
			if (errno != 0) {
				errbuf_set(err, errlen, "catalog: %s: %s",
				    path, strerror(errno));
				rv = -1;
			}
			break;
		}
		if (entry->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(child, sizeof(child), "%s/%s", rel_path,
		    entry->d_name) >= sizeof(child)) {
			catalog_skip(stats, rel_path, "path too long");
			continue;
		}
		if ((rv = catalog_walk(c, store_dir, child, depth + 1, stats,
		    err, errlen)) == -1)
			break;
	}
	closedir(dir);
	return rv;
}

int
catalog_rebuild_stats(struct catalog *c, const char *store_dir,
    struct catalog_rebuild_stats *stats, char *err, size_t errlen)
{
	memset(stats, 0, sizeof(*stats));
	errbuf_set(err, errlen, "%s", "");
	/* Shared by relays, it is the truth: no one store can rebuild it. */
	if (c->is_shared) {
		errbuf_set(err, errlen, "catalog: a PostgreSQL catalog is not "
		    "rebuilt from a store");
		return -1;
	}
	if (store_dir == NULL) {
		errbuf_set(err, errlen, "catalog: no store to rebuild from");
		return -1;
	}
	if (catalog_begin(c, err, errlen) == -1)
		return -1;
	if (catalog_exec(c, "DELETE FROM triggers", err, errlen) == -1 ||
	    catalog_exec(c, "DELETE FROM snapshot_uris", err, errlen) == -1 ||
	    catalog_exec(c, "DELETE FROM snapshot_statuses", err,
	    errlen) == -1 ||
	    catalog_exec(c, "DELETE FROM snapshot_briefs", err, errlen) == -1 ||
	    catalog_exec(c, "DELETE FROM snapshots", err, errlen) == -1 ||
	    catalog_walk(c, store_dir, "incidents", 0, stats, err,
	    errlen) == -1 ||
	    catalog_commit(c, err, errlen) == -1) {
		catalog_rollback(c);
		return -1;
	}
	if (stats->skipped > 0)
		errbuf_set(err, errlen, "catalog: indexed %zu snapshots, "
		    "skipped %zu unreadable or invalid manifests (first: %s)",
		    stats->indexed, stats->skipped, stats->first_skipped);
	return 0;
}

/*
 * Returns 0 or -1. A manifest that cannot be read or indexed does not
 * fail the rebuild (the rest of the store is still worth indexing): it
 * is counted, and on success err holds "" or a warning with that count
 * and the first such path, for the caller to log.
 */
int
catalog_rebuild(struct catalog *c, const char *store_dir, char *err,
    size_t errlen)
{
	struct catalog_rebuild_stats	stats;

	return catalog_rebuild_stats(c, store_dir, &stats, err, errlen);
}

/* Removes the incident's rows (not its files: store_remove_incident). */
int
catalog_remove_incident(struct catalog *c, const char *id, char *err,
    size_t errlen)
{
	/* The requests go once no relay holds a snapshot of it any more. */
	static const enum catalog_statement deletes[] = {
		CATALOG_DELETE_INCIDENT_TRIGGERS,
		CATALOG_DELETE_INCIDENT_URIS,
		CATALOG_DELETE_INCIDENT_STATUSES,
		CATALOG_DELETE_INCIDENT_BRIEFS,
		CATALOG_DELETE_INCIDENT_SNAPSHOTS,
		CATALOG_DELETE_INCIDENT_REQUESTS
	};
	const char	*scope = catalog_scope();
	struct db_stmt	*stmt;
	size_t		 i;

	if (id == NULL) {
		errbuf_set(err, errlen, "catalog: no incident id");
		return -1;
	}
	if (catalog_begin(c, err, errlen) == -1)
		return -1;
	for (i = 0; i < sizeof(deletes) / sizeof(deletes[0]); i++) {
		if ((stmt = catalog_statement(c, deletes[i])) == NULL ||
		    db_bind_text(stmt, 1, id, strlen(id)) != DB_OK ||
		    (deletes[i] != CATALOG_DELETE_INCIDENT_REQUESTS &&
		    db_bind_text(stmt, 2, scope, strlen(scope)) != DB_OK) ||
		    db_step(stmt) != DB_DONE) {
			errbuf_set(err, errlen, "catalog: remove incident "
			    "%s: %s", id, db_errmsg(c->db));
			catalog_statement_done(stmt);
			catalog_rollback(c);
			return -1;
		}
		catalog_statement_done(stmt);
	}
	if (catalog_commit(c, err, errlen) == -1) {
		catalog_rollback(c);
		return -1;
	}
	return 0;
}

int
catalog_measure_store(struct catalog *c, const char *store_dir, char *err,
    size_t errlen)
{
	struct catalog_rebuild_stats	 stats;
	struct db_stmt			*stmt;
	json_t				*paths;
	const char			*path;
	size_t				 i, n;
	int				 rc;

	memset(&stats, 0, sizeof(stats));
	errbuf_set(err, errlen, "%s", "");
	if (store_dir == NULL || c->is_shared)
		return 0;
	/* The list first: a row that stays unmeasured must not loop. */
	if ((paths = json_array()) == NULL ||
	    (stmt = catalog_statement(c, CATALOG_UNMEASURED)) == NULL ||
	    db_bind_int64(stmt, 1, INT64_MAX) != DB_OK) {
		json_decref(paths);
		catalog_sql_error(c, err, errlen, "measure");
		return -1;
	}
	while ((rc = db_step(stmt)) == DB_ROW)
		if ((path = db_column_text(stmt, 0)) != NULL)
			json_array_append_new(paths, json_string(path));
	catalog_statement_done(stmt);
	if (rc != DB_DONE) {
		json_decref(paths);
		catalog_sql_error(c, err, errlen, "measure");
		return -1;
	}
	if (json_array_size(paths) == 0) {
		json_decref(paths);
		return 0;
	}
	if (catalog_begin(c, err, errlen) == -1) {
		json_decref(paths);
		return -1;
	}
	n = json_array_size(paths);
	for (i = 0; i < n; i++) {
		path = json_string_value(json_array_get(paths, i));
		if (!store_is_valid_path(path)) {
			catalog_skip(&stats, path, "not a store path");
			continue;
		}
		if (catalog_index_manifest(c, store_dir, path, &stats, err,
		    errlen) == -1)
			break;
	}
	json_decref(paths);
	if (i < n || catalog_commit(c, err, errlen) == -1) {
		catalog_rollback(c);
		return -1;
	}
	if (stats.skipped > 0)
		errbuf_set(err, errlen, "catalog: measured %zu snapshots on "
		    "disk; %zu could not be read and keep their declared "
		    "figures (first: %s)", stats.indexed, stats.skipped,
		    stats.first_skipped);
	return 0;
}
