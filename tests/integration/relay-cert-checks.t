#!/bin/bash
# What each end of the relay link requires of the other's certificate
# besides the fleet CA's signature: extendedKeyUsage clientAuth for a
# recorder, serverAuth for the relay (a certificate without the extension
# is refused too), and, with a CRL file ([listen] crl, [relay] crl), not
# revoked. Certificates and CRLs made here (openssl CLI, make-dev-certs.sh),
# a real relay and a real recorder.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls-lib.sh"
tt_enter "$@"

tt_certs node1 node2
tls_leaf noeku "/CN=noeku" "keyUsage = critical, digitalSignature"
tls_leaf serveronly "/CN=serveronly" "$TLS_SERVER_EXT"
tls_leaf relay-noeku "/CN=relay" "keyUsage = critical, digitalSignature
subjectAltName = IP:127.0.0.1"
tls_leaf relay-clientonly "/CN=relay" "$TLS_CLIENT_EXT
subjectAltName = IP:127.0.0.1"
tls_leaf relay2 "/CN=relay" "$TLS_SERVER_EXT"

# relay_with CERT [EXTRA INI TEXT]: (re)starts the relay with $T/pki/CERT.
relay_with() {
	if [ -n "$RELAY_PID" ]; then
		kill -TERM "$RELAY_PID"
		wait "$RELAY_PID"
	fi
	tt_relay_config "$2"
	sed -i "s|/relay\.pem$|/$1.pem|; s|/relay\.key$|/$1.key|" \
	    "$T/relay.conf"
	tt_start_relay
}

relay_with relay
is "a recorder's certificate with clientAuth is taken" \
    "$(frame_as node1 handshake)" "ok node1"
ok "one without extendedKeyUsage is refused" \
    grep -q '^refused' <<<"$(frame_as noeku handshake)"
ok "the relay says why" grep -q "unknown peer .*: disconnected: peer \
certificate refused: unsuitable certificate purpose (a recorder's \
certificate must carry extendedKeyUsage clientAuth)" "$T/relay.log"
: >"$T/relay.log"
ok "one for serverAuth only is refused" \
    grep -q '^refused' <<<"$(frame_as serveronly handshake)"
ok "and the relay says why" grep -q "unsuitable certificate purpose (a \
recorder's certificate must carry extendedKeyUsage clientAuth)" \
    "$T/relay.log"

# [listen] crl: the relay refuses recorders the CA revoked.
ok "make-dev-certs.sh revokes node2" "$MAKE_CERTS" --revoke node2 "$T/pki"
is "without [listen] crl, the revoked node2 is still taken (no check)" \
    "$(frame_as node2 handshake)" "ok node2"
relay_with relay "[listen]
crl = $T/pki/crl.pem"
ok "a revoked recorder is refused with [listen] crl" \
    grep -q '^refused' <<<"$(frame_as node2 handshake)"
ok "the relay says why" grep -q "unknown peer .*: disconnected: peer \
certificate refused: certificate revoked" "$T/relay.log"
is "one not revoked is taken" "$(frame_as node1 handshake)" "ok node1"

# A CRL that does not load is a configuration error, with its line.
conf_error() {	# conf_error DAEMON CONFIG: its -n output
	"$1" -n -f "$2" 2>&1
}
echo "not a CRL" >"$T/garbage.pem"
"$MAKE_CERTS" --crl "$T/pki-other" >>"$T/certs.log" 2>&1
tt_relay_config "[listen]
crl = $T/garbage.pem"
line=$(grep -n "^crl = " "$T/relay.conf" | cut -d: -f1)
is "[listen] crl that is no CRL: file:line and why" \
    "$(conf_error "$RELAY" "$T/relay.conf")" \
    "$T/relay.conf:$line: [listen] crl: $T/garbage.pem: no PEM CRL \
(expected -----BEGIN X509 CRL-----)"
sed -i "s|^crl = .*|crl = $T/pki-other/crl.pem|" "$T/relay.conf"
is "one of another CA: file:line and why" \
    "$(conf_error "$RELAY" "$T/relay.conf")" \
    "$T/relay.conf:$line: [listen] crl: $T/pki-other/crl.pem: CRL 1 is not \
signed by a CA of the ca file (expected the CRL of the CA that issues the \
certificates)"
sed -i "s|^crl = .*|crl = $T/nothing.pem|" "$T/relay.conf"
is "a missing one: file:line" "$(conf_error "$RELAY" "$T/relay.conf")" \
    "$T/relay.conf:$line: [listen] crl: $T/nothing.pem: No such file or \
directory"
tt_config "$(tt_relay_section node1)
crl = $T/garbage.pem"
line=$(grep -n "^crl = " "$T/recorder.conf" | cut -d: -f1)
is "[relay] crl that is no CRL: file:line and why" \
    "$(conf_error "$RECORDER" "$T/recorder.conf")" \
    "$T/recorder.conf:$line: [relay] crl: $T/garbage.pem: no PEM CRL \
(expected -----BEGIN X509 CRL-----)"

# The recorder's side: the relay's certificate must be for serverAuth.
relay_with relay-noeku
ok "a relay whose certificate has no extendedKeyUsage warns at start" \
    grep -q "TLS: $T/pki/relay-noeku.pem: the certificate has no \
extendedKeyUsage serverAuth: recorders refuse it" "$T/relay.log"
tt_start_sessiond
tt_config "$(tt_relay_section node1)"
tt_start_recorder
ok "the recorder refuses it" wait_until 10 \
    '[ "$(status_field .relay.last_error)" = "peer certificate refused: \
unsuitable certificate purpose (the relay'"'"'s certificate must carry \
extendedKeyUsage serverAuth)" ]'
is "and stays unconnected" "$(status_field .relay.connected)" false
ok "the relay's log says the recorder refused it" grep -q "disconnected: \
.*alert unsupported certificate (the peer refused this end's certificate; \
its log says why)" "$T/relay.log"
relay_with relay-clientonly
ok "a relay certificate for clientAuth only is refused too" wait_until 10 \
    '[ "$(status_field .relay.last_error)" = "peer certificate refused: \
unsuitable certificate purpose (the relay'"'"'s certificate must carry \
extendedKeyUsage serverAuth)" ] && grep -q "relay-clientonly.pem: the \
certificate has no extendedKeyUsage serverAuth" "$T/relay.log"'
is "still unconnected" "$(status_field .relay.connected)" false

# [relay] crl: the recorder refuses a relay certificate the CA revoked.
"$MAKE_CERTS" --revoke relay2 "$T/pki" >>"$T/certs.log" 2>&1
relay_with relay2
ok "without [relay] crl, the recorder takes the revoked relay2" \
    wait_until 10 '[ "$(status_field .relay.connected)" = true ]'
tt_config "$(tt_relay_section node1)
crl = $T/pki/crl.pem"
kill -HUP "$RECORDER_PID"
ok "with [relay] crl (a reload), it refuses it" wait_until 10 \
    '[ "$(status_field .relay.last_error)" = "peer certificate refused: \
certificate revoked" ]'
is "and stays unconnected" "$(status_field .relay.connected)" false
relay_with relay
ok "the relay's certificate not revoked is taken" \
    wait_until 10 '[ "$(status_field .relay.connected)" = true ]'
tt_stop_recorder

done_testing
