#!/bin/bash
# The systemd units' sandboxes (conf/systemd/*.service), without systemd:
# it is not PID 1 here. The units are checked by systemd-analyze (verify,
# and security --offline); then both daemons run through a snapshot, its
# upload, a cluster incident, its analysis, the API and a reload, each
# with the privileges its unit gives it (setpriv): the relay as an
# unprivileged user with no capability and no_new_privs, the recorder as
# root with CAP_CHOWN alone. strace records what they do, and
# tests/apps/ttsandbox.py checks it against the unit: system call filter,
# address families, W^X memory, where they write, what they read.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

UNITS=$TT_ROOT/conf/systemd
SANDBOX=$TT_ROOT/tests/apps/ttsandbox.py
API=http://127.0.0.1:$RELAY_API_PORT
command -v strace >/dev/null || bail "strace is missing (make deps)"

for unit in tracetrap-relay tracetrap-recorder; do
	score=$(systemd-analyze security --offline=true \
	    "$UNITS/$unit.service" 2>&1 | sed -n 's/.*exposure level for .*: \([0-9.]*\) .*/\1/p')
	echo "# $unit.service: systemd-analyze security exposure $score"
	ok "$unit.service is rated below 3 (OK or better)" \
	    awk -v s="$score" 'BEGIN { exit !(s != "" && s < 3) }'
done
# verify wants the binaries where ExecStart= names them: copies of the
# units that name the ones built here.
mkdir -p "$T/units"
for unit in tracetrap-relay tracetrap-recorder; do
	sed "s|/usr/local/sbin/|$(dirname "$RELAY")/|g" "$UNITS/$unit.service" \
	    >"$T/units/$unit.service"
	ok "$unit.service passes systemd-analyze verify" sh -c \
	    "systemd-analyze verify '$T/units/$unit.service' 2>&1 |
	    tee /dev/stderr | grep -q . && exit 1 || exit 0"
done

# The relay's user owns the store and the key; its group reads the file.
tt_certs testnode
mkdir -p "$T/store"
chown nobody:nogroup "$T/store" "$T/pki/relay.key"
tt_relay_config
chgrp nogroup "$T/relay.conf"
chmod 640 "$T/relay.conf"
rm -f "$T/relay-ready"
mkfifo "$T/relay-ready"
strace -f -y -qq -o "$T/relay.strace" \
    setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
    --inh-caps=-all --bounding-set=-all -- \
    "$RELAY" -d -v -f "$T/relay.conf" --ready-fd 3 3>"$T/relay-ready" \
    >>"$T/relay.log" 2>&1 &
RELAY_STRACE=$!
tt_pids="$tt_pids $RELAY_STRACE"
[ "$(timeout 30 head -n1 "$T/relay-ready")" = "READY=1" ] ||
    bail "the sandboxed relay did not start: $(tail -3 "$T/relay.log")"
# Signals go to the daemon (setpriv became it), not to strace.
RELAY_PID=$(pgrep -P "$RELAY_STRACE" | head -1)
[ -n "$RELAY_PID" ] || bail "no relay under strace"

# The recorder: root, with CAP_CHOWN only (its control socket goes to the
# tracing group), and no_new_privs.
tt_start_sessiond
tt_start_app 0
# Watchers too, to see what they read and write in the sandbox (their
# thresholds out of reach: the snapshots counted below are the test's).
tt_config "[control]
group = tracing
$(tt_relay_section testnode)
[trigger.cpu.system]
threshold = 100
sustain = 1h
[trigger.psi.memory]
stall = 1900ms
window = 2s"
rm -f "$T/ready"
mkfifo "$T/ready"
strace -f -y -qq -o "$T/recorder.strace" \
    setpriv --bounding-set=-all,+chown --inh-caps=-all --no-new-privs -- \
    "$RECORDER" -d -v -f "$T/recorder.conf" --ready-fd 3 3>"$T/ready" \
    >>"$T/recorder.log" 2>&1 &
RECORDER_STRACE=$!
tt_pids="$tt_pids $RECORDER_STRACE"
[ "$(timeout 30 head -n1 "$T/ready")" = "READY=1" ] ||
    bail "the sandboxed recorder did not start: $(tail -3 "$T/recorder.log")"
RECORDER_PID=$(pgrep -P "$RECORDER_STRACE" | head -1)
[ -n "$RECORDER_PID" ] || bail "no recorder under strace"
is "the recorder runs with CAP_CHOWN alone" \
    "$(sed -n 's/^CapEff:\t*//p' "/proc/$RECORDER_PID/status")" \
    0000000000000001
is "and no_new_privs" "$(sed -n 's/^NoNewPrivs:\t*//p' \
    "/proc/$RECORDER_PID/status")" 1
is "the relay runs as nobody with no capability" "$(awk \
    '/^Uid:/ { u = $2 } /^CapEff:/ { c = $2 } END { print u, c }' \
    "/proc/$RELAY_PID/status")" "65534 0000000000000000"
is "its control socket belongs to the tracing group" \
    "$(stat -c %G "$T/control.sock")" tracing
is "its watchers run" "$(cli status --json | jq -r '[.watchers[].name] |
    sort | join(" ")')" "memory system"
ok "it links to the relay" wait_until 20 \
    '[ "$(status_field .relay.connected)" = true ]'

ok "a snapshot" cli snapshot --reason sandbox --wait
ok "uploads to the relay, which stores it as its user" wait_until 30 \
    '[ "$(store_count testnode)" = 1 ]'
is "owned by nobody" "$(stat -c %U "$(find "$T/store/incidents" \
    -name manifest.json | head -1)")" nobody
ok "a cluster incident fans out and comes back" sh -c \
    "'$CLI' snapshot --cluster --reason sandbox-cluster \
    --socket '$T/control.sock' >/dev/null"
ok "and is stored too" wait_until 30 '[ "$(store_count testnode)" = 2 ]'
id=$(curl -s "$API/v1/snapshots" | jq -r '.snapshots[0].id')
ok "the analysis child (the relay run again, niced and limited) summarizes" \
    wait_until 60 '[ "$(curl -s -o /dev/null -w "%{http_code}" \
    "$API/v1/snapshots/$id/summary")" = 200 ]'
ok "a drill-down runs another child" sh -c "curl -sf \
    '$API/v1/snapshots/$id/events?limit=5' | jq -e .events >/dev/null"
ok "the archive streams" sh -c "curl -sf '$API/v1/snapshots/$id/archive' |
    tar tf - | grep -q metadata"
ok "the pages and the metrics answer" sh -c "curl -sf '$API/' >/dev/null &&
    curl -sf '$API/metrics' | grep -q tracetrap"
kill -HUP "$RELAY_PID" "$RECORDER_PID"
ok "both reload" wait_until 10 'grep -q "reload:" "$T/relay.log" &&
    grep -q "reload: configuration" "$T/recorder.log"'
kill -TERM "$RECORDER_PID"
wait "$RECORDER_STRACE"
kill -TERM "$RELAY_PID"
wait "$RELAY_STRACE"
ok "both stop cleanly" sh -c "grep -q 'stopped' '$T/relay.log' &&
    grep -q 'stopped' '$T/recorder.log'"

sandbox() {	# sandbox UNIT STRACE EXE [ARGS]: ttsandbox.py's verdict
	local unit=$1 trace=$2 exe=$3
	shift 3
	python3 "$SANDBOX" --unit "$UNITS/$unit.service" --strace "$trace" \
	    --exe "$exe" --root "$T" "$@" >"$T/$unit.sandbox" 2>&1
	local status=$?
	sed 's/^/# /' "$T/$unit.sandbox"
	return $status
}
ok "the relay stays inside tracetrap-relay.service's sandbox" \
    sandbox tracetrap-relay "$T/relay.strace" "$RELAY" --write "$T/store"
ok "the recorder inside tracetrap-recorder.service's" \
    sandbox tracetrap-recorder "$T/recorder.strace" "$RECORDER" \
    --write "$T/spool" --write "$T/control.sock" --write "$T/trigger.sock"

done_testing
