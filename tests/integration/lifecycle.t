#!/bin/bash
# Configuration check, SIGHUP reload (a bad file keeps the old config), a
# ring-size change re-creating the session, a second instance refused, a
# stale socket replaced, SIGTERM destroying the session.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_start_sessiond
cat >"$T/bad.conf" <<EOC
[limits]
cooldown = soon
burst = -1
[nonsense]
EOC
out=$("$RECORDER" -n -f "$T/bad.conf" 2>&1)
is "-n on a bad config exits 1" "$?" 1
ok "it names file:line of the first error" grep -q "bad.conf:2:" <<<"$out"
ok "and reports every error in one pass" test "$(grep -c 'bad.conf:' <<<"$out")" -ge 3
out=$("$RECORDER" -n -f "$T/missing.conf" 2>&1)
is "-n on a missing file exits 1" "$?" 1

# A stale socket left by a crash must not stop the start.
python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.bind('$T/control.sock')"
tt_config "[limits]
burst = 3"
tt_start_recorder
is "started over a stale control socket" "$(status_field .session.state)" recording
out=$("$RECORDER" -d -f "$T/recorder.conf" 2>&1)
is "a second instance exits 1" "$?" 1
ok "saying another recorder is running" grep -q "another recorder is running" <<<"$out"
is "the first instance still serves" "$(status_field .limiter.burst)" 3
is "its worker threads are named for top -H and perf" \
    "$(cat /proc/"$RECORDER_PID"/task/*/comm | grep '^tt-' | sort | tr '\n' ' ')" \
    "tt-disk tt-lttng "

cp "$T/recorder.conf" "$T/good.conf"
# A new burst and a bad line: nothing of the file may be applied.
sed 's/^burst = 3$/burst = 9/' "$T/good.conf" >"$T/recorder.conf"
echo "cooldown = banana" >>"$T/recorder.conf"
kill -HUP "$RECORDER_PID"
ok "a bad reload is reported" wait_for 10 grep -q "keeping the running configuration" "$T/recorder.log"
is "and the old limits stay" "$(status_field .limiter.burst)" 3

sed 's/^burst = 3$/burst = 7/' "$T/good.conf" >"$T/recorder.conf"
kill -HUP "$RECORDER_PID"
ok "a good reload applies new limits" wait_for 10 \
    sh -c "[ \"\$(\"$CLI\" status --json --socket $T/control.sock | jq .limiter.burst)\" = 7 ]"

sed -i 's/^subbuf_count = 4$/subbuf_count = 8/' "$T/recorder.conf"
kill -HUP "$RECORDER_PID"
ok "a ring change re-creates the session" wait_for 10 \
    sh -c "lttng list tracetrap | grep -q 'Sub-buffer count: 8'"
is "status shows the new ring" "$(status_field .session.subbuf_count)" 8

# A ring LTTng refuses (1 TiB per CPU: not enough memory) is a valid file,
# so the reload goes ahead, and the session comes back as it was.
cp "$T/recorder.conf" "$T/ring8.conf"
sed -i 's/^subbuf_size = 64k$/subbuf_size = 1G/; s/^subbuf_count = 8$/subbuf_count = 1024/' \
    "$T/recorder.conf"
kill -HUP "$RECORDER_PID"
ok "a ring LTTng refuses is reported" wait_for 10 \
    grep -q "LTTng refused the new \[session\] settings.*recording with the previous ones" \
    "$T/recorder.log"
ok "the session records again with the previous ring" wait_until 10 \
    '[ "$(status_field .session.state)/$(status_field .session.subbuf_count)" = recording/8 ]'
is "and LTTng has it" "$(lttng list tracetrap | grep -c 'Sub-buffer count: 8')" 1
ok "no setup loop: the next health checks leave it alone" sh -c "
    sleep 1; [ \$(grep -c 're-creating it' '$T/recorder.log') -eq 2 ]"
cp "$T/ring8.conf" "$T/recorder.conf"

tt_stop_recorder
ok "SIGTERM destroys the session" sh -c "! lttng list | grep -q tracetrap"
ok "and removes its sockets" test ! -e "$T/control.sock" -a ! -e "$T/trigger.sock"
ok "it logs a clean stop" grep -q "stopped" "$T/recorder.log"
done_testing
