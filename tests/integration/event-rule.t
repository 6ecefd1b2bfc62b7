#!/bin/bash
# LTTng event-rule triggers against a real sessiond and a real lttng-ust
# app: a [trigger.lttng-event] rule with a filter and captures becomes an
# LTTng trigger; an event that matches it produces a snapshot whose
# manifest carries the captured fields, one that does not produces none.
# A filter LTTng refuses stops the recorder's start naming file:line, and
# on SIGHUP is logged while the running rule goes on firing. After a
# sessiond restart the rule is registered again and fires. Status and
# /metrics show the rule; a clean stop leaves no trigger behind.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_start_sessiond
# The app emits one ttapp:request per line written to the FIFO (which it
# holds open read-write, so a writer never blocks) and counts them.
mkfifo "$T/requests"
"$TTAPP" request "$T/requests" "$T/requests.state" >>"$T/app.log" 2>&1 &
tt_pids="$tt_pids $!"
wait_for 20 test -s "$T/requests.state" || bail "ttapp did not start"
emitted=0
request() {	# DURATION_US URL [STATUS [RATIO]]: one event, and wait for it
	echo "$*" >"$T/requests"
	emitted=$((emitted + 1))
	wait_until 10 '[ "$(cat "$T/requests.state")" -eq $emitted ]' ||
	    bail "ttapp did not emit request $emitted"
}

# rules FILTER [EXTRA]: the test config with rule "slow" (and EXTRA).
rules() {
	tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0
[trigger.lttng-event.slow]
event = ttapp:request
filter = $1
capture = duration_us,url,status,ratio,Missing_Field
reason = slow request
$2"
}
filter_line() { grep -n '^filter = ' "$T/recorder.conf" | head -1 | cut -d: -f1; }
rule() { status_field ".watchers[] | select(.name == \"$1\") | $2"; }
our_triggers() { lttng list-triggers 2>&1 | grep -c '^- name: tracetrap\.'; }
manifest_of() {	# N: the Nth snapshot's manifest, by sequence number
	echo "$T/spool/$(ls "$T/spool" | grep '^testnode-' |
	    awk -F- '{ print $NF, $0 }' | sort -n | sed -n "${1}p" |
	    cut -d' ' -f2)/manifest.json"
}

# 1. A filter LTTng cannot compile: the check and the start fail, naming
# the line.
rules 'duration_us >>> 3'
line=$(filter_line)
out=$("$RECORDER" -n -f "$T/recorder.conf" 2>&1)
is "recorder -n asks LTTng and refuses the filter" "$?" 1
is "naming file:line" "$out" \
    "$T/recorder.conf:$line: [trigger.lttng-event.slow] filter: LTTng refused it: Invalid filter bytecode"
timeout 30 "$RECORDER" -d -f "$T/recorder.conf" --ready-fd 3 \
    3>"$T/bad.ready" >"$T/bad-start.log" 2>&1
is "a refused filter fails the start" "$?" 1
ok "with file:line and what LTTng said on stderr" grep -qF \
    "$T/recorder.conf:$line: [trigger.lttng-event.slow] filter: LTTng refused it: " \
    "$T/bad-start.log"
ok "before readiness" test ! -s "$T/bad.ready"
is "and leaves no trigger in the session daemon" "$(our_triggers)" 0

# 2. A rule that compiles: registered, and only a match fires.
rules 'duration_us > 1000000'
is "recorder -n accepts the rule" \
    "$("$RECORDER" -n -f "$T/recorder.conf" 2>&1)/$?" "configuration OK/0"
is "and leaves no probe trigger behind" \
    "$(lttng list-triggers 2>&1 | grep -c '^- name: tracetrap')" 0
tt_start_recorder
is "status shows the rule registered" "$(rule slow .registered)" true
is "as an lttng-event watcher" "$(rule slow .kind)/$(rule slow .filter)" \
    "lttng-event/duration_us > 1000000"
ok "and listening to its notifications" wait_until 10 \
    '[ "$(rule slow .state)" = armed ]'
trigger=$(rule slow .trigger)
ok "its LTTng trigger is named after session and rule" \
    grep -Eq '^tracetrap\.tracetrap\.slow\.[0-9a-f]{16}$' <<<"$trigger"
ok "lttng list-triggers shows it" sh -c \
    "lttng list-triggers | grep -qx -- '- name: $trigger'"

request 500 /fast 200 0.5
request 2000000 '/slow?id=1' -3 0.25
ok "the matching event produces a snapshot" wait_until 20 \
    '[ "$(spool_count)" -eq 1 ]'
m=$(manifest_of 1)
is "its trigger has source lttng" "$(jq -r '.triggers[0].source' "$m")" lttng
is "the rule's reason" "$(jq -r '.triggers[0].reason' "$m")" "slow request"
is "and names the rule" "$(jq -r '.triggers[0].labels.rule' "$m")" slow
is "the captured unsigned integer" \
    "$(jq -r '.triggers[0].labels["capture.duration_us"]' "$m")" 2000000
is "the captured string" \
    "$(jq -r '.triggers[0].labels["capture.url"]' "$m")" '/slow?id=1'
is "the captured signed integer" \
    "$(jq -r '.triggers[0].labels["capture.status"]' "$m")" -3
is "the captured real" \
    "$(jq -r '.triggers[0].labels["capture.ratio"]' "$m")" 0.25
is "a field the event lacks, in lower case, marked unavailable" \
    "$(jq -r '.triggers[0].labels["capture.missing_field"]' "$m")" \
    "(unavailable)"
is "the event that did not match joined nothing" \
    "$(jq '.triggers | length' "$m")" 1
is "nor made a notification" "$(rule slow .notifications)" 1
ok "the snapshot holds the matching event" sh -c \
    "babeltrace2 '$(dirname "$m")/trace' | grep 'ttapp:request' |
    grep -q 'duration_us = 2000000'"
is "the trigger names the rule's event" \
    "$(jq -r '.triggers[0].labels.event' "$m")" ttapp:request
"$CLI" show "$(dirname "$m")" --json >"$T/summary.json" 2>"$T/show.err"
is "the analysis locates that event in the trace" \
    "$(jq -r '.triggers[0].event | .name + " " + (.fields.duration_us | tostring) + " " + .fields.url' \
    "$T/summary.json")" "ttapp:request 2000000 /slow?id=1"
is "the trigger is counted by source" \
    "$(status_field .limiter.counters.lttng.accepted)" 1
curl -s --unix-socket "$T/control.sock" http://x/metrics >"$T/metrics"
ok "/metrics counts the fire" grep -qx \
    'tracetrap_watcher_fires_total{watcher="slow",kind="lttng-event"} 1' \
    "$T/metrics"
# Prometheus wants each family's samples together, after its TYPE line.
ok "/metrics keeps every family in one group" awk '
    /^# TYPE / { if ($3 in typed) exit 1; typed[$3] = 1; next }
    /^#/ { next }
    { name = $1; sub(/\{.*/, "", name)
      if (name != last && (name in seen)) exit 1
      seen[name] = 1; last = name }' "$T/metrics"

# 3. SIGHUP with a filter LTTng refuses, beside a new rule it would take:
# logged with file:line, nothing of the new set stays, the old rule fires.
rules 'duration_us >>> 3' '[trigger.lttng-event.other]
event = ttapp:request'
line=$(filter_line)
kill -HUP "$RECORDER_PID"
ok "the reload logs LTTng's refusal with file:line" wait_until 20 \
    "grep -qF 'reload: $T/recorder.conf:$line: [trigger.lttng-event.slow] filter: LTTng refused it' '$T/recorder.log'"
ok "and keeps the running configuration" grep -q \
    "keeping the running configuration and its rules" "$T/recorder.log"
is "status still shows the old rule" \
    "$(rule slow .filter)/$(rule slow .registered)" "duration_us > 1000000/true"
is "the new rule it would take is not registered" "$(our_triggers)" 1
request 3000000 /after-bad-reload
ok "the old rule still fires" wait_until 20 '[ "$(spool_count)" -eq 2 ]'
is "with the new event's fields" \
    "$(jq -r '.triggers[0].labels["capture.url"]' "$(manifest_of 2)")" \
    /after-bad-reload

# 4. SIGHUP with a changed filter: the new trigger replaces the old one.
tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0
[trigger.lttng-event.slow]
event = ttapp:request
filter = duration_us > 5000000
capture = url"
kill -HUP "$RECORDER_PID"
ok "a good reload applies" wait_until 20 \
    '[ "$(rule slow .filter)" = "duration_us > 5000000" ]'
ok "and its rule listens" wait_until 10 '[ "$(rule slow .state)" = armed ]'
ok "the old trigger goes once the new one runs" wait_until 10 \
    '[ "$(our_triggers)" -eq 1 ]'
ok "a new one took its place" test "$(rule slow .trigger)" != "$trigger"
trigger=$(rule slow .trigger)
request 3000000 /no-longer-slow
request 6000000 /slower
ok "only the event matching the new filter fires" wait_until 20 \
    '[ "$(spool_count)" -eq 3 ]'
m=$(manifest_of 3)
is "its manifest has the new capture" \
    "$(jq -c '[.triggers[].labels["capture.url"]]' "$m")" '["/slower"]'
is "and no longer the others" \
    "$(jq -r '.triggers[0].labels["capture.duration_us"]' "$m")" null

# 5. The session daemon restarts: the trigger is registered again.
tt_stop_sessiond
ok "the rule shows unregistered without a sessiond" wait_until 20 \
    '[ "$(rule slow .registered)" = false ]'
tt_start_sessiond
ok "it is registered with the new sessiond" wait_until 20 \
    '[ "$(rule slow .state)" = armed ]'
ok "under the same name" sh -c \
    "lttng list-triggers | grep -qx -- '- name: $trigger'"
ok "the app registers with the new sessiond" wait_for 20 \
    sh -c "lttng list -u | grep -q ttapp:request"
request 7000000 /after-restart
ok "and the rule fires again" wait_until 20 '[ "$(spool_count)" -eq 4 ]'
is "from the new event" \
    "$(jq -r '.triggers[0].labels["capture.url"]' "$(manifest_of 4)")" \
    /after-restart
ok "the re-registration was logged" grep -q \
    "event rules: registered again: 1 registered with LTTng (1 new)" \
    "$T/recorder.log"

# 6. A clean stop unregisters what the recorder registered.
tt_stop_recorder
is "no trigger of ours is left after the stop" "$(our_triggers)" 0
done_testing
