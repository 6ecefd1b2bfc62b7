#!/bin/bash
# [limits] delay: an accepted trigger waits before recording, so the
# snapshot holds the aftermath; triggers during the wait join it.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_start_sessiond
tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0
delay = 1500ms"
tt_start_recorder
tt_start_app 0			# ticks forever, once a millisecond
wait_for 20 test -s "$T/app.state" || bail "ttapp did not run"

recent() { curl -s --unix-socket "$T/control.sock" http://x/v1/snapshots |
    jq -r ".recent[0]$1"; }
"$TTSEND" -s "$T/trigger.sock" -S app -r "first" >/dev/null
ok "an accepted trigger waits: the snapshot is delayed" wait_until 10 \
    '[ "$(recent .state)" = delayed ]'
at_trigger=$(cat "$T/app.state")
"$TTSEND" -s "$T/trigger.sock" -S app -r "second" >/dev/null
ok "a trigger during the delay joins it" wait_until 10 \
    '[ "$(status_field .limiter.counters.app.coalesced)" = 1 ]'
is "nothing is recorded yet" "$(spool_count)" 0
ok "after the delay it is recorded" wait_until 20 '[ "$(spool_count)" = 1 ]'
id=$(recent .id)
m=$T/spool/$id/manifest.json
is "with both triggers" "$(jq -r '[.triggers[].reason] | join(",")' "$m")" \
    "first,second"
ok "taken at least the delay after the first trigger" test \
    "$(jq '.taken_at_us - .triggers[0].received_at_us' "$m")" -ge 1500000
last=$(babeltrace2 "$T/spool/$id/trace" | grep 'ttapp:tick' | tail -1 |
    sed -E 's/.*n = ([0-9]+).*/\1/')
ok "and holds the aftermath: events after the trigger ($last > $at_trigger)" \
    test "$last" -gt "$at_trigger"
done_testing
