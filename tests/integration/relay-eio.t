#!/bin/bash
# A disk that fails while the relay streams an archive: one stored trace
# file returns EIO past some offset (tests/apps/tteio.py, a FUSE
# filesystem mounted over the snapshot's trace directory: a real EIO from
# the kernel, as a bad sector gives). The relay cuts that archive short
# (the client sees fewer bytes than Content-Length, never a padded or
# truncated file it could take as whole), logs why, and keeps serving
# everything else; `tracetrap fetch` says so and leaves nothing behind.
# Failing before the first byte is sent, it answers 500 instead. Once the
# disk reads again, the same snapshot fetches whole.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

/usr/bin/python3 -c 'import fusepy' 2>/dev/null ||
    bail "python3-fusepy is missing: make deps"
[ -c /dev/fuse ] || { echo "1..0 # SKIP no /dev/fuse here"; exit 0; }

API=http://127.0.0.1:$RELAY_API_PORT
tt_certs node1
tt_relay_config
tt_start_relay
bad=$(snap_id node1 1)
good=$(snap_id node1 2)
for id in "$bad" "$good"; do
	make_snapshot "$id"
	is "$id is stored" "$(upload_snapshot node1 "$id")" "ack stored "
done
trace=$(find "$T/store/incidents" -type d -path "*/$bad/trace")
[ -d "$trace/ust" ] || bail "no stored trace for $bad"

# fail_after BYTES: the disk fails under the stored data file past BYTES.
fail_after() {
	/usr/bin/python3 "$TT_ROOT/tests/apps/tteio.py" "$trace/ust" \
	    "$trace/ust" data "$1" >>"$T/fuse.log" 2>&1 &
	tt_pids="$tt_pids $!"
	wait_until 10 'grep -q " $trace/ust fuse" /proc/mounts' ||
	    bail "the failing filesystem did not mount: $(cat "$T/fuse.log")"
}

# Past the archive's first 256 KiB chunk: the headers are out by then.
fail_after 280000
ok "reading that file now fails with EIO" \
    sh -c "! cat '$trace/ust/data' >/dev/null 2>'$T/cat.err' && grep -q 'Input/output error' '$T/cat.err'"

mkdir "$T/out"
"$CLI" fetch "$bad" -o "$T/out" --relay "$API" >"$T/fetch.out" 2>&1
is "fetch fails" "$?" 2
ok "saying the archive was cut short" \
    grep -q "connection closed after [0-9]* of [0-9]* body bytes" "$T/fetch.out"
is "and leaves nothing in the output directory" "$(ls -A "$T/out")" ""
ok "the relay logs the cut and its cause" \
    grep -q "archive of $bad cut after [0-9]* bytes: .*Input/output error" \
    "$T/relay.log"
code=$(curl -s -D "$T/raw.head" -o "$T/raw.tar" -w '%{http_code}' \
    "$API/v1/snapshots/$bad/archive")
length=$(tr -d '\r' <"$T/raw.head" |
    awk -F': ' 'tolower($1) == "content-length" { print $2 }')
ok "a raw client gets fewer bytes than Content-Length ($(stat -c %s "$T/raw.tar") of $length)" \
    test "$(stat -c %s "$T/raw.tar")" -lt "$length"
is "(with status 200: the cut is the only signal once headers are out)" "$code" 200

# Everything else is served.
is "the API still answers" "$(curl -s -o /dev/null -w '%{http_code}' "$API/v1/status")" 200
"$CLI" fetch "$good" -o "$T/out" --relay "$API" >"$T/good.out" 2>&1
ok "another snapshot fetches whole meanwhile" \
    grep -q "every checksum verified" "$T/good.out"
is "the failing one's manifest is still served" \
    "$(curl -s "$API/v1/snapshots/$bad/manifest" | jq -r .id)" "$bad"

# Within the first chunk: nothing is sent yet, so the answer is an error.
umount "$trace/ust"
fail_after 1000
"$CLI" fetch "$bad" -o "$T/out" --relay "$API" >"$T/early.out" 2>&1
is "a failure before the first byte is a 500" "$?" 2
ok "which fetch reports, pointing at the relay's log" \
    grep -q "cannot read snapshot $bad; see the relay's log (HTTP 500)" \
    "$T/early.out"
ok "where the cause is" grep -q "api: .*/$bad/trace/ust/data: Input/output error" \
    "$T/relay.log"
is "and the output directory holds only the good one" "$(ls -A "$T/out")" "$good"

# The disk reads again: nothing was lost.
umount "$trace/ust"
"$CLI" fetch "$bad" -o "$T/out" --relay "$API" >"$T/again.out" 2>&1
ok "after the fault, the same snapshot fetches whole" \
    grep -q "every checksum verified" "$T/again.out"
done_testing
