#!/bin/bash
# The node name a relay reads from a recorder's certificate (lib/tls.c,
# tls_cert_name): the one commonName of its subject, 1 to 63 bytes, taken
# whole or refused, never cut; the subjectAltName plays no part.
# Certificates made here with the openssl CLI, presented to a real relay
# and by a real recorder.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls-lib.sh"
tt_enter "$@"

tt_certs node1
a63=$(printf 'a%.0s' $(seq 63))
tls_leaf cn63 "/CN=$a63" "$TLS_CLIENT_EXT"
# Two certificates that differ only in their 64th byte.
tls_leaf cn64x "/CN=${a63}x" "$TLS_CLIENT_EXT"
tls_leaf cn64y "/CN=${a63}y" "$TLS_CLIENT_EXT"
tls_leaf twocn "/CN=node1/CN=other" "$TLS_CLIENT_EXT"
tls_leaf sanned "/CN=sanned" "$TLS_CLIENT_EXT
subjectAltName = DNS:node1, DNS:other"
tls_leaf sanonly "/O=tracetrap" "$TLS_CLIENT_EXT
subjectAltName = DNS:node1"
is "openssl made a 64-byte CN" "$(openssl x509 -in "$T/pki/cn64x.pem" \
    -noout -subject -nameopt RFC2253)" "subject=CN=${a63}x"

tt_relay_config
tt_start_relay

is "a 63-byte CN is the node name, whole" "$(frame_as cn63 handshake)" \
    "ok $a63"
id=$(snap_id "$a63" 1)
make_snapshot "$id" "$a63"
is "and its snapshots are stored under it" "$(upload_snapshot cn63 "$id")" \
    "ack stored "
ok "in the store" test -d "$T/store/incidents/$id/$a63/$id"

ok "a 64-byte CN is refused, not cut to 63" \
    grep -q '^refused' <<<"$(frame_as cn64x handshake)"
ok "the relay says why" grep -q "common name of 64 bytes is longer than a \
node name may be (at most 63)" "$T/relay.log"
ok "so is the other one: two certificates never make one node" \
    grep -q '^refused' <<<"$(frame_as cn64y handshake)"
id=$(snap_id "$a63" 2)
make_snapshot "$id" "$a63"
ok "neither uploads as the 63-byte node" \
    grep -q '^refused' <<<"$(upload_snapshot cn64x "$id")"
is "which still has its one snapshot" "$(store_count "$a63")" 1

ok "two CNs are refused" \
    grep -q '^refused' <<<"$(frame_as twocn handshake)"
ok "the relay says why" grep -q "certificate has 2 common names (expected \
one: the node name)" "$T/relay.log"

is "a SAN naming other nodes changes nothing: the CN is the name" \
    "$(frame_as sanned handshake)" "ok sanned"
id=$(snap_id node1 1)
make_snapshot "$id" node1
is "so it cannot upload as a node of its SAN" \
    "$(upload_snapshot sanned "$id" | cut -d' ' -f1-2)" "ack refused"
ok "a certificate with a SAN and no CN is refused" \
    grep -q '^refused' <<<"$(frame_as sanonly handshake)"
ok "the relay says why" grep -q "certificate has no common name (the node \
name is the CN; subjectAltName is not used)" "$T/relay.log"
ok "and never quotes a refused name" \
    sh -c "! grep -q '${a63}[xy]' '$T/relay.log'"

# The recorder's side: it warns at start about a certificate the relay
# will refuse, rather than reconnecting without a word.
tt_start_sessiond
tt_config "$(tt_relay_section cn64x)"
tt_start_recorder
ok "a recorder with a 64-byte CN says the relay refuses it" grep -q \
    "relay link: $T/pki/cn64x.pem: certificate common name of 64 bytes is \
longer than a node name may be (at most 63): the relay refuses it" \
    "$T/recorder.log"
tt_stop_recorder

done_testing
