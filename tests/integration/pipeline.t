#!/bin/bash
# The snapshot pipeline (issue 13): the LTTng worker only records; hashing,
# fsync and publish run on the disk worker, so a second snapshot's record
# starts while the first is still being published. A trigger that arrives
# after a snapshot's record started never joins it silently: with
# coalesce = 0 it gets a snapshot of its own whose trace covers its
# moment; within coalesce it joins marked "after_freeze". Checked by the
# order of the recorder's own timestamps, never by durations.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_start_sessiond
tt_config "[session]
subbuf_size = 1M
subbuf_count = 4
[limits]
cooldown = 0
burst = 0
max_per_day = 0
coalesce = 10s
delay = 500ms"
# (The [session] above overrides the defaults tt_config writes first.)
tt_start_recorder
"$TTAPP" 0 "$T/app.state" >>"$T/app.log" 2>&1 &
tt_pids="$tt_pids $!"
wait_until 10 '[ -s "$T/app.state" ]' || bail "ttapp did not start"
# A second app emits one marked event on demand: a moment a test can name.
mkfifo "$T/marks"
"$TTAPP" request "$T/marks" "$T/marks.state" >>"$T/app.log" 2>&1 &
tt_pids="$tt_pids $!"
wait_until 10 '[ -s "$T/marks.state" ]' || bail "the marking app did not start"
sleep 1		# a second of ticks in the rings

snapshots() { curl -s --unix-socket "$T/control.sock" http://x/v1/snapshots; }
recorded() { snapshots | jq '[.recent[] | select(.state == "recorded")] | length'; }

# coalesce = 10s, delay = 500ms: a trigger during the delay joins before
# the freeze; one after the record joins marked after_freeze.
"$TTSEND" -s "$T/trigger.sock" -S app -r first >/dev/null
"$TTSEND" -s "$T/trigger.sock" -S app -r "during the delay" >/dev/null
ok "the first snapshot is recorded" wait_until 20 '[ "$(recorded)" -eq 1 ]'
"$TTSEND" -s "$T/trigger.sock" -S app -r "after the record" >/dev/null
joined=$(snapshots | jq -r '.recent[0].id')
m=$T/spool/$joined/manifest.json
ok "the late trigger joins it (its manifest is rewritten)" \
    wait_until 10 '[ "$(jq ".triggers | length" "$m")" -eq 3 ]'
is "the one during the delay is in the trace: not marked" \
    "$(jq -r '.triggers[1] | "\(.reason) \(.after_freeze // false)"' "$m")" \
    "during the delay false"
is "the one after the record is marked after_freeze" \
    "$(jq -r '.triggers[2] | "\(.reason) \(.after_freeze // false)"' "$m")" \
    "after the record true"
is "and no second snapshot was taken" "$(recorded)" 1
"$CLI" show "$T/spool/$joined" >"$T/joined.show" 2>&1
ok "tracetrap show says so" grep -q "after the freeze" "$T/joined.show"

# coalesce = 0, no delay: the window closes with the reload.
sed -i 's/^coalesce = 10s$/coalesce = 0/; s/^delay = 500ms$/delay = 0/' \
    "$T/recorder.conf"
kill -HUP "$RECORDER_PID"
wait_for 10 grep -q "reload: configuration .* applied" "$T/recorder.log" ||
    bail "the reload was not applied: $(tail -3 "$T/recorder.log")"
# Two triggers back to back, coalesce = 0: two snapshots.
# One sender, no pause between the two (sources "one" then "two").
"$TTSEND" -s "$T/trigger.sock" -n 2 -i 0 -S one,two -r back-to-back >/dev/null
ok "two more snapshots are recorded" wait_until 20 '[ "$(recorded)" -eq 3 ]'
snapshots >"$T/two.json"
# recent[] is newest first.
first=$(jq -r '.recent[1].id' "$T/two.json")
second=$(jq -r '.recent[0].id' "$T/two.json")
is "each holds only its own trigger" \
    "$(jq -r '.triggers | length' "$T/spool/$first/manifest.json") $(jq -r '.triggers | length' "$T/spool/$second/manifest.json")" \
    "1 1"
is "the second is the second trigger's" \
    "$(jq -r '.triggers[0].source' "$T/spool/$second/manifest.json")" two
pub1=$(jq -r '.recent[1].published_at_us' "$T/two.json")
rec2=$(jq -r '.recent[0].record_started_at_us' "$T/two.json")
ok "the second record started before the first was published ($rec2 < $pub1)" \
    test "$rec2" -lt "$pub1"
recv2=$(jq -r '.triggers[0].received_at_us' "$T/spool/$second/manifest.json")
ok "and after the second trigger arrived: its moment is in its trace" \
    test "$recv2" -le "$rec2"

# A moment after the second snapshot was frozen, then a trigger: with
# coalesce = 0 it cannot join that snapshot, whose trace ends before the
# moment; its own snapshot holds the moment. (Ticks alone cannot show it:
# the app ticks once a millisecond, a record may start sooner.)
echo "1 /the-moment" >"$T/marks"
wait_until 10 '[ "$(cat "$T/marks.state")" = 1 ]' || bail "no mark emitted"
"$TTSEND" -s "$T/trigger.sock" -S app -r three >/dev/null
ok "a third snapshot is recorded" wait_until 20 '[ "$(recorded)" -eq 4 ]'
third=$(snapshots | jq -r '.recent[0].id')
is "it is the third trigger's" \
    "$(jq -r '[.triggers[].reason] | join(",")' "$T/spool/$third/manifest.json")" \
    three
has_moment() {
	babeltrace2 "$T/spool/$1/trace" >"$T/$1.txt" 2>"$T/$1.bt" ||
		{ echo "babeltrace2 $1: $(cat "$T/$1.bt")"; return 2; }
	grep -q '/the-moment' "$T/$1.txt"
}
has_moment "$second"
is "the second snapshot's trace ends before the moment" "$?" 1
has_moment "$third"
is "the third's trace holds it" "$?" 0
for id in "$first" "$second" "$third"; do
	ok "$id verifies" manifest_verifies "$T/spool/$id"
done
is "no partial snapshot is left" "$(partial_left "$T/spool")" ""
# The disk worker keeps partial dirs ready: a record starts with no mkdir
# that could wait for the journal behind a publish's fsync.
ok "spare partial dirs wait for the next records" \
    test "$(ls "$T/spool/.partial" | grep -c '^spare\.[0-9]*$')" -eq 2

done_testing
