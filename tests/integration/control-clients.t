#!/bin/bash
# The control socket under many clients at once, and `?wait=1` clients
# that hang up before their snapshot is taken: every client gets its
# answer, the snapshot is still taken, and the recorder — built with
# AddressSanitizer and LeakSanitizer for this test — leaks nothing of
# the requests it was left with (a vanished waiter's request used to be).
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

RECORDER=$BUILD/san/tracetrap-recorder
[ -x "$RECORDER" ] || bail "$RECORDER is missing: make $RECORDER"
# Leaks are reported when it exits; liblttng-ctl and libbabeltrace2's
# own are suppressed (tests/fuzz/lsan.supp).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export LSAN_OPTIONS=suppressions=$TT_ROOT/tests/fuzz/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1

tt_start_sessiond
# Each snapshot waits 2 s before recording: long enough for waiters to
# give up while it is pending.
tt_config "[limits]
cooldown = 0
burst = 0
max_per_day = 0
coalesce = 10s
delay = 2s"
tt_start_recorder

# Twenty clients ask to wait, and hang up after 0.3 s.
for i in $(seq 20); do
	curl -s -m 0.3 --unix-socket "$T/control.sock" -X POST \
	    -H 'Content-Type: application/json' \
	    -d "{\"reason\":\"waiter $i\"}" \
	    'http://localhost/v1/snapshot?wait=1' >/dev/null 2>&1 &
	waiters+=($!)
done
# Ten more that pipeline a second request behind theirs and hang up:
# the recorder reads on, sees the end and fails the connection while
# their snapshot is pending.
python3 - "$T/control.sock" <<'PY' &
import socket, sys, time
body = b'{"reason":"pipelining waiter"}'
req = (b"POST /v1/snapshot?wait=1 HTTP/1.1\r\nHost: x\r\n"
       b"Content-Type: application/json\r\n"
       b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
conns = []
for _ in range(10):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(req + b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
    conns.append(s)
time.sleep(0.3)
for s in conns:
    s.close()
PY
waiters+=($!)
wait "${waiters[@]}"
ok "the waiters gave up before the snapshot was taken" \
    test "$(spool_count)" -eq 0
# One more waits to the end: its snapshot is the one the others joined.
code=$(curl -s -o "$T/wait.json" -w '%{http_code}' -m 20 \
    --unix-socket "$T/control.sock" -X POST -d '{"reason":"patient"}' \
    'http://localhost/v1/snapshot?wait=1')
is "a waiter that stays gets its snapshot" "$code" 200
is "joined to the one the vanished waiters asked for" \
    "$(jq -r .joined "$T/wait.json")" true
ok "that snapshot is in the spool" test "$(spool_count)" -eq 1

# Two hundred clients at once, fifty in flight at a time.
seq 200 | xargs -P 50 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    --unix-socket "$T/control.sock" http://localhost/v1/status \
    >"$T/codes" 2>&1
is "two hundred concurrent status requests all answered 200" \
    "$(sort "$T/codes" | uniq -c | awk '{ print $1 " " $2 }')" "200 200"
# And a hundred that connect and hang up: half without a word, half in
# the middle of their request line's headers.
python3 - "$T/control.sock" <<'PY'
import socket, sys
for half in (False, True):
    conns = []
    for _ in range(50):
        s = socket.socket(socket.AF_UNIX)
        s.connect(sys.argv[1])
        if half:
            s.send(b"POST /v1/snapshot?wait=1 HTTP/1.1\r\nHost: x\r\n")
        conns.append(s)
    for s in conns:
        s.close()
PY
is "the recorder still answers" \
    "$(curl_control GET /v1/status)" 200

tt_stop_recorder
ok "it exited cleanly after SIGTERM" \
    grep -q 'shutting down\|stopped' "$T/recorder.log"
ok "LeakSanitizer found no leak" \
    sh -c "! grep -q 'LeakSanitizer' '$T/recorder.log'"
ok "AddressSanitizer found no error" \
    sh -c "! grep -q 'ERROR: AddressSanitizer\|runtime error' '$T/recorder.log'"

done_testing
