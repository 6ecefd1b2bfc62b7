#!/bin/bash
# A snapshot goes to the relay while the node still syncs it (issue 13):
# once hashed, the uploader may send it, and the relay verifies every
# byte against that manifest's sha256; the node's fsync and publish run
# meanwhile, off the incident's path. The spool is on a FUSE passthrough
# (tests/apps/ttfsync.py) whose fsync of the trace's files waits while a
# hold file exists, and fails with EIO while a control file says so:
# - held: the relay stores the snapshot and the recorder hears its ACK
#   while the snapshot is still publishing, in .partial, not yet under
#   its id (checked by order, not by time);
# - released: it is published, then gets its .uploaded marker (never
#   written into a partial dir, whose removal it could race), its files
#   verify;
# - a publish that fails after the upload: the node's copy is gone and
#   the snapshot failed there, saying so, with "upload": "stored"; the
#   relay's copy is whole and listed once; nothing partial is left.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

api() { curl -s "http://127.0.0.1:$RELAY_API_PORT$1"; }
snapshots() { curl -s --unix-socket "$T/control.sock" http://x/v1/snapshots; }
recent() { snapshots | jq -r --arg id "$1" ".recent[] | select(.id == \$id) | $2"; }
# set_file FILE TEXT: FILE holds TEXT from now (renamed into place whole).
set_file() { printf '%s\n' "$2" >"$1.tmp" && mv "$1.tmp" "$1"; }
held() { grep -c "^fsync /\\.partial/.*: held" "$T/fuse.log"; }
# The trace's files in a partial dir: what the publish syncs first.
partial_trace='^/\.partial/[^/]+/trace/'
# held_upload WHAT N: a snapshot taken with the spool's fsync held is
# stored on the relay (node1's Nth there) and acknowledged; its id in $id.
held_upload() {
	local code

	set_file "$T/hold" "$partial_trace"
	code=$(curl_control POST '/v1/snapshot')
	is "$1 is accepted" "$code" 202
	id=$(jq -r .id "$T/curl.body")
	ok "the relay stores it while the node's fsync is held" wait_until 30 \
	    "[ \$(store_count node1) -ge $2 ]"
	ok "the recorder has the relay's ACK" wait_until 10 \
	    "grep -q 'snapshot $id: stored on the relay' '$T/recorder.log'"
}

tt_start_fsync_disk "$T/disk" "$T/spool" "$T/fail" "$T/hold"
tt_certs node1
tt_relay_config
tt_start_relay
tt_start_sessiond
tt_config_for_relay node1
tt_start_recorder
wait_until 20 '[ "$(status_field .relay.connected)" = true ]' ||
    bail "the recorder did not connect to the relay"
tt_start_app 20000 120
wait_for 20 test -s "$T/app.state" || bail "ttapp did not run"

held_upload "a snapshot" 1
is "and the snapshot is still publishing" "$(recent "$id" .state)" publishing
ok "its fsync is the one held" test "$(held)" -ge 1
ok "it is not under its id in the spool yet" test ! -e "$T/spool/$id"
is "the spool lists it, uploaded, not published" \
    "$(snapshots | jq -c --arg id "$id" '.spool[] | select(.id == $id) | [.uploaded, .published]')" \
    "[true,false]"
dir=$(find "$T/store/incidents" -mindepth 3 -maxdepth 3 -type d -name "$id")
ok "the relay's copy verifies" manifest_verifies "$dir"

rm -f "$T/hold"
ok "released, it is published" wait_until 20 \
    '[ "$(recent "$id" .state)" = recorded ]'
ok "under its id, whole" manifest_verifies "$T/spool/$id"
ok "with the uploaded marker, written once it is published" \
    wait_until 10 'test -e "$T/spool/$id/.uploaded"'

is "its upload state says stored" "$(recent "$id" .upload)" stored
ok "no partial snapshot is left" test -z "$(partial_left "$T/spool")"

# Uploaded, then its publish fails: the relay's copy is what is left.
first=$id
held_upload "a second snapshot" 2
id2=$id
id=$first
set_file "$T/fail" "$partial_trace"
rm -f "$T/hold"
ok "the node's publish fails" wait_until 20 \
    '[ "$(recent "$id2" .state)" = failed ]'
ok "saying why" sh -c "curl -s --unix-socket '$T/control.sock' \
    http://x/v1/snapshots | jq -r --arg id '$id2' \
    '.recent[] | select(.id == \$id) | .error' |
    grep -q '^syncing snapshot: .*Input/output error'"
is "and that the relay has it" "$(recent "$id2" .upload)" stored
ok "the disk did fail that fsync" grep -q "^fsync /\\.partial/.*: EIO" \
    "$T/fuse.log"
ok "no partial snapshot is left" test -z "$(partial_left "$T/spool")"
ok "nor a copy under its id" test ! -e "$T/spool/$id2"
ok "nor a marker for it anywhere" test -z "$(find "$T/spool" -name .uploaded \
    -newer "$T/spool/$id/.uploaded")"
is "the spool no longer lists it" \
    "$(snapshots | jq --arg id "$id2" '[.spool[] | select(.id == $id)] | length')" 0
dir=$(find "$T/store/incidents" -mindepth 3 -maxdepth 3 -type d -name "$id2")
ok "the relay's copy verifies" manifest_verifies "$dir"
is "the relay lists it once" \
    "$(api /v1/snapshots | jq --arg id "$id2" '[.snapshots[] | select(.id == $id)] | length')" 1
is "the failure is counted" "$(status_field .counters.snapshots_failed)" 1

# The disk heals: the next snapshot takes the whole path again.
rm -f "$T/fail"
id3=$(cli snapshot --wait --reason healed | sed -E 's/^snapshot ([^ ]+) .*/\1/')
ok "healed, the next snapshot is published" manifest_verifies "$T/spool/$id3"
ok "and stored on the relay" wait_until 20 '[ "$(store_count node1)" -eq 3 ]'
done_testing
