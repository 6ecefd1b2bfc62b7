/*
 * The incidents the relay asked each node to snapshot (catalog.h): a
 * cluster incident's SNAPSHOT_REQUEST is recorded per node before it is
 * sent, so that a manifest naming an incident can be checked against
 * what this relay asked of that node, across its restarts. Written by
 * the disk thread only.
 */
#include <string.h>


#include "catalog.h"
#include "catalog_sql.h"

int
catalog_add_request(struct catalog *c, const char *incident,
    const char *node, int64_t requested_at_us, char *err, size_t errlen)
{
	struct db_stmt	*stmt;
	int		 rc = DB_ERROR;

	if ((stmt = catalog_statement(c, CATALOG_INSERT_REQUEST)) != NULL &&
	    db_bind_text(stmt, 1, incident, strlen(incident)) ==
	    DB_OK &&
	    db_bind_text(stmt, 2, node, strlen(node)) == DB_OK &&
	    db_bind_int64(stmt, 3, requested_at_us) == DB_OK)
		rc = db_step(stmt);
	catalog_statement_done(stmt);
	if (rc != DB_DONE) {
		catalog_sql_error(c, err, errlen, "add request");
		return -1;
	}
	return 0;
}

int
catalog_has_request(struct catalog *c, const char *incident,
    const char *node)
{
	struct db_stmt	*stmt;
	int		 rc = DB_ERROR;

	if ((stmt = catalog_statement(c, CATALOG_HAS_REQUEST)) != NULL &&
	    (rc = db_bind_text(stmt, 1, incident, strlen(incident))) ==
	    DB_OK)
		rc = db_bind_text(stmt, 2, node, strlen(node));
	return catalog_statement_exists(stmt, rc);
}

int
catalog_remove_requests_before(struct catalog *c, int64_t before_us,
    char *err, size_t errlen)
{
	struct db_stmt	*stmt;
	int		 rc = DB_ERROR;

	if ((stmt = catalog_statement(c, CATALOG_DELETE_OLD_REQUESTS)) !=
	    NULL && db_bind_int64(stmt, 1, before_us) == DB_OK)
		rc = db_step(stmt);
	catalog_statement_done(stmt);
	if (rc != DB_DONE) {
		catalog_sql_error(c, err, errlen, "remove old requests");
		return -1;
	}
	return 0;
}
