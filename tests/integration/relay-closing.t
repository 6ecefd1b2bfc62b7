#!/bin/bash
# A peer that reads nothing after a protocol error (issue 10, item 4).
# The relay answers a protocol error with an ERROR frame and closes the
# connection once that frame is out, or when nothing of its output has
# moved for INGEST_CLOSING_SECONDS (10 s), so a peer that never reads
# cannot pin a connection slot, a descriptor and memory forever.
#
# The peer (ttframe.py error-unread, with a certificate: past HELLO) sets
# a tiny receive buffer, sends PINGs without reading the PONGs, then a
# frame of an unknown type. The PONGs fill the kernel's buffers, its own
# receive buffer and the relay's send buffer, which the relay bounds
# (SO_SNDBUF, 64 KiB asked), and the rest waits in the relay's output
# buffer, below the 256 KiB mark past which the relay would stop reading
# it: so the relay reads the bad frame, and its ERROR is stuck behind
# PONGs nobody reads. Without the send buffer's bound, the kernel's
# autotuning swallows megabytes of PONGs and the ERROR goes out at once:
# the case could not be made to happen on purpose.
#
# First, a peer that does read after such a burst gets the ERROR before
# the close: libevent runs the write callback deferred, and one scheduled
# before the ERROR was queued used to close the connection with the ERROR
# still unsent.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

CLOSING_SECONDS=10	# relay/ingest.c, INGEST_CLOSING_SECONDS
PINGS=${PINGS:-20000}	# 200 kB of PONGs
api() { curl -s "http://127.0.0.1:$RELAY_API_PORT$1"; }
connections() { api /v1/status | jq -r .ingest.connections; }
# Its descriptors that are sockets (the catalog's readers come and go).
relay_sockets() { find "/proc/$RELAY_PID/fd" -lname 'socket:*' | wc -l; }
now() { date +%s.%N; }

tt_certs node1 deaf
tt_relay_config
tt_start_relay

# A peer that does read, after a burst of PINGs and the bad frame: it
# gets all its PONGs, then the ERROR saying why, then the close.
touch "$T/read-at-once"
out=$(frame_as deaf error-unread 5000 "$T/read-at-once" | tail -1)
ok "a peer that reads gets the ERROR, then the close ($out)" \
    grep -q "^read 50062 bytes, ERROR frame received, then closed" <<<"$out"
ok "closed as soon as the ERROR was out" wait_for 5 grep -q \
    "deaf (.*): disconnected: protocol error\$" "$T/relay.log"

# Sockets and connections before, once an upload went through.
id=$(snap_id node1 1)
make_snapshot "$id"
is "a first upload is stored" "$(upload_snapshot node1 "$id")" "ack stored "
wait_until 10 '[ "$(connections)" -eq 0 ]'
sockets0=$(relay_sockets)

frame_as deaf --rcvbuf 4096 error-unread "$PINGS" "$T/read-now" \
    >"$T/deaf.out" 2>&1 &
DEAF_PID=$!
tt_pids="$tt_pids $DEAF_PID"
wait_until 30 'grep -q "^error sent\|^blocked" "$T/deaf.out"'
t_error=$(now)
ok "the peer sent its PINGs and the bad frame ($(head -1 "$T/deaf.out"))" \
    grep -q "^error sent after $PINGS pings" "$T/deaf.out"
ok "the relay logs the protocol error" wait_for 5 grep -q \
    "deaf (127.0.0.1:[0-9]*): protocol error: unknown frame type 99" \
    "$T/relay.log"
is "it is still connected: its ERROR waits behind unread PONGs" \
    "$(connections)" 1

# Other recorders are served meanwhile.
id=$(snap_id node1 2)
make_snapshot "$id"
is "another node uploads meanwhile" "$(upload_snapshot node1 "$id")" \
    "ack stored "

ok "the relay closes it when nothing moved for $CLOSING_SECONDS s" \
    wait_for $((CLOSING_SECONDS + 20)) grep -q \
    "deaf (.*): disconnected: it read nothing it was sent for $CLOSING_SECONDS s" \
    "$T/relay.log"
t_closed=$(now)
elapsed=$(echo "$t_closed - $t_error" | bc)
ok "within the closing timeout, not the 30 s of a connection in use (${elapsed} s)" \
    test "$(echo "$elapsed < $CLOSING_SECONDS + 5" | bc)" = 1
ok "and not before it" \
    test "$(echo "$elapsed > $CLOSING_SECONDS - 2" | bc)" = 1
is "the connection gauge is back where it was" "$(connections)" 0
ok "so is the relay's count of open sockets ($sockets0: its listeners)" \
    wait_until 5 '[ "$(relay_sockets)" -eq "$sockets0" ]'
ok "counted as a timeout" test "$(api /v1/status | jq .ingest.timeouts)" -ge 1

touch "$T/read-now"
wait "$DEAF_PID"
ok "the peer never got the ERROR ($(tail -1 "$T/deaf.out"))" \
    grep -q "ERROR frame not received" "$T/deaf.out"
is "each protocol error was logged once" \
    "$(grep -c "protocol error: unknown frame type 99" "$T/relay.log")" 2
ok "the relay is still the same process" kill -0 "$RELAY_PID"
done_testing
