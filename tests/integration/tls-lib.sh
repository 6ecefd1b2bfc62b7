# Certificates the TLS tests make on the spot with the openssl CLI, signed
# by the fleet CA of tt_certs ($T/pki/ca.pem), for the cases
# conf/make-dev-certs.sh has no reason to make. Sourced after lib.sh.

# tls_leaf NAME SUBJECT EXTENSIONS [ISSUER]: $T/pki/NAME.pem and NAME.key,
# an EC P-256 certificate of ISSUER (default ca) for SUBJECT (openssl's
# /CN=.../CN=... form), with EXTENSIONS as the lines of an x509 extension
# section (no extendedKeyUsage line: none).
tls_leaf() {
	local name=$1 subject=$2 extensions=$3 issuer=${4:-ca} dir=$T/pki
	printf '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n' \
	    >"$dir/req.cnf"
	printf 'basicConstraints = critical, CA:FALSE\n%s\n' "$extensions" \
	    >"$dir/$name.ext"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$dir/$name.key" 2>>"$T/certs.log" &&
	chmod 600 "$dir/$name.key" &&
	openssl req -config "$dir/req.cnf" -new -key "$dir/$name.key" \
	    -subj "$subject" -out "$dir/$name.csr" 2>>"$T/certs.log" &&
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$issuer.pem" \
	    -CAkey "$dir/$issuer.key" -set_serial "0x$(openssl rand -hex 16)" \
	    -days 30 -sha256 -extfile "$dir/$name.ext" -out "$dir/$name.pem" \
	    2>>"$T/certs.log" ||
	    bail "openssl could not make $name.pem ($subject)"
}

# The extensions of a recorder's and of the relay's certificate.
TLS_CLIENT_EXT='keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth'
TLS_SERVER_EXT='keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1'
