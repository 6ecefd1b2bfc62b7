#!/bin/bash
# Retention: oldest incidents go first while the store is over max_bytes,
# and incidents older than max_age go; store and catalog agree after.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_certs node1
tt_relay_config "max_bytes = 1M"
tt_start_relay
now=$(date +%s%6N)
for i in 1 2 3 4 5; do
	make_snapshot "$(snap_id node1 $i)" node1 trace/ust/data $((now - (6 - i) * 1000000))
	is "upload $i stored" "$(upload_snapshot node1 "$(snap_id node1 $i)")" "ack stored "
done
catalog_rows() { sqlite3 "$T/store/catalog.db" 'select count(*) from snapshots'; }
is "five snapshots (1.5 MB) indexed" "$(catalog_rows)" 5

# Retention runs at start and every minute: a restart applies it now.
kill -TERM "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
tt_start_relay
ok "the two oldest incidents go to fit 1 MB" wait_until 10 \
    '[ "$(ls "$T/store/incidents" | wc -l)" -eq 3 ]'
is "the newest three stay" "$(ls "$T/store/incidents" | tr '\n' ' ')" "$(snap_id node1 3) $(snap_id node1 4) $(snap_id node1 5) "
is "the catalog agrees" "$(catalog_rows)" 3
ok "each removal is logged" grep -q "retention: removed incident $(snap_id node1 1) (store over max_bytes)" "$T/relay.log"

# Age goes by the relay's clock when a snapshot arrived, not by the
# taken_at_us its node declares: a node's clock (or its lie) neither
# expires a snapshot early nor keeps one forever.
kill -TERM "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
old=$(snap_id node1 6)
make_snapshot "$old" node1 trace/ust/data 1000000
tt_relay_config "max_bytes = 1G
max_age = 1h"
tt_start_relay
is "a snapshot declaring 1970 is stored" "$(upload_snapshot node1 "$old")" "ack stored "
kill -TERM "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
: >"$T/relay.log"
tt_start_relay
wait_until 10 'grep -q "retention: done" "$T/relay.log"' || :
is "and kept: it arrived just now" "$(catalog_rows)" 4
ok "its incident is in the store" test -d "$T/store/incidents/$old"
# Two hours ago by the relay's clock: now max_age takes it.
kill -TERM "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
sqlite3 "$T/store/catalog.db" "update snapshots set received_at_us = \
    $(( $(date +%s%6N) - 2 * 3600 * 1000000 )) where id = '$old'"
tt_start_relay
ok "arrived two hours ago, it is removed as older than max_age" \
    wait_until 10 '[ ! -e "$T/store/incidents/$old" ]'
is "the recent ones stay" "$(catalog_rows)" 3
done_testing
