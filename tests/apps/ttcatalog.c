/*
 * ttcatalog: fills a catalog through the catalog's own code, for
 * bench/catalog-pg.sh: N snapshots of NODES nodes, one incident per
 * snapshot group of 5, triggers from two sources, each indexed with
 * catalog_add_stored as the relay indexes an upload, in transactions of
 * 1,000 (db_begin around them) so that 10,000 rows take seconds.
 *
 * usage: ttcatalog ADDRESS N NODES
 *   ADDRESS  an SQLite path, or postgresql:CONNINFO (catalog_address)
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "catalog.h"
#include "catalog_sql.h"
#include "db.h"

#define T0	1795000000000000LL

int
main(int argc, char **argv)
{
	struct catalog	*c;
	json_t		*m;
	char		 err[512], id[64], node[16], incident[32], path[160];
	long		 i, n, nodes;

	if (argc != 4 || (n = atol(argv[2])) <= 0 ||
	    (nodes = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: ttcatalog ADDRESS N NODES\n");
		return 2;
	}
	if ((c = catalog_open(argv[1], NULL, NULL, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "ttcatalog: %s\n", err);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (i % 1000 == 0 && db_begin(c->db) != DB_OK)
			goto failed;
		snprintf(node, sizeof(node), "n%02ld", i % nodes);
		snprintf(id, sizeof(id), "%s-%06ld", node, i);
		snprintf(incident, sizeof(incident), "inc-%06ld", i / 5);
		snprintf(path, sizeof(path), "incidents/%s/%s/%s", incident,
		    node, id);
		m = json_pack("{s:s, s:s, s:I, s:I, s:[{s:s, s:s}]}", "id",
		    id, "node", node, "taken_at_us",
		    (json_int_t)(T0 + i * 1000000LL), "bytes",
		    (json_int_t)100000, "triggers", "source",
		    i % 3 == 0 ? "watcher" : "app", "reason",
		    i % 7 == 0 ? "slow request" : "cpu over 90%");
		if (catalog_add_stored(c, m, path, 100000, T0 + i * 1000000LL,
		    err, sizeof(err)) == -1) {
			json_decref(m);
			goto failed;
		}
		json_decref(m);
		if ((i % 1000 == 999 || i == n - 1) && db_commit(c->db) != DB_OK)
			goto failed;
	}
	catalog_close(c);
	return 0;
failed:
	fprintf(stderr, "ttcatalog: %s %s\n", err, db_errmsg(c->db));
	catalog_close(c);
	return 1;
}
