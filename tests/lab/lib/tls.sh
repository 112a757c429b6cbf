# Sourced by tests/lab/run.sh: the TLS credentials of a --tls run.
# shellcheck shell=bash
#
# A throwaway PKI made at run time with openssl, in the run's private
# directory (removed with it): a CA, one server certificate for every
# compute node address the lab uses (IP subjectAltNames: QEMU's TLS client
# checks the server's certificate against the host of the migration URI) and
# one client certificate (the server verifies its peer, verify-peer=on, as
# libvirt's default migrate_tls_x509_verify does). The file names are the ones
# QEMU's tls-creds-x509 reads from its dir= (and libvirt puts in
# /etc/pki/qemu): ca-cert.pem, server-cert.pem, server-key.pem,
# client-cert.pem, client-key.pem, dh-params.pem. RSA keys: QEMU 7.2 checks a
# certificate's critical keyUsage for keyEncipherment, which EC keys do not
# carry. dh-params.pem is RFC 7919's ffdhe2048 group, instant; without the
# file QEMU would generate DH parameters at start.

# tls_setup: the credentials in TLS_DIR.
tls_setup() {
	STEP=tls-credentials
	local d=$RUNDIR/pki san="" ip
	mkdir -m 700 "$d"
	for ip in "${HOST_IP[@]}"; do san=${san:+$san,}IP:$ip; done
	{
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/O=migscope lab/CN=migscope lab CA $RID" \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
			-keyout "$d/ca-key.pem" -out "$d/ca-cert.pem" &&
			tls_cert server "serverAuth" "subjectAltName=$san" &&
			tls_cert client "clientAuth" "" &&
			openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$d/dh-params.pem"
	} >"$RUNDIR/openssl.log" 2>&1 || die "openssl: $(tail -3 "$RUNDIR/openssl.log" | tr '\n' ' ')"
	chmod 600 "$d"/*.pem
	TLS_DIR=$d
	say "TLS: throwaway CA, server certificate for ${san//IP:/}, client certificate in $d"
}

# tls_cert NAME PURPOSE EXTRA: NAME-key.pem and NAME-cert.pem signed by the CA.
tls_cert() {
	local d=$RUNDIR/pki name=$1
	printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
		"extendedKeyUsage=$2" ${3:+"$3"} >"$d/$name.ext"
	openssl req -newkey rsa:2048 -nodes -subj "/O=migscope lab/CN=migscope-lab-$name" \
		-keyout "$d/$name-key.pem" -out "$d/$name.csr" &&
		openssl x509 -req -in "$d/$name.csr" -CA "$d/ca-cert.pem" -CAkey "$d/ca-key.pem" -CAcreateserial \
			-days 2 -extfile "$d/$name.ext" -out "$d/$name-cert.pem"
}

# The QEMU arguments of the credentials: both endpoints in every QEMU, as a
# QEMU that was a destination becomes a source (back-and-forth). One
# argument a line.
tls_qemu_args() {
	[ "$TLS" = 1 ] || return 0
	printf '%s\n' -object "tls-creds-x509,id=msl-tls-server,endpoint=server,dir=$TLS_DIR,verify-peer=on" \
		-object "tls-creds-x509,id=msl-tls-client,endpoint=client,dir=$TLS_DIR,verify-peer=on"
}
