#!/bin/bash
# Store and forward over real mutual TLS: a snapshot taken on a recorder
# arrives whole in the relay's store, checksums verified; with the relay
# down, 10 snapshots wait in the spool and all arrive, once each, when it
# comes back.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_certs node1
tt_relay_config
is "relay -n accepts the config" \
    "$("$RELAY" -n -f "$T/relay.conf" 2>&1)/$?" "configuration OK/0"
tt_start_relay
tt_start_sessiond
tt_config_for_relay node1
tt_start_recorder
ok "the recorder connects to the relay" wait_until 20 \
    '[ "$(status_field .relay.connected)" = true ]'
is "the relay calls it by its certificate's name" \
    "$(status_field .relay.node_name)" node1
ok "tracetrap status says so" sh -c \
    "'$CLI' status --socket '$T/control.sock' | grep -q '^relay .*: connected as node1 since'"

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

# Uploads that cannot complete do not cost the link: one snapshot whose
# spool copy no longer matches its manifest (the relay refuses it), one
# with a file gone (the recorder abandons it), then a good one, all over
# the connection that is already open.
connects=$(status_field .relay.connects)
kill -TERM "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
wait_until 20 '[ "$(status_field .relay.connected)" = false ]'
spooled_file() {	# ID: the biggest trace file of a spooled snapshot
	find "$T/spool/$1/trace" -type f ! -name metadata -printf '%s %p\n' |
	    sort -n | tail -1 | cut -d' ' -f2
}
bad=$(cli snapshot --wait --reason corrupt | sed -E 's/^snapshot ([^ ]+) .*/\1/')
gone=$(cli snapshot --wait --reason vanished | sed -E 's/^snapshot ([^ ]+) .*/\1/')
good=$(cli snapshot --wait --reason fine | sed -E 's/^snapshot ([^ ]+) .*/\1/')
[ -n "$bad" ] && [ -n "$gone" ] && [ -n "$good" ] || bail "snapshots failed"
f=$(spooled_file "$bad")
printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
rm "$(spooled_file "$gone")"
tt_start_relay
ok "after a refused and an abandoned upload, the next one is stored" \
    wait_until 60 '[ -d "$T/store/incidents/$good/node1/$good" ]'
is "over the same connection" \
    "$(status_field .relay.connects)" $((connects + 1))
ok "the relay refused the corrupt one" \
    grep -q "upload $bad refused: checksum mismatch" "$T/relay.log"
ok "the recorder gave the unreadable one up" \
    grep -q "upload $gone abandoned by the recorder" "$T/relay.log"
is "neither is in the store" \
    "$(find "$T/store/incidents" -mindepth 3 -maxdepth 3 -type d \( -name "$bad" -o -name "$gone" \) | wc -l)" 0
is "no protocol error on the way" "$(grep -c 'protocol error' "$T/relay.log")" 0
is "both wait in the spool for a retry" \
    "$(curl -s --unix-socket "$T/control.sock" http://x/v1/snapshots | jq '[.spool[] | select(.uploaded | not)] | length')" 2

# SIGHUP and [relay]: a key that does not match its certificate keeps the
# running link; a file without [relay] removes it; putting it back links
# again.
cp "$T/recorder.conf" "$T/recorder.good"
sed 's|/node1.key$|/intruder.key|' "$T/recorder.good" >"$T/recorder.conf"
kill -HUP "$RECORDER_PID"
ok "a [relay] key of another certificate is refused at reload" wait_for 10 \
    grep -q "reload: \[relay\]: .*keeping the running" "$T/recorder.log"
is "and the link stays up" "$(status_field .relay.connected)" true
sed '/^\[relay\]$/,$d' "$T/recorder.good" >"$T/recorder.conf"
kill -HUP "$RECORDER_PID"
ok "a reload without [relay] removes the link" wait_until 10 \
    '[ "$(status_field .relay.state)" = not_configured ]'
cp "$T/recorder.good" "$T/recorder.conf"
kill -HUP "$RECORDER_PID"
ok "and one with it links again" wait_until 20 \
    '[ "$(status_field .relay.connected)" = true ]'
done_testing
