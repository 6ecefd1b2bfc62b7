#!/bin/bash
# make-dev-certs.sh: a development fleet for the relay link (mutual TLS 1.3
# between tracetrap-recorder and tracetrap-relay). Not for production: the
# CA key sits next to the certificates, unprotected.
#
# usage: conf/make-dev-certs.sh [--force] [--test-extras] [--crl]
#                               [--revoke NAME]... DIR [NODE...]
#
# Makes in DIR (created if needed):
#   ca.pem, ca.key        the fleet CA ([listen] ca and [relay] ca)
#   relay.pem, relay.key  the relay: CN=relay, SAN DNS:localhost and
#                         IP:127.0.0.1, serverAuth
#   NODE.pem, NODE.key    one recorder per NODE: CN=NODE, SAN DNS:NODE,
#                         clientAuth. The relay files its snapshots under
#                         the CN, so NODE is a node name: 1 to 63 of
#                         [A-Za-z0-9._-], not starting with '.' or '-'.
# The relay refuses a recorder's certificate without extendedKeyUsage
# clientAuth, and recorders a relay's without serverAuth.
#
# With --crl or --revoke, the fleet CA's certificate revocation list:
#   crl.pem               the CRL ([listen] crl on the relay, [relay] crl on
#                         the recorders), valid for 30 days: make it again
#                         with --crl before then, or every peer is refused
#   ca.db/                what the CA revoked so far (openssl ca's index)
# --revoke NAME revokes DIR/NAME.pem (repeatable) and writes crl.pem;
# --crl writes crl.pem with what was revoked before (none at first).
# With --test-extras, certificates that must be refused, for tests:
#   other-ca.pem/.key     a second, unrelated CA
#   intruder.pem/.key     a client certificate (CN=intruder) of other-ca
#   expired.pem/.key      a client certificate (CN=expired) of our CA, valid
#                         only from 2020-01-01 to 2020-01-02
#   badname.pem/.key      a client certificate of our CA with CN=../escape,
#                         a name that would escape the relay's store
#   wronghost.pem/.key    a server certificate of our CA for the wrong host
#                         (CN=relay, SAN DNS:wrong.example only)
#
# Keys are EC P-256, mode 0600. Existing files are kept, so the script can
# run again to add nodes; --force makes everything named anew. A key
# without its certificate gets one; a certificate without its key is an
# error. Every file is written under a temporary name and renamed into
# place, so an interrupted run leaves no half-written certificate.
#
# Check the result with:
#   openssl verify -CAfile DIR/ca.pem DIR/NODE.pem        (OK)
#   openssl verify -CAfile DIR/ca.pem DIR/expired.pem     (certificate has
#                                                         expired)
#   openssl verify -CAfile DIR/ca.pem DIR/intruder.pem    (unable to get
#                                                         local issuer)
set -eu

CA_DAYS=3650
LEAF_DAYS=825
CRL_DAYS=30
RESERVED="ca relay other-ca intruder expired badname wronghost crl"

usage() {
	echo "usage: $0 [--force] [--test-extras] [--crl] [--revoke NAME]..." \
	    "DIR [NODE...]" >&2
	exit 2
}

die() {
	echo "make-dev-certs: $*" >&2
	exit 1
}

is_force=0
has_extras=0
has_crl=0
revoke=()
while [ $# -gt 0 ]; do
	case $1 in
	--force)	is_force=1; shift ;;
	--test-extras)	has_extras=1; shift ;;
	--crl)		has_crl=1; shift ;;
	--revoke)	[ $# -ge 2 ] || usage
			revoke+=("$2"); has_crl=1; shift 2 ;;
	-h|--help)	usage ;;
	--)		shift; break ;;
	-*)		echo "make-dev-certs: unknown option $1" >&2; usage ;;
	*)		break ;;
	esac
done
[ $# -ge 1 ] || usage
dir=$1
shift

# Names become file names here and on the relay: check them first.
for name in "${revoke[@]}"; do
	[[ $name =~ ^[A-Za-z0-9_][A-Za-z0-9._-]{0,62}$ ]] ||
	    die "invalid certificate name '$name' to revoke"
done
for node in "$@"; do
	if ! [[ $node =~ ^[A-Za-z0-9_][A-Za-z0-9._-]{0,62}$ ]]; then
		die "invalid node name '$node' (expected 1 to 63 letters," \
		    "digits, '.', '_' or '-', not starting with '.' or '-')"
	fi
	for name in $RESERVED; do
		[ "$node" != "$name" ] ||
		    die "node name '$node' is taken by $name.pem"
	done
done

command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"
mkdir -p "$dir"
umask 077
tmp=$(mktemp -d "$dir/.make-dev-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# One config for every request and extension, so that the system's
# openssl.cnf (its defaults and extensions) plays no part.
cat >"$tmp/openssl.cnf" <<'EOF'
[req]
distinguished_name	= dn
prompt			= no
[dn]
[ca_ext]
basicConstraints	= critical, CA:TRUE, pathlen:0
keyUsage		= critical, keyCertSign, cRLSign
subjectKeyIdentifier	= hash
[server_ext]
basicConstraints	= critical, CA:FALSE
keyUsage		= critical, digitalSignature
extendedKeyUsage	= serverAuth
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
subjectAltName		= $ENV::SAN
[client_ext]
basicConstraints	= critical, CA:FALSE
keyUsage		= critical, digitalSignature
extendedKeyUsage	= clientAuth
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
subjectAltName		= $ENV::SAN
[client_nosan_ext]
basicConstraints	= critical, CA:FALSE
keyUsage		= critical, digitalSignature
extendedKeyUsage	= clientAuth
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
# `openssl ca`, only for the expired certificate: x509 -req cannot date a
# certificate in the past.
[ca]
default_ca		= past_ca
[past_ca]
dir			= $ENV::CA_TMP
database		= $dir/index.txt
serial			= $dir/serial
new_certs_dir		= $dir
default_md		= sha256
policy			= policy_any
unique_subject		= no
copy_extensions		= none
[policy_any]
commonName		= supplied
# `openssl ca` again, for revocations: its index stays in DIR/ca.db.
[crl_ca]
dir			= $ENV::CA_DB
database		= $dir/index.txt
crlnumber		= $dir/crlnumber
default_md		= sha256
unique_subject		= no
EOF
export SAN="DNS:unused"
export CA_TMP="$tmp/ca"
export CA_DB="$dir/ca.db"
conf=$tmp/openssl.cnf

# Moves a finished file from the temporary directory into place: keys
# stay 0600 (umask), certificates are public.
install_file() {
	case $1 in
	*.pem)	chmod 644 "$tmp/$1" ;;
	esac
	mv -f "$tmp/$1" "$dir/$1"
	echo "made $dir/$1"
}

serial() {
	echo "0x$(openssl rand -hex 16)"
}

# need NAME: 0 when NAME.pem must be made. Keeps an existing pair; refuses
# a certificate whose key is gone.
need() {
	if [ "$is_force" = 1 ]; then
		return 0
	fi
	if [ -e "$dir/$1.pem" ] && [ ! -e "$dir/$1.key" ]; then
		die "$dir/$1.pem exists without $1.key: remove it or use --force"
	fi
	if [ -e "$dir/$1.pem" ]; then
		echo "kept $dir/$1.pem"
		return 1
	fi
	return 0
}

# key NAME: NAME.key in DIR, made unless it exists (and not --force).
key() {
	if [ "$is_force" = 1 ] || [ ! -e "$dir/$1.key" ]; then
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		    -out "$tmp/$1.key" 2>/dev/null
		chmod 600 "$tmp/$1.key"
		install_file "$1.key"
	else
		chmod 600 "$dir/$1.key"
	fi
}

# new_ca NAME CN: a self-signed CA.
new_ca() {
	need "$1" || return 0
	key "$1"
	# What an older CA revoked means nothing to this one.
	if [ "$1" = ca ]; then
		rm -rf "$CA_DB" "$dir/crl.pem"
	fi
	openssl req -config "$conf" -new -x509 -key "$dir/$1.key" \
	    -subj "/CN=$2" -days "$CA_DAYS" -sha256 -set_serial "$(serial)" \
	    -extensions ca_ext -out "$tmp/$1.pem"
	install_file "$1.pem"
}

# leaf NAME SUBJECT EXTENSIONS SAN [ISSUER]: a certificate of ISSUER (ca).
leaf() {
	local name=$1 subject=$2 ext=$3 issuer=${5:-ca}

	need "$name" || return 0
	key "$name"
	openssl req -config "$conf" -new -key "$dir/$name.key" \
	    -subj "$subject" -out "$tmp/$name.csr"
	SAN=$4 openssl x509 -req -in "$tmp/$name.csr" -CA "$dir/$issuer.pem" \
	    -CAkey "$dir/$issuer.key" -set_serial "$(serial)" \
	    -days "$LEAF_DAYS" -sha256 -extfile "$conf" -extensions "$ext" \
	    -out "$tmp/$name.pem" 2>/dev/null
	install_file "$name.pem"
}

# A client certificate whose validity ended in 2020, through `openssl ca`
# (the only tool of OpenSSL 3.0 that takes explicit dates).
expired() {
	need expired || return 0
	key expired
	openssl req -config "$conf" -new -key "$dir/expired.key" \
	    -subj "/CN=expired" -out "$tmp/expired.csr"
	mkdir -p "$CA_TMP"
	: >"$CA_TMP/index.txt"
	openssl rand -hex 16 >"$CA_TMP/serial"
	SAN=DNS:expired openssl ca -config "$conf" -batch -notext \
	    -cert "$dir/ca.pem" -keyfile "$dir/ca.key" \
	    -startdate 20200101000000Z -enddate 20200102000000Z \
	    -extensions client_ext -in "$tmp/expired.csr" \
	    -out "$tmp/expired.pem" 2>/dev/null ||
	    die "openssl ca failed to make expired.pem"
	install_file expired.pem
}

# ca_db: the index of what the CA revoked, made empty the first time.
ca_db() {
	mkdir -p "$CA_DB"
	[ -e "$CA_DB/index.txt" ] || : >"$CA_DB/index.txt"
	[ -e "$CA_DB/crlnumber" ] || echo 01 >"$CA_DB/crlnumber"
}

# revoke NAME: records NAME.pem, a certificate of ca.pem, as revoked.
revoke() {
	[ -e "$dir/$1.pem" ] || die "cannot revoke $1: no $dir/$1.pem"
	[ "$(openssl x509 -in "$dir/$1.pem" -noout -issuer_hash)" = \
	    "$(openssl x509 -in "$dir/ca.pem" -noout -subject_hash)" ] ||
	    die "cannot revoke $1: $1.pem is not a certificate of ca.pem"
	ca_db
	if ! openssl ca -config "$conf" -name crl_ca -batch \
	    -cert "$dir/ca.pem" -keyfile "$dir/ca.key" \
	    -revoke "$dir/$1.pem" >"$tmp/revoke.log" 2>&1 &&
	    ! grep -q "Already revoked" "$tmp/revoke.log"; then
		die "openssl ca failed to revoke $1: $(tail -1 "$tmp/revoke.log")"
	fi
	echo "revoked $dir/$1.pem"
}

# crl: crl.pem, the CA's CRL with every revocation of its index.
crl() {
	ca_db
	openssl ca -config "$conf" -name crl_ca -batch -gencrl \
	    -crldays "$CRL_DAYS" -cert "$dir/ca.pem" -keyfile "$dir/ca.key" \
	    -out "$tmp/crl.pem" 2>"$tmp/crl.log" ||
	    die "openssl ca failed to make crl.pem: $(tail -1 "$tmp/crl.log")"
	install_file crl.pem
}

# Warns about a kept certificate the CA did not sign, e.g. after ca.pem
# was made anew without --force.
check() {
	if ! openssl verify -CAfile "$dir/$2.pem" "$dir/$1.pem" \
	    >/dev/null 2>&1; then
		echo "warning: $dir/$1.pem does not verify against $2.pem" \
		    "(--force makes everything anew)" >&2
	fi
}

new_ca ca "tracetrap dev fleet CA"
leaf relay "/CN=relay" server_ext "DNS:localhost,IP:127.0.0.1"
check relay ca
for node in "$@"; do
	leaf "$node" "/CN=$node" client_ext "DNS:$node"
	check "$node" ca
done

if [ "$has_extras" = 1 ]; then
	new_ca other-ca "tracetrap other CA"
	leaf intruder "/CN=intruder" client_ext "DNS:intruder" other-ca
	check intruder other-ca
	expired
	leaf badname "/CN=..\\/escape" client_nosan_ext "DNS:unused"
	check badname ca
	leaf wronghost "/CN=relay" server_ext "DNS:wrong.example"
	check wronghost ca
fi

for name in "${revoke[@]}"; do
	revoke "$name"
done
if [ "$has_crl" = 1 ]; then
	crl
fi
