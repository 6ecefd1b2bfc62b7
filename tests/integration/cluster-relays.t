#!/bin/bash
# Cluster triggers across two relays through one PostgreSQL ([catalog]
# backend = postgresql; conf/tier.sh starts it): recorder A on relay 1,
# recorder B on relay 2, each a whole node with its own lttng-sessiond.
# A cluster trigger at A makes B snapshot under the same incident; the
# fleet budget holds across the relays; after PostgreSQL restarts the
# relays LISTEN again; a trigger made while a relay was away reaches its
# recorders when fresh ([fleet] catch_up), not when stale; the registry
# lists both relays and their nodes; a recorder asked twice for one
# incident snapshots once.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"
. "$(dirname "$0")/cluster-lib.sh"

tt_certs nodeA nodeB

status() { relay_status "$@"; }
# Snapshots of NODE filed under INCIDENT in relay N's store.
filed() {
	find "$T/r$1/store/incidents/$3/$2" -mindepth 1 -maxdepth 1 -type d \
	    2>/dev/null | wc -l
}
# The incident of NODE's newest snapshot in relay N's store.
newest_incident() {
	ls -t "$T/r$1/store/incidents" 2>/dev/null | while read -r i; do
		[ -d "$T/r$1/store/incidents/$i/$2" ] && { echo "$i"; break; }
	done
}

fleet="cooldown = 0
max_per_hour = 1
node_max_per_hour = 0
heartbeat = 500ms
catch_up = 30s"
relay_conf 1 "$fleet"
relay_conf 2 "$fleet"
start_relay 1
start_relay 2
for n in 1 2; do
	ok "relay $n connects to PostgreSQL and LISTENs" wait_for 20 \
	    grep -q "cluster: listening for cluster triggers; relay relay$n registered" \
	    "$T/relay$n.log"
done
is "the schema's cluster part is at version 2" \
    "$(sql "select version from tracetrap_schema where part = 'cluster'")" 2

RELAY_PORT=5441 tt_start_node nodeA
RELAY_PORT=5442 tt_start_node nodeB
for n in nodeA nodeB; do
	ok "$n is connected to its relay" wait_until 20 \
	    "[ \"\$(node_status $n .relay.connected)\" = true ]"
	wait_until 20 "[ -s '$T/$n/app.state' ]" || bail "$n's app did not run"
done

# The registry: both relays, each with its node, seen from either.
ok "relay 1's status lists both relays and their nodes" wait_until 10 \
    '[ "$(status 1 "[.cluster.relays[] | \"\(.name)=\(.nodes | join(\",\"))\"] | join(\" \")")" = "relay1=nodeA relay2=nodeB" ]'
ok "relay 2's too" wait_until 10 \
    '[ "$(status 2 "[.cluster.relays[] | \"\(.name)=\(.nodes | join(\",\"))\"] | join(\" \")")" = "relay1=nodeA relay2=nodeB" ]'
out=$("$CLI" status --relay http://127.0.0.1:5481)
ok "tracetrap status --relay prints relay 2 and its node" \
    grep -q "^relay     relay2 (127.0.0.1:5442, api 127.0.0.1:5482): up, heartbeat .* 1 node: nodeB" <<<"$out"
ok "and relay 1 as this one" grep -q "^relay     relay1 (this one)" <<<"$out"

# A cluster trigger at A: B, on the other relay, snapshots under its id.
"$CLI" snapshot --cluster --reason "errors everywhere" \
    --socket "$T/nodeA/control.sock" >/dev/null
ok "A's snapshot lands on relay 1" wait_until 30 \
    '[ -n "$(newest_incident 1 nodeA)" ]'
inc1=$(newest_incident 1 nodeA)
ok "B snapshots the same incident, on relay 2 ($inc1)" wait_until 30 \
    '[ "$(filed 2 nodeB "$inc1")" -eq 1 ]'
d=$(find "$T/r2/store/incidents/$inc1/nodeB" -mindepth 1 -maxdepth 1 -type d)
is "B's manifest names the incident" "$(jq -r .incident "$d/manifest.json")" "$inc1"
is "and the reason given at A" "$(jq -r '.triggers[0].reason' "$d/manifest.json")" \
    "errors everywhere"
# One catalog (PostgreSQL): one incident with both nodes, whichever relay.
for port in 5481 5482; do
	is "the API on $port lists the incident with both nodes" \
	    "$(curl -s "http://127.0.0.1:$port/v1/incidents/$inc1" | jq -r '[.snapshots[].node] | sort | join(",")')" \
	    nodeA,nodeB
done
is "one row for it in cluster_triggers" \
    "$(sql "select origin_relay || ' ' || origin_node from cluster_triggers where incident = '$inc1'")" \
    "relay1 nodeA"

# max_per_hour = 1 is the fleet's, not each relay's.
"$TTSEND" -s "$T/nodeB/trigger.sock" -c -S app -r "again" >/dev/null
ok "a second cluster trigger, through relay 2, is refused by the fleet budget" \
    wait_for 10 grep -q "cluster trigger from nodeB refused by the fleet max_per_hour" \
    "$T/relay2.log"
is "still one trigger in the table" "$(sql 'select count(*) from cluster_triggers')" 1

# No hourly cap from here on (SIGHUP applies the fleet keys).
for n in 1 2; do
	sed -i 's/^max_per_hour = 1$/max_per_hour = 0/' "$T/r$n/relay.conf"
	kill -HUP "${RELAY_PIDS[$n]}"
	wait_for 10 grep -q "reload: fleet" "$T/relay$n.log"
done

# PostgreSQL restarts: both relays reconnect and LISTEN again.
runuser -u postgres -- /usr/lib/postgresql/*/bin/pg_ctl -D \
    "$TIER/postgresql/data" -w -t 60 restart -m fast >>"$T/tier.log" 2>&1 ||
    bail "pg_ctl restart failed"
head -1 "$TIER/postgresql/data/postmaster.pid" >"$TIER/run/postgresql.pid"
for n in 1 2; do
	ok "relay $n reconnects after PostgreSQL's restart" wait_until 30 \
	    "[ \"\$(status $n .cluster.connects)\" -ge 2 ] && [ \"\$(status $n .cluster.connected)\" = true ]"
done
"$TTSEND" -s "$T/nodeA/trigger.sock" -c -S app -r "after restart" >/dev/null
ok "a trigger at A after the restart reaches B through relay 2's new LISTEN" \
    wait_until 30 '[ "$(newest_incident 2 nodeB)" != "$inc1" ] && [ -n "$(newest_incident 2 nodeB)" ]'
inc2=$(newest_incident 2 nodeB)

# away N: relay N stopped and its PostgreSQL session ended meanwhile.
away() {
	kill -STOP "${RELAY_PIDS[$1]}"
	sql "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'tracetrap-relay relay$1'" >/dev/null
}
back() { kill -CONT "${RELAY_PIDS[$1]}"; }

# A trigger made while relay 2 was away, fresh when it is back: caught up.
away 2
"$TTSEND" -s "$T/nodeA/trigger.sock" -c -S app -r "while away" >/dev/null
ok "relay 1 files A's snapshot of the new incident" wait_until 30 \
    '[ "$(newest_incident 1 nodeA)" != "$inc2" ]'
inc3=$(newest_incident 1 nodeA)
back 2
ok "relay 2 catches up: B snapshots $inc3" wait_until 30 \
    '[ "$(filed 2 nodeB "$inc3")" -eq 1 ]'
ok "after reconnecting (its third connection)" test "$(grep -c "cluster: connected to PostgreSQL" "$T/relay2.log")" -ge 3

# The same, stale: older than relay 2's catch_up when it is back.
sed -i 's/^catch_up = 30s$/catch_up = 1s/' "$T/r2/relay.conf"
kill -HUP "${RELAY_PIDS[2]}"
wait_until 10 '[ "$(grep -c "reload: fleet" "$T/relay2.log")" -ge 2 ]'
away 2
"$TTSEND" -s "$T/nodeA/trigger.sock" -c -S app -r "long ago" >/dev/null
ok "relay 1 files A's snapshot of another incident" wait_until 30 \
    '[ "$(newest_incident 1 nodeA)" != "$inc3" ]'
inc4=$(newest_incident 1 nodeA)
sleep 1.5	# past relay 2's catch_up: what is under test
back 2
ok "relay 2 skips it as older than catch_up, with a log line" wait_for 30 \
    grep -q "incident $inc4 (from nodeA via relay relay1) is .* ms old, older than \[fleet\] catch_up" \
    "$T/relay2.log"
sleep 1
is "and B does not snapshot it" "$(filed 2 nodeB "$inc4")" 0
is "relay 2 counts it as too old" "$(status 2 .cluster.stale)" 1

# The same incident announced twice (as after a catch-up, or a relay
# failover): each recorder snapshots it once.
sql "begin;
create temp table again as select * from cluster_triggers where incident = '$inc3';
delete from cluster_triggers where incident = '$inc3';
insert into cluster_triggers (incident, origin_relay, origin_node, source,
    reason, labels, received_at_us, created_at_us)
    select incident, origin_relay, origin_node, source, reason, labels,
    received_at_us, (extract(epoch from clock_timestamp()) * 1000000)::bigint
    from again;
notify tracetrap_cluster, '$inc3';
commit;" >/dev/null
for n in nodeA nodeB; do
	ok "$n drops the repeated incident $inc3" wait_for 20 grep -q \
	    "snapshot request for incident $inc3 dropped: already asked for it" \
	    "$T/$n/recorder.log"
done
is "A filed it once" "$(filed 1 nodeA "$inc3")" 1
is "B filed it once" "$(filed 2 nodeB "$inc3")" 1

# A relay gone without a word: stale after 3 heartbeats, its nodes ignored.
kill -KILL "${RELAY_PIDS[2]}"
ok "relay 1 shows relay 2 as stale, without nodes" wait_until 10 \
    '[ "$(status 1 "[.cluster.relays[] | select(.name == \"relay2\") | \"\(.stale) \(.nodes | length)\"] | .[0]")" = "true 0" ]'
ok "and tracetrap status says so" sh -c \
    "'$CLI' status --relay http://127.0.0.1:5481 | grep -q '^relay     relay2 .*: STALE'"
done_testing
