#!/bin/bash
# The relay is killed with SIGKILL in the middle of a large upload, five
# times: no partial snapshot is ever visible in the store or the catalog,
# and the upload completes once the relay stays up.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_certs node1
tt_relay_config
tt_start_sessiond
# A big ring (4M x 8 per CPU), and the relay not there yet: the snapshot
# waits in the spool.
tt_config "[limits]
cooldown = 0
burst = 0
$(tt_relay_section node1)"
sed -i 's/^subbuf_size = 64k$/subbuf_size = 4M/; s/^subbuf_count = 4$/subbuf_count = 8/' \
    "$T/recorder.conf"
sed -i 's/^name = testnode$/name = node1/' "$T/recorder.conf"
tt_start_recorder
for cpu in $(seq 0 $(( $(nproc) - 1 ))); do
	taskset -c "$cpu" "$TTAPP" 1500000 "$T/app$cpu.state" 120 \
	    >>"$T/app.log" 2>&1 &
	tt_pids="$tt_pids $!"
done
wait_until 60 '[ -s "$T/app0.state" ]' || bail "ttapp did not run"
cli snapshot --wait --reason "big one" >/dev/null || bail "snapshot failed"
id=$(ls "$T/spool" | grep -v '^\.')
bytes=$(jq .bytes "$T/spool/$id/manifest.json")
ok "the snapshot is large ($bytes bytes)" test "$bytes" -gt 20000000

catalog_rows() {
	sqlite3 "$T/store/catalog.db" 'select count(*) from snapshots' 2>/dev/null || echo 0
}
staging_bytes() {
	find "$T/store/.staging" -type f -printf '%s\n' 2>/dev/null |
	    awk '{ n += $1 } END { print n + 0 }'
}
for round in 1 2 3 4 5; do
	tt_start_relay
	if ! wait_until 60 '[ "$(staging_bytes)" -gt 2000000 ]'; then
		bail "round $round: the upload did not start"
	fi
	kill -KILL "$RELAY_PID"
	wait "$RELAY_PID" 2>/dev/null
	is "round $round: killed mid-upload, nothing in incidents/" \
	    "$(find "$T/store/incidents" -mindepth 1 | wc -l)" 0
	is "round $round: and nothing in the catalog" "$(catalog_rows)" 0
done

tt_start_relay
ok "with the relay up, the upload completes" wait_until 120 \
    '[ "$(store_count node1)" -eq 1 ]'
dir=$T/store/incidents/$id/node1/$id
ok "the stored snapshot verifies" manifest_verifies "$dir"
is "the catalog has it, once" "$(catalog_rows)" 1
ok "the staging area of the killed runs was cleaned" wait_until 10 \
    '[ -z "$(ls -A "$T/store/.staging")" ]'
ok "the recorder marks it uploaded" wait_until 20 \
    '[ -e "$T/spool/$id/.uploaded" ]'
ok "the recorder's link kept reconnecting" test \
    "$(status_field .relay.connects)" -ge 6
done_testing
