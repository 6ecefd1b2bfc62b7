/*
 * What the relay asks PostgreSQL for cluster triggers and the registry,
 * and what it does with the answers (cluster.c runs the statements).
 *
 * The schema is versioned in tracetrap_schema (part 'cluster'), migrated
 * in one transaction under an advisory lock, so that relays starting
 * together do not race; only when due: the version is read first, and a
 * relay whose role may no longer CREATE (a DBA's choice after the first
 * start) connects all the same. The session reads committed whatever
 * the role's or database's default: the budget counts on seeing the
 * triggers committed while it waited for the lock. The fleet budget is one
 * function,
 * cluster_trigger(): it locks the one row of cluster_budget, counts the
 * last hour's triggers as fanout.c counts its own, and either refuses or
 * inserts the trigger and NOTIFYs tracetrap_cluster, which PostgreSQL
 * delivers at the commit, to every relay at once. A relay told, or
 * reconnected, reads the triggers after the last one it saw (seq: the
 * budget's lock makes their order the commit order) and asks its own
 * recorders for those younger than [fleet] catch_up, the origin relay
 * included: one path, no double requests. A trigger carries a
 * relay-made id (instance-n): sent again after a lost connection, one
 * already recorded is answered with its incident, not counted twice.
 *
 * The registry tells relays apart by name and instance (128 random bits
 * drawn at each start): two relays given one [node] name warn, and never
 * delete each other's rows.
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
	/* Version 1. A later one adds "IF v < 3 THEN ... END IF;" below. */
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
	/* Its function: version 2's below, one body for both. */
	"END IF;\n"
	"IF v < 2 THEN\n"
	"ALTER TABLE cluster_triggers ADD COLUMN trigger_id text UNIQUE;\n"
	"ALTER TABLE relays ADD COLUMN instance text NOT NULL DEFAULT '',\n"
	"  ADD COLUMN registered_at_us bigint NOT NULL DEFAULT 0,\n"
	"  ADD COLUMN last_seq bigint NOT NULL DEFAULT 0,\n"
	"  DROP CONSTRAINT relays_pkey, ADD PRIMARY KEY (name, instance);\n"
	"ALTER TABLE relay_nodes ADD COLUMN instance text NOT NULL DEFAULT '',\n"
	"  DROP CONSTRAINT relay_nodes_pkey,\n"
	"  ADD PRIMARY KEY (relay, instance, node);\n"
	"DROP FUNCTION IF EXISTS cluster_trigger(text, text, text, text,\n"
	"    jsonb, bigint, bigint, integer, integer);\n"
	"CREATE FUNCTION cluster_trigger(p_trigger_id text, p_relay text,\n"
	"    p_node text, p_source text, p_reason text, p_labels jsonb,\n"
	"    p_received_at_us bigint, p_cooldown_us bigint, p_max integer,\n"
	"    p_node_max integer, OUT incident text, OUT refused text)\n"
	"LANGUAGE plpgsql AS $trigger$\n"
	"#variable_conflict use_column\n"
	"DECLARE now_us bigint; last_us bigint; n integer; mine integer;\n"
	"BEGIN\n"
	"  PERFORM 1 FROM cluster_budget WHERE id = 1 FOR UPDATE;\n"
	/* Sent again after a lost answer: the decision already taken. */
	"  SELECT t.incident INTO incident FROM cluster_triggers t\n"
	"    WHERE t.trigger_id = p_trigger_id;\n"
	"  IF FOUND THEN RETURN; END IF;\n"
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
	"  INSERT INTO cluster_triggers (incident, trigger_id, origin_relay,\n"
	"    origin_node, source, reason, labels, received_at_us,\n"
	"    created_at_us) VALUES (incident, p_trigger_id, p_relay, p_node,\n"
	"    p_source, p_reason, p_labels, p_received_at_us, now_us);\n"
	"  PERFORM pg_notify('tracetrap_cluster', incident);\n"
	"END $trigger$;\n"
	/* Version 1's signature, for a relay not upgraded yet: no id. */
	"CREATE FUNCTION cluster_trigger(p_relay text, p_node text,\n"
	"    p_source text, p_reason text, p_labels jsonb,\n"
	"    p_received_at_us bigint, p_cooldown_us bigint, p_max integer,\n"
	"    p_node_max integer, OUT incident text, OUT refused text)\n"
	"LANGUAGE sql AS $trigger$ SELECT * FROM cluster_trigger(NULL,\n"
	"    p_relay, p_node, p_source, p_reason, p_labels, p_received_at_us,\n"
	"    p_cooldown_us, p_max, p_node_max) $trigger$;\n"
	"END IF;\n"
	"UPDATE tracetrap_schema SET version = 2 WHERE part = 'cluster' AND "
	"version < 2;\n"
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
	else if (op->is_simple)
		log_info("cluster: schema migrated to version %d", version);
}

static void
cluster_simple(struct cluster *c, const char *sql, cluster_done_fn done)
{
	struct cluster_op *op = cluster_op_new(sql, done);

	op->is_simple = 1;
	cluster_queue(c, op);
}

/* Next: the migrations, only when due (they need CREATE on the schema). */
static void
cluster_on_version(struct cluster *c, struct cluster_op *op, PGresult *res,
    const char *error)
{
	char	 why[600];

	(void)op;
	if (res == NULL) {
		snprintf(why, sizeof(why), "schema version: %s", error);
		cluster_lost(c, why);
		return;
	}
	if (PQntuples(res) == 1 && atoi(PQgetvalue(res, 0, 0)) >=
	    CLUSTER_SCHEMA_VERSION) {
		cluster_on_schema(c, op, res, NULL);
		return;
	}
	op = cluster_op_new(cluster_schema_sql, cluster_on_schema);
	op->is_simple = 1;
	cluster_queue_first(c, op);
}

/* tracetrap_schema may not exist yet: asked before it is read. */
static void
cluster_on_schema_table(struct cluster *c, struct cluster_op *op,
    PGresult *res, const char *error)
{
	char	 why[600];

	if (res == NULL) {
		snprintf(why, sizeof(why), "schema: %s", error);
		cluster_lost(c, why);
		return;
	}
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		op = cluster_op_new("SELECT version FROM tracetrap_schema "
		    "WHERE part = 'cluster'", cluster_on_version);
		cluster_queue_first(c, op);
		return;
	}
	op = cluster_op_new(cluster_schema_sql, cluster_on_schema);
	op->is_simple = 1;
	cluster_queue_first(c, op);
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

/*
 * Where this relay got to in the triggers, at its start: its name's last
 * (a restart goes on from there, asking nothing twice), or for a name new
 * to the registry the last trigger older than [fleet] catch_up (the
 * fresh ones are asked of its recorders connected by then).
 */
static void
cluster_on_resume(struct cluster *c, struct cluster_op *op, PGresult *res,
    const char *error)
{
	int64_t	 seq;

	(void)op;
	if (res == NULL || PQntuples(res) != 1) {
		log_warnx("cluster: reading where this relay got to in the "
		    "cluster triggers: %s", error != NULL ? error : "no row");
		return;
	}
	seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	if (seq > c->last_seq)
		c->last_seq = seq;
	c->has_resumed = 1;
	log_info("cluster: going on after cluster trigger %lld",
	    (long long)c->last_seq);
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

	/* First: the budget is only safe when it reads committed rows. */
	cluster_simple(c, "SET default_transaction_isolation = "
	    "'read committed'", cluster_on_done);
	cluster_queue(c, cluster_op_new("SELECT to_regclass("
	    "'tracetrap_schema') IS NOT NULL", cluster_on_schema_table));
	/* Before the catch-up: a trigger in between is in one or the other. */
	cluster_simple(c, "LISTEN tracetrap_cluster", cluster_on_done);
	if (!c->has_resumed) {
		op = cluster_op_new("SELECT coalesce((SELECT nullif("
		    "max(last_seq), 0) FROM relays WHERE name = $1), (SELECT "
		    "max(seq) FROM cluster_triggers WHERE created_at_us < "
		    CLUSTER_NOW_US " - $2), 0)", cluster_on_resume);
		cluster_op_param(op, "%s", relay->conf.name);
		cluster_op_param(op, "%llu",
		    (unsigned long long)relay->conf.fleet_catch_up_ms * 1000);
		cluster_queue(c, op);
	}
	cluster_sql_heartbeat(c);
	/* Ours, and those of our name's instances gone from the registry. */
	op = cluster_op_new("DELETE FROM relay_nodes WHERE relay = $1 AND "
	    "(instance = $2 OR instance NOT IN (SELECT instance FROM relays "
	    "WHERE name = $1))", cluster_on_done);
	cluster_op_param(op, "%s", relay->conf.name);
	cluster_op_param(op, "%s", c->instance);
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
	op = cluster_op_new("INSERT INTO relay_nodes (relay, instance, node, "
	    "connected_at_us) SELECT $1, $3, n, " CLUSTER_NOW_US " FROM "
	    "unnest($2::text[]) AS n ON CONFLICT (relay, instance, node) DO "
	    "NOTHING", cluster_on_done);
	cluster_op_param(op, "%s", relay->conf.name);
	cluster_op_param(op, "%s", list);
	cluster_op_param(op, "%s", c->instance);
	cluster_queue(c, op);
	/* Before the catch-up: it fans out what they turn out to be. */
	while ((op = TAILQ_FIRST(&c->unresolved)) != NULL) {
		TAILQ_REMOVE(&c->unresolved, op, entry);
		if (!op->is_fanned_local)
			log_info("cluster: sending the trigger from %s (id %s) "
			    "again", op->node, op->trigger_id);
		cluster_queue(c, op);
	}
	cluster_sql_fetch(c);
	cluster_sql_registry(c);
	cluster_queue(c, cluster_op_new(NULL, cluster_on_ready));
}

/* Fanned out here under a local id, and recorded by the fleet after all. */
static int
cluster_is_skipped(struct cluster *c, int64_t seq)
{
	size_t	 i;

	for (i = 0; i < c->nskip; i++)
		if (c->skip_seqs[i] == seq) {
			c->skip_seqs[i] = c->skip_seqs[--c->nskip];
			return 1;
		}
	return 0;
}

static void
cluster_fetch_prepare(struct cluster *c, struct cluster_op *op)
{
	cluster_op_param(op, "%lld", (long long)c->last_seq);
}

static void
cluster_on_fetch(struct cluster *c, struct cluster_op *op, PGresult *res,
    const char *error)
{
	struct relay		*relay = c->relay;
	struct fanout_request	 r;
	json_t			*labels;
	int64_t			 seq, age_us;
	int			 i, is_new = 0;

	(void)op;
	c->is_fetch_queued = 0;
	if (res == NULL)
		log_warnx("cluster: reading the cluster triggers: %s", error);
	for (i = 0; res != NULL && i < PQntuples(res); i++) {
		seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		if (seq <= c->last_seq)
			continue;
		c->last_seq = seq;
		is_new = 1;
		if (cluster_is_skipped(c, seq)) {
			log_info("cluster: incident %s was asked of this "
			    "relay's recorders under a local id already: not "
			    "again", PQgetvalue(res, i, 1));
			continue;
		}
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
	/* Where a restart goes on from. */
	if (is_new) {
		op = cluster_op_new("UPDATE relays SET last_seq = greatest("
		    "last_seq, $3) WHERE name = $1 AND instance = $2",
		    cluster_on_done);
		cluster_op_param(op, "%s", relay->conf.name);
		cluster_op_param(op, "%s", c->instance);
		cluster_op_param(op, "%lld", (long long)c->last_seq);
		cluster_queue(c, op);
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
	/* After what the statements before it found (the start's resume). */
	op->prepare = cluster_fetch_prepare;
	c->is_fetch_queued = 1;
	cluster_queue(c, op);
}

/* A relay silent for 3 heartbeats (relays of one fleet share them). */
static int64_t
cluster_stale_us(const struct cluster *c)
{
	return 3 * (int64_t)c->relay->conf.fleet_heartbeat_ms * 1000;
}

static void
cluster_on_heartbeat(struct cluster *c, struct cluster_op *op, PGresult *res,
    const char *error)
{
	c->is_heartbeat_queued = 0;
	cluster_on_done(c, op, res, error);
}

/*
 * This instance's row, and away with the stale rows of its name's other
 * instances (this relay before a restart) and their nodes.
 */
void
cluster_sql_heartbeat(struct cluster *c)
{
	struct relay		*relay = c->relay;
	struct cluster_op	*op;

	op = cluster_op_new("WITH gone AS (DELETE FROM relays WHERE name = $1 "
	    "AND instance <> $2 AND heartbeat_at_us < " CLUSTER_NOW_US " - $7 "
	    "RETURNING instance), gone_nodes AS (DELETE FROM relay_nodes WHERE "
	    "relay = $1 AND instance IN (SELECT instance FROM gone)) "
	    "INSERT INTO relays (name, instance, listen_address, api_address, "
	    "started_at_us, registered_at_us, heartbeat_at_us, last_seq) "
	    "VALUES ($1, $2, $3, $4, $5, " CLUSTER_NOW_US ", " CLUSTER_NOW_US
	    ", $6) ON CONFLICT (name, instance) DO UPDATE SET listen_address = "
	    "excluded.listen_address, api_address = excluded.api_address, "
	    "heartbeat_at_us = excluded.heartbeat_at_us, last_seq = "
	    "greatest(relays.last_seq, excluded.last_seq)",
	    cluster_on_heartbeat);
	cluster_op_param(op, "%s", relay->conf.name);
	cluster_op_param(op, "%s", c->instance);
	cluster_op_param(op, "%s", relay->conf.listen_address);
	cluster_op_param(op, "%s", relay->conf.api_address);
	cluster_op_param(op, "%lld", (long long)c->started_at_us);
	cluster_op_param(op, "%lld", (long long)c->last_seq);
	cluster_op_param(op, "%lld", (long long)cluster_stale_us(c));
	op->is_housekeeping = c->state == CLUSTER_READY;
	c->is_heartbeat_queued = 1;
	cluster_queue(c, op);
}

/* cluster_stop()'s, blocking: $1 name, $2 instance, $3 last seq seen. */
const char cluster_sql_unregister[] = "WITH gone AS (DELETE FROM "
    "relay_nodes WHERE relay = $1 AND instance = $2) UPDATE relays SET "
    "heartbeat_at_us = 0, last_seq = greatest(last_seq, $3) WHERE "
    "name = $1 AND instance = $2";

/* Another live relay registers under our name: say so, loudly. */
static void
cluster_conflicts(struct cluster *c, json_t *conflicts)
{
	json_t	*v;
	size_t	 i;

	if (json_equal(conflicts, c->conflicts)) {
		json_decref(conflicts);
		return;
	}
	json_array_foreach(conflicts, i, v)
		log_warnx("cluster: RELAY NAME CONFLICT: another live relay "
		    "(instance %s, recorders on %s, API on %s) registers as "
		    "%s too; this one is instance %s. Give each relay its own "
		    "[node] name: the registry cannot tell their nodes apart "
		    "by name", json_string_value(json_object_get(v,
		    "instance")), json_string_value(json_object_get(v,
		    "listen")), json_string_value(json_object_get(v, "api")),
		    c->relay->conf.name, c->instance);
	if (json_array_size(conflicts) == 0)
		log_info("cluster: no other live relay registers as %s now",
		    c->relay->conf.name);
	json_decref(c->conflicts);
	c->conflicts = conflicts;
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
	json_t		*relays, *nodes, *conflicts;
	int64_t		 age_us, stale_us;
	char		*list, *name, *save;
	int		 i, is_stale, is_ours, is_self;

	(void)op;
	c->is_registry_queued = 0;
	if (res == NULL) {
		log_warnx("cluster: reading the relay registry: %s", error);
		return;
	}
	stale_us = cluster_stale_us(c);
	relays = json_array();
	conflicts = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		age_us = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		is_stale = age_us > stale_us;
		is_ours = strcmp(PQgetvalue(res, i, 0),
		    c->relay->conf.name) == 0;
		is_self = is_ours && strcmp(PQgetvalue(res, i, 6),
		    c->instance) == 0;
		/* Beating since we registered: not us before a restart. */
		if (is_ours && !is_self && !is_stale &&
		    strcmp(PQgetvalue(res, i, 7), "t") == 0)
			json_array_append_new(conflicts, json_pack("{s:s, s:s, "
			    "s:s, s:I}", "instance", PQgetvalue(res, i, 6),
			    "listen", PQgetvalue(res, i, 1),
			    "api", PQgetvalue(res, i, 2),
			    "started_at_us", (json_int_t)strtoll(
			    PQgetvalue(res, i, 3), NULL, 10)));
		nodes = json_array();
		list = PQgetvalue(res, i, 5);
		for (name = strtok_r(list, ",", &save); name != NULL &&
		    !is_stale; name = strtok_r(NULL, ",", &save))
			json_array_append_new(nodes, json_string(name));
		json_array_append_new(relays, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:I, s:I, s:b, s:b, s:o}",
		    "name", PQgetvalue(res, i, 0),
		    "instance", PQgetvalue(res, i, 6),
		    "listen", PQgetvalue(res, i, 1),
		    "api", PQgetvalue(res, i, 2),
		    "started_at_us", (json_int_t)strtoll(PQgetvalue(res, i, 3),
		    NULL, 10),
		    "heartbeat_age_ms", (json_int_t)(age_us / 1000),
		    "stale", is_stale,
		    "self", is_self,
		    "nodes", nodes));
	}
	cluster_conflicts(c, conflicts);
	json_decref(c->relays);
	c->relays = relays;
	c->relays_read_at_us = clock_realtime_us();
}

void
cluster_sql_registry(struct cluster *c)
{
	struct cluster_op	*op;

	op = cluster_op_new("SELECT r.name, r.listen_address, r.api_address, "
	    "r.started_at_us, " CLUSTER_NOW_US " - r.heartbeat_at_us, "
	    "coalesce((SELECT string_agg(n.node, ',' ORDER BY n.node) FROM "
	    "relay_nodes n WHERE n.relay = r.name AND n.instance = "
	    "r.instance), ''), r.instance, r.heartbeat_at_us > coalesce(("
	    "SELECT s.registered_at_us FROM relays s WHERE s.name = $1 AND "
	    "s.instance = $2), " CLUSTER_NOW_US ") FROM relays r ORDER BY "
	    "r.name, r.started_at_us", cluster_on_registry);
	cluster_op_param(op, "%s", c->relay->conf.name);
	cluster_op_param(op, "%s", c->instance);
	op->is_housekeeping = c->state == CLUSTER_READY;
	c->is_registry_queued = 1;
	cluster_queue(c, op);
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
	    "$1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10)",
	    cluster_on_trigger);
	op->trigger = json_incref(trigger);
	snprintf(op->node, sizeof(op->node), "%s", node);
	snprintf(op->trigger_id, sizeof(op->trigger_id), "%s-%llu",
	    c->instance, (unsigned long long)++c->trigger_ids);
	cluster_op_param(op, "%s", op->trigger_id);
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
	cluster_queue_trigger(c, op);
}

static void
cluster_on_trigger_lookup(struct cluster *c, struct cluster_op *op,
    PGresult *res, const char *error)
{
	if (res == NULL) {
		log_warnx("cluster: looking up the trigger from %s (id %s): %s; "
		    "its incident, if recorded, may be asked of this relay's "
		    "recorders again", op->node, op->trigger_id, error);
		return;
	}
	if (PQntuples(res) == 0) {
		log_info("cluster: the trigger from %s (id %s) was not "
		    "recorded: it stays local", op->node, op->trigger_id);
		return;
	}
	if (c->nskip == CLUSTER_SKIP_MAX)
		memmove(c->skip_seqs, c->skip_seqs + 1,
		    --c->nskip * sizeof(c->skip_seqs[0]));
	c->skip_seqs[c->nskip++] = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	log_info("cluster: the trigger from %s (id %s) was recorded as "
	    "incident %s: not asked of this relay's recorders again", op->node,
	    op->trigger_id, PQgetvalue(res, 0, 1));
}

/*
 * A trigger of unknown fate fanned out here meanwhile: from now on it is
 * only looked up, never decided again (that could make a second incident
 * for the same recorders).
 */
void
cluster_sql_trigger_lookup(struct cluster_op *op)
{
	int	 i;

	for (i = 0; i < op->nparams; i++)
		free(op->params[i]);
	op->nparams = 0;
	op->sql = "SELECT seq, incident FROM cluster_triggers WHERE "
	    "trigger_id = $1";
	op->done = cluster_on_trigger_lookup;
	op->is_fanned_local = 1;
	cluster_op_param(op, "%s", op->trigger_id);
}

void
cluster_sql_node(struct cluster *c, const char *node, int is_up)
{
	struct cluster_op *op;

	op = cluster_op_new(is_up ? "INSERT INTO relay_nodes (relay, instance, "
	    "node, connected_at_us) VALUES ($1, $3, $2, " CLUSTER_NOW_US ") ON "
	    "CONFLICT (relay, instance, node) DO UPDATE SET connected_at_us = "
	    "excluded.connected_at_us" : "DELETE FROM relay_nodes WHERE relay = "
	    "$1 AND node = $2 AND instance = $3", cluster_on_done);
	cluster_op_param(op, "%s", c->relay->conf.name);
	cluster_op_param(op, "%s", node);
	cluster_op_param(op, "%s", c->instance);
	cluster_queue(c, op);
}
