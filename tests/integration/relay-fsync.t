#!/bin/bash
# fsync failing at publish (issue 10): the relay's store is on a FUSE
# passthrough (tests/apps/ttfsync.py) whose fsync and fsyncdir return EIO
# while a control file exists, for the paths its regular expression
# matches: a real EIO from the kernel, as a failing disk gives once the
# page cache could not be written back. An upload whose data file, staging
# directory or new place under incidents/ cannot be synced is not durable:
# the relay refuses it (ACK refused, saying why), catalogues nothing, keeps
# nothing of it (a file whose fsync failed is not trusted again: its copy
# is discarded and the recorder sends it anew), and keeps serving others.
# Once the disk syncs again, each retry is stored and acknowledged once.
# The catalog is on a healthy disk, so that a refusal here can only come
# from the store's own fsync checks.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

api() { curl -s "http://127.0.0.1:$RELAY_API_PORT$1"; }
listed_times() { api /v1/snapshots | jq --arg id "$1" '[.snapshots[] | select(.id == $id)] | length'; }
staging_empty() { [ -z "$(ls -A "$T/store/.staging")" ]; }
# fail_sync REGEX: fsync of the store's paths matching REGEX fails from now.
fail_sync() { printf '%s\n' "$1" >"$T/fail.tmp" && mv "$T/fail.tmp" "$T/fail"; }
heal() { rm -f "$T/fail"; }

tt_start_fsync_disk "$T/disk" "$T/store" "$T/fail"
tt_certs node1 node2
tt_relay_config "catalog = $T/catalog.db"
tt_start_relay

# refused_for ID REGEX WHAT: ID uploaded by node1 while fsync of REGEX
# fails is refused for WHAT, and nothing of it is stored or listed.
refused_for() {
	local id=$1 out
	make_snapshot "$id"
	fail_sync "$2"
	out=$(upload_snapshot node1 "$id")
	ok "$3: refused ($out)" \
	    grep -q "^ack refused syncing .*: Input/output error" <<<"$out"
	ok "the relay logs it" grep -q \
	    "node1: upload $id refused: syncing .*: Input/output error" \
	    "$T/relay.log"
	ok "the disk did fail that fsync" grep -q "$id.*: EIO" "$T/fuse.log"
	is "no catalog row" "$(listed_times "$id")" 0
	ok "nothing of it under incidents/" test ! -e "$T/disk/incidents/$id"
	ok "nor in staging: that copy is discarded, not synced again" \
	    staging_empty
}

# The first fsync of an upload: its data file, once all its bytes are in.
id1=$(snap_id node1 1)
refused_for "$id1" "^/\\.staging/$id1\\.[0-9a-f]+/trace/ust/data\$" \
    "fsync of a data file fails"
# The last one before the rename: the staging directory itself, after
# every file, the manifest and every directory in it were synced.
id2=$(snap_id node1 2)
refused_for "$id2" "^/\\.staging/$id2\\.[0-9a-f]+\$" \
    "fsync of the staging directory fails"
# After the rename: the directory that now holds the snapshot. It was in
# place for a moment; it goes back to staging and away.
id3=$(snap_id node1 3)
refused_for "$id3" "^/incidents/$id3/node1\$" \
    "fsync of its new parent after the rename fails"
ok "and the directories made for it are gone" test ! -e "$T/disk/incidents/$id3"

# The relay keeps serving: another node, whose paths sync, is stored while
# node1's still fail.
other=$(snap_id node2 1)
make_snapshot "$other" node2
fail_sync "$id3"
is "another node is stored meanwhile" \
    "$(upload_snapshot node2 "$other")" "ack stored "
is "and listed" "$(listed_times "$other")" 1
is "the API answers" "$(api /v1/status | jq -r .ingest.connections)" 0

# The disk syncs again: every retry is stored, acknowledged and listed
# once.
heal
for id in "$id1" "$id2" "$id3"; do
	is "healed: the retry of $id is stored" \
	    "$(upload_snapshot node1 "$id")" "ack stored "
	is "listed once" "$(listed_times "$id")" 1
	ok "every stored file verifies" \
	    manifest_verifies "$T/store/incidents/$id/node1/$id"
	is "acknowledged stored once" \
	    "$(grep -c ": snapshot $id stored\$" "$T/relay.log")" 1
done
ok "staging is empty" staging_empty

# A real recorder against a disk where every fsync fails: it keeps its
# copy in the spool, and sends it again once the relay can store it.
tt_start_sessiond
tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0
$(tt_relay_section node1)"
sed -i 's/^name = testnode$/name = node1/' "$T/recorder.conf"
tt_start_recorder
wait_until 20 '[ "$(status_field .relay.connected)" = true ]' ||
    bail "the recorder did not connect to the relay"
tt_start_app 20000 120
wait_for 20 test -s "$T/app.state" || bail "ttapp did not run"
fail_sync ""
id=$(cli snapshot --wait --reason "bad disk" | sed -E 's/^snapshot ([^ ]+) .*/\1/')
[ -n "$id" ] || bail "the snapshot failed"
ok "a recorder's upload is refused while no fsync works" wait_for 20 \
    grep -q "snapshot $id: refused by the relay: syncing .*Input/output error" \
    "$T/recorder.log"
ok "it keeps its copy" test -f "$T/spool/$id/manifest.json"
ok "not marked uploaded" test ! -e "$T/spool/$id/.uploaded"
is "not listed" "$(listed_times "$id")" 0
ok "the relay is still the same process" kill -0 "$RELAY_PID"
heal
# Its own retry comes a minute later; a restart sends what the spool
# holds at once.
tt_stop_recorder
tt_start_recorder
ok "healed: the recorder's copy is stored" wait_until 20 \
    '[ "$(listed_times "$id")" = 1 ]'
ok "and marked uploaded in its spool" wait_for 10 \
    test -e "$T/spool/$id/.uploaded"
is "stored once" "$(grep -c ": snapshot $id stored\$" "$T/relay.log")" 1
done_testing
