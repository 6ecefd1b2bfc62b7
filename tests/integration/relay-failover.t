#!/bin/bash
# Recorders find relays: [relay] address lists two real relays (each with
# its own store) over real mutual TLS. The recorder is on one of them; that
# one is killed and the recorder is on the other within a second, without
# the backoff (reconnect_min is 4 s here, so a link that backed off cannot
# pass); snapshots land on the survivor; an upload cut by a kill starts
# over on the other relay and arrives whole, once; a snapshot taken while
# no relay is up arrives when one returns. Then one DNS name with two
# addresses (a hosts file of this test's own mount namespace): the
# certificate checked is the name's, and the link fails over between its
# addresses the same way.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"
. "$(dirname "$0")/tls-lib.sh"

tt_certs node1
PORT1=5443
PORT2=5444

# relay_conf N HOST PORT API-PORT [CERT]: $T/relayN.conf, store $T/storeN.
relay_conf() {
	RELAY_PORT=$3 RELAY_API_PORT=$4 TT_STORE=$T/store$1 tt_relay_config
	sed -i "s/^name = relay$/name = relay$1/;
	    s/^address = 127.0.0.1:$3$/address = $2:$3/" "$T/relay.conf"
	if [ -n "$5" ]; then
		sed -i "s|/relay\.pem$|/$5.pem|; s|/relay\.key$|/$5.key|" \
		    "$T/relay.conf"
	fi
	mv "$T/relay.conf" "$T/relay$1.conf"
}

# start_relay N: relay N, its pid in RELAYN_PID.
start_relay() {
	local n=$1 pid
	rm -f "$T/relay$n-ready"
	mkfifo "$T/relay$n-ready"
	"$RELAY" -d -v -f "$T/relay$n.conf" --ready-fd 3 3>"$T/relay$n-ready" \
	    >>"$T/relay$n.log" 2>&1 &
	pid=$!
	tt_pids="$tt_pids $pid"
	eval "RELAY${n}_PID=$pid"
	if [ "$(timeout 20 head -n1 "$T/relay$n-ready")" != "READY=1" ]; then
		bail "relay $n did not become ready: $(tail -3 "$T/relay$n.log")"
	fi
}

kill_relay() {	# N: SIGKILL, as a crash
	local pid
	eval "pid=\$RELAY${1}_PID"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
}

# The relay (1 or 2) the recorder is connected to, from the port it shows.
on_relay() {
	case "$(status_field 'if .relay.connected then .relay.peer else "" end')" in
	*:$PORT1) echo 1 ;;
	*:$PORT2) echo 2 ;;
	*) echo none ;;
	esac
}

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# How many of the relays' stores hold snapshot ID, whole.
stored_count() {
	find "$T/store1/incidents" "$T/store2/incidents" -mindepth 3 \
	    -maxdepth 3 -type d -name "$1" 2>/dev/null | wc -l
}
stored_in() {	# N ID
	[ -d "$T/store$1/incidents/$2/node1/$2" ]
}

snap() {	# REASON: the id of a snapshot taken now
	cli snapshot --wait --reason "$1" | sed -E 's/^snapshot ([^ ]+) .*/\1/'
}

relay_conf 1 127.0.0.1 $PORT1 5480
relay_conf 2 127.0.0.1 $PORT2 5481
start_relay 1
start_relay 2
tt_start_sessiond
# A ring big enough that an upload takes a while: the kill lands mid-way.
tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0
$(tt_relay_section node1)"
sed -i "s/^name = testnode$/name = node1/;
    s/^subbuf_size = 64k$/subbuf_size = 4M/;
    s/^subbuf_count = 4$/subbuf_count = 8/;
    s/^address = .*/address = 127.0.0.1:$PORT1, 127.0.0.1:$PORT2/;
    s/^reconnect_min = .*/reconnect_min = 4s/;
    s/^reconnect_max = .*/reconnect_max = 4s/" "$T/recorder.conf"
is "recorder -n takes the list" \
    "$("$RECORDER" -n -f "$T/recorder.conf" 2>&1)/$?" "configuration OK/0"
tt_start_recorder
ok "the recorder connects to one of the two relays" wait_until 20 \
    '[ "$(on_relay)" != none ]'
first=$(on_relay)
other=$((3 - first))
is "it knows both addresses" "$(status_field .relay.addresses)" 2
is "and says which entry it is on" "$(status_field .relay.entry)" \
    "127.0.0.1:$(eval echo \$PORT$first)"
is "no failover yet" "$(status_field .relay.failovers)" 0

tt_start_app 20000 300
wait_for 20 test -s "$T/app.state" || bail "ttapp did not run"
s1=$(snap "on the first relay")
ok "a snapshot lands on the relay the recorder is on" wait_until 20 \
    'stored_in $first "$s1"'

# The relay it is on dies: the recorder moves to the other one at once.
start=$(now_ms)
kill_relay "$first"
ok "after relay $first is killed, the recorder is on relay $other" \
    wait_until 10 '[ "$(on_relay)" = "$other" ]'
took=$(( $(now_ms) - start ))
ok "within a second, not after a backoff of 2 to 4 s (took $took ms)" \
    test "$took" -lt 1500
is "the status counts one failover" "$(status_field .relay.failovers)" 1
is "and shows the entry it is on now" "$(status_field .relay.entry)" \
    "127.0.0.1:$(eval echo \$PORT$other)"
ok "tracetrap status says so" sh -c "'$CLI' status --socket '$T/control.sock' |
    grep -q '^relay  *127.0.0.1:$(eval echo \$PORT$other): connected as node1 since .*; 2 relay addresses, 1 failovers$'"
ok "/metrics counts it, with its HELP" sh -c "
    curl -s --unix-socket '$T/control.sock' http://x/metrics >'$T/metrics.txt' &&
    grep -q '^tracetrap_relay_failovers_total 1$' '$T/metrics.txt' &&
    grep -q '^# HELP tracetrap_relay_failovers_total .' '$T/metrics.txt' &&
    grep -q '^tracetrap_relay_addresses 2$' '$T/metrics.txt'"
ok "the recorder's log names both" grep -q \
    "relay 127.0.0.1:$(eval echo \$PORT$other): connected as node1, failing over from 127.0.0.1:$(eval echo \$PORT$first)" \
    "$T/recorder.log"
s2=$(snap "on the survivor")
ok "the next snapshot lands on the surviving relay" wait_until 20 \
    'stored_in $other "$s2"'

# A large upload to the survivor is cut by a kill: it starts over on the
# first relay, back meanwhile, and arrives there whole, once.
start_relay "$first"
big_pids=""
for cpu in $(seq 0 $(( $(nproc) - 1 ))); do
	taskset -c "$cpu" "$TTAPP" 1500000 "$T/big$cpu.state" 300 \
	    >>"$T/app.log" 2>&1 &
	big_pids="$big_pids $!"
done
tt_pids="$tt_pids $big_pids"
wait_until 60 '[ -s "$T/big0.state" ]' || bail "the big ttapp did not run"
staging_bytes() {	# N
	find "$T/store$1/.staging" -type f -printf '%s\n' 2>/dev/null |
	    awk '{ n += $1 } END { print n + 0 }'
}
s3=$(snap "big one")
bytes=$(jq .bytes "$T/spool/$s3/manifest.json")
ok "the snapshot is large ($bytes bytes)" test "$bytes" -gt 20000000
wait_until 60 '[ "$(staging_bytes $other)" -gt 2000000 ]' ||
    bail "the upload to relay $other did not start"
kill_relay "$other"
ok "cut mid-upload on relay $other, it arrives on relay $first" \
    wait_until 120 'stored_in $first "$s3"'
ok "whole: every file matches its sha256" \
    manifest_verifies "$T/store$first/incidents/$s3/node1/$s3"
is "and only there" "$(stored_count "$s3")" 1
is "relay $first's catalog has it once" "$(sqlite3 "$T/store$first/catalog.db" \
    "select count(*) from snapshots where id = '$s3'")" 1
ok "the recorder marks it uploaded" wait_until 20 \
    '[ -e "$T/spool/$s3/.uploaded" ]'
# The next snapshots need not be large.
kill -TERM $big_pids 2>/dev/null

# No relay at all: the snapshot waits in the spool, and arrives once when
# one comes back.
kill_relay "$first"
ok "with both relays gone the link is down" wait_until 10 \
    '[ "$(status_field .relay.connected)" = false ]'
s4=$(snap "while no relay is up")
is "it waits in the spool" "$(curl -s --unix-socket "$T/control.sock" \
    http://x/v1/snapshots | jq -r ".spool[] | select(.uploaded | not) | .id")" \
    "$s4"
start_relay "$other"
ok "it arrives when relay $other comes back" wait_until 30 \
    'stored_in $other "$s4"'
ok "the recorder marks every snapshot uploaded" wait_until 20 '
    [ "$(curl -s --unix-socket "$T/control.sock" http://x/v1/snapshots |
        jq "[.spool[] | select(.uploaded | not)] | length")" -eq 0 ]'
for id in "$s1" "$s2" "$s4"; do
	is "snapshot $id is stored once over both relays" "$(stored_count "$id")" 1
done
is "the relays stored 4 snapshots in all, none twice" \
    "$(cat "$T/relay1.log" "$T/relay2.log" | grep -c ': snapshot .* stored$')" 4

# One DNS name, two addresses: relays.test is 127.0.0.1 and 127.0.0.2 in a
# hosts file mounted over /etc/hosts in this test's mount namespace only
# (the host's file is not touched). The relays' certificate names
# relays.test alone, no address: the link must check the entry's name.
kill_relay "$other"
tt_stop_recorder
printf '127.0.0.1 localhost\n127.0.0.1 relays.test\n127.0.0.2 relays.test\n' \
    >"$T/hosts"
if ! mount --bind "$T/hosts" /etc/hosts 2>>"$T/mount.log"; then
	echo "# SKIP the DNS-name case: cannot bind-mount a hosts file in this" \
	    "namespace ($(tail -1 "$T/mount.log"))"
	done_testing
	exit
fi
tls_leaf relays "/CN=relay" 'keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:relays.test'
relay_conf 1 127.0.0.1 $PORT1 5480 relays
relay_conf 2 127.0.0.2 $PORT1 5481 relays
start_relay 1
start_relay 2
sed -i "s/^address = .*/address = relays.test:$PORT1/" "$T/recorder.conf"
tt_start_recorder
ok "the recorder connects through the name" wait_until 20 \
    '[ "$(status_field .relay.connected)" = true ]'
is "which stands for two addresses" "$(status_field .relay.addresses)" 2
is "the entry is the name" "$(status_field .relay.entry)" "relays.test:$PORT1"
peer=$(status_field .relay.peer)
case "$peer" in
127.0.0.1:$PORT1) first=1 ;;
127.0.0.2:$PORT1) first=2 ;;
*) bail "unexpected peer $peer" ;;
esac
other=$((3 - first))
start=$(now_ms)
kill_relay "$first"
ok "relay $first killed, the recorder is on the name's other address" \
    wait_until 10 '[ "$(status_field .relay.connected)" = true ] &&
        [ "$(status_field .relay.peer)" = "127.0.0.$other:$PORT1" ]'
took=$(( $(now_ms) - start ))
ok "within a second again (took $took ms)" test "$took" -lt 1500
ok "tracetrap status shows the name and the address" sh -c "'$CLI' status --socket '$T/control.sock' |
    grep -q '^relay  *relays.test:$PORT1 at 127.0.0.$other:$PORT1: connected as node1'"
s5=$(snap "through the name")
ok "a snapshot lands on relay $other" wait_until 20 'stored_in $other "$s5"'
done_testing
