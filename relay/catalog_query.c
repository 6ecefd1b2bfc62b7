/*
 * Reading the catalog (catalog.h, catalog_sql.h): the incidents and
 * snapshots the HTTP API lists, one snapshot's path, and the totals and
 * oldest incident retention needs, as JSON where the API serves them.
 * The event loop reads through its own connection; each listing is one
 * read transaction, bounded by a page size.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "catalog_sql.h"

#define CATALOG_LIMIT_DEFAULT		1000
#define CATALOG_LIMIT_MAX		10000


int
catalog_has_snapshot(struct catalog *c, const char *id)
{
	struct db_stmt	*stmt;

	if (id == NULL ||
	    (stmt = catalog_statement(c, CATALOG_HAS_SNAPSHOT)) == NULL)
		return -1;
	return catalog_statement_exists(stmt,
	    db_bind_text(stmt, 1, id, strlen(id)));
}

/* A path that does not fit len is -1 too: a cut path would be wrong. */
int
catalog_snapshot_path(struct catalog *c, const char *id, char *path,
    size_t len)
{
	struct db_stmt	*stmt;
	const char	*value;
	int		 rv = -1;

	if (id == NULL || path == NULL || len == 0 ||
	    (stmt = catalog_statement(c, CATALOG_SNAPSHOT_PATH)) == NULL)
		return -1;
	if (db_bind_text(stmt, 1, id, strlen(id)) == DB_OK &&
	    db_step(stmt) == DB_ROW &&
	    (value = db_column_text(stmt, 0)) != NULL &&
	    strlen(value) < len) {
		memcpy(path, value, strlen(value) + 1);
		rv = 0;
	}
	catalog_statement_done(stmt);
	return rv;
}

static json_t *
catalog_column_string(struct db_stmt *stmt, int column)
{
	const char	*text = db_column_text(stmt, column);

	return json_stringn(text != NULL ? text : "",
	    text != NULL ? (size_t)db_column_bytes(stmt, column) : 0);
}

/*
 * Appends value unless NULL, empty or already there, keeping first-seen
 * order. seen holds the values as keys (a hash table): a snapshot with
 * thousands of triggers costs a lookup each, not a scan of the list.
 */
static int
catalog_append_unique(json_t *array, json_t *seen, struct db_stmt *stmt,
    int column)
{
	const char *value = db_column_text(stmt, column);

	if (value == NULL || *value == '\0' ||
	    json_object_get(seen, value) != NULL)
		return 0;
	if (json_object_set_new(seen, value, json_true()) == -1)
		return -1;
	return json_array_append_new(array, json_string(value));
}

static int
catalog_snapshot_triggers(struct catalog *c, const char *id, json_t *sources,
    json_t *reasons)
{
	struct db_stmt	*stmt;
	json_t		*sources_seen = json_object();
	json_t		*reasons_seen = json_object();
	int		 rc = DB_ERROR;

	if (sources_seen == NULL || reasons_seen == NULL ||
	    (stmt = catalog_statement(c, CATALOG_SNAPSHOT_TRIGGERS)) == NULL)
		goto end;
	if ((rc = db_bind_text(stmt, 1, id, strlen(id))) == DB_OK) {
		while ((rc = db_step(stmt)) == DB_ROW) {
			if (catalog_append_unique(sources, sources_seen, stmt,
			    0) == -1 || catalog_append_unique(reasons,
			    reasons_seen, stmt, 1) == -1) {
				rc = DB_ERROR;
				break;
			}
		}
	}
	catalog_statement_done(stmt);
end:
	json_decref(sources_seen);
	json_decref(reasons_seen);
	return rc == DB_DONE ? 0 : -1;
}

/* An integer column, or JSON null when it is NULL (not analyzed). */
static json_t *
catalog_column_int_or_null(struct db_stmt *stmt, int column)
{
	return db_column_is_null(stmt, column) ? json_null() :
	    json_integer(db_column_int64(stmt, column));
}

/*
 * The analysis's figures, from the columns at col: analyzer_version,
 * analysis, events, requests, slowest_us, errors, history_lost.
 */
static int
catalog_analysis_fields(json_t *object, struct db_stmt *row, int col)
{
	const char *analysis = db_column_text(row, col + 1);

	return json_object_set_new(object, "analysis", json_string(
	    analysis != NULL ? analysis : "pending")) == -1 ||
	    json_object_set_new(object, "events",
	    catalog_column_int_or_null(row, col + 2)) == -1 ||
	    json_object_set_new(object, "requests",
	    catalog_column_int_or_null(row, col + 3)) == -1 ||
	    json_object_set_new(object, "slowest_us",
	    catalog_column_int_or_null(row, col + 4)) == -1 ||
	    json_object_set_new(object, "errors",
	    catalog_column_int_or_null(row, col + 5)) == -1 ||
	    json_object_set_new(object, "history_lost",
	    json_boolean(db_column_int64(row, col + 6))) == -1 ? -1 : 0;
}

/* One snapshot object from a row of CATALOG_SNAPSHOT_COLUMNS. */
static json_t *
catalog_snapshot_object(struct catalog *c, struct db_stmt *row)
{
	json_t		*object, *sources, *reasons, *labels;
	const char	*id = db_column_text(row, 0);
	const char	*labels_json;

	if (id == NULL)
		return NULL;
	sources = json_array();
	reasons = json_array();
	if (sources == NULL || reasons == NULL ||
	    catalog_snapshot_triggers(c, id, sources, reasons) == -1) {
		json_decref(sources);
		json_decref(reasons);
		return NULL;
	}
	labels_json = db_column_text(row, 6);
	labels = labels_json != NULL ? json_loads(labels_json, 0, NULL) : NULL;
	if (!json_is_object(labels)) {
		json_decref(labels);
		labels = json_object();
	}

	object = json_object();
	if (object == NULL ||
	    json_object_set_new(object, "id", json_string(id)) == -1 ||
	    json_object_set_new(object, "node",
	    catalog_column_string(row, 1)) == -1 ||
	    json_object_set_new(object, "incident",
	    catalog_column_string(row, 2)) == -1 ||
	    json_object_set_new(object, "taken_at",
	    catalog_column_string(row, 3)) == -1 ||
	    json_object_set_new(object, "taken_at_us",
	    json_integer(db_column_int64(row, 4))) == -1 ||
	    json_object_set_new(object, "bytes",
	    json_integer(db_column_int64(row, 5))) == -1 ||
	    json_object_set(object, "sources", sources) == -1 ||
	    json_object_set(object, "reasons", reasons) == -1 ||
	    json_object_set(object, "labels", labels) == -1 ||
	    json_object_set_new(object, "path",
	    catalog_column_string(row, 7)) == -1 ||
	    catalog_analysis_fields(object, row, 8) == -1) {
		json_decref(object);
		object = NULL;
	}
	json_decref(sources);
	json_decref(reasons);
	json_decref(labels);
	return object;
}

/* Steps through rows of CATALOG_SNAPSHOT_COLUMNS into an array. */
static json_t *
catalog_snapshot_array(struct catalog *c, struct db_stmt *stmt)
{
	json_t	*array, *object;
	int	 rc;

	if ((array = json_array()) == NULL)
		return NULL;
	while ((rc = db_step(stmt)) == DB_ROW) {
		if ((object = catalog_snapshot_object(c, stmt)) == NULL ||
		    json_array_append_new(array, object) == -1) {
			rc = DB_ERROR;
			break;
		}
	}
	if (rc != DB_DONE) {
		json_decref(array);
		return NULL;
	}
	return array;
}

static int
catalog_limit(int limit)
{
	if (limit <= 0)
		return CATALOG_LIMIT_DEFAULT;
	return limit < CATALOG_LIMIT_MAX ? limit : CATALOG_LIMIT_MAX;
}

/*
 * A statement with a filter: SQL made of constant fragments, each
 * condition's value a parameter numbered in the order the conditions
 * come, so that the statement names every parameter it binds (which
 * PostgreSQL needs to tell their types).
 */
struct catalog_where {
	char		 sql[2048];
	size_t		 len;
	int		 count;
	int		 is_too_long;
	const char	*texts[DB_PARAMS_MAX];	/* NULL: an integer */
	int64_t		 values[DB_PARAMS_MAX];
};

static void
catalog_where_sql(struct catalog_where *w, const char *sql)
{
	size_t	len = strlen(sql);

	if (w->len + len >= sizeof(w->sql)) {
		w->is_too_long = 1;
		return;
	}
	memcpy(w->sql + w->len, sql, len + 1);
	w->len += len;
}

/* Appends before, the next parameter (text, or value when NULL), after. */
static void
catalog_where_param(struct catalog_where *w, const char *before,
    const char *text, int64_t value, const char *after)
{
	char	param[16];

	if (w->count == DB_PARAMS_MAX) {
		w->is_too_long = 1;
		return;
	}
	w->texts[w->count] = text;
	w->values[w->count] = value;
	snprintf(param, sizeof(param), "?%d", ++w->count);
	catalog_where_sql(w, before);
	catalog_where_sql(w, param);
	catalog_where_sql(w, after);
}

/* What both listings filter a snapshot s by; NULL or 0: no filter. */
static void
catalog_where_snapshot(struct catalog_where *w, const char *node,
    const char *source, int64_t since_us, int64_t until_us)
{
	if (node != NULL)
		catalog_where_param(w, " AND s.node = ", node, 0, "");
	if (source != NULL)
		catalog_where_param(w, " AND s.id IN (SELECT t.snapshot_id"
		    " FROM triggers t WHERE t.source = ", source, 0, ")");
	if (since_us != 0)
		catalog_where_param(w, " AND s.taken_at_us >= ", NULL,
		    since_us, "");
	if (until_us != 0)
		catalog_where_param(w, " AND s.taken_at_us < ", NULL,
		    until_us, "");
}

/* The statement, prepared for this one use and bound; NULL on error. */
static struct db_stmt *
catalog_where_prepare(struct catalog *c, struct catalog_where *w)
{
	struct db_stmt	*stmt;
	int		 i, rc = DB_OK;

	if (w->is_too_long || (stmt = db_prepare(c->db, w->sql, 0)) == NULL)
		return NULL;
	for (i = 0; i < w->count && rc == DB_OK; i++)
		rc = w->texts[i] != NULL ? db_bind_string(stmt, i + 1,
		    w->texts[i]) : db_bind_int64(stmt, i + 1, w->values[i]);
	if (rc != DB_OK) {
		db_finalize(stmt);
		return NULL;
	}
	return stmt;
}

/*
 * A limit of 0 (or less) is CATALOG_LIMIT_DEFAULT; any limit is capped
 * at CATALOG_LIMIT_MAX, since it may come straight from an HTTP query.
 */
json_t *
catalog_snapshots(struct catalog *c, const struct catalog_filter *filter)
{
	static const struct catalog_filter no_filter;
	struct catalog_where	 w = { .len = 0 };
	struct db_stmt		*stmt = NULL;
	json_t			*array = NULL;
	const struct catalog_filter *f = filter != NULL ? filter : &no_filter;

	catalog_where_sql(&w, "SELECT " CATALOG_SNAPSHOT_COLUMNS
	    " FROM snapshots s WHERE 1 = 1");
	catalog_where_snapshot(&w, f->node, f->source, f->since_us,
	    f->until_us);
	if (f->min_slowest_us > 0)
		catalog_where_param(&w, " AND s.slowest_us >= ", NULL,
		    f->min_slowest_us, "");
	if (f->uri != NULL)
		catalog_where_param(&w, " AND s.id IN (SELECT u.snapshot_id"
		    " FROM snapshot_uris u WHERE u.uri = ", f->uri, 0, ")");
	if (f->status > 0)
		catalog_where_param(&w, " AND s.id IN (SELECT st.snapshot_id"
		    " FROM snapshot_statuses st WHERE st.status = ", NULL,
		    f->status, ")");
	catalog_where_param(&w, " ORDER BY s.taken_at_us DESC, s.id DESC"
	    " LIMIT ", NULL, catalog_limit(f->limit), "");
	if ((stmt = catalog_where_prepare(c, &w)) != NULL &&
	    catalog_read_begin(c) == 0) {
		array = catalog_snapshot_array(c, stmt);
		catalog_read_end(c);
	}
	db_finalize(stmt);
	return array;
}

/*
 * One incident's summary, built from its rows (a snapshot once per
 * trigger, oldest snapshot first): id, first and last taken_at, nodes,
 * snapshot count, bytes, sources and reasons, in first-seen order.
 */
struct catalog_summary {
	json_t		*nodes;
	json_t		*sources;
	json_t		*reasons;
	json_t		*seen[3];	/* nodes, sources, reasons already in */
	json_t		*first;
	json_t		*last;
	char		*previous_id;
	json_int_t	 count;
	json_int_t	 bytes;
	/* What the analyses of its snapshots say, together. */
	int64_t		 first_us, last_us;
	int64_t		 slowest_us;	/* -1: none known */
	json_int_t	 analyzed, failed, pending, requests, errors;
	int		 is_history_lost;
};

static void
catalog_summary_analysis(struct catalog_summary *sum, struct db_stmt *stmt,
    int col)
{
	const char	*analysis;
	int64_t		 taken_at_us = db_column_int64(stmt, col + 6);

	if (sum->count == 1 || taken_at_us < sum->first_us)
		sum->first_us = taken_at_us;
	if (sum->count == 1 || taken_at_us > sum->last_us)
		sum->last_us = taken_at_us;
	analysis = db_column_text(stmt, col + 7);
	if (analysis == NULL) {
		sum->pending++;
		return;
	}
	sum->analyzed++;
	if (strcmp(analysis, "failed") == 0)
		sum->failed++;
	if (!db_column_is_null(stmt, col + 8) &&
	    db_column_int64(stmt, col + 8) > sum->slowest_us)
		sum->slowest_us = db_column_int64(stmt, col + 8);
	sum->is_history_lost |= db_column_int64(stmt, col + 9) != 0;
	sum->requests += db_column_int64(stmt, col + 10);
	sum->errors += db_column_int64(stmt, col + 11);
}

static int
catalog_summary_begin(struct catalog_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	sum->slowest_us = -1;
	sum->nodes = json_array();
	sum->sources = json_array();
	sum->reasons = json_array();
	sum->seen[0] = json_object();
	sum->seen[1] = json_object();
	sum->seen[2] = json_object();
	return sum->nodes != NULL && sum->sources != NULL &&
	    sum->reasons != NULL && sum->seen[0] != NULL &&
	    sum->seen[1] != NULL && sum->seen[2] != NULL ? 0 : -1;
}

/*
 * A row whose columns from col are CATALOG_INCIDENT_ROW_COLUMNS: snapshot
 * id, node, taken_at, bytes, trigger source, trigger reason, taken_at_us,
 * analysis, slowest_us, history_lost, requests, errors. Returns an
 * SQLite code.
 */
static int
catalog_summary_add(struct catalog_summary *sum, struct db_stmt *stmt, int col)
{
	const char *snapshot_id = db_column_text(stmt, col);

	if (snapshot_id == NULL)
		return DB_ERROR;
	/* The join repeats a snapshot once per trigger. */
	if (sum->previous_id == NULL ||
	    strcmp(sum->previous_id, snapshot_id) != 0) {
		free(sum->previous_id);
		if ((sum->previous_id = strdup(snapshot_id)) == NULL)
			return DB_ERROR;
		sum->count++;
		sum->bytes += db_column_int64(stmt, col + 3);
		catalog_summary_analysis(sum, stmt, col);
		json_decref(sum->last);
		sum->last = catalog_column_string(stmt, col + 2);
		if (sum->first == NULL)
			sum->first = json_incref(sum->last);
		if (catalog_append_unique(sum->nodes, sum->seen[0], stmt,
		    col + 1) == -1)
			return DB_ERROR;
	}
	if (catalog_append_unique(sum->sources, sum->seen[1], stmt,
	    col + 4) == -1 || catalog_append_unique(sum->reasons,
	    sum->seen[2], stmt, col + 5) == -1)
		return DB_ERROR;
	return DB_OK;
}

/*
 * The summary object, with snapshots (an array) or their count when
 * NULL; NULL when there were no rows or on error. Frees the summary's
 * parts and consumes snapshots either way.
 */
static json_t *
catalog_summary_end(struct catalog_summary *sum, const char *id,
    json_t *snapshots)
{
	json_t *object = NULL;

	if (sum->count == 0 || sum->first == NULL || sum->last == NULL)
		goto end;
	if (snapshots == NULL &&
	    (snapshots = json_integer(sum->count)) == NULL)
		goto end;
	object = json_object();
	if (object == NULL ||
	    json_object_set_new(object, "id", json_string(id)) == -1 ||
	    json_object_set(object, "first_taken_at", sum->first) == -1 ||
	    json_object_set(object, "last_taken_at", sum->last) == -1 ||
	    json_object_set(object, "nodes", sum->nodes) == -1 ||
	    json_object_set(object, "snapshots", snapshots) == -1 ||
	    json_object_set_new(object, "bytes",
	    json_integer(sum->bytes)) == -1 ||
	    json_object_set(object, "sources", sum->sources) == -1 ||
	    json_object_set(object, "reasons", sum->reasons) == -1 ||
	    json_object_set_new(object, "first_taken_at_us",
	    json_integer(sum->first_us)) == -1 ||
	    json_object_set_new(object, "last_taken_at_us",
	    json_integer(sum->last_us)) == -1 ||
	    json_object_set_new(object, "slowest_us", sum->slowest_us >= 0 ?
	    json_integer(sum->slowest_us) : json_null()) == -1 ||
	    json_object_set_new(object, "history_lost",
	    json_boolean(sum->is_history_lost)) == -1 ||
	    json_object_set_new(object, "analyzed",
	    json_integer(sum->analyzed)) == -1 ||
	    json_object_set_new(object, "failed",
	    json_integer(sum->failed)) == -1 ||
	    json_object_set_new(object, "pending",
	    json_integer(sum->pending)) == -1 ||
	    json_object_set_new(object, "requests",
	    json_integer(sum->requests)) == -1 ||
	    json_object_set_new(object, "errors",
	    json_integer(sum->errors)) == -1) {
		json_decref(object);
		object = NULL;
	}
end:
	free(sum->previous_id);
	json_decref(sum->first);
	json_decref(sum->last);
	json_decref(sum->nodes);
	json_decref(sum->sources);
	json_decref(sum->reasons);
	json_decref(sum->seen[0]);
	json_decref(sum->seen[1]);
	json_decref(sum->seen[2]);
	json_decref(snapshots);
	memset(sum, 0, sizeof(*sum));
	return object;
}

/* One incident's summary (catalog_incident); snapshots is consumed. */
static json_t *
catalog_incident_summary(struct catalog *c, const char *id,
    json_t *snapshots)
{
	struct catalog_summary	 sum;
	struct db_stmt		*stmt = NULL;
	int			 rc = DB_ERROR;

	if (catalog_summary_begin(&sum) == 0 &&
	    (stmt = catalog_statement(c, CATALOG_INCIDENT_ROWS)) != NULL &&
	    db_bind_text(stmt, 1, id, strlen(id)) == DB_OK) {
		while ((rc = db_step(stmt)) == DB_ROW)
			if ((rc = catalog_summary_add(&sum, stmt, 0)) !=
			    DB_OK)
				break;
	}
	catalog_statement_done(stmt);
	if (rc != DB_DONE) {
		json_decref(catalog_summary_end(&sum, id, snapshots));
		return NULL;
	}
	return catalog_summary_end(&sum, id, snapshots);
}

/*
 * "%text%" for LIKE, lowercase, with the pattern characters of text
 * escaped (the statement says ESCAPE '\\'). NULL when out of memory.
 */
static char *
catalog_like_pattern(const char *text)
{
	char	*p, *out = malloc(2 * strlen(text) + 3);

	if ((p = out) == NULL)
		return NULL;
	*p++ = '%';
	for (; *text != '\0'; text++) {
		if (*text == '%' || *text == '_' || *text == '\\')
			*p++ = '\\';
		*p++ = (char)tolower((unsigned char)*text);
	}
	*p++ = '%';
	*p = '\0';
	return out;
}

/*
 * The newest incidents that have a snapshot matching every filter, and
 * all their rows, in one statement rather than one query per incident:
 * the loop runs it. limit <= 0 means CATALOG_LIMIT_DEFAULT.
 */
json_t *
catalog_incidents(struct catalog *c, const struct catalog_incident_filter *f)
{
	static const struct catalog_incident_filter no_filter;
	struct catalog_summary	 sum;
	struct db_stmt		*stmt = NULL;
	json_t			*array, *object;
	const char		*incident;
	struct catalog_where	 w = { .len = 0 };
	char			*current = NULL, *like = NULL;
	int			 rc = DB_ERROR, is_open = 0;

	if (f == NULL)
		f = &no_filter;
	if (f->text != NULL && (like = catalog_like_pattern(f->text)) == NULL)
		return NULL;
	catalog_where_sql(&w, "WITH top AS (SELECT incident, "
	    "max(taken_at_us) AS last_us FROM snapshots s WHERE 1 = 1");
	catalog_where_snapshot(&w, f->node, f->source, f->since_us,
	    f->until_us);
	/*
	 * Case-insensitive in ASCII alone on both engines: SQLite's LIKE,
	 * and lower() of PostgreSQL's "C" collation (catalog_pg.c).
	 */
	if (like != NULL)
		catalog_where_param(&w, " AND s.id IN (SELECT snapshot_id FROM "
		    "triggers WHERE lower(reason) LIKE ", like, 0,
		    " ESCAPE '\\')");
	catalog_where_param(&w, " GROUP BY incident "
	    "ORDER BY last_us DESC, incident DESC LIMIT ", NULL,
	    catalog_limit(f->limit), ") SELECT top.incident, "
	    CATALOG_INCIDENT_ROW_COLUMNS
	    " FROM top JOIN snapshots s ON s.incident = top.incident "
	    "LEFT JOIN triggers t ON t.snapshot_id = s.id "
	    "ORDER BY top.last_us DESC, top.incident DESC, s.taken_at_us, "
	    "s.id, t.seq");
	if ((array = json_array()) == NULL ||
	    (stmt = catalog_where_prepare(c, &w)) == NULL ||
	    catalog_read_begin(c) == -1)
		goto error;
	is_open = 1;
	while ((rc = db_step(stmt)) == DB_ROW) {
		if ((incident = db_column_text(stmt,
		    0)) == NULL) {
			rc = DB_ERROR;
			break;
		}
		/* Rows come incident by incident: a new one ends the last. */
		if (current == NULL || strcmp(current, incident) != 0) {
			if (current != NULL) {
				object = catalog_summary_end(&sum, current,
				    NULL);
				if (object == NULL || json_array_append_new(
				    array, object) == -1) {
					rc = DB_ERROR;
					break;
				}
			}
			free(current);
			if ((current = strdup(incident)) == NULL ||
			    catalog_summary_begin(&sum) == -1) {
				rc = DB_ERROR;
				break;
			}
		}
		if ((rc = catalog_summary_add(&sum, stmt, 1)) != DB_OK)
			break;
	}
	if (rc == DB_DONE && current != NULL) {
		object = catalog_summary_end(&sum, current, NULL);
		if (object == NULL || json_array_append_new(array, object) == -1)
			rc = DB_ERROR;
	} else if (current != NULL)
		json_decref(catalog_summary_end(&sum, current, NULL));
	free(current);
	if (rc == DB_DONE)
		goto end;
error:
	json_decref(array);
	array = NULL;
end:
	db_finalize(stmt);
	free(like);
	if (is_open)
		catalog_read_end(c);
	return array;
}

json_t *
catalog_snapshot(struct catalog *c, const char *id)
{
	struct db_stmt	*stmt;
	json_t		*array = NULL, *object = NULL;

	if (id == NULL ||
	    (stmt = catalog_statement(c, CATALOG_SNAPSHOT)) == NULL)
		return NULL;
	if (db_bind_text(stmt, 1, id, strlen(id)) == DB_OK)
		array = catalog_snapshot_array(c, stmt);
	catalog_statement_done(stmt);
	if (json_array_size(array) == 1)
		object = json_incref(json_array_get(array, 0));
	json_decref(array);
	return object;
}

/* Its snapshots are newest first, as catalog_snapshots lists them. */
json_t *
catalog_incident(struct catalog *c, const char *id)
{
	struct db_stmt	*stmt;
	json_t		*snapshots = NULL, *object = NULL;

	if (id == NULL ||
	    (stmt = catalog_statement(c, CATALOG_INCIDENT_SNAPSHOTS)) == NULL ||
	    catalog_read_begin(c) == -1)
		return NULL;
	if (db_bind_text(stmt, 1, id, strlen(id)) == DB_OK)
		snapshots = catalog_snapshot_array(c, stmt);
	catalog_statement_done(stmt);
	if (snapshots != NULL && json_array_size(snapshots) > 0)
		object = catalog_incident_summary(c, id, snapshots);
	else
		json_decref(snapshots);
	catalog_read_end(c);
	return object;
}

/* 0 on error too: the header gives this one no other way to say so. */
uint64_t
catalog_total_bytes(struct catalog *c)
{
	struct db_stmt	*stmt;
	uint64_t	 total = 0;

	if ((stmt = catalog_statement(c, CATALOG_TOTAL_BYTES)) == NULL)
		return 0;
	if (db_bind_text(stmt, 1, catalog_scope(), strlen(catalog_scope())) ==
	    DB_OK && db_step(stmt) == DB_ROW &&
	    db_column_int64(stmt, 0) > 0)
		total = (uint64_t)db_column_int64(stmt, 0);
	catalog_statement_done(stmt);
	return total;
}

/*
 * The incident whose newest snapshot is the oldest: the next one
 * retention removes. Returns 1 with id (and the optional
 * last_taken_at_us and bytes) set, 0 when the catalog is empty, -1 on
 * error or when the id does not fit len.
 */
int
catalog_oldest_incident(struct catalog *c, char *id, size_t len,
    int64_t *last_taken_at_us, uint64_t *bytes)
{
	struct db_stmt	*stmt;
	const char	*value;
	int		 rc, rv = -1;

	if (id == NULL || len == 0 ||
	    (stmt = catalog_statement(c, CATALOG_OLDEST_INCIDENT)) == NULL)
		return -1;
	if ((rc = db_bind_text(stmt, 1, catalog_scope(),
	    strlen(catalog_scope()))) == DB_OK)
		rc = db_step(stmt);
	if (rc == DB_DONE)
		rv = 0;
	else if (rc == DB_ROW &&
	    (value = db_column_text(stmt, 0)) != NULL &&
	    strlen(value) < len) {
		memcpy(id, value, strlen(value) + 1);
		if (last_taken_at_us != NULL)
			*last_taken_at_us = db_column_int64(stmt, 1);
		if (bytes != NULL)
			*bytes = (uint64_t)db_column_int64(stmt, 2);
		rv = 1;
	}
	catalog_statement_done(stmt);
	return rv;
}
