#!/bin/bash
# A real lttng-ust app, a real sessiond: `tracetrap snapshot --wait`
# produces a spool snapshot that babeltrace2 reads, ending with the app's
# latest events, with a manifest whose checksums match.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_start_sessiond
tt_config "[limits]
cooldown = 0
coalesce = 0"
is "recorder -n accepts the test config" \
    "$("$RECORDER" -n -f "$T/recorder.conf" 2>&1)/$?" "configuration OK/0"
tt_start_recorder
is "session recording after readiness" "$(status_field .session.state)" recording
is "kernel domain detected as unavailable" \
    "$(status_field .session.kernel)" false

tt_start_app 20000 60
wait_for 20 test -s "$T/app.state" || bail "ttapp did not run"
last=$(cat "$T/app.state")

out=$(cli snapshot --wait --reason "integration test" --label ticket=T-1)
is "snapshot --wait exits 0" "$?" 0
id=$(ls "$T/spool" | grep -v '^\.partial$' | head -1)
dir=$T/spool/$id
ok "snapshot id has the DESIGN.md form" \
    grep -Eq '^testnode-[0-9]{8}T[0-9]{6}Z-[0-9]+$' <<<"$id"
ok "CLI prints the snapshot path" grep -q "$dir" <<<"$out"
ok "no partial snapshot left behind" test -z "$(partial_left "$T/spool")"
ok "manifest.json is valid JSON" jq -e . "$dir/manifest.json"
is "manifest names the node" "$(jq -r .node "$dir/manifest.json")" testnode
is "manifest carries the trigger reason" \
    "$(jq -r '.triggers[0].reason' "$dir/manifest.json")" "integration test"
is "manifest carries the label" \
    "$(jq -r '.triggers[0].labels.ticket' "$dir/manifest.json")" T-1
is "manifest records the sender's uid" \
    "$(jq -r '.triggers[0].sender.uid' "$dir/manifest.json")" 0
is "manifest records the ring configuration" \
    "$(jq -r '.session.channels[0].subbuf_size' "$dir/manifest.json")" 65536
ok "every file matches its sha256" manifest_verifies "$dir"
is "the spool counts its files' bytes, manifest included" \
    "$(status_field .spool.bytes)" \
    "$(find "$dir" -type f -printf '%s\n' | awk '{ n += $1 } END { print n }')"

babeltrace2 "$dir/trace" >"$T/trace.txt" 2>"$T/babeltrace.log"
is "babeltrace2 reads the snapshot" "$?" 0
got=$(grep 'ttapp:tick' "$T/trace.txt" | tail -1 | sed -E 's/.*n = ([0-9]+).*/\1/')
is "last event in the snapshot is the app's latest" "$got" "$last"
ok "events carry vpid, vtid and procname contexts" grep -qE \
    "vpid = $APP_PID, vtid = $APP_PID, procname = \"ttapp\"" "$T/trace.txt"

# A datagram through libtracetrap, then the listings.
"$TTSEND" -s "$T/trigger.sock" -S app -r "from the app" >/dev/null
wait_until 10 '[ "$(spool_count)" -eq 2 ]'
is "a datagram trigger produces a second snapshot" "$(spool_count)" 2
code=$(curl_control GET /v1/snapshots)
is "GET /v1/snapshots lists both" \
    "$code $(jq '.recent | length' "$T/curl.body")" "200 2"
code=$(curl_control GET /metrics)
ok "metrics count the accepted triggers by source" \
    grep -q 'tracetrap_triggers_total{source="app",outcome="accepted"} 1' \
    "$T/curl.body"

# Restart: the recorder adopts its session instead of wiping the ring.
sed -i 's/^\[session\]$/[session]\nkeep = yes/' "$T/recorder.conf"
kill -HUP "$RECORDER_PID"
wait_for 10 grep -q "reload: configuration" "$T/recorder.log"
tt_stop_recorder
tt_start_recorder
ok "restarted recorder adopts the running session" \
    grep -q "session tracetrap: adopted" "$T/recorder.log"
done_testing
