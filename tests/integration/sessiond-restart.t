#!/bin/bash
# The session daemon dies (SIGKILL) and comes back: the recorder notices,
# sets its session up again without being restarted, and the next trigger
# still produces a snapshot holding the app's events.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_start_sessiond
tt_config "[limits]
cooldown = 0
coalesce = 0"
tt_start_recorder
tt_start_app 0
wait_for 20 test -s "$T/app.state" || bail "ttapp did not run"

tt_stop_sessiond KILL
ok "the recorder sees the session daemon gone" wait_for 20 \
    sh -c "[ \"\$(\"$CLI\" status --json --socket $T/control.sock | jq -r .session.state)\" = sessiond_down ]"
code=$(curl_control POST '/v1/snapshot?wait=1')
is "a snapshot without a sessiond fails cleanly with 500" "$code" 500
ok "and says why" grep -q "sessiond" "$T/curl.body"
is "the failure is counted" "$(status_field .counters.snapshots_failed)" 1
ok "no partial snapshot is left behind" test -z "$(partial_left "$T/spool")"

tt_start_sessiond
ok "the recorder re-creates its session" wait_for 20 \
    sh -c "[ \"\$(\"$CLI\" status --json --socket $T/control.sock | jq -r .session.state)\" = recording ]"
ok "the app re-registers with the new session daemon" wait_for 20 \
    sh -c "lttng list -u | grep -q ttapp:tick"
# The app writes its state every 100 ticks: wait for events after setup.
before=$(cat "$T/app.state")
wait_until 10 '[ "$(cat "$T/app.state")" -gt $((before + 300)) ]'
out=$(cli snapshot --wait --reason after-restart)
is "the next trigger produces a snapshot" "$?" 0
id=$(jq -r .id <<<"$(curl -s --unix-socket "$T/control.sock" http://x/v1/snapshots | jq '.recent[0]')")
dir=$T/spool/$id
ok "the snapshot holds the app's events" sh -c \
    "babeltrace2 '$dir/trace' | grep -q 'ttapp:tick'"
ok "its checksums match" manifest_verifies "$dir"
is "the recorder set the session up twice in all" \
    "$(status_field .counters.session_setups)" 2
ok "the loss was logged" grep -q "lost (sessiond died" "$T/recorder.log"
done_testing
