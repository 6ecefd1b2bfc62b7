#!/bin/bash
# Hostile peers of the ingest port (issue 10, items 2, 3, 4, 7, 8): idle
# connections are timed out and capped, a descriptor shortage pauses
# accepting instead of spinning a core, a peer that never reads stops
# being read, a node's ERROR text is logged escaped, and manifests the
# relay would not catalogue, too big, or naming an incident the relay
# never asked for are refused or filed apart. Real recorders get in
# throughout.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

TTFLOOD=$TT_ROOT/tests/apps/ttflood.py
api() { curl -s "http://127.0.0.1:$RELAY_API_PORT$1"; }
ingest_field() { api /v1/status | jq -r ".ingest$1"; }
# CPU ticks (user + system) the relay used so far.
relay_ticks() { awk '{ print $14 + $15 }' "/proc/$RELAY_PID/stat"; }

tt_certs node1 node2 s1 s2 s3 s4 s5 deaf
tt_relay_config "[listen]
handshake_timeout = 3s
max_connections = 60
max_per_address = 40"
tt_start_relay

# Item 3: silent peers go at handshake_timeout, from their accept.
is "20 silent connections are closed after handshake_timeout" \
    "$(python3 "$TTFLOOD" --port "$RELAY_PORT" --count 20 --hold 8 --until-closed)" \
    "opened 20 closed 20"
ok "counted as timeouts" test "$(ingest_field .timeouts)" -ge 20

# Past max_per_address the oldest silent peer (older than a second) makes
# room, or the newcomer is refused: a flood from 127.0.0.2 that reopens
# every connection the relay closes holds at most 40, and a recorder from
# 127.0.0.1 still gets in.
python3 "$TTFLOOD" --port "$RELAY_PORT" --count 100 --forever \
    --source 127.0.0.2 >"$T/flood.out" &
FLOOD_PID=$!
tt_pids="$tt_pids $FLOOD_PID"
wait_until 10 'grep -q opened "$T/flood.out"'
wait_until 10 '[ "$(ingest_field .evicted)" -ge 60 ]'
ok "the cap evicts silent peers" test "$(ingest_field .evicted)" -ge 60
ok "and refuses newcomers when none is old enough" \
    test "$(ingest_field .refused)" -ge 1
ok "connections stay within max_per_address" \
    test "$(ingest_field .connections)" -le 40
is "a recorder from another address still gets in" \
    "$(frame_as node1 handshake)" "ok node1"
kill "$FLOOD_PID"; wait "$FLOOD_PID" 2>/dev/null

# Past max_connections (60) from several addresses: two silent floods of
# 40 that do not reconnect fill it; once they are a second old, a
# recorder makes room for itself by evicting the oldest of them.
ev0=$(ingest_field .evicted)
for src in 127.0.0.2 127.0.0.3; do
	python3 "$TTFLOOD" --port "$RELAY_PORT" --count 40 --hold 5 \
	    --source "$src" >/dev/null &
	tt_pids="$tt_pids $!"
done
wait_until 10 '[ "$(ingest_field .connections)" -ge 60 ]'
ok "two floods fill max_connections, no more" \
    test "$(ingest_field .connections)" -eq 60
sleep 1.2	# the grace of a connection in its handshake
is "a recorder evicts an old silent one to get in" \
    "$(frame_as node1 handshake)" "ok node1"
ok "counted" test "$(ingest_field .evicted)" -gt "$ev0"

# No descriptors left: accept fails with EMFILE. The relay pauses its
# listener with backoff instead of being woken for the same pending
# connection forever (100 % of a core before).
# The floods above gone first: their descriptors would be room again.
wait_until 20 '[ "$(ingest_field .connections)" -eq 0 ]' ||
    bail "connections of the floods above still open"
open_fds=$(ls "/proc/$RELAY_PID/fd" | wc -l)
read -r soft hard <<<"$(awk '/^Max open files/ { print $4, $5 }' "/proc/$RELAY_PID/limits")"
prlimit --pid "$RELAY_PID" --nofile=$((open_fds + 2)):"$hard" ||
    bail "prlimit failed"
python3 "$TTFLOOD" --port "$RELAY_PORT" --count 30 --forever >"$T/flood.out" &
FLOOD_PID=$!
tt_pids="$tt_pids $FLOOD_PID"
wait_until 10 'grep -q opened "$T/flood.out"'
sleep 0.5
t0=$(relay_ticks)
sleep 2
t1=$(relay_ticks)
hz=$(getconf CLK_TCK)
ok "out of descriptors, the relay does not spin (used $((t1 - t0)) of $((2 * hz)) ticks)" \
    test $((t1 - t0)) -lt $((2 * hz / 5))
prlimit --pid "$RELAY_PID" --nofile="$soft:$hard"
ok "it said so" grep -q "not accepting recorders for a while" "$T/relay.log"
ok "and accepts again once descriptors are back" \
    wait_until 10 '[ "$(frame_as node1 handshake)" = "ok node1" ]'
ok "the pauses are counted" test "$(ingest_field .accept_pauses)" -ge 1
kill "$FLOOD_PID"; wait "$FLOOD_PID" 2>/dev/null

# Item 4: a peer that PINGs and never reads its PONGs stops being read
# once its unread output passes the high mark; the relay's memory does
# not follow what it sends.
rss_before=$(awk '/VmRSS/ { print $2 }' "/proc/$RELAY_PID/status")
out=$(frame_as node2 ping-flood 200)
ok "a peer that never reads is not read either ($out)" grep -q "^blocked" <<<"$out"
rss_after=$(awk '/VmRSS/ { print $2 }' "/proc/$RELAY_PID/status")
ok "the relay's RSS stays put (${rss_before} kB -> ${rss_after} kB)" \
    test $((rss_after - rss_before)) -lt 20000
is "and others are served meanwhile" "$(frame_as node1 handshake)" "ok node1"

# Item 4: the memory budget. Five nodes each start a 1 MiB BEGIN frame
# and stall: a frame is read only once the budget has room for all of it
# (2 MiB here), so the others wait unread and the relay never holds more
# than max_memory of their data.
kill -TERM "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
tt_relay_config "[listen]
max_memory = 2M"
tt_start_relay
# (And one more peer that PINGs and never reads, left to the relay's
# write timeout: checked at the end.)
frame_bg "$T/deaf.out" deaf ping-flood 200 120
stallers=""
for i in 1 2 3 4 5; do
	frame_bg "$T/stall.$i" "s$i" stall-begin 3
	stallers="$stallers $!"
done
wait_until 10 '[ "$(ingest_field .memory_waits)" -ge 3 ]'
ok "peers past the budget wait for it" test "$(ingest_field .memory_waits)" -ge 3
ok "the budget is never exceeded ($(ingest_field .memory_peak) of $(ingest_field .memory_max) bytes)" \
    test "$(ingest_field .memory_peak)" -le "$(ingest_field .memory_max)"
ok "and a recorder still connects meanwhile" \
    test "$(frame_as node2 handshake)" = "ok node2"
# shellcheck disable=SC2086
wait $stallers
ok "the budget comes back when they go" \
    wait_until 10 '[ "$(ingest_field .memory_used)" -eq 0 ]'

# Item 7: a node's ERROR text cannot forge log lines or drive a terminal.
is "a peer's ERROR is read" "$(frame_as node1 peer-error \
    "$(printf 'boom\n00:00:00.000 tracetrap: forged\033]52;c;eA==\a')")" pong
ok "logged on one line, escaped" grep -q "peer error: boom?00:00:00.000 tracetrap: forged?]52;c;eA==?" "$T/relay.log"
ok "no raw escape reaches the log" sh -c "! grep -q \"$(printf '\033')\" '$T/relay.log'"
ok "no forged line" sh -c "! grep -q '^00:00:00.000 tracetrap: forged' '$T/relay.log'"

# Item 2: a manifest the catalog would refuse is refused before it is
# stored (it was acked "stored" and never listed).
no_time=$(snap_id node1 1)
make_snapshot "$no_time"
jq 'del(.taken_at_us)' "$T/snap/$no_time/manifest.json" >"$T/m.json"
ok "a manifest without taken_at_us is refused" grep -q "^ack refused.*taken_at_us" \
    <<<"$(frame_as node1 upload "$T/m.json" "$T/snap/$no_time")"
ok "and not stored" test ! -e "$T/store/incidents/$no_time"

# Item 8: bounds on what a manifest carries, checked at ingest.
many=$(snap_id node1 2)
make_snapshot "$many"
jq '.triggers = [range(300) | {source: "x", reason: "y"}]' \
    "$T/snap/$many/manifest.json" >"$T/m.json"
ok "300 triggers: refused, saying why" grep -q "^ack refused manifest: 300 triggers, at most 256" \
    <<<"$(frame_as node1 upload "$T/m.json" "$T/snap/$many")"
jq --arg r "$(head -c 5000 /dev/zero | tr '\0' r)" '.triggers[0].reason = $r' \
    "$T/snap/$many/manifest.json" >"$T/m.json"
ok "a 5000-byte reason: refused" grep -q "^ack refused manifest:.*4096" \
    <<<"$(frame_as node1 upload "$T/m.json" "$T/snap/$many")"
ok "neither is stored" test ! -e "$T/store/incidents/$many"

# Item 8: a node cannot file its snapshot under an incident the relay
# did not ask it for (someone else's, or one it makes up).
claim=$(snap_id node1 3)
make_snapshot "$claim"
jq '.incident = "incident-20261118T110640Z-1"' "$T/snap/$claim/manifest.json" >"$T/m.json"
is "a snapshot naming an incident not asked of it is stored" \
    "$(frame_as node1 upload "$T/m.json" "$T/snap/$claim")" "ack stored "
ok "as its own incident" test -d "$T/store/incidents/$claim/node1/$claim"
ok "not the one it named" test ! -e "$T/store/incidents/incident-20261118T110640Z-1"
is "the stored manifest keeps what it claimed" \
    "$(jq -r .claimed_incident "$T/store/incidents/$claim/node1/$claim/manifest.json")" \
    incident-20261118T110640Z-1
# Item 4: the peer that reads nothing is dropped once nothing of its
# output has gone out for 30 s (INGEST_WRITE_SECONDS).
ok "a peer reading nothing is dropped by the write timeout" \
    wait_for 120 grep -q "deaf (.*): disconnected: .*it read nothing it was sent for 30 s" "$T/relay.log"
ok "the relay is still the same process" kill -0 "$RELAY_PID"
done_testing
