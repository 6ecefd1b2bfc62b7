#!/bin/bash
# Bad input gets a clear error or a counter, and the daemon keeps serving:
# malformed, oversized, non-UTF-8 and truncated datagrams; malformed JSON
# and oversized bodies on the control socket; an unprivileged caller; a
# spool on a full filesystem.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

mkdir -p "$T/smallspool"
mount -t tmpfs -o size=128k tmpfs "$T/smallspool"
TT_SPOOL=$T/smallspool
tt_start_sessiond
tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0"
tt_start_recorder

send_raw() { printf "$1" >"$T/raw"; "$TTSEND" -s "$T/trigger.sock" -R "$T/raw" >/dev/null; }
send_raw 'source=app\nreason=no version\n'
send_raw 'v=1\nsource=app\nreason=bad \xff\xfe utf8\n'
send_raw 'v=1\nsour'
send_raw 'v=1\nsource=App Server\n'
send_raw 'v=1\nscope=galaxy\n'
head -c 5000 /dev/zero | tr '\0' 'a' | sed 's/^/v=1\nreason=/' >"$T/raw"
"$TTSEND" -s "$T/trigger.sock" -R "$T/raw" >/dev/null
wait_until 10 '[ "$(status_field .counters.datagrams)" -eq 6 ]'
is "six bad datagrams counted as malformed" \
    "$(status_field .counters.datagrams_malformed)" 6
is "one of them as oversized" "$(status_field .counters.datagrams_oversized)" 1
is "no snapshot was taken for them" "$(status_field .counters.snapshots_recorded)" 0
ok "the reason is logged" grep -q "malformed datagram from pid" "$T/recorder.log"
ok "logging is rate limited (at most one line a second)" test \
    "$(grep -c 'malformed datagram' "$T/recorder.log")" -lt 6
ok "the metrics expose the malformed count" sh -c \
    "curl -s --unix-socket $T/control.sock http://x/metrics | grep -q '^tracetrap_datagrams_malformed_total 6$'"

echo '{"reason": "unterminated' >"$T/body"
code=$(curl_control POST /v1/snapshot "$T/body")
is "malformed JSON gets 400" "$code" 400
is "with a JSON error body" "$(jq -r .error "$T/curl.body")" bad_request
echo '{"reason": 42}' >"$T/body"
is "a non-string reason gets 400" "$(curl_control POST /v1/snapshot "$T/body")" 400
echo '{"labels": {"Bad Key": "x"}}' >"$T/body"
is "an invalid label key gets 400" "$(curl_control POST /v1/snapshot "$T/body")" 400
head -c 100000 /dev/zero | tr '\0' 'x' | sed 's/^/{"reason":"/; s/$/"}/' >"$T/body"
is "a 100 kB body gets 413" "$(curl_control POST /v1/snapshot "$T/body")" 413
is "with a JSON error body" "$(jq -r .error "$T/curl.body")" body_too_large
is "an unknown endpoint gets 404 in JSON" \
    "$(curl_control GET /v1/nothing) $(jq -r .error "$T/curl.body")" \
    "404 not_found"
is "a wrong method gets 405" "$(curl_control GET /v1/snapshot)" 405
is "DELETE too, in JSON" \
    "$(curl_control DELETE /v1/status) $(jq -r .error "$T/curl.body")" \
    "405 method_not_allowed"

# nobody cannot write into $T: the answer comes back on stdout.
answer=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
    curl -s -w '\n%{http_code}' --unix-socket "$T/control.sock" \
    -X POST http://localhost/v1/snapshot)
is "an unprivileged uid may not take a snapshot (403)" \
    "$(tail -1 <<<"$answer")" 403
ok "and is told why" grep -q "may not take snapshots" <<<"$answer"
code=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
    curl -s -o /dev/null -w '%{http_code}' --unix-socket \
    "$T/control.sock" http://localhost/v1/status)
is "but may read the status" "$code" 200
is "the refusal is counted" "$(status_field .counters.control_denied)" 1

# Full disk: the 128 kB spool cannot hold this ring's snapshot.
tt_start_app 50000 60
wait_for 20 test -s "$T/app.state" || bail "ttapp did not run"
code=$(curl_control POST '/v1/snapshot?wait=1')
is "a snapshot on a full filesystem fails with 500" "$code" 500
ok "the error names the cause" grep -q "bytes free" "$T/curl.body"
is "the failure is counted" "$(status_field .counters.snapshots_failed)" 1
ok "nothing half-written is left in the spool" \
    test -z "$(partial_left "$T/smallspool")" -a "$(spool_count)" -eq 0
ok "the recorder is still alive" kill -0 "$RECORDER_PID"
ok "and still serves" sh -c "\"$CLI\" status --socket $T/control.sock"
done_testing
