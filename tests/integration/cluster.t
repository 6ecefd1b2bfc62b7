#!/bin/bash
# A cluster-wide incident: three nodes, each with its own session daemon
# (its own mount namespace), linked to one relay. One cluster trigger
# yields one snapshot per node, all filed under one incident id; the fleet
# budget (cooldown, max_per_hour, each node's share) holds back the
# triggers that follow.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_certs node1 node2 node3
tt_relay_config "[fleet]
cooldown = 2s
max_per_hour = 2"
tt_start_relay
for n in node1 node2 node3; do
	tt_start_node "$n"
done
for n in node1 node2 node3; do
	ok "$n is connected to the relay" wait_until 20 \
	    "[ \"\$(node_status $n .relay.connected)\" = true ]"
done
for n in node1 node2 node3; do
	wait_until 20 "[ -s '$T/$n/app.state' ]" || bail "$n's app did not run"
done

out=$("$CLI" snapshot --cluster --reason "checkout errors everywhere" \
    --socket "$T/node1/control.sock")
ok "the CLI says the trigger went to the relay" grep -q forwarded <<<"$out"
incidents() { ls "$T/store/incidents" 2>/dev/null; }
ok "one snapshot per node lands in the store" wait_until 30 \
    '[ "$(find "$T/store/incidents" -mindepth 2 -maxdepth 2 -type d | wc -l)" -eq 3 ]'
is "all under one incident" "$(incidents | wc -l)" 1
incident=$(incidents)
for n in node1 node2 node3; do
	d=$(find "$T/store/incidents/$incident/$n" -mindepth 1 -maxdepth 1 -type d)
	is "$n's snapshot names the incident" "$(jq -r .incident "$d/manifest.json")" "$incident"
	ok "$n's snapshot holds its own app's events" sh -c \
	    "babeltrace2 '$d/trace' | grep -q 'ttapp:tick'"
	ok "$n's snapshot verifies" manifest_verifies "$d"
done
is "the trigger's reason reached every node" \
    "$(cat "$T"/store/incidents/"$incident"/*/*/manifest.json | jq -r '.triggers[0].reason' | sort -u)" \
    "checkout errors everywhere"
is "the relay counts one incident" "$(grep -c 'cluster trigger from node1, snapshot requested from 3 recorders' "$T/relay.log")" 1

# Right away, a second one: the fleet cooldown refuses it.
"$TTSEND" -s "$T/node2/trigger.sock" -c -S app -r "again" >/dev/null
ok "a second cluster trigger within the cooldown is refused" wait_for 10 \
    grep -q "cluster trigger from node2 refused by the fleet cooldown" "$T/relay.log"
sleep 2.1	# the fleet cooldown itself: what is under test
"$TTSEND" -s "$T/node3/trigger.sock" -c -S app -r "later" >/dev/null
ok "after the cooldown, a datagram with scope=cluster opens a second incident" \
    wait_until 30 '[ "$(incidents | wc -l)" -eq 2 ]'
ok "with a snapshot from every node" wait_until 30 \
    '[ "$(find "$T/store/incidents" -mindepth 2 -maxdepth 2 -type d | wc -l)" -eq 6 ]'
sleep 2.1
"$TTSEND" -s "$T/node1/trigger.sock" -c -S app -r "third" >/dev/null
ok "a third within the hour exceeds max_per_hour = 2" wait_for 10 \
    grep -q "refused by the fleet max_per_hour" "$T/relay.log"
is "and opens no incident" "$(incidents | wc -l)" 2
is "node1 counts its cluster triggers as forwarded" \
    "$(node_status node1 '.limiter.counters.manual.forwarded')" 1

# A storm of cluster triggers on one node whose coalesce is 5 s: at most
# one per 5 s leaves it, the others are counted as coalesced into the
# incident it opens.
sed -i 's/^coalesce = 0$/coalesce = 5s/' "$T/node2/recorder.conf"
kill -HUP "$(pgrep -f "tracetrap-recorder -d -v -f $T/node2/recorder.conf")"
wait_for 10 grep -q "reload: configuration .* applied" "$T/node2/recorder.log"
read -r _ sent _ dropped _ secs < <("$TTSEND" -s "$T/node2/trigger.sock" \
    -n 200 -c -S storm -r "storm" -w)
is "200 cluster triggers sent to node2" "$sent/$dropped" 200/0
fwd=$(node_status node2 '.limiter.counters.storm.forwarded // 0')
coal=$(node_status node2 '.limiter.counters.storm.coalesced // 0')
ok "node2 forwards at most one per coalesce window ($fwd in ${secs}s)" \
    test "$fwd" -le "$(awk -v s="$secs" 'BEGIN { print int(s / 5) + 1 }')"
is "and counts the rest as coalesced" $((fwd + coal)) 200
ok "(most of them)" test "$coal" -ge 199

# SIGHUP: a bad file is refused, a good one lifts the hourly cap at once.
cp "$T/relay.conf" "$T/relay.good"
echo "cooldown = someday" >>"$T/relay.conf"
kill -HUP "$RELAY_PID"
ok "a bad relay reload is refused" wait_for 10 \
    grep -q "reload: .* has errors, keeping the running configuration" "$T/relay.log"
sed 's/^max_per_hour = 2$/max_per_hour = 0/' "$T/relay.good" >"$T/relay.conf"
kill -HUP "$RELAY_PID"
wait_for 10 grep -q "reload: fleet, retention" "$T/relay.log"
sleep 2.1	# past the fleet cooldown
"$TTSEND" -s "$T/node1/trigger.sock" -c -S app -r "after reload" >/dev/null
ok "after a reload without the hourly cap, a third incident opens" \
    wait_until 30 '[ "$(incidents | wc -l)" -eq 3 ]'

# Each node's share of the fleet's hour: node1 has opened two incidents,
# which is all node_max_per_hour = 2 leaves it; node3 still gets one.
sed 's/^max_per_hour = 2$/max_per_hour = 0\nnode_max_per_hour = 2/' \
    "$T/relay.good" >"$T/relay.conf"
kill -HUP "$RELAY_PID"
wait_until 10 '[ "$(grep -c "reload: fleet" "$T/relay.log")" -eq 2 ]'
sleep 2.1	# past the fleet cooldown
"$TTSEND" -s "$T/node1/trigger.sock" -c -S app -r "node1 again" >/dev/null
ok "a node past its share of the hour is refused" wait_for 10 \
    grep -q "cluster trigger from node1 refused by the fleet node_max_per_hour" \
    "$T/relay.log"
"$TTSEND" -s "$T/node3/trigger.sock" -c -S app -r "node3's turn" >/dev/null
ok "while another node still opens an incident" \
    wait_until 30 '[ "$(incidents | wc -l)" -eq 4 ]'
done_testing
