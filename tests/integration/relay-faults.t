#!/bin/bash
# Disk and catalog faults while uploading (issue 10): the disk filling up
# in the middle of a chunk (not the free-space check at BEGIN), a catalog
# another process keeps locked, a publish (mkdir/rename) that fails. Each
# upload is refused, so the recorder keeps its copy and sends it again;
# nothing partial is visible in the store or the API; the relay keeps
# serving others; and the retry is stored and listed.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

api() { curl -s "http://127.0.0.1:$RELAY_API_PORT$1"; }
listed() { api "/v1/snapshots" | jq -r '.snapshots[].id' | grep -qx "$1"; }
staging_empty() { [ -z "$(ls -A "$1/.staging")" ]; }
not_listed() { api /v1/snapshots | jq -e '.snapshots' >/dev/null && ! listed "$1"; }
api_answers() { api /v1/status | jq -e .ingest.connections >/dev/null; }

tt_certs node1 node2
mkdir -p "$T/small"
mount -t tmpfs -o size=3M tmpfs "$T/small" || bail "cannot mount a tmpfs"
TT_STORE=$T/small tt_relay_config
sed -i 's/^min_free = 1M$/min_free = 0/' "$T/relay.conf"
tt_start_relay

# ENOSPC in the middle of the chunks: BEGIN fits (300 kB on 3 MB), then,
# once its first chunk is written, the filesystem fills up.
full=$(snap_id node1 1)
make_snapshot "$full"
frame_as node1 --pause-after-first "$T/go" upload \
    "$T/snap/$full/manifest.json" "$T/snap/$full" >"$T/full.out" &
UP_PID=$!
tt_pids="$tt_pids $UP_PID"
wait_until 10 '[ -n "$(find "$T/small/.staging" -type f -size +1k)" ]' ||
    bail "the first chunk never reached the staging dir"
dd if=/dev/zero of="$T/small/filler" bs=64k 2>/dev/null
touch "$T/go"
wait "$UP_PID"
ok "the disk filling mid-upload refuses it ($(cat "$T/full.out"))" \
    grep -q "^ack refused.*No space left on device" "$T/full.out"
ok "nothing of it in the store" test ! -e "$T/small/incidents/$full"
ok "nor in staging" staging_empty "$T/small"
ok "nor listed" not_listed "$full"
ok "the API still answers" api_answers
rm -f "$T/small/filler" "$T/go"
is "room again: the retry is stored" "$(upload_snapshot node1 "$full")" "ack stored "
ok "and listed" wait_until 5 "listed $full"

# The catalog locked by another process past its busy timeout (5 s): the
# snapshot is durable but has no row, so it is not acknowledged. The
# retry finds it stored and writes the row: ACK stored, then listed.
busy=$(snap_id node1 2)
make_snapshot "$busy"
python3 -c '
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(8)
db.execute("COMMIT")
' "$T/small/catalog.db" "$T/locked" &
LOCK_PID=$!
tt_pids="$tt_pids $LOCK_PID"
wait_until 10 '[ -e "$T/locked" ]' || bail "could not lock the catalog"
upload_snapshot node1 "$busy" >"$T/busy.out" &
UP_PID=$!
tt_pids="$tt_pids $UP_PID"
ok "while the disk worker waits for the lock, the API answers at once" \
    timeout 2 bash -c "curl -s http://127.0.0.1:$RELAY_API_PORT/v1/status | jq -e .ingest.connections"
wait "$UP_PID"
out=$(cat "$T/busy.out")
ok "a locked catalog refuses the upload ($out)" grep -q "^ack refused.*catalog" <<<"$out"
ok "not listed" not_listed "$busy"
wait "$LOCK_PID"
is "the retry repairs its row" "$(upload_snapshot node1 "$busy")" "ack stored "
ok "and it is listed" wait_until 5 "listed $busy"
ok "the relay says the row was missing" grep -q "$busy is already stored; its catalog row was missing" "$T/relay.log"

# Publishing fails: the incident's place is taken by a file, so the
# rename into incidents/ cannot happen.
blocked=$(snap_id node1 3)
make_snapshot "$blocked"
: >"$T/small/incidents/$blocked"
out=$(upload_snapshot node1 "$blocked")
ok "a failed publish refuses the upload ($out)" grep -q "^ack refused" <<<"$out"
ok "nothing of it under incidents/" test -f "$T/small/incidents/$blocked"
ok "nor in staging" staging_empty "$T/small"
is "others are stored meanwhile" "$(upload_snapshot node2 "$(make_snapshot "$(snap_id node2 1)" node2; snap_id node2 1)")" "ack stored "
rm -f "$T/small/incidents/$blocked"
is "once it can, the retry is stored" "$(upload_snapshot node1 "$blocked")" "ack stored "
ok "and listed" wait_until 5 "listed $blocked"
ok "the relay is still the same process" kill -0 "$RELAY_PID"
done_testing
