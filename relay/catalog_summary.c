/*
 * The analysis in the catalog (catalog.h, catalog_sql.h): a snapshot's
 * summary.json (lib/analyze.c) indexed as its key figures (events,
 * discarded, requests, slowest, server errors, history lost) and its
 * per-URI and per-status counts, for the API's listings and filters;
 * its brief (the summary with its slowest requests only, what an
 * incident's answer lists); and the snapshots still waiting for a
 * current analysis. The analysis threads write through connections of
 * their own; a rebuild reads the summaries stored beside the manifests.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analyze.h"
#include "catalog.h"
#include "catalog_sql.h"
#include "clock.h"
#include "errbuf.h"


static int
catalog_step_done(struct catalog *c, enum catalog_statement which,
    const char *id, struct db_stmt **stmt)
{
	int rc;

	if ((*stmt = catalog_statement(c, which)) == NULL ||
	    db_bind_text(*stmt, 1, id, strlen(id)) != DB_OK)
		return -1;
	rc = db_step(*stmt);
	catalog_statement_done(*stmt);
	*stmt = NULL;
	return rc == DB_DONE ? 0 : -1;
}

/* The key figures of a summary, as the catalog keeps them. */
struct catalog_figures {
	int64_t		 version;
	const char	*analysis;
	int64_t		 events, discarded, requests, slowest_us, errors;
	int		 is_history_lost;
};

static void
catalog_figures(const json_t *s, struct catalog_figures *f)
{
	const json_t	*r, *n;
	const char	*code;
	size_t		 i;

	memset(f, 0, sizeof(*f));
	f->version = json_integer_value(json_object_get(s,
	    "analyzer_version"));
	f->analysis = json_object_get(s, "error") != NULL ? "failed" : "done";
	f->events = json_integer_value(json_object_get(s, "events"));
	f->discarded = json_integer_value(json_object_get(s,
	    "discarded_events"));
	f->requests = json_integer_value(json_object_get(s,
	    "requests_total"));
	/* In flight counts: a request stuck at the freeze is the slowest. */
	f->slowest_us = -1;
	json_array_foreach(json_object_get(s, "requests"), i, r)
		if (json_integer_value(json_object_get(r, "duration_us")) >
		    f->slowest_us)
			f->slowest_us = json_integer_value(json_object_get(r,
			    "duration_us"));
	json_object_foreach((json_t *)json_object_get(s, "status_counts"),
	    code, n)
		if (atoi(code) >= 500)
			f->errors += json_integer_value(n);
	f->is_history_lost = json_is_true(json_object_get(json_object_get(s,
	    "history"), "overflowed"));
}

/* Runs CATALOG_SET_SUMMARY for id with f; an SQLite code. */
static int
catalog_update_figures(struct catalog *c, const char *id,
    const struct catalog_figures *f)
{
	struct db_stmt	*stmt;
	int		 rc = DB_ERROR;

	if ((stmt = catalog_statement(c, CATALOG_SET_SUMMARY)) != NULL &&
	    db_bind_text(stmt, 1, id, strlen(id)) == DB_OK &&
	    db_bind_int64(stmt, 2, f->version) == DB_OK &&
	    db_bind_text(stmt, 3, f->analysis, strlen(f->analysis)) ==
	    DB_OK &&
	    db_bind_int64(stmt, 4, f->events) == DB_OK &&
	    db_bind_int64(stmt, 5, f->discarded) == DB_OK &&
	    db_bind_int64(stmt, 6, f->requests) == DB_OK &&
	    (f->slowest_us >= 0 ? db_bind_int64(stmt, 7, f->slowest_us) :
	    db_bind_null(stmt, 7)) == DB_OK &&
	    db_bind_int64(stmt, 8, f->errors) == DB_OK &&
	    db_bind_int64(stmt, 9, f->is_history_lost) == DB_OK)
		rc = db_step(stmt);
	catalog_statement_done(stmt);
	return rc;
}

/* The summary with its requests cut, as text; NULL if out of memory. */
static char *
catalog_brief_text(const json_t *summary)
{
	json_t	*brief;
	char	*text;

	/* A shallow copy: the trim replaces its requests, not summary's. */
	if ((brief = json_copy((json_t *)summary)) == NULL)
		return NULL;
	analyze_trim_requests(brief, ANALYZE_BRIEF_REQUESTS);
	text = json_dumps(brief, JSON_COMPACT);
	json_decref(brief);
	return text;
}

/* The figures and the per-URI and per-status rows, in the caller's
 * transaction. Returns 0, or -1 with err set. */
static int
catalog_write_summary(struct catalog *c, const char *id,
    const json_t *summary, char *err, size_t errlen)
{
	struct catalog_figures	 f;
	struct db_stmt		*stmt = NULL;
	const json_t		*u, *n;
	const char		*uri, *code;
	char			*brief = NULL;
	size_t			 i;

	catalog_figures(summary, &f);
	if (catalog_update_figures(c, id, &f) != DB_DONE)
		goto failed;
	/* Retention removed it meanwhile: no rows of a snapshot not here. */
	if (db_changes(c->db) == 0) {
		errbuf_set(err, errlen, "catalog: no snapshot %s (removed "
		    "meanwhile)", id);
		return -1;
	}
	if (catalog_step_done(c, CATALOG_DELETE_URIS, id, &stmt) == -1 ||
	    catalog_step_done(c, CATALOG_DELETE_STATUSES, id, &stmt) == -1)
		goto failed;
	json_array_foreach(json_object_get(summary, "uris"), i, u) {
		if ((uri = json_string_value(json_object_get(u, "uri"))) ==
		    NULL)
			continue;
		if ((stmt = catalog_statement(c, CATALOG_INSERT_URI)) == NULL ||
		    db_bind_text(stmt, 1, id, strlen(id)) != DB_OK ||
		    db_bind_text(stmt, 2, uri, strlen(uri)) != DB_OK ||
		    db_bind_int64(stmt, 3, json_integer_value(
		    json_object_get(u, "count"))) != DB_OK ||
		    db_bind_int64(stmt, 4, json_integer_value(
		    json_object_get(u, "errors"))) != DB_OK ||
		    db_bind_int64(stmt, 5, json_integer_value(
		    json_object_get(u, "max_us"))) != DB_OK ||
		    db_step(stmt) != DB_DONE)
			goto failed;
		catalog_statement_done(stmt);
		stmt = NULL;
	}
	json_object_foreach((json_t *)json_object_get(summary,
	    "status_counts"), code, n) {
		if ((stmt = catalog_statement(c, CATALOG_INSERT_STATUS)) ==
		    NULL ||
		    db_bind_text(stmt, 1, id, strlen(id)) != DB_OK ||
		    db_bind_int64(stmt, 2, atoi(code)) != DB_OK ||
		    db_bind_int64(stmt, 3, json_integer_value(n)) !=
		    DB_OK || db_step(stmt) != DB_DONE)
			goto failed;
		catalog_statement_done(stmt);
		stmt = NULL;
	}
	if ((brief = catalog_brief_text(summary)) == NULL ||
	    (stmt = catalog_statement(c, CATALOG_INSERT_BRIEF)) == NULL ||
	    db_bind_text(stmt, 1, id, strlen(id)) != DB_OK ||
	    db_bind_text(stmt, 2, brief, strlen(brief)) != DB_OK ||
	    db_step(stmt) != DB_DONE)
		goto failed;
	catalog_statement_done(stmt);
	free(brief);
	return 0;
failed:
	free(brief);
	errbuf_set(err, errlen, "catalog: summary of %s: %s", id,
	    db_errmsg(c->db));
	catalog_statement_done(stmt);
	return -1;
}

int
catalog_set_summary(struct catalog *c, const char *id, const json_t *summary,
    char *err, size_t errlen)
{
	if (catalog_begin(c, err, errlen) == -1)
		return -1;
	if (catalog_write_summary(c, id, summary, err, errlen) == -1 ||
	    catalog_commit(c, err, errlen) == -1) {
		catalog_rollback(c);
		return -1;
	}
	return 0;
}

/* Inside a rebuild's transaction: no transaction of its own. */
int
catalog_summary_from_store(struct catalog *c, const char *store_dir,
    const char *rel_path, const char *id)
{
	json_t	*summary;
	char	 path[PATH_MAX];
	int	 rv = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", store_dir,
	    rel_path, ANALYZE_SUMMARY) >= sizeof(path) ||
	    (summary = analyze_load_json(path, ANALYZE_SUMMARY_MAX, NULL,
	    0)) == NULL)
		return -1;
	/* An older analyzer's is left for the backfill to redo. */
	if (json_integer_value(json_object_get(summary,
	    "analyzer_version")) == ANALYZER_VERSION)
		rv = catalog_write_summary(c, id, summary, NULL, 0);
	json_decref(summary);
	return rv;
}

/*
 * Another relay's snapshot, taken over: 1 when this relay is now its
 * owner, 0 when another relay took it first (or the write failed). The
 * claim (analyzer_version 0: claimed, not analyzed yet) takes it out of
 * every other relay's backfill; the owner's still sees it, as below its
 * analyzer's version.
 */
static int
catalog_adopt(struct catalog *c, const char *id, const char *owner)
{
	struct db_stmt	*stmt;
	int		 rc = DB_ERROR;

	if ((stmt = catalog_statement(c, CATALOG_ADOPT)) == NULL)
		return 0;
	if (db_bind_text(stmt, 1, catalog_relay_name,
	    strlen(catalog_relay_name)) == DB_OK &&
	    db_bind_text(stmt, 2, id, strlen(id)) == DB_OK &&
	    db_bind_text(stmt, 3, owner, strlen(owner)) == DB_OK)
		rc = db_step(stmt);
	catalog_statement_done(stmt);
	return rc == DB_DONE && db_changes(c->db) == 1;
}

json_t *
catalog_unanalyzed(struct catalog *c, int version, int limit)
{
	struct db_stmt	*stmt;
	json_t		*todo = json_array(), *row;
	const char	*id, *path, *owner;
	size_t		 i;

	if (todo == NULL ||
	    (stmt = catalog_statement(c, CATALOG_UNANALYZED)) == NULL)
		return todo;
	/*
	 * Another relay's snapshot (a shared store) is its to analyze, and
	 * its summary of an older analyzer its to redo: one without any
	 * summary is taken up once it has had CATALOG_FOREIGN_ANALYSIS_US,
	 * in case that relay went away, and taken over first (one relay
	 * wins the row), so that no two relays analyze it and write two
	 * different summaries over each other.
	 */
	if (db_bind_int64(stmt, 1, version) == DB_OK &&
	    db_bind_int64(stmt, 2, limit) == DB_OK &&
	    db_bind_text(stmt, 3, catalog_scope(), strlen(catalog_scope())) ==
	    DB_OK &&
	    db_bind_text(stmt, 4, catalog_relay_name,
	    strlen(catalog_relay_name)) == DB_OK &&
	    db_bind_int64(stmt, 5, clock_realtime_us() -
	    CATALOG_FOREIGN_ANALYSIS_US) == DB_OK) {
		while (db_step(stmt) == DB_ROW) {
			id = db_column_text(stmt, 0);
			path = db_column_text(stmt, 1);
			owner = db_column_text(stmt, 2);
			if (id != NULL && path != NULL)
				json_array_append_new(todo, json_pack(
				    "{s:s, s:s, s:s}", "id", id, "path", path,
				    "relay", owner != NULL ? owner : ""));
		}
	}
	catalog_statement_done(stmt);
	/* Another relay's rows stay only once this relay has taken them. */
	for (i = json_array_size(todo); i-- > 0;) {
		row = json_array_get(todo, i);
		owner = json_string_value(json_object_get(row, "relay"));
		if (owner[0] != '\0' && strcmp(owner, catalog_relay_name) != 0 &&
		    !catalog_adopt(c, json_string_value(json_object_get(row,
		    "id")), owner))
			json_array_remove(todo, i);
	}
	return todo;
}

json_t *
catalog_incident_briefs(struct catalog *c, const char *incident)
{
	struct db_stmt	*stmt;
	json_t		*briefs = json_object();
	const char	*id, *text;
	int		 rc = DB_ERROR;

	if (briefs != NULL &&
	    (stmt = catalog_statement(c, CATALOG_INCIDENT_BRIEFS)) != NULL) {
		if (db_bind_text(stmt, 1, incident, strlen(incident)) ==
		    DB_OK)
			while ((rc = db_step(stmt)) == DB_ROW) {
				id = db_column_text(stmt, 0);
				text = db_column_text(stmt,
				    1);
				if (id == NULL || text == NULL ||
				    json_object_set_new(briefs, id,
				    json_string(text)) == -1) {
					rc = DB_ERROR;
					break;
				}
			}
		catalog_statement_done(stmt);
	}
	if (rc != DB_DONE) {
		json_decref(briefs);
		return NULL;
	}
	return briefs;
}
