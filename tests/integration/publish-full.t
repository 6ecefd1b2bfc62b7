#!/bin/bash
# A publish that fails on a full spool (issue 13): the record fits, then
# the disk worker cannot write the manifest (256 triggers of 3 kB each
# make it ~1 MB; the filesystem has room for the trace only). The snapshot
# fails with the cause, leaves no partial directory, the snapshot already
# in the spool is untouched, and with room again the next one records.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

mkdir -p "$T/spool"
mount -t tmpfs -o size=8M tmpfs "$T/spool" || bail "cannot mount a tmpfs"
tt_start_sessiond
tt_config "[limits]
cooldown = 0
burst = 0
max_per_day = 0
coalesce = 0
delay = 1s"
tt_start_recorder
tt_start_app 20000 120
wait_for 20 test -s "$T/app.state" || bail "ttapp did not run"

snapshots() { curl -s --unix-socket "$T/control.sock" http://x/v1/snapshots; }

code=$(curl_control POST '/v1/snapshot?wait=1')
is "a first snapshot is recorded" "$code" 200
first=$(jq -r .id "$T/curl.body")
size=$(du -sk "$T/spool/$first" | cut -f1)
# Room for one more trace of that size (the app is idle: the same ring),
# not for a 1 MB manifest.
free=$(df -k --output=avail "$T/spool" | tail -1)
fill=$(( free - size - 200 ))
[ "$fill" -gt 0 ] || bail "the spool is too small for this test"
head -c "$((fill * 1024))" /dev/zero >"$T/spool/filler" 2>/dev/null

reason=$(head -c 3000 /dev/zero | tr '\0' r)
"$TTSEND" -s "$T/trigger.sock" -n 256 -S app -r "$reason" >/dev/null
ok "the snapshot fails" wait_until 20 \
    '[ "$(status_field .counters.snapshots_failed)" -eq 1 ]'
second=$(snapshots | jq -r '.recent[0].id')
is "it was recorded, then failed on publish (the manifest)" \
    "$(snapshots | jq -r '.recent[0].state')" failed
ok "the error names the manifest and the cause" sh -c \
    "curl -s --unix-socket '$T/control.sock' http://x/v1/snapshots | jq -r '.recent[0].error' | grep -q 'manifest.json: No space left'"
ok "no partial snapshot is left" test -z "$(partial_left "$T/spool")"
ok "nor the failed one" test ! -e "$T/spool/$second"
ok "the first snapshot is untouched" manifest_verifies "$T/spool/$first"

rm -f "$T/spool/filler"
code=$(curl_control POST '/v1/snapshot?wait=1')
is "with room again, the next snapshot records" "$code" 200
ok "and verifies" manifest_verifies "$T/spool/$(jq -r .id "$T/curl.body")"
done_testing
