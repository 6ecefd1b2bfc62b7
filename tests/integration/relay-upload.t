#!/bin/bash
# Store and forward over real mutual TLS: a snapshot taken on a recorder
# arrives whole in the relay's store, checksums verified; with the relay
# down, 10 snapshots wait in the spool and all arrive, once each, when it
# comes back.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_certs node1
tt_relay_config
ok "relay -n accepts the config" "$RELAY" -n -f "$T/relay.conf"
tt_start_relay
tt_start_sessiond
tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0
$(tt_relay_section node1)"
sed -i 's/^name = testnode$/name = node1/' "$T/recorder.conf"
tt_start_recorder
ok "the recorder connects to the relay" wait_until 20 \
    '[ "$(status_field .relay.connected)" = true ]'
is "the relay calls it by its certificate's name" \
    "$(status_field .relay.node_name)" node1

tt_start_app 20000 120
wait_for 20 test -s "$T/app.state" || bail "ttapp did not run"
last=$(cat "$T/app.state")
id=$(cli snapshot --wait --reason "to the relay" | sed -E 's/^snapshot ([^ ]+) .*/\1/')
ok "the snapshot reaches the relay's store" wait_until 20 \
    '[ "$(store_count node1)" -eq 1 ]'
dir=$(find "$T/store/incidents" -mindepth 3 -maxdepth 3 -type d -name "$id")
is "stored as incidents/<incident>/<node>/<id>" \
    "${dir#$T/store/}" "incidents/$id/node1/$id"
ok "every stored file matches its sha256" manifest_verifies "$dir"
is "the stored manifest names the node from the certificate" \
    "$(jq -r .node "$dir/manifest.json")" node1
got=$(babeltrace2 "$dir/trace" | grep 'ttapp:tick' | tail -1 | sed -E 's/.*n = ([0-9]+).*/\1/')
is "babeltrace2 reads the stored trace, ending with the app's latest event" \
    "$got" "$last"
ok "the recorder marks it uploaded after the relay's ack" wait_until 10 \
    '[ "$(curl -s --unix-socket "$T/control.sock" http://x/v1/snapshots | jq -r ".recent[0].upload")" = stored ]'
ok "and remembers it across restarts" test -e "$T/spool/$id/.uploaded"
ok "the recorder's metrics show the link and the upload" sh -c \
    "curl -s --unix-socket $T/control.sock http://x/metrics | grep -q '^tracetrap_relay_uploads_total{result=\"stored\"} 1$'"

# The relay goes away; 10 snapshots are taken meanwhile.
kill -TERM "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
ok "the recorder notices the relay is gone" wait_until 20 \
    '[ "$(status_field .relay.connected)" = false ]'
for i in $(seq 1 10); do
	cli snapshot --wait --reason "offline $i" >/dev/null || bail "snapshot $i failed"
done
is "10 snapshots wait in the spool" \
    "$(curl -s --unix-socket "$T/control.sock" http://x/v1/snapshots | jq '[.spool[] | select(.uploaded | not)] | length')" 10
tt_start_relay
ok "when the relay is back, all 10 arrive" wait_until 60 \
    '[ "$(store_count node1)" -eq 11 ]'
ok "and the recorder marks every one uploaded" wait_until 20 \
    '[ "$(curl -s --unix-socket "$T/control.sock" http://x/v1/snapshots | jq "[.spool[] | select(.uploaded)] | length")" -eq 11 ]'
is "none arrived twice" "$(grep -c ': snapshot .* stored$' "$T/relay.log")" 11
ok "every stored snapshot verifies" sh -c "
    for d in \$(find '$T/store/incidents' -mindepth 3 -maxdepth 3 -type d); do
        cd \"\$d\" && jq -r '.files[] | \"\\(.sha256)  \\(.path)\"' manifest.json | sha256sum -c --quiet - || exit 1
    done"
done_testing
