/*
 * What the relay asks PostgreSQL for cluster triggers and the registry,
 * and what it does with the answers (cluster.c runs the statements).
 *
 * The schema is versioned in tracetrap_schema (part 'cluster'), migrated
 * in one transaction under an advisory lock, so that relays starting
 * together do not race. The fleet budget is one function,
 * cluster_trigger(): it locks the one row of cluster_budget, counts the
 * last hour's triggers as fanout.c counts its own, and either refuses or
 * inserts the trigger and NOTIFYs tracetrap_cluster, which PostgreSQL
 * delivers at the commit, to every relay at once. A relay told, or
 * reconnected, reads the triggers after the last one it saw (seq: the
 * budget's lock makes their order the commit order) and asks its own
 * recorders for those younger than [fleet] catch_up, the origin relay
 * included: one path, no double requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cluster_int.h"
#include "log.h"

#define CLUSTER_COOLDOWN_MAX_MS	(366ULL * 24 * 3600 * 1000)

static const char cluster_schema_sql[] =
	"BEGIN;\n"
	"SELECT pg_advisory_xact_lock(hashtext('tracetrap_schema'));\n"
	"CREATE TABLE IF NOT EXISTS tracetrap_schema (part text PRIMARY KEY, "
	"version integer NOT NULL);\n"
	"INSERT INTO tracetrap_schema VALUES ('cluster', 0) "
	"ON CONFLICT (part) DO NOTHING;\n"
	"DO $migrate$\n"
	"DECLARE v integer;\n"
	"BEGIN\n"
	"SELECT version INTO v FROM tracetrap_schema WHERE part = 'cluster';\n"
	/* Version 1. A later one adds "IF v < 2 THEN ... END IF;" below. */
	"IF v < 1 THEN\n"
	"CREATE TABLE cluster_triggers (\n"
	"  seq bigserial PRIMARY KEY,\n"
	"  incident text NOT NULL UNIQUE,\n"
	"  origin_relay text NOT NULL,\n"
	"  origin_node text NOT NULL,\n"
	"  source text NOT NULL,\n"
	"  reason text NOT NULL,\n"
	"  labels jsonb,\n"
	"  received_at_us bigint NOT NULL,\n"
	"  created_at_us bigint NOT NULL);\n"
	"CREATE INDEX cluster_triggers_created ON cluster_triggers "
	"(created_at_us);\n"
	"CREATE SEQUENCE cluster_incident_seq;\n"
	"CREATE TABLE cluster_budget (id integer PRIMARY KEY CHECK (id = 1));\n"
	"INSERT INTO cluster_budget VALUES (1);\n"
	"CREATE TABLE relays (\n"
	"  name text PRIMARY KEY,\n"
	"  listen_address text NOT NULL,\n"
	"  api_address text NOT NULL,\n"
	"  started_at_us bigint NOT NULL,\n"
	"  heartbeat_at_us bigint NOT NULL);\n"
	"CREATE TABLE relay_nodes (\n"
	"  relay text NOT NULL,\n"
	"  node text NOT NULL,\n"
	"  connected_at_us bigint NOT NULL,\n"
	"  PRIMARY KEY (relay, node));\n"
	"CREATE FUNCTION cluster_trigger(p_relay text, p_node text,\n"
	"    p_source text, p_reason text, p_labels jsonb,\n"
	"    p_received_at_us bigint, p_cooldown_us bigint, p_max integer,\n"
	"    p_node_max integer, OUT incident text, OUT refused text)\n"
	"LANGUAGE plpgsql AS $trigger$\n"
	"#variable_conflict use_column\n"
	"DECLARE now_us bigint; last_us bigint; n integer; mine integer;\n"
	"BEGIN\n"
	"  PERFORM 1 FROM cluster_budget WHERE id = 1 FOR UPDATE;\n"
	"  now_us := " CLUSTER_NOW_US ";\n"
	"  SELECT max(created_at_us) INTO last_us FROM cluster_triggers;\n"
	"  IF last_us IS NOT NULL AND now_us - last_us < p_cooldown_us THEN\n"
	"    refused := 'cooldown'; RETURN;\n"
	"  END IF;\n"
	"  SELECT count(*), count(*) FILTER (WHERE origin_node = p_node)\n"
	"    INTO n, mine FROM cluster_triggers\n"
	"    WHERE created_at_us > now_us - 3600000000;\n"
	"  IF p_max > 0 AND n >= p_max THEN\n"
	"    refused := 'max_per_hour'; RETURN;\n"
	"  END IF;\n"
	"  IF p_node_max > 0 AND mine >= p_node_max THEN\n"
	"    refused := 'node_max_per_hour'; RETURN;\n"
	"  END IF;\n"
	/* Past the hour the budget counts, and any catch_up: of no use. */
	"  DELETE FROM cluster_triggers WHERE created_at_us < now_us - "
	"7200000000;\n"
	"  incident := 'incident-' || to_char(to_timestamp(now_us / 1000000)\n"
	"    AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS\"Z\"') || '-' ||\n"
	"    nextval('cluster_incident_seq');\n"
	"  INSERT INTO cluster_triggers (incident, origin_relay, origin_node,\n"
	"    source, reason, labels, received_at_us, created_at_us)\n"
	"    VALUES (incident, p_relay, p_node, p_source, p_reason, p_labels,\n"
	"    p_received_at_us, now_us);\n"
	"  PERFORM pg_notify('tracetrap_cluster', incident);\n"
	"END $trigger$;\n"
	"END IF;\n"
	"UPDATE tracetrap_schema SET version = 1 WHERE part = 'cluster' AND "
	"version < 1;\n"
	"END $migrate$;\n"
	"COMMIT;\n"
	"SELECT version FROM tracetrap_schema WHERE part = 'cluster';\n";

static void
cluster_on_schema(struct cluster *c, struct cluster_op *op, PGresult *res,
    const char *error)
{
	char	 why[600];
	int	 version;

	(void)op;
	if (res == NULL) {
		snprintf(why, sizeof(why), "schema: %s", error);
		cluster_lost(c, why);
		return;
	}
	version = PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : -1;
	if (version > CLUSTER_SCHEMA_VERSION)
		log_warnx("cluster: schema version %d is newer than this "
		    "relay's (%d): a newer relay shares this database",
		    version, CLUSTER_SCHEMA_VERSION);
}

/* Statements whose failure costs a log line, nothing more. */
static void
cluster_on_done(struct cluster *c, struct cluster_op *op, PGresult *res,
    const char *error)
{
	(void)c;
	if (res == NULL)
		log_warnx("cluster: %.40s...: %s", op->sql, error);
}

static void
cluster_on_ready(struct cluster *c, struct cluster_op *op, PGresult *res,
    const char *error)
{
	(void)op;
	(void)res;
	(void)error;
	c->state = CLUSTER_READY;
	c->last_error[0] = '\0';
	c->backoff_ms = 100;
	log_info("cluster: listening for cluster triggers; relay %s "
	    "registered", c->relay->conf.name);
}

static void
cluster_simple(struct cluster *c, const char *sql, cluster_done_fn done)
{
	struct cluster_op *op = cluster_op_new(sql, done);

	op->is_simple = 1;
	cluster_queue(c, op);
}

/* A fresh connection: schema, LISTEN, registry, then the catch-up. */
void
cluster_sql_setup(struct cluster *c)
{
	struct relay		*relay = c->relay;
	struct cluster_op	*op;
	json_t			*nodes, *v;
	size_t			 i;
	char			 list[65536];
	size_t			 len = 0;

	cluster_simple(c, cluster_schema_sql, cluster_on_schema);
	/* Before the catch-up: a trigger in between is in one or the other. */
	cluster_simple(c, "LISTEN tracetrap_cluster", cluster_on_done);
	cluster_sql_heartbeat(c);
	op = cluster_op_new("DELETE FROM relay_nodes WHERE relay = $1",
	    cluster_on_done);
	cluster_op_param(op, "%s", relay->conf.name);
	cluster_queue(c, op);
	/* Node names are [A-Za-z0-9._-]: quoted, they make an array literal. */
	nodes = ingest_nodes(relay);
	len = (size_t)snprintf(list, sizeof(list), "{");
	json_array_foreach(nodes, i, v) {
		if (len + strlen(json_string_value(v)) + 4 >= sizeof(list))
			break;
		len += (size_t)snprintf(list + len, sizeof(list) - len,
		    "%s\"%s\"", i > 0 ? "," : "", json_string_value(v));
	}
	snprintf(list + len, sizeof(list) - len, "}");
	json_decref(nodes);
	op = cluster_op_new("INSERT INTO relay_nodes (relay, node, "
	    "connected_at_us) SELECT $1, n, " CLUSTER_NOW_US " FROM "
	    "unnest($2::text[]) AS n ON CONFLICT (relay, node) DO NOTHING",
	    cluster_on_done);
	cluster_op_param(op, "%s", relay->conf.name);
	cluster_op_param(op, "%s", list);
	cluster_queue(c, op);
	cluster_sql_fetch(c);
	cluster_sql_registry(c);
	cluster_queue(c, cluster_op_new(NULL, cluster_on_ready));
}

static void
cluster_on_fetch(struct cluster *c, struct cluster_op *op, PGresult *res,
    const char *error)
{
	struct relay		*relay = c->relay;
	struct fanout_request	 r;
	json_t			*labels;
	int64_t			 seq, age_us;
	int			 i;

	(void)op;
	c->is_fetch_queued = 0;
	if (res == NULL)
		log_warnx("cluster: reading the cluster triggers: %s", error);
	for (i = 0; res != NULL && i < PQntuples(res); i++) {
		seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		if (seq <= c->last_seq)
			continue;
		c->last_seq = seq;
		memset(&r, 0, sizeof(r));
		r.incident = PQgetvalue(res, i, 1);
		r.via = PQgetvalue(res, i, 2);
		r.requested_by = PQgetvalue(res, i, 3);
		r.source = PQgetvalue(res, i, 4);
		r.reason = PQgetvalue(res, i, 5);
		r.trigger_received_at_us = strtoll(PQgetvalue(res, i, 7), NULL,
		    10);
		r.requested_at_us = strtoll(PQgetvalue(res, i, 8), NULL, 10);
		age_us = strtoll(PQgetvalue(res, i, 9), NULL, 10);
		if (age_us > (int64_t)relay->conf.fleet_catch_up_ms * 1000) {
			c->stale++;
			log_info("cluster: incident %s (from %s via relay %s) "
			    "is %lld ms old, older than [fleet] catch_up: not "
			    "asked of this relay's recorders", r.incident,
			    r.requested_by, r.via, (long long)(age_us / 1000));
			continue;
		}
		labels = PQgetisnull(res, i, 6) ? NULL :
		    json_loads(PQgetvalue(res, i, 6), JSON_DECODE_ANY, NULL);
		r.labels = json_is_object(labels) ? labels : NULL;
		c->replayed++;
		fanout_send(relay, &r);
		json_decref(labels);
	}
	if (c->is_fetch_again) {
		c->is_fetch_again = 0;
		cluster_sql_fetch(c);
	}
}

/* The triggers after the last one seen: told by NOTIFY, or catching up. */
void
cluster_sql_fetch(struct cluster *c)
{
	struct cluster_op *op;

	/* One at a time; one more if told again meanwhile. */
	if (c->is_fetch_queued) {
		c->is_fetch_again = 1;
		return;
	}
	op = cluster_op_new("SELECT seq, incident, origin_relay, origin_node, "
	    "source, reason, labels::text, received_at_us, created_at_us, "
	    CLUSTER_NOW_US " - created_at_us FROM cluster_triggers "
	    "WHERE seq > $1 ORDER BY seq", cluster_on_fetch);
	cluster_op_param(op, "%lld", (long long)c->last_seq);
	c->is_fetch_queued = 1;
	cluster_queue(c, op);
}

void
cluster_sql_heartbeat(struct cluster *c)
{
	struct relay		*relay = c->relay;
	struct cluster_op	*op;

	op = cluster_op_new("INSERT INTO relays (name, listen_address, "
	    "api_address, started_at_us, heartbeat_at_us) VALUES ($1, $2, $3, "
	    "$4, " CLUSTER_NOW_US ") ON CONFLICT (name) DO UPDATE SET "
	    "listen_address = excluded.listen_address, api_address = "
	    "excluded.api_address, started_at_us = excluded.started_at_us, "
	    "heartbeat_at_us = excluded.heartbeat_at_us", cluster_on_done);
	cluster_op_param(op, "%s", relay->conf.name);
	cluster_op_param(op, "%s", relay->conf.listen_address);
	cluster_op_param(op, "%s", relay->conf.api_address);
	cluster_op_param(op, "%lld", (long long)c->started_at_us);
	cluster_queue(c, op);
}

/*
 * The registry as /v1/status shows it. A relay silent for 3 heartbeats
 * (ours: relays of one fleet share a configuration) is stale, and its
 * recorders, whatever its rows say, are not counted as connected.
 */
static void
cluster_on_registry(struct cluster *c, struct cluster_op *op, PGresult *res,
    const char *error)
{
	json_t		*relays, *nodes;
	int64_t		 age_us, stale_us;
	char		*list, *name, *save;
	int		 i, is_stale;

	(void)op;
	c->is_registry_queued = 0;
	if (res == NULL) {
		log_warnx("cluster: reading the relay registry: %s", error);
		return;
	}
	stale_us = 3 * (int64_t)c->relay->conf.fleet_heartbeat_ms * 1000;
	relays = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		age_us = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		is_stale = age_us > stale_us;
		nodes = json_array();
		list = PQgetvalue(res, i, 5);
		for (name = strtok_r(list, ",", &save); name != NULL &&
		    !is_stale; name = strtok_r(NULL, ",", &save))
			json_array_append_new(nodes, json_string(name));
		json_array_append_new(relays, json_pack("{s:s, s:s, s:s, s:I, "
		    "s:I, s:b, s:b, s:o}",
		    "name", PQgetvalue(res, i, 0),
		    "listen", PQgetvalue(res, i, 1),
		    "api", PQgetvalue(res, i, 2),
		    "started_at_us", (json_int_t)strtoll(PQgetvalue(res, i, 3),
		    NULL, 10),
		    "heartbeat_age_ms", (json_int_t)(age_us / 1000),
		    "stale", is_stale,
		    "self", strcmp(PQgetvalue(res, i, 0),
		    c->relay->conf.name) == 0,
		    "nodes", nodes));
	}
	json_decref(c->relays);
	c->relays = relays;
	c->relays_read_at_us = clock_realtime_us();
}

void
cluster_sql_registry(struct cluster *c)
{
	c->is_registry_queued = 1;
	cluster_queue(c, cluster_op_new("SELECT r.name, r.listen_address, "
	    "r.api_address, r.started_at_us, " CLUSTER_NOW_US " - "
	    "r.heartbeat_at_us, coalesce((SELECT string_agg(n.node, ',' ORDER "
	    "BY n.node) FROM relay_nodes n WHERE n.relay = r.name), '') FROM "
	    "relays r ORDER BY r.name", cluster_on_registry));
}

static void
cluster_on_trigger(struct cluster *c, struct cluster_op *op, PGresult *res,
    const char *error)
{
	struct relay	*relay = c->relay;

	if (res == NULL || PQntuples(res) != 1) {
		/* Refused by the database, not lost with it: never recorded. */
		log_warnx("cluster: the trigger from %s failed in PostgreSQL "
		    "(%s): asked of this relay's recorders only", op->node,
		    error != NULL ? error : "no answer");
		c->local_only++;
		fanout_local(relay, op->node, op->trigger);
		return;
	}
	if (!PQgetisnull(res, 0, 1)) {
		c->refused++;
		relay->stats.incidents_rate_limited++;
		log_info("cluster trigger from %s refused by the fleet %s",
		    op->node, PQgetvalue(res, 0, 1));
		return;
	}
	c->triggers++;
	log_info("incident %s: cluster trigger from %s accepted by the fleet "
	    "budget, announced to every relay", PQgetvalue(res, 0, 0),
	    op->node);
}

void
cluster_sql_trigger(struct cluster *c, const char *node, json_t *trigger)
{
	struct relay		*relay = c->relay;
	struct cluster_op	*op;
	const char		*source, *reason;
	json_t			*labels = json_object_get(trigger, "labels");
	char			*text;

	source = json_string_value(json_object_get(trigger, "source"));
	reason = json_string_value(json_object_get(trigger, "reason"));
	op = cluster_op_new("SELECT incident, refused FROM cluster_trigger("
	    "$1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)", cluster_on_trigger);
	op->trigger = json_incref(trigger);
	snprintf(op->node, sizeof(op->node), "%s", node);
	cluster_op_param(op, "%s", relay->conf.name);
	cluster_op_param(op, "%s", node);
	cluster_op_param(op, "%s", source != NULL ? source : "cluster");
	cluster_op_param(op, "%s", reason != NULL ? reason : "");
	text = json_is_object(labels) ? json_dumps(labels, JSON_COMPACT) :
	    NULL;
	cluster_op_param(op, "%s", text != NULL ? text : "null");
	free(text);
	cluster_op_param(op, "%lld", (long long)json_integer_value(
	    json_object_get(trigger, "received_at_us")));
	/* A bigint: any cooldown past a year is as good as forever. */
	cluster_op_param(op, "%llu", (unsigned long long)(
	    relay->conf.fleet_cooldown_ms > CLUSTER_COOLDOWN_MAX_MS ?
	    CLUSTER_COOLDOWN_MAX_MS : relay->conf.fleet_cooldown_ms) * 1000);
	cluster_op_param(op, "%u", relay->conf.fleet_max_per_hour);
	cluster_op_param(op, "%u", relay->conf.fleet_node_max_per_hour);
	cluster_queue(c, op);
}

void
cluster_sql_node(struct cluster *c, const char *node, int is_up)
{
	struct cluster_op *op;

	op = cluster_op_new(is_up ? "INSERT INTO relay_nodes (relay, node, "
	    "connected_at_us) VALUES ($1, $2, " CLUSTER_NOW_US ") ON CONFLICT "
	    "(relay, node) DO UPDATE SET connected_at_us = "
	    "excluded.connected_at_us" : "DELETE FROM relay_nodes WHERE relay = "
	    "$1 AND node = $2", cluster_on_done);
	cluster_op_param(op, "%s", c->relay->conf.name);
	cluster_op_param(op, "%s", node);
	cluster_queue(c, op);
}
