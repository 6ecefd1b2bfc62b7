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

# A restart goes on where the relay got to (last_seq in its row): it
# asks nothing again; a clean stop leaves no node rows of it.
sed -i 's/^catch_up = 1s$/catch_up = 30s/' "$T/r2/relay.conf"
start_relay 2
ok "nodeB is back on relay 2" wait_until 40 \
    '[ "$(node_status nodeB .relay.connected)" = true ] && [ "$(status 2 "[.cluster.relays[] | select(.self) | .nodes[]] | join(\",\")")" = nodeB ]'
"$TTSEND" -s "$T/nodeA/trigger.sock" -c -S app -r "before a restart" >/dev/null
ok "relay 1 files A's snapshot of a new incident" wait_until 30 \
    '[ "$(newest_incident 1 nodeA)" != "$inc4" ]'
inc5=$(newest_incident 1 nodeA)
ok "B snapshots $inc5 through relay 2" wait_until 30 '[ "$(filed 2 nodeB "$inc5")" -eq 1 ]'
kill -TERM "${RELAY_PIDS[2]}"
ok "relay 2 stops" wait_until 10 'stopped ${RELAY_PIDS[2]}'
is "its clean stop leaves no node rows of relay 2" \
    "$(sql "select count(*) from relay_nodes where relay = 'relay2'")" 0
last=$(sql "select max(seq) from cluster_triggers")
is "its row keeps the last trigger it saw" \
    "$(sql "select max(last_seq) from relays where name = 'relay2'")" "$last"
start_relay 2
is "restarted, relay 2 asks nothing again (none replayed, none stale)" \
    "$(status 2 '.cluster.replayed + .cluster.stale')" 0
ok "and says where it goes on from" grep -q \
    "cluster: going on after cluster trigger $last" "$T/relay2.log"

# Migrations only when due: a role that may no longer CREATE (what a DBA
# may do after the first start) still connects.
super "alter schema public owner to postgres; revoke create on schema public from public" >/dev/null
cannot_create() { ! sql "create table tt_probe (x int)"; }
ok "the tracetrap role may no longer create tables" cannot_create
kill -TERM "${RELAY_PIDS[2]}"
wait_until 10 'stopped ${RELAY_PIDS[2]}'
listened=$(grep -c "listening for cluster triggers" "$T/relay2.log")
if try_start_relay 2; then
	ok "without CREATE, restarted relay 2 connects and LISTENs" wait_until 20 \
	    '[ "$(grep -c "listening for cluster triggers" "$T/relay2.log")" -gt "$listened" ]'
	super "alter schema public owner to pg_database_owner" >/dev/null
else
	ok "without CREATE, restarted relay 2 starts: $(tail -1 "$T/relay2.log")" false
	super "alter schema public owner to pg_database_owner" >/dev/null
	start_relay 2
fi

# The budget reads committed rows whatever the role's default: two
# triggers waiting for its lock, one through each relay, with a cooldown
# of 10 min: the second is refused, also under repeatable read.
super "alter role tracetrap set default_transaction_isolation = 'repeatable read'" >/dev/null
# cooldown OLD NEW: on both relays, applied (SIGHUP).
cooldown() {
	local n reloads
	for n in 1 2; do
		reloads=$(grep -c "reload: fleet" "$T/relay$n.log")
		sed -i "s/^cooldown = $1\$/cooldown = $2/" "$T/r$n/relay.conf"
		kill -HUP "${RELAY_PIDS[$n]}"
		wait_until 10 "[ \$(grep -c 'reload: fleet' '$T/relay$n.log') -gt $reloads ]"
	done
}
cooldown 0 600s
c1=$(status 1 .cluster.connects)
c2=$(status 2 .cluster.connects)
sql "select pg_terminate_backend(pid) from pg_stat_activity where application_name like 'tracetrap-relay %'" >/dev/null
ok "both relays reconnect, under the role's new default" wait_until 20 \
    '[ "$(status 1 .cluster.connects)" -gt "$c1" ] && [ "$(status 2 .cluster.connects)" -gt "$c2" ] && [ "$(status 1 .cluster.connected)" = true ] && [ "$(status 2 .cluster.connected)" = true ]'
before=$(sql "select count(*) from cluster_triggers")
refusals=$(cat "$T/relay1.log" "$T/relay2.log" | grep -c "refused by the fleet cooldown")
# The triggers so far, 20 min older: past the cooldown.
sql "update cluster_triggers set created_at_us = created_at_us - 1200000000" >/dev/null
hold ttbudget "select 1 from cluster_budget for update"
"$TTSEND" -s "$T/nodeA/trigger.sock" -c -S app -r "race at A" >/dev/null
"$TTSEND" -s "$T/nodeB/trigger.sock" -c -S app -r "race at B" >/dev/null
ok "both triggers wait for the budget's lock" wait_until 10 '[ "$(waiting)" = 2 ]'
release ttbudget
ok "one of them is refused by the cooldown" wait_until 10 \
    '[ "$(cat "$T/relay1.log" "$T/relay2.log" | grep -c "refused by the fleet cooldown")" -gt "$refusals" ]'
is "one of them is recorded" "$(sql "select count(*) from cluster_triggers")" $((before + 1))
super "alter role tracetrap reset default_transaction_isolation" >/dev/null
cooldown 600s 0

# A trigger in flight when the connection drops: sent again after the
# reconnection, under its id, and fanned out as the fleet's incident.
local_only=$(status 1 .cluster.local_only)
hold ttbudget "select 1 from cluster_budget for update"
"$TTSEND" -s "$T/nodeA/trigger.sock" -c -S app -r "in flight" >/dev/null
ok "relay 1's trigger waits for the budget's lock" wait_until 10 '[ "$(waiting)" = 1 ]'
sql "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'tracetrap-relay relay1'" >/dev/null
release ttbudget
ok "relay 1 sends it again once reconnected" wait_for 20 grep -q \
    "cluster: sending the trigger from nodeA (id .*) again" "$T/relay1.log"
ok "it is recorded once" wait_until 20 \
    '[ "$(sql "select count(*) from cluster_triggers where reason = '\''in flight'\''")" = 1 ]'
inc6=$(sql "select incident from cluster_triggers where reason = 'in flight'")
ok "B snapshots it on relay 2 ($inc6)" wait_until 30 '[ "$(filed 2 nodeB "$inc6")" -eq 1 ]'
ok "A too, on relay 1" wait_until 30 '[ "$(filed 1 nodeA "$inc6")" -eq 1 ]'
is "with no local-only incident" "$(status 1 .cluster.local_only)" "$local_only"

# A frozen server: the heartbeat does not pile up statements.
hold ttrelays "lock table relays in access exclusive mode"
sleep 3	# 6 heartbeats of 500 ms while frozen: what is under test
queued=$(status 1 .cluster.queued)
ok "relay 1 queues no more heartbeats while frozen ($queued queued)" \
    test "$queued" -le 3
release ttrelays
ok "and it is connected after" wait_until 15 '[ "$(status 1 .cluster.connected)" = true ] && [ "$(status 1 .cluster.queued)" -le 1 ]'

# Two relays with one name: each says so, neither deletes the other's
# node rows.
relay_conf 3 "$fleet"
sed -i 's/^name = relay3$/name = relay1/' "$T/r3/relay.conf"
start_relay 3
ok "the second relay1 warns of the conflict" wait_for 10 grep -q \
    "cluster: RELAY NAME CONFLICT: another live relay (instance $(status 1 .cluster.instance), recorders on 127.0.0.1:5441" \
    "$T/relay3.log"
ok "the first one too, and shows it in /v1/status" wait_until 10 \
    '[ "$(status 1 ".cluster.name_conflicts[0].listen")" = 127.0.0.1:5443 ]'
is "relay1's node row is still there" \
    "$(sql "select count(*) from relay_nodes where relay = 'relay1' and node = 'nodeA'")" 1
kill -TERM "${RELAY_PIDS[3]}"
wait_until 10 'stopped ${RELAY_PIDS[3]}'
is "and still after the second one's stop" \
    "$(sql "select count(*) from relay_nodes where relay = 'relay1' and node = 'nodeA'")" 1
ok "the first says when the conflict is over" wait_for 10 grep -q \
    "cluster: no other live relay registers as relay1 now" "$T/relay1.log"

# A stop does not wait for a frozen server beyond its bound.
relay_conf 4 "heartbeat = 60s"
start_relay 4
hold ttnodes "lock table relay_nodes in access exclusive mode"
kill -TERM "${RELAY_PIDS[4]}"
ok "relay 4 stops within 5 s, relay_nodes locked" wait_until 5 'stopped ${RELAY_PIDS[4]}'
ok "saying it left without unregistering" grep -q \
    "cluster: leaving without unregistering" "$T/relay4.log"
release ttnodes

# Host names are resolved off the loop, then given to libpq as hostaddr
# with the name kept (.pgpass matches it): localhost from /etc/hosts...
sed "s/^127.0.0.1:/localhost:/" "$PGPASSFILE" >>"$PGPASSFILE"
sed "s/^127.0.0.1:/db.example:/" "$PGPASSFILE" | head -1 >>"$PGPASSFILE"
relay_conf 5 ""
sed -i "s/host=127.0.0.1/host=localhost/" "$T/r5/relay.conf"
start_relay 5
ok "relay 5 connects to host=localhost" grep -q \
    "listening for cluster triggers; relay relay5 registered" "$T/relay5.log"
# ...and db.example, which is in /etc/hosts at the start (the catalog
# resolves it on its own), then only in a DNS that never answers.
cp /etc/hosts "$T/hosts"
echo "127.0.0.1 db.example" >>"$T/hosts"
printf 'nameserver 127.0.0.53\noptions timeout:2 attempts:1\n' >"$T/resolv.conf"
python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.53", 53))
time.sleep(600)' &
tt_pids="$tt_pids $!"
mount --bind "$T/hosts" /etc/hosts
mount --bind "$T/resolv.conf" /etc/resolv.conf
relay_conf 6 ""
sed -i "s/host=127.0.0.1/host=db.example/" "$T/r6/relay.conf"
start_relay 6
grep -v db.example /etc/hosts >"$T/hosts.new"
cat "$T/hosts.new" >"$T/hosts"
sql "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'tracetrap-relay relay6'" >/dev/null
ok "relay 6 says why it cannot connect, twice" wait_until 20 \
    '[ "$(grep -c "cluster: PostgreSQL unreachable: resolving db.example: " "$T/relay6.log")" -ge 2 ]'
lag=$(status 6 '[.. | .loop_lag_max_us? // empty] | max')
ok "its event loop did not wait for DNS (max lag $lag us)" test "$lag" -lt 500000
echo "127.0.0.1 db.example" >>"$T/hosts"
ok "relay 6 connects again once db.example resolves" wait_until 20 \
    '[ "$(status 6 .cluster.connected)" = true ]'
done_testing
