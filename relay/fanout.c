/*
 * Cluster-wide incidents. A recorder forwards a cluster-scope trigger; the
 * relay applies the fleet budget ([fleet] cooldown and max_per_hour: one
 * storm across fifty nodes must not become fifty incidents an hour;
 * node_max_per_hour: one node, or any code that may write to its trigger
 * socket, cannot spend the whole fleet's hour) and
 * sends one SNAPSHOT_REQUEST, with one incident id, to every connected
 * recorder of the fleet over the connections already open: no connection
 * setup stands between the trigger and the snapshots. With [catalog]
 * backend = postgresql the budget and the incident are the fleet's, in
 * the database, across relays (cluster.c); this relay's recorders are
 * still asked by fanout_send().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "protocol.h"
#include "relay.h"

#define FANOUT_HOUR_US	(3600 * 1000000LL)

/* NULL when the budget allows node an incident now, else the limit's name. */
const char *
fanout_budget(const struct relay_fleet *f, const struct relay_config *conf,
    const char *node, int64_t now)
{
	unsigned	 max = conf->fleet_max_per_hour;
	unsigned	 node_max = conf->fleet_node_max_per_hour;
	size_t		 i, n = 0, mine = 0;

	if (f->has_last && now - f->last_us <
	    (int64_t)conf->fleet_cooldown_ms * 1000)
		return "cooldown";
	for (i = 0; i < RELAY_FLEET_HISTORY; i++) {
		if (f->history[i].at_us == 0 ||
		    now - f->history[i].at_us >= FANOUT_HOUR_US)
			continue;
		n++;
		if (strcmp(f->history[i].node, node) == 0)
			mine++;
	}
	if (max > 0 && n >= max)
		return "max_per_hour";
	if (node_max > 0 && mine >= node_max)
		return "node_max_per_hour";
	return NULL;
}

void
fanout_spend(struct relay_fleet *f, const char *node, int64_t now)
{
	struct relay_fleet_spent *s;

	f->has_last = 1;
	f->last_us = now;
	s = &f->history[f->next++ % RELAY_FLEET_HISTORY];
	s->at_us = now;
	snprintf(s->node, sizeof(s->node), "%s", node);
}

static int
fanout_includes(struct relay *relay, const char *node)
{
	return relay_config_fleet_includes(&relay->conf, node);
}

/*
 * One SNAPSHOT_REQUEST to every connected recorder of the fleet ([fleet]
 * nodes), each recorded so that its upload naming the incident is
 * accepted. Returns how many were asked.
 */
unsigned
fanout_send(struct relay *relay, const struct fanout_request *r)
{
	json_t		*request;
	unsigned	 n;
	int64_t		 now = clock_realtime_us();

	request = json_pack("{s:s, s:s, s:s, s:O?, s:s, s:I, s:I}",
	    "incident", r->incident, "source", r->source, "reason", r->reason,
	    "labels", r->labels, "requested_by", r->requested_by,
	    "requested_at_us", (json_int_t)r->requested_at_us,
	    /* When the origin recorder read the trigger: fan-out latency. */
	    "trigger_received_at_us", (json_int_t)r->trigger_received_at_us);
	n = ingest_broadcast(relay, FRAME_SNAPSHOT_REQUEST, request,
	    fanout_includes);
	json_decref(request);
	relay->stats.incidents++;
	if (r->via != NULL)
		log_info("incident %s: cluster trigger from %s via relay %s, "
		    "snapshot requested from %u recorders %lld us after it "
		    "was accepted", r->incident, r->requested_by, r->via, n,
		    (long long)(now - r->requested_at_us));
	else
		log_info("incident %s: cluster trigger from %s, snapshot "
		    "requested from %u recorders in %lld us", r->incident,
		    r->requested_by, n, (long long)(clock_realtime_us() -
		    r->requested_at_us));
	return n;
}

/*
 * The fleet budget and the fan-out of this relay alone: the embedded
 * default, and a cluster relay's fallback while PostgreSQL is out of
 * reach (then the incident id names the relay: another relay's
 * sequence may give the same number).
 */
void
fanout_local(struct relay *relay, const char *node, json_t *trigger)
{
	struct fanout_request	 r;
	char			 incident[128], stamp[32];
	const char		*limit;
	int64_t			 now = clock_realtime_us();
	time_t			 sec = (time_t)(now / 1000000);
	struct tm		 tm;

	if ((limit = fanout_budget(&relay->fleet, &relay->conf, node, now))
	    != NULL) {
		relay->stats.incidents_rate_limited++;
		log_info("cluster trigger from %s refused by the fleet %s",
		    node, limit);
		return;
	}
	fanout_spend(&relay->fleet, node, now);
	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (relay->conf.catalog_backend == RELAY_CATALOG_POSTGRESQL) {
		log_warnx("cluster trigger from %s: PostgreSQL is out of reach, "
		    "asking this relay's recorders only", node);
		snprintf(incident, sizeof(incident), "incident-%s-%s-%llu",
		    stamp, relay->conf.name,
		    (unsigned long long)++relay->fleet.sequence);
	} else
		snprintf(incident, sizeof(incident), "incident-%s-%llu", stamp,
		    (unsigned long long)++relay->fleet.sequence);
	memset(&r, 0, sizeof(r));
	r.incident = incident;
	r.source = json_string_value(json_object_get(trigger, "source"));
	if (r.source == NULL)
		r.source = "cluster";
	r.reason = json_string_value(json_object_get(trigger, "reason"));
	if (r.reason == NULL)
		r.reason = "";
	r.labels = json_object_get(trigger, "labels");
	r.requested_by = node;
	r.requested_at_us = now;
	r.trigger_received_at_us = json_integer_value(json_object_get(trigger,
	    "received_at_us"));
	fanout_send(relay, &r);
}

/* A recorder's CLUSTER_TRIGGER: to the fleet's budget, wherever it is. */
void
fanout_trigger(struct relay *relay, const char *node, json_t *trigger)
{
	if (relay->cluster != NULL && cluster_trigger(relay, node, trigger) == 0)
		return;
	fanout_local(relay, node, trigger);
}
