#!/bin/bash
# The relay refuses what it must and keeps serving: certificates that are
# missing, from another CA, expired, or whose name would escape the store;
# a node claiming another's name; path tricks and lying checksums in
# uploads; malformed, oversized, truncated and out-of-order frames; a full
# store disk. A good upload still works after all of it.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_certs node1 node2
mkdir -p "$T/smallstore"
mount -t tmpfs -o size=4M tmpfs "$T/smallstore"
tt_relay_config
tt_start_relay

is "a good certificate gets through" "$(frame_as node1 handshake)" "ok node1"
ok "no client certificate: refused at the handshake" \
    grep -q '^refused' <<<"$(frame_as none handshake)"
ok "a certificate of another CA: refused" \
    grep -q '^refused' <<<"$(frame_as intruder handshake)"
ok "an expired certificate: refused" \
    grep -q '^refused' <<<"$(frame_as expired handshake)"
ok "a certificate named ../escape: refused" \
    grep -q '^refused' <<<"$(frame_as badname handshake)"
ok "the relay says why" grep -q "not a valid node name" "$T/relay.log"

claims=$(snap_id node1 1)
make_snapshot "$claims" node2
is "node1 claiming to be node2 is stored as node1" \
    "$(upload_snapshot node1 "$claims")" "ack stored "
ok "under node1, never node2" test -d \
    "$T/store/incidents/$claims/node1/$claims" -a \
    ! -e "$T/store/incidents/$claims/node2"
is "its stored manifest says node1" \
    "$(jq -r .node "$T/store/incidents/$claims/node1/$claims/manifest.json")" node1
foreign=$(snap_id node2 1)
make_snapshot "$foreign" node2
ok "node1 cannot send a snapshot id of node2's" \
    grep -q "^ack refused.*is not a snapshot of node node1" \
    <<<"$(upload_snapshot node1 "$foreign")"
ok "so it cannot pass for node2's own" test ! -e "$T/store/incidents/$foreign"
is "which node2 then stores" "$(upload_snapshot node2 "$foreign")" "ack stored "

escape=$(snap_id node1 2)
make_snapshot "$escape" node1 "trace/../../../../tmp/escaped"
ok "a manifest with ../ paths is refused" grep -q "^ack refused.*path" \
    <<<"$(upload_snapshot node1 "$escape")"
ok "and nothing escaped" test ! -e /tmp/escaped
lies=$(snap_id node1 3)
make_snapshot "$lies"
ok "a file that disagrees with its checksum is refused" \
    grep -q "^ack refused.*checksum mismatch" <<<"$(frame_as node1 --lie-bytes 4 \
    upload "$T/snap/$lies/manifest.json" "$T/snap/$lies")"
ok "nothing of it is visible in the store" test ! -e "$T/store/incidents/$lies"
ok "and the staging area is empty again" \
    test -z "$(ls -A "$T/store/.staging")"

ok "an oversized frame: error, connection dropped" grep -q "^error.*exceeds.*closed" \
    <<<"$(frame_as node1 oversized)"
ok "an unknown frame type: error" grep -q "^error unknown frame type 99" \
    <<<"$(frame_as node1 unknown-type)"
ok "reserved bits set: error" grep -q "^error.*reserved" \
    <<<"$(frame_as node1 reserved-bits)"
ok "a chunk before any upload_begin: error" \
    grep -q "^error upload_chunk without upload_begin" <<<"$(frame_as node1 chunk-first)"
ok "a truncated frame: the connection is dropped" grep -q "^closed" \
    <<<"$(frame_as node1 truncated)"
ok "the relay logs the cut frame" wait_for 5 \
    grep -q "closed in the middle of a frame" "$T/relay.log"

good=$(snap_id node2 2)
make_snapshot "$good" node2
is "after all that, a good upload is stored" \
    "$(upload_snapshot node2 "$good")" \
    "ack stored "
ok "and verifies" manifest_verifies "$T/store/incidents/$good/node2/$good"
ok "the relay is still the same process" kill -0 "$RELAY_PID"

# A store on a 4 MB filesystem cannot take a 10 MB snapshot.
tt_stop_relay_for_store() { kill -TERM "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null; }
tt_stop_relay_for_store
TT_STORE=$T/smallstore tt_relay_config
tt_start_relay
big=$(snap_id node1 4)
make_snapshot "$big"
jq '.files[0].bytes = 10000000' "$T/snap/$big/manifest.json" >"$T/big.json"
ok "a snapshot larger than the free space is refused: store full" \
    grep -q "^ack refused store full" <<<"$(frame_as node1 upload "$T/big.json" "$T/snap/$big")"
is "and the relay still stores what fits" \
    "$(upload_snapshot node1 "$big")" "ack stored "
done_testing
