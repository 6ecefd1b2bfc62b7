#!/bin/bash
# conf/make-dev-certs.sh: a fleet whose certificates verify (and the test
# extras that must not), files kept on a second run, bad node names
# refused; then the recorder's [relay] file checks against that fleet.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

SCRIPT=$(cd "$(dirname "$0")/../.." && pwd)/conf/make-dev-certs.sh
D=$T/certs

ok "makes a fleet with the test extras" \
    "$SCRIPT" --test-extras "$D" web-01 db_1
for f in ca relay web-01 db_1 other-ca intruder expired badname wronghost; do
	ok "$f.pem and $f.key exist" test -s "$D/$f.pem" -a -s "$D/$f.key"
	is "$f.key is private" "$(stat -c %a "$D/$f.key")" 600
done
ok "a node certificate verifies for a client" \
    openssl verify -purpose sslclient -CAfile "$D/ca.pem" "$D/web-01.pem"
ok "the relay's verifies for a server at 127.0.0.1" \
    openssl verify -purpose sslserver -verify_ip 127.0.0.1 \
    -CAfile "$D/ca.pem" "$D/relay.pem"
ok "and for localhost" openssl verify -verify_hostname localhost \
    -CAfile "$D/ca.pem" "$D/relay.pem"
ok "a node certificate is no server's" sh -c "! openssl verify \
    -purpose sslserver -CAfile '$D/ca.pem' '$D/web-01.pem'"
is "the node name is the CN" \
    "$(openssl x509 -in "$D/db_1.pem" -noout -subject -nameopt RFC2253)" \
    "subject=CN=db_1"
out=$(openssl verify -CAfile "$D/ca.pem" "$D/expired.pem" 2>&1)
ok "the expired one fails with certificate has expired" \
    grep -q "certificate has expired" <<<"$out"
ok "the intruder fails against our CA" sh -c "! openssl verify \
    -CAfile '$D/ca.pem' '$D/intruder.pem'"
ok "but is a real certificate of the other CA" \
    openssl verify -CAfile "$D/other-ca.pem" "$D/intruder.pem"
is "badname's CN would escape a directory" \
    "$(openssl x509 -in "$D/badname.pem" -noout -subject -nameopt RFC2253)" \
    "subject=CN=../escape"
ok "badname verifies: only its name is wrong" \
    openssl verify -CAfile "$D/ca.pem" "$D/badname.pem"
ok "wronghost is not localhost's" sh -c "! openssl verify \
    -verify_hostname localhost -CAfile '$D/ca.pem' '$D/wronghost.pem'"
# The daemons require the extendedKeyUsage itself, not its absence.
eku() { openssl x509 -in "$D/$1.pem" -noout -ext extendedKeyUsage | tail -1 |
    tr -d ' '; }
is "a node's certificate says clientAuth" "$(eku web-01)" \
    "TLSWebClientAuthentication"
is "the relay's says serverAuth" "$(eku relay)" "TLSWebServerAuthentication"

# Revocation: --crl makes the CA's CRL, --revoke adds to it.
ok "--crl makes an empty CRL" "$SCRIPT" --crl "$D"
ok "signed by the CA" openssl crl -in "$D/crl.pem" -CAfile "$D/ca.pem" \
    -noout
ok "listing nothing" sh -c "openssl crl -in '$D/crl.pem' -noout -text |
    grep -q 'No Revoked Certificates'"
ok "with which the node still verifies" openssl verify -crl_check \
    -CRLfile "$D/crl.pem" -CAfile "$D/ca.pem" "$D/db_1.pem"
ok "--revoke db_1 revokes it" "$SCRIPT" --revoke db_1 "$D"
out=$(openssl verify -crl_check -CRLfile "$D/crl.pem" -CAfile "$D/ca.pem" \
    "$D/db_1.pem" 2>&1)
ok "db_1 fails with certificate revoked" grep -q "certificate revoked" \
    <<<"$out"
ok "web-01 still verifies" openssl verify -crl_check -CRLfile \
    "$D/crl.pem" -CAfile "$D/ca.pem" "$D/web-01.pem"
ok "a second --revoke of it is fine" "$SCRIPT" --revoke db_1 "$D"
ok "and a later --crl keeps it revoked" sh -c "'$SCRIPT' --crl '$D' &&
    ! openssl verify -crl_check -CRLfile '$D/crl.pem' -CAfile '$D/ca.pem' \
    '$D/db_1.pem'"
ok "the CRL is valid for 30 days" sh -c "openssl crl -in '$D/crl.pem' \
    -noout -nextupdate | grep -q \"$(date -u -d '+30 days' '+%b %e')\""
"$SCRIPT" --revoke intruder "$D" >"$T/revoke.out" 2>&1
is "revoking another CA's certificate is refused" "$?" 1
ok "saying why" grep -q "intruder.pem is not a certificate of ca.pem" \
    "$T/revoke.out"
"$SCRIPT" --revoke nobody "$D" >/dev/null 2>&1
is "revoking a certificate that is not there is refused" "$?" 1
rm -rf "$D/ca.db" "$D/crl.pem"

sums=$(cd "$D" && sha256sum ./*)
ok "a second run succeeds" "$SCRIPT" --test-extras "$D" web-01 db_1 web-02
is "and keeps every existing file" \
    "$(cd "$D" && sha256sum $(sed 's/.*  //' <<<"$sums"))" "$sums"
ok "it adds the new node" openssl verify -CAfile "$D/ca.pem" "$D/web-02.pem"
cp "$D/ca.pem" "$T/old-ca.pem"
ok "--force makes them anew" "$SCRIPT" --force "$D" web-01
ok "with a new CA" sh -c "! cmp -s '$D/ca.pem' '$T/old-ca.pem'"
ok "that signed the new node certificate" \
    openssl verify -CAfile "$D/ca.pem" "$D/web-01.pem"
for bad in ../x .hidden -x "a b" ca relay; do
	"$SCRIPT" "$D" "$bad" >/dev/null 2>&1
	is "node name '$bad' is refused" "$?" 1
done
ok "nothing is left behind" sh -c "! ls -a '$D' | grep -q make-dev-certs"

# The recorder checks the files of [relay] at load time.
cat >"$T/relay.conf" <<EOC
[relay]
address = 127.0.0.1:5443
ca = $D/ca.pem
cert = $D/web-01.pem
key = $D/web-01.key
EOC
ok "the recorder accepts the fleet's files" "$RECORDER" -n -f "$T/relay.conf"
chmod 640 "$D/web-01.key"
out=$("$RECORDER" -n -f "$T/relay.conf" 2>&1)
is "it refuses a key others can read" "$?" 1
ok "naming file:line and the fix" grep -qF "relay.conf:5: [relay] key: \
$D/web-01.key is readable by group or others (chmod 600 it)" <<<"$out"
done_testing
