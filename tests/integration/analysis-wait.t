#!/bin/bash
# The analysis gives way to uploads ([analysis] wait_for_uploads): a
# snapshot stored while another node's upload is in progress is analyzed
# once that upload ends, and no later than wait_for_uploads after it was
# stored even if uploads go on (so a busy relay still analyzes).
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

api() { curl -s "http://127.0.0.1:$RELAY_API_PORT$1"; }
status() { api /v1/status | jq -r "$1"; }
summarized() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$RELAY_API_PORT/v1/snapshots/$1/summary")" = 200 ]
}
# held NAME ID: node NAME starts uploading snapshot ID and holds it after
# its first chunk until $T/go.NAME exists.
held() {
	make_snapshot "$2" "$1"
	frame_bg "$T/$1.out" "$1" --pause-after-first "$T/go.$1" upload \
	    "$T/snap/$2/manifest.json" "$T/snap/$2"
	HELD_PID=$!
	wait_until 10 '[ "$(status .ingest.uploads)" -ge 1 ]' ||
	    bail "node $1's upload did not begin"
}

tt_certs node1 node2 node3
tt_relay_config "[analysis]
wait_for_uploads = 1h"
tt_start_relay

# While node2's upload is in progress, node1's stored snapshot waits.
held node2 "$(snap_id node2 1)"
first=$(snap_id node1 1)
make_snapshot "$first"
is "node1's snapshot is stored meanwhile" "$(upload_snapshot node1 "$first")" "ack stored "
ok "its analysis waits for the upload in progress" \
    wait_until 10 '[ "$(status .analysis.waiting_for_uploads)" -ge 1 ]'
is "queued, not running" "$(status '[.analysis.queued, .analysis.running] | join(" ")')" "1 0"
is "/metrics says so" "$(api /metrics | grep -E '^tracetrap_relay_(uploads_in_progress|analyses_waiting_for_uploads) ' | sort | tr '\n' ' ')" \
    "tracetrap_relay_analyses_waiting_for_uploads 1 tracetrap_relay_uploads_in_progress 1 "
ok "not analyzed yet" sh -c "! curl -sf http://127.0.0.1:$RELAY_API_PORT/v1/snapshots/$first/summary >/dev/null"
ok "node2's upload still in progress" kill -0 "$HELD_PID"
touch "$T/go.node2"
wait "$HELD_PID"
is "node2's upload ends: stored" "$(cat "$T/node2.out")" "ack stored "
ok "then node1's snapshot is analyzed" wait_until 30 "summarized $first"
ok "and node2's" wait_until 30 "summarized $(snap_id node2 1)"
is "no upload left" "$(status .ingest.uploads)" 0

# With uploads going on past wait_for_uploads, the analysis starts anyway.
sed -i 's/^wait_for_uploads = 1h$/wait_for_uploads = 1s/' "$T/relay.conf"
kill -HUP "$RELAY_PID"
wait_until 10 'grep -q "reload: .*applied" "$T/relay.log"' ||
    bail "the relay did not reload"
held node3 "$(snap_id node3 1)"
second=$(snap_id node1 2)
make_snapshot "$second"
is "another snapshot stored during an upload" "$(upload_snapshot node1 "$second")" "ack stored "
ok "analyzed after wait_for_uploads, the upload still in progress" \
    wait_until 30 "summarized $second"
ok "which it is" sh -c "kill -0 $HELD_PID && [ ! -e '$T/go.node3' ] &&
    [ \"\$(curl -s http://127.0.0.1:$RELAY_API_PORT/v1/status | jq .ingest.uploads)\" -ge 1 ]"
touch "$T/go.node3"
wait "$HELD_PID"
is "and that upload is stored too" "$(cat "$T/node3.out")" "ack stored "
done_testing
